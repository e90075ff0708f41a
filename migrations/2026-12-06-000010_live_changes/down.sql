DROP TRIGGER api_tokens_revoked ON api_tokens;
DROP FUNCTION api_tokens_announce_revocation();

CREATE OR REPLACE FUNCTION audit_row_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    row_before jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
    row_after  jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
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
        row_after);
    RETURN NULL;
END
$$;
DROP INDEX audit_log_feed_idx;
ALTER TABLE audit_log DROP COLUMN tx;
