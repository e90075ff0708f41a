-- Who is (or was) inside each organization's tree, precomputed: alumni of a
-- large organization must come back a page at a time in name order, which a
-- query-time aggregate over tens of thousands of stints cannot do quickly.
--
-- One row per (tree, person) for every organization on the ancestor chain of
-- each of the person's stints, with whether any of those stints is current.
-- The person's name is copied so that a tree's members can be paged by name
-- from the index alone.

-- No foreign keys, as for career_moves: derived and rebuilt by triggers.
CREATE TABLE tree_members (
    tree_id      bigint  NOT NULL,
    person_id    bigint  NOT NULL,
    person_name  text    NOT NULL,
    is_current   boolean NOT NULL,
    CONSTRAINT tree_members_pkey PRIMARY KEY (tree_id, person_id)
);
COMMENT ON TABLE tree_members IS
    'Derived from employments, people and organizations by refresh_tree_members(); never written by the service.';
CREATE INDEX tree_members_alumni_idx ON tree_members (tree_id, person_name, person_id) WHERE NOT is_current;
CREATE INDEX tree_members_person_idx ON tree_members (person_id);

-- Recomputes the memberships of the given people (all people when NULL).
CREATE FUNCTION refresh_tree_members(person_ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    -- Joined, never = ANY: see refresh_career_moves.
    DELETE FROM tree_members WHERE person_ids IS NULL;
    DELETE FROM tree_members m USING unnest(person_ids) AS p(id) WHERE m.person_id = p.id;

    WITH RECURSIVE ancestry (org_id, tree_id) AS (
            SELECT id, id FROM organizations
        UNION ALL
            SELECT a.org_id, o.parent_id FROM ancestry a JOIN organizations o ON o.id = a.tree_id
            WHERE o.parent_id IS NOT NULL
    )
    INSERT INTO tree_members (tree_id, person_id, person_name, is_current)
    SELECT a.tree_id, e.person_id, p.name, bool_or(e.is_current)
    FROM employments e
    JOIN ancestry a ON a.org_id = e.organization_id
    JOIN people p ON p.id = e.person_id
    WHERE person_ids IS NULL OR e.person_id IN (SELECT unnest(person_ids))
    GROUP BY a.tree_id, e.person_id, p.name;
$$;

-- The statement-level triggers that keep career_moves current refresh
-- memberships too.
CREATE OR REPLACE FUNCTION employments_refresh_moves() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    affected bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        affected := ARRAY(SELECT DISTINCT person_id FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        affected := ARRAY(SELECT DISTINCT person_id FROM old_rows);
    ELSE
        affected := ARRAY(SELECT person_id FROM new_rows UNION SELECT person_id FROM old_rows);
    END IF;
    PERFORM refresh_career_moves(affected);
    PERFORM refresh_tree_members(affected);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION organizations_refresh_moves() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM refresh_career_moves(NULL);
    PERFORM refresh_tree_members(NULL);
    RETURN NULL;
END
$$;

-- A renamed person keeps their place in alumni lists' name order.
CREATE FUNCTION people_refresh_member_names() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tree_members m SET person_name = n.name
    FROM new_rows n WHERE m.person_id = n.id AND m.person_name <> n.name;
    RETURN NULL;
END
$$;
CREATE TRIGGER people_member_names_after_update AFTER UPDATE ON people
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION people_refresh_member_names();

SELECT refresh_tree_members(NULL);
