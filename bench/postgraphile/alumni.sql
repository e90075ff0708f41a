-- PostGraphile-only: `Organization.alumni`, the same rows as talentgraph's
-- `Organization.alumni` (people who were inside the organization's tree and
-- have no current stint there, by name), read from the same derived table.
-- Stock PostGraphile can filter a connection only by equality, so a
-- computed-column function is its idiomatic way to expose this; LANGUAGE sql
-- and STABLE so that PostgreSQL inlines it. Applied by bench/compare.sh to
-- the benchmark database only, never by talentgraph's migrations.
CREATE OR REPLACE FUNCTION organizations_alumni(o organizations)
RETURNS SETOF people
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT p.*
    FROM tree_members m JOIN people p ON p.id = m.person_id
    WHERE m.tree_id = o.id AND NOT m.is_current
    ORDER BY m.person_name, m.person_id
$$;
