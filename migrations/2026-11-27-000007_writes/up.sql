-- Writes: optimistic versions, API tokens and an audit trail kept by the database.

-- Every editable row carries a version. An update names the version its client
-- last saw (`WHERE version = $n`), so a stale edit matches no row and is refused
-- instead of silently overwriting someone else's change.
ALTER TABLE organizations ADD COLUMN version integer NOT NULL DEFAULT 1;
ALTER TABLE people        ADD COLUMN version integer NOT NULL DEFAULT 1;
ALTER TABLE employments   ADD COLUMN version integer NOT NULL DEFAULT 1;
ALTER TABLE publications  ADD COLUMN version integer NOT NULL DEFAULT 1;
ALTER TABLE authorships   ADD COLUMN version integer NOT NULL DEFAULT 1;
ALTER TABLE sources       ADD COLUMN version integer NOT NULL DEFAULT 1;

-- In the database rather than the code, so that no write path can forget it.
CREATE FUNCTION bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version + 1;
    IF to_jsonb(NEW) ? 'updated_at' THEN
        NEW := jsonb_populate_record(NEW, jsonb_build_object('updated_at', now()));
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER organizations_bump_version BEFORE UPDATE ON organizations
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION bump_version();
CREATE TRIGGER people_bump_version BEFORE UPDATE ON people
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION bump_version();
CREATE TRIGGER employments_bump_version BEFORE UPDATE ON employments
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION bump_version();
CREATE TRIGGER publications_bump_version BEFORE UPDATE ON publications
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION bump_version();
CREATE TRIGGER authorships_bump_version BEFORE UPDATE ON authorships
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION bump_version();
CREATE TRIGGER sources_bump_version BEFORE UPDATE ON sources
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION bump_version();

-- Bearer tokens. Only a SHA-256 of the secret is kept: the secret is shown once.
-- Tokens are revoked, never deleted, so the audit trail can always name them.
CREATE TABLE api_tokens (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text        NOT NULL,
    role        text        NOT NULL,
    token_hash  bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash),
    CONSTRAINT api_tokens_role_valid CHECK (role IN ('editor', 'admin')),
    CONSTRAINT api_tokens_name_length CHECK (length(btrim(name)) BETWEEN 1 AND 200)
);
COMMENT ON TABLE api_tokens IS 'Write tokens: editor writes data, admin also manages tokens and reads the audit log.';

-- Every change to a fact, with who made it and the row before and after.
-- No foreign key to the changed row: a delete keeps its history.
CREATE TABLE audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    changed_at   timestamptz NOT NULL DEFAULT now(),
    token_id     bigint REFERENCES api_tokens (id) ON DELETE RESTRICT,
    actor        text        NOT NULL,
    action       text        NOT NULL,
    entity_type  text        NOT NULL,
    entity_id    bigint      NOT NULL,
    before       jsonb,
    after        jsonb,
    CONSTRAINT audit_log_action_valid CHECK (action IN ('CREATE', 'UPDATE', 'DELETE'))
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id, id);
COMMENT ON TABLE audit_log IS
    'Append-only trail of every change. actor is "token:<id>", "cli:<command>" or "database:<role>" for direct SQL.';

-- Writers name themselves per transaction with set_config('talentgraph.actor',
-- ..., true) and 'talentgraph.token_id'; a change made with plain SQL is still
-- recorded, under the database role. Bulk loads of synthetic data may opt out
-- with SET talentgraph.audit = 'off'.
CREATE FUNCTION audit_row_change() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER organizations_audit AFTER INSERT OR UPDATE OR DELETE ON organizations
    FOR EACH ROW EXECUTE FUNCTION audit_row_change('organization', 'id');
CREATE TRIGGER people_audit AFTER INSERT OR UPDATE OR DELETE ON people
    FOR EACH ROW EXECUTE FUNCTION audit_row_change('person', 'id');
CREATE TRIGGER employments_audit AFTER INSERT OR UPDATE OR DELETE ON employments
    FOR EACH ROW EXECUTE FUNCTION audit_row_change('employment', 'id');
CREATE TRIGGER publications_audit AFTER INSERT OR UPDATE OR DELETE ON publications
    FOR EACH ROW EXECUTE FUNCTION audit_row_change('publication', 'id');
CREATE TRIGGER authorships_audit AFTER INSERT OR UPDATE OR DELETE ON authorships
    FOR EACH ROW EXECUTE FUNCTION audit_row_change('authorship', 'id');
CREATE TRIGGER sources_audit AFTER INSERT OR UPDATE OR DELETE ON sources
    FOR EACH ROW EXECUTE FUNCTION audit_row_change('source', 'id');
-- Citations are part of the fact they support: filed under the fact's id.
CREATE TRIGGER employment_sources_audit AFTER INSERT OR DELETE ON employment_sources
    FOR EACH ROW EXECUTE FUNCTION audit_row_change('employment_source', 'employment_id');
CREATE TRIGGER authorship_sources_audit AFTER INSERT OR DELETE ON authorship_sources
    FOR EACH ROW EXECUTE FUNCTION audit_row_change('authorship_source', 'authorship_id');
