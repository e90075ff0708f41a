-- PostGraphile-only: `Organization.founders` and `Organization.leaders`, the
-- same rows as talentgraph's fields of those names. Stock PostGraphile (amber)
-- offers `condition:` only on indexed columns, and `is_founder`/`is_leader`
-- are indexed only as partial-index predicates, so computed columns are its
-- idiomatic way to expose them (as for alumni.sql). LANGUAGE sql and STABLE so
-- that PostgreSQL inlines them. Applied by bench/compare.sh to the benchmark
-- database only, never by talentgraph's migrations.
CREATE OR REPLACE FUNCTION organizations_founders(o organizations)
RETURNS SETOF people
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT DISTINCT ON (p.name, p.id) p.*
    FROM employments e JOIN people p ON p.id = e.person_id
    WHERE e.organization_id = o.id AND e.is_founder
    ORDER BY p.name, p.id
$$;

CREATE OR REPLACE FUNCTION organizations_leaders(o organizations)
RETURNS SETOF employments
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT e.* FROM employments e
    WHERE e.organization_id = o.id AND e.is_leader
    ORDER BY e.id
$$;
