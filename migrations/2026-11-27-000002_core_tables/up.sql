-- The domain: organizations (with units), people, their employment stints,
-- publications with ordered authorships, and the sources every fact cites.
--
-- Conventions:
-- * ids are bigint identities; the API exposes opaque global ids, never these.
-- * every constraint is named, so that the service can map a violation to a
--   stable API error by name.
-- * slugs are lowercase ASCII words joined by single hyphens.

CREATE TABLE organizations (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug                  text        NOT NULL,
    name                  text        NOT NULL,
    kind                  text        NOT NULL,
    parent_id             bigint      NULL,
    country               text        NULL,
    website               text        NULL,
    founded_on            date        NULL,
    founded_on_precision  text        NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT organizations_slug_key UNIQUE (slug),
    CONSTRAINT organizations_slug_format CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 100),
    CONSTRAINT organizations_name_length CHECK (length(btrim(name)) BETWEEN 1 AND 200 AND name = btrim(name)),
    CONSTRAINT organizations_kind_valid CHECK (kind IN
        ('company', 'startup', 'research_lab', 'university', 'nonprofit', 'government', 'other')),
    CONSTRAINT organizations_parent_fkey FOREIGN KEY (parent_id)
        REFERENCES organizations (id) ON DELETE RESTRICT,
    CONSTRAINT organizations_parent_not_self CHECK (parent_id <> id),
    CONSTRAINT organizations_country_format CHECK (country ~ '^[A-Z]{2}$'),
    CONSTRAINT organizations_website_format CHECK (website ~ '^https?://[^\s]+$'),
    CONSTRAINT organizations_founded_on_valid CHECK (partial_date_is_valid(founded_on, founded_on_precision))
);
COMMENT ON TABLE organizations IS
    'A company, lab, university or other body people work for; parent_id makes it a unit of another (FAIR of Meta).';
COMMENT ON COLUMN organizations.kind IS
    'company | startup | research_lab | university | nonprofit | government | other';
COMMENT ON COLUMN organizations.country IS 'ISO 3166-1 alpha-2 code, e.g. FR.';
CREATE INDEX organizations_parent_id_idx ON organizations (parent_id);
-- Keyset pagination of Query.organizations, ordered by name.
CREATE INDEX organizations_name_id_idx ON organizations (name, id);

-- The parent chain must never form a cycle. A CHECK cannot see other rows, so
-- a trigger walks up from the new parent. Parent changes take one advisory
-- lock so that two concurrent updates (A under B, B under A) cannot both pass.
CREATE FUNCTION organizations_forbid_parent_cycle() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.parent_id IS NULL THEN
        RETURN NEW;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('organizations.parent_id'));
    IF EXISTS (
        WITH RECURSIVE ancestors (id, parent_id) AS (
            SELECT id, parent_id FROM organizations WHERE id = NEW.parent_id
            UNION
            SELECT o.id, o.parent_id FROM organizations o JOIN ancestors a ON o.id = a.parent_id
        )
        SELECT 1 FROM ancestors WHERE id = NEW.id
    ) THEN
        RAISE EXCEPTION 'organization % cannot be a unit of its own unit %', NEW.id, NEW.parent_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'organizations_parent_acyclic';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER organizations_parent_acyclic
    BEFORE INSERT OR UPDATE OF parent_id ON organizations
    FOR EACH ROW EXECUTE FUNCTION organizations_forbid_parent_cycle();

CREATE TABLE people (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        text        NOT NULL,
    name        text        NOT NULL,
    aliases     text[]      NOT NULL DEFAULT '{}',
    bio         text        NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT people_slug_key UNIQUE (slug),
    CONSTRAINT people_slug_format CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 100),
    CONSTRAINT people_name_length CHECK (length(btrim(name)) BETWEEN 1 AND 200 AND name = btrim(name)),
    CONSTRAINT people_aliases_not_null CHECK (array_position(aliases, NULL) IS NULL),
    CONSTRAINT people_bio_length CHECK (length(bio) <= 5000)
);
COMMENT ON TABLE people IS 'A person whose employment history and authorships are tracked.';
COMMENT ON COLUMN people.aliases IS 'Other spellings of the name ("Aurelien Rodriguez" for "Aurélien Rodriguez").';
CREATE INDEX people_name_id_idx ON people (name, id);

