-- A deterministic synthetic data set in talentgraph's own schema, for
-- benchmarks. Run on a migrated, empty database:
--
--   psql "$DATABASE_URL" -v people=100000 -v orgs=5000 -f bench/synthetic.sql
--
-- Shape: one top-level organization in five, the rest units of one (two
-- levels deep for some); three stints a person (two ended, one current) with
-- year, month or day precision and some unknown dates; stints concentrate on
-- low organization numbers (organization 1, "Org 00001", is the largest);
-- every stint and authorship cites a source; 1 publication per 100 people,
-- 10 authors each, affiliated with their first employer.
\set ON_ERROR_STOP on
\if :{?people} \else \set people 100000 \endif
\if :{?orgs} \else \set orgs 5000 \endif

BEGIN;
SELECT setseed(0.42);
-- Synthetic rows are no one's edits: keep them out of the audit trail (the
-- audit triggers skip changes made with this setting; see migration 000007).
SET LOCAL talentgraph.audit = 'off';

-- Bulk load: the statement-level triggers that keep career_moves and
-- tree_members current would recompute them for every person at each insert;
-- switched off here, and both tables are computed once, below, instead.
-- (ALTER TABLE locks the table until COMMIT: fine for a benchmark database.)
ALTER TABLE employments DISABLE TRIGGER employments_moves_after_insert;

INSERT INTO sources (url, title, publisher, published_on, published_on_precision)
SELECT 'https://example.org/source/' || n, 'Source ' || n, 'Synthetic', make_date(2000 + n % 25, 1, 1), 'year'
FROM generate_series(1, 1000) n;

INSERT INTO organizations (slug, name, kind, country, founded_on, founded_on_precision)
SELECT 'org-' || lpad(n::text, 5, '0'), 'Org ' || lpad(n::text, 5, '0'),
       (ARRAY['company', 'startup', 'research_lab', 'university', 'nonprofit', 'government', 'other'])[1 + n % 7],
       (ARRAY['US', 'FR', 'GB', 'DE', 'CA'])[1 + n % 5],
       make_date(1950 + n % 70, CASE WHEN n % 2 = 0 THEN 1 ELSE 1 + n % 12 END, 1),
       CASE WHEN n % 2 = 0 THEN 'year' ELSE 'month' END
FROM generate_series(1, :orgs) n;

