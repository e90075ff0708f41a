DROP TRIGGER people_member_names_after_update ON people;
DROP FUNCTION people_refresh_member_names();

CREATE OR REPLACE FUNCTION organizations_refresh_moves() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM refresh_career_moves(NULL);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION employments_refresh_moves() RETURNS trigger
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

DROP FUNCTION refresh_tree_members(bigint[]);
DROP TABLE tree_members;