CREATE TABLE sources (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url                     text        NOT NULL,
    title                   text        NULL,
    publisher               text        NULL,
    published_on            date        NULL,
    published_on_precision  text        NULL,
    created_at              timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sources_url_key UNIQUE (url),
    CONSTRAINT sources_url_format CHECK (url ~ '^https?://[^\s]+$'),
    CONSTRAINT sources_published_on_valid CHECK (partial_date_is_valid(published_on, published_on_precision))
);
COMMENT ON TABLE sources IS 'Where a fact comes from: an article, a paper''s page, a press release.';

CREATE TABLE employments (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id             bigint      NOT NULL,
    organization_id       bigint      NOT NULL,
    title                 text        NULL,
    is_founder            boolean     NOT NULL DEFAULT false,
    started_on            date        NULL,
    started_on_precision  text        NULL,
    ended_on              date        NULL,
    ended_on_precision    text        NULL,
    is_current            boolean     NOT NULL,
    career_position       integer     NULL,
    reported_years        integer     NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT employments_person_fkey FOREIGN KEY (person_id)
        REFERENCES people (id) ON DELETE CASCADE,
    CONSTRAINT employments_organization_fkey FOREIGN KEY (organization_id)
        REFERENCES organizations (id) ON DELETE RESTRICT,
    CONSTRAINT employments_title_length CHECK (length(btrim(title)) BETWEEN 1 AND 200 AND title = btrim(title)),
    CONSTRAINT employments_started_on_valid CHECK (partial_date_is_valid(started_on, started_on_precision)),
    CONSTRAINT employments_ended_on_valid CHECK (partial_date_is_valid(ended_on, ended_on_precision)),
    -- Compared at the precision given: a stint that started on 2023-04-28 may
    -- end in "2023-04", whose last day is after its start.
    CONSTRAINT employments_end_not_before_start CHECK (
        started_on IS NULL OR ended_on IS NULL
        OR partial_date_last_day(ended_on, ended_on_precision) >= started_on),
    CONSTRAINT employments_current_has_no_end CHECK (NOT (is_current AND ended_on IS NOT NULL)),
    CONSTRAINT employments_career_position_positive CHECK (career_position > 0),
    CONSTRAINT employments_reported_years_positive CHECK (reported_years BETWEEN 1 AND 100)
);
COMMENT ON TABLE employments IS
    'One stint of a person at an organization. Dates are partial and optional: store only what a source gives.';
COMMENT ON COLUMN employments.is_current IS
    'False with a null ended_on means the stint is known to have ended on an unknown date ("has left Meta").';
COMMENT ON COLUMN employments.career_position IS
    'Order of the stint in the person''s career (1 = first), for when dates are unknown; it sorts before dates.';
COMMENT ON COLUMN employments.reported_years IS
    'Length of the stint in years as a source states it ("after five years at DeepMind") when dates are unknown.';
CREATE INDEX employments_person_id_idx ON employments (person_id);
-- An organization's listing (by start, then id) and its point-in-time and
-- status filters read this index alone; only the page's rows touch the table.
CREATE INDEX employments_organization_id_started_on_idx ON employments (organization_id, started_on, id)
    INCLUDE (started_on_precision, ended_on, ended_on_precision, is_current);
CREATE INDEX employments_founders_idx ON employments (organization_id) WHERE is_founder;

CREATE TABLE publications (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug                    text        NOT NULL,
    title                   text        NOT NULL,
    published_on            date        NULL,
    published_on_precision  text        NULL,
    venue                   text        NULL,
    url                     text        NULL,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT publications_slug_key UNIQUE (slug),
    CONSTRAINT publications_slug_format CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 100),
    CONSTRAINT publications_title_length CHECK (length(btrim(title)) BETWEEN 1 AND 500 AND title = btrim(title)),
    CONSTRAINT publications_url_format CHECK (url ~ '^https?://[^\s]+$'),
    CONSTRAINT publications_published_on_valid CHECK (partial_date_is_valid(published_on, published_on_precision))
);
COMMENT ON TABLE publications IS 'A paper or report whose author list defines a cohort worth following.';
-- Keyset pagination of Query.publications, ordered by title.
CREATE INDEX publications_title_id_idx ON publications (title, id);

