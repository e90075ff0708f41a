-- Talent flows, precomputed. A move: one of a person's stints inside a tree
-- ended, and the first of their later stints outside that tree followed it.
-- Computing that for a large organization at query time means ordering every
-- stint of tens of thousands of people; here it is kept up to date per person
-- as stints change, so a flow query is an indexed aggregate.
--
-- One row per (ended stint, tree it leaves): the tree of every organization
-- on the stint's ancestor chain, itself included, so that FAIR -> Reality
-- Labs is a move out of FAIR but not out of Meta.

-- No foreign keys: the table is derived, rebuilt by the triggers below
-- whenever what it derives from changes, and checking keys row by row would
-- multiply the cost of every refresh (seconds for a bulk load).
CREATE TABLE career_moves (
    person_id               bigint  NOT NULL,
    left_employment_id      bigint  NOT NULL,
    left_organization_id    bigint  NOT NULL,
    tree_id                 bigint  NOT NULL,
    tree_is_top_level       boolean NOT NULL,
    joined_employment_id    bigint  NOT NULL,
    joined_organization_id  bigint  NOT NULL,
    moved_on                date    NULL,
    moved_on_precision      text    NULL,
    CONSTRAINT career_moves_pkey PRIMARY KEY (left_employment_id, tree_id)
);
COMMENT ON TABLE career_moves IS
    'Derived from employments and organizations by refresh_career_moves(); never written by the service.';
COMMENT ON COLUMN career_moves.moved_on IS
    'The end of the stint left, else the start of the stint joined, at its precision; null when neither is known.';
-- Covering: a flow query on a tree reads the index alone (after VACUUM).
CREATE INDEX career_moves_tree_idx ON career_moves (tree_id, joined_organization_id, person_id)
    INCLUDE (moved_on, moved_on_precision);
CREATE INDEX career_moves_joined_top_idx ON career_moves (joined_organization_id, left_organization_id, person_id)
    INCLUDE (moved_on, moved_on_precision) WHERE tree_is_top_level;
CREATE INDEX career_moves_person_idx ON career_moves (person_id);

-- Recomputes the moves of the given people (all people when NULL).
CREATE FUNCTION refresh_career_moves(person_ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    -- The people are joined, never matched with = ANY: a bulk load passes
    -- 100,000 ids, and ANY scans its array for every row.
    DELETE FROM career_moves WHERE person_ids IS NULL;
    DELETE FROM career_moves m USING unnest(person_ids) AS p(id) WHERE m.person_id = p.id;

    WITH RECURSIVE ancestry (org_id, tree_id, is_top) AS (
            SELECT id, id, parent_id IS NULL FROM organizations
        UNION ALL
            SELECT a.org_id, o.parent_id, p.parent_id IS NULL
            FROM ancestry a JOIN organizations o ON o.id = a.tree_id
            JOIN organizations p ON p.id = o.parent_id
    ),
    -- The chronology rule of the API (domain::chronology): stated career
    -- position, then start (unknown last), then ended before current, then id.
    stints AS (
        SELECT e.*, row_number() OVER (
            PARTITION BY e.person_id
            ORDER BY e.career_position NULLS LAST, e.started_on NULLS LAST, e.is_current, e.id) AS seq
        FROM employments e
        WHERE person_ids IS NULL OR e.person_id IN (SELECT unnest(person_ids))
    ),
    departures AS (
        SELECT s.*, a.tree_id, a.is_top FROM stints s JOIN ancestry a ON a.org_id = s.organization_id
        WHERE NOT s.is_current
    )
    INSERT INTO career_moves (person_id, left_employment_id, left_organization_id, tree_id, tree_is_top_level,
                              joined_employment_id, joined_organization_id, moved_on, moved_on_precision)
    SELECT DISTINCT ON (d.id, d.tree_id)
        d.person_id, d.id, d.organization_id, d.tree_id, d.is_top, y.id, y.organization_id,
        CASE WHEN d.ended_on IS NOT NULL THEN d.ended_on ELSE y.started_on END,
        CASE WHEN d.ended_on IS NOT NULL THEN d.ended_on_precision ELSE y.started_on_precision END
    FROM departures d JOIN stints y ON y.person_id = d.person_id AND y.seq > d.seq
    WHERE NOT EXISTS (SELECT 1 FROM ancestry a WHERE a.org_id = y.organization_id AND a.tree_id = d.tree_id)
    ORDER BY d.id, d.tree_id, y.seq;
$$;

-- Stints changed: refresh the people they belong to, once per statement.
CREATE FUNCTION employments_refresh_moves() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM refresh_career_moves(ARRAY(SELECT DISTINCT person_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM refresh_career_moves(ARRAY(SELECT DISTINCT person_id FROM old_rows));
    ELSE
        PERFORM refresh_career_moves(ARRAY(
            SELECT person_id FROM new_rows UNION SELECT person_id FROM old_rows));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER employments_moves_after_insert AFTER INSERT ON employments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION employments_refresh_moves();
CREATE TRIGGER employments_moves_after_update AFTER UPDATE ON employments
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION employments_refresh_moves();
CREATE TRIGGER employments_moves_after_delete AFTER DELETE ON employments
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION employments_refresh_moves();

-- Re-parenting changes which trees contain which stints: rare, so recompute all.
CREATE FUNCTION organizations_refresh_moves() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM refresh_career_moves(NULL);
    RETURN NULL;
END
$$;
CREATE TRIGGER organizations_moves_after_reparent AFTER UPDATE OF parent_id ON organizations
    FOR EACH STATEMENT EXECUTE FUNCTION organizations_refresh_moves();

SELECT refresh_career_moves(NULL);

-- Alumni and listings read an organization's stints by person without
-- touching the table.
CREATE INDEX employments_organization_person_idx ON employments (organization_id, person_id, is_current);
