-- Live: the audit log becomes a change feed that subscribers and the public
-- `changes` query read in one order, and every new entry wakes the listeners.
--
-- Identity ids are handed out when a row is inserted, not when its
-- transaction commits: a reader that saw id 11 may later see id 10 appear,
-- committed by a slower transaction. Reading "after id 11" would skip it for
-- ever. Each entry therefore records its transaction's id (`tx`), and a feed
-- is read in (tx, id) order only below the oldest transaction of this
-- database still running (src/db/changes.rs, `horizon`): everything under it
-- is final, so a cursor never has anything appear behind it. A long
-- transaction delays the feed (the service's own end within
-- idle_in_transaction_session_timeout); it never loses an entry. The
-- horizon reads pg_stat_activity, so the service's role must see the other
-- writers' sessions: the same role, or one with pg_read_all_stats.
ALTER TABLE audit_log ADD COLUMN tx xid8 NOT NULL DEFAULT pg_current_xact_id();
COMMENT ON COLUMN audit_log.tx IS
    'The writing transaction: the feed orders by (tx, id) and reads only below the oldest transaction of the database still running, where nothing new can appear.';
CREATE INDEX audit_log_feed_idx ON audit_log (tx, id);

-- The same trigger as before (migrations/*_writes), plus a NOTIFY with the
-- entry's id: delivered at commit to every session that LISTENs (one per
-- server process), whoever wrote (the API, `talentgraph import`, psql). The
-- payload only wakes a listener; it reads the entries from the table, so a
-- notification lost with a connection costs nothing.
CREATE OR REPLACE FUNCTION audit_row_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    row_before jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
    row_after  jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
    entry_id   bigint;
BEGIN
    IF current_setting('talentgraph.audit', true) = 'off' THEN
        RETURN NULL;
    END IF;
    IF row_before = row_after THEN
        RETURN NULL;
    END IF;
    INSERT INTO audit_log (token_id, actor, action, entity_type, entity_id, before, after)
    VALUES (
        nullif(current_setting('talentgraph.token_id', true), '')::bigint,
        coalesce(nullif(current_setting('talentgraph.actor', true), ''), 'database:' || session_user),
        CASE TG_OP WHEN 'INSERT' THEN 'CREATE' ELSE TG_OP END,
        TG_ARGV[0],
        (coalesce(row_after, row_before) ->> TG_ARGV[1])::bigint,
        row_before,
        row_after)
    RETURNING id INTO entry_id;
    PERFORM pg_notify('talentgraph_audit', entry_id::text);
    RETURN NULL;
END
$$;

-- A revoked token closes its sockets on every replica: revocation is
-- announced the same way (tokens are not audited, so it has its own channel).
CREATE FUNCTION api_tokens_announce_revocation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('talentgraph_tokens', NEW.id::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER api_tokens_revoked AFTER UPDATE OF revoked_at ON api_tokens
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION api_tokens_announce_revocation();