CREATE TABLE authorships (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    publication_id  bigint  NOT NULL,
    person_id       bigint  NOT NULL,
    position        integer NOT NULL,
    affiliation_id  bigint  NULL,
    CONSTRAINT authorships_publication_fkey FOREIGN KEY (publication_id)
        REFERENCES publications (id) ON DELETE CASCADE,
    CONSTRAINT authorships_person_fkey FOREIGN KEY (person_id)
        REFERENCES people (id) ON DELETE CASCADE,
    CONSTRAINT authorships_affiliation_fkey FOREIGN KEY (affiliation_id)
        REFERENCES organizations (id) ON DELETE RESTRICT,
    CONSTRAINT authorships_position_positive CHECK (position > 0),
    -- Deferrable so that reordering authors can swap positions in one transaction.
    CONSTRAINT authorships_publication_position_key UNIQUE (publication_id, position)
        DEFERRABLE INITIALLY IMMEDIATE,
    CONSTRAINT authorships_publication_person_key UNIQUE (publication_id, person_id)
);
COMMENT ON TABLE authorships IS 'A person''s place (1-based position) in a publication''s author list, with their affiliation then.';
CREATE INDEX authorships_person_id_idx ON authorships (person_id);
CREATE INDEX authorships_affiliation_id_idx ON authorships (affiliation_id);

-- Citations: which sources back which facts.
CREATE TABLE employment_sources (
    employment_id  bigint NOT NULL,
    source_id      bigint NOT NULL,
    CONSTRAINT employment_sources_pkey PRIMARY KEY (employment_id, source_id),
    CONSTRAINT employment_sources_employment_fkey FOREIGN KEY (employment_id)
        REFERENCES employments (id) ON DELETE CASCADE,
    CONSTRAINT employment_sources_source_fkey FOREIGN KEY (source_id)
        REFERENCES sources (id) ON DELETE RESTRICT
);
COMMENT ON TABLE employment_sources IS 'Citations: the sources an employment stint rests on (at least one).';
CREATE INDEX employment_sources_source_id_idx ON employment_sources (source_id);

CREATE TABLE authorship_sources (
    authorship_id  bigint NOT NULL,
    source_id      bigint NOT NULL,
    CONSTRAINT authorship_sources_pkey PRIMARY KEY (authorship_id, source_id),
    CONSTRAINT authorship_sources_authorship_fkey FOREIGN KEY (authorship_id)
        REFERENCES authorships (id) ON DELETE CASCADE,
    CONSTRAINT authorship_sources_source_fkey FOREIGN KEY (source_id)
        REFERENCES sources (id) ON DELETE RESTRICT
);
COMMENT ON TABLE authorship_sources IS 'Citations: the sources an authorship rests on (at least one).';
CREATE INDEX authorship_sources_source_id_idx ON authorship_sources (source_id);

-- "A fact without a source is not a fact here." Checked at commit (deferred),
-- so a fact and its first citation can be written in one transaction in any
-- order. One function per kind of fact, with static SQL, so that plans are
-- cached: bulk loads check hundreds of thousands of rows at commit.
CREATE FUNCTION assert_employment_cited() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    fact_id bigint;
BEGIN
    IF TG_TABLE_NAME = 'employments' THEN
        fact_id := NEW.id;
    ELSE
        fact_id := OLD.employment_id;
    END IF;
    IF EXISTS (SELECT 1 FROM employments WHERE id = fact_id)
       AND NOT EXISTS (SELECT 1 FROM employment_sources WHERE employment_id = fact_id) THEN
        RAISE EXCEPTION 'employment % cites no source', fact_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'employments_cited';
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION assert_authorship_cited() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    fact_id bigint;
BEGIN
    IF TG_TABLE_NAME = 'authorships' THEN
        fact_id := NEW.id;
    ELSE
        fact_id := OLD.authorship_id;
    END IF;
    IF EXISTS (SELECT 1 FROM authorships WHERE id = fact_id)
       AND NOT EXISTS (SELECT 1 FROM authorship_sources WHERE authorship_id = fact_id) THEN
        RAISE EXCEPTION 'authorship % cites no source', fact_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'authorships_cited';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER employments_cited
    AFTER INSERT ON employments DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION assert_employment_cited();
CREATE CONSTRAINT TRIGGER employment_sources_keep_cited
    AFTER DELETE OR UPDATE ON employment_sources DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION assert_employment_cited();
CREATE CONSTRAINT TRIGGER authorships_cited
    AFTER INSERT ON authorships DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION assert_authorship_cited();
CREATE CONSTRAINT TRIGGER authorship_sources_keep_cited
    AFTER DELETE OR UPDATE ON authorship_sources DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION assert_authorship_cited();