-- Every fifth organization is top-level; the others are units of a top-level
-- one (organizations 2-5 are units of 1, ...), and one in ten of those a unit
-- of a unit.
-- (The database may hold other organizations too, e.g. the article's.)
CREATE FUNCTION pg_temp.org_number(slug text) RETURNS int LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN slug ~ '^org-[0-9]+$' THEN substr(slug, 5)::int END
$$;
UPDATE organizations o SET parent_id = p.id
FROM organizations p
WHERE o.slug <> p.slug
  AND pg_temp.org_number(o.slug) % 5 <> 1
  AND p.slug = 'org-' || lpad(((pg_temp.org_number(o.slug) - 1) / 5 * 5 + 1)::text, 5, '0');
UPDATE organizations o SET parent_id = p.id
FROM organizations p
WHERE pg_temp.org_number(o.slug) % 50 = 3
  AND p.slug = 'org-' || lpad((pg_temp.org_number(o.slug) - 1)::text, 5, '0');

-- 8,000 distinct family names, so that search sees realistic selectivity.
CREATE FUNCTION pg_temp.syllable(n int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT (ARRAY['ba', 'ren', 'tor', 'mi', 'sol', 'ka', 'vel', 'dun', 'ar', 'lo',
                  'ne', 'sti', 'gra', 'po', 'lin', 'mèr', 'zo', 'ha', 'qui', 'dé'])[1 + n % 20]
$$;

INSERT INTO people (slug, name, aliases, bio)
SELECT 'person-' || n,
       (ARRAY['Ana', 'Bruno', 'Chloé', 'Dmitri', 'Élodie', 'Farid', 'Grace', 'Hugo', 'Inès', 'Jun'])[1 + n % 10]
         || ' ' || initcap(pg_temp.syllable(n) || pg_temp.syllable(n / 20) || pg_temp.syllable(n / 400)),
       CASE WHEN n % 7 = 0 THEN ARRAY[unaccent(initcap(pg_temp.syllable(n) || pg_temp.syllable(n / 20) || pg_temp.syllable(n / 400)))] ELSE '{}' END,
       CASE WHEN n % 3 = 0 THEN 'Synthetic person ' || n END
FROM generate_series(1, :people) n;

CREATE TEMP TABLE stint_plan AS
SELECT p.id AS person_id, k AS career_position,
       -- Skewed towards low organization numbers: organization 1 is the largest.
       1 + floor(:orgs * power(random(), 3))::int AS org_number,
       (2000 + p.id % 10 + (k - 1) * 6)::int AS start_year,
       ((p.id + k) % 4)::int AS date_shape
FROM people p CROSS JOIN generate_series(1, 3) k
WHERE p.slug LIKE 'person-%';

INSERT INTO employments (person_id, organization_id, title, is_founder, started_on, started_on_precision,
                         ended_on, ended_on_precision, is_current, career_position)
SELECT s.person_id, o.id,
       (ARRAY['Engineer', 'Researcher', 'Manager', 'Scientist', NULL])[1 + s.person_id % 5],
       s.career_position = 1 AND s.person_id % 997 = 0,
       CASE s.date_shape WHEN 0 THEN make_date(s.start_year, 1, 1) WHEN 1 THEN make_date(s.start_year, 3, 1)
                         WHEN 2 THEN make_date(s.start_year, 3, 14) END,
       CASE s.date_shape WHEN 0 THEN 'year' WHEN 1 THEN 'month' WHEN 2 THEN 'day' END,
       CASE WHEN s.career_position < 3 AND s.date_shape <> 3 THEN make_date(s.start_year + 5, 1, 1) END,
       CASE WHEN s.career_position < 3 AND s.date_shape <> 3 THEN 'year' END,
       s.career_position = 3,
       s.career_position
FROM stint_plan s JOIN organizations o ON o.slug = 'org-' || lpad(s.org_number::text, 5, '0');

-- The moves and the memberships, computed once for everyone by the
-- migrations' own functions.
--
-- The statements of a LANGUAGE sql function are planned without its
-- argument's value: refresh_career_moves's planner takes a stint in two to
-- be selected whatever the call (so calling it in chunks of people changes
-- nothing), the organization ancestry to be 100 times what it is (5,000,000
-- rows for 91,000 at 50,000 organizations), and, the CTEs having no
-- statistics, every equality join to keep one row in 200. Beyond some 500,000
-- stints it then prefers joining every stint with every ancestry row first,
-- before matching them to departures: at 1,000,000 people, a cross product of
-- billions of rows per 50,000 people, sorted on disk, filled the disk.
-- join_collapse_limit = 1 keeps the joins in the order written (departures,
-- the stints after them, then the ancestry anti-join): everyone in one call,
-- about 3 GB of sorts. JIT would only compile for those estimates.
--
-- Both tables' indexes are dropped for the computation and rebuilt from
-- their own definitions after it: building an index over the finished table
-- is several times faster than inserting millions of rows into it in random
-- key order.
CREATE TEMP TABLE derived_indexes ON COMMIT DROP AS
SELECT i.indrelid::regclass::text AS table_name, i.indexrelid::regclass::text AS index_name, c.conname,
       pg_get_indexdef(i.indexrelid) AS index_def, pg_get_constraintdef(c.oid) AS constraint_def
FROM pg_index i
LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
WHERE i.indrelid IN ('career_moves'::regclass, 'tree_members'::regclass);
DO $$
DECLARE
    d record;
BEGIN
    FOR d IN SELECT * FROM derived_indexes LOOP
        IF d.conname IS NULL THEN
            EXECUTE format('DROP INDEX %s', d.index_name);
        ELSE
            EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', d.table_name, d.conname);
        END IF;
    END LOOP;
END $$;
SET LOCAL jit = off;
SET LOCAL join_collapse_limit = 1;
SELECT refresh_career_moves(NULL);
RESET join_collapse_limit;
SELECT refresh_tree_members(NULL);
RESET jit;
SET LOCAL maintenance_work_mem = '512MB';
DO $$
DECLARE
    d record;
BEGIN
    FOR d IN SELECT * FROM derived_indexes ORDER BY conname IS NULL LOOP
        IF d.conname IS NULL THEN
            EXECUTE d.index_def;
        ELSE
            EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', d.table_name, d.conname, d.constraint_def);
        END IF;
    END LOOP;
END $$;
RESET maintenance_work_mem;

INSERT INTO employment_sources (employment_id, source_id)
SELECT e.id, (SELECT min(id) FROM sources) + e.id % 1000 FROM employments e
ON CONFLICT DO NOTHING;

INSERT INTO publications (slug, title, published_on, published_on_precision, venue)
SELECT 'paper-' || n, 'Synthetic Paper ' || n, make_date(2005 + n % 20, 1 + n % 12, 1), 'month', 'arXiv'
FROM generate_series(1, greatest(:people / 100, 1)) n;

INSERT INTO authorships (publication_id, person_id, position, affiliation_id)
SELECT pub.id, e.person_id, a, e.organization_id
FROM publications pub CROSS JOIN generate_series(1, 10) a
JOIN people author ON author.slug = 'person-' || (1 + ((substr(pub.slug, 7)::int * 10 + a) * 7919) % :people)
JOIN employments e ON e.person_id = author.id AND e.career_position = 1
WHERE pub.slug LIKE 'paper-%'
ON CONFLICT (publication_id, person_id) DO NOTHING;

INSERT INTO authorship_sources (authorship_id, source_id)
SELECT a.id, (SELECT min(id) FROM sources) + a.id % 1000 FROM authorships a
ON CONFLICT DO NOTHING;

COMMIT;
-- After COMMIT: the deferred citation checks must have run first.
ALTER TABLE employments ENABLE TRIGGER employments_moves_after_insert;
-- Index-only scans need the visibility map that VACUUM writes.
VACUUM ANALYZE;
SELECT (SELECT count(*) FROM organizations) AS organizations, (SELECT count(*) FROM people) AS people,
       (SELECT count(*) FROM employments) AS employments, (SELECT count(*) FROM publications) AS publications;
