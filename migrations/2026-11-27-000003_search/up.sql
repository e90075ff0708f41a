-- Search: accent- and case-insensitive, tolerant of small typos, across names
-- and aliases. unaccent folds accents, pg_trgm matches by trigrams (the
-- word_similarity operator `<%`, so "lachau" finds "Marie-Anne Lachaux" and
-- "rodriges" finds "Rodriguez"), and GIN indexes serve both.

CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- unaccent() is only STABLE (its dictionary could change); naming the
-- dictionary makes this wrapper safe to declare IMMUTABLE for indexes.
CREATE FUNCTION search_normalize(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, value)) $$;
COMMENT ON FUNCTION search_normalize(text) IS 'Lowercase, accents removed: what search compares.';

-- A LIKE pattern that finds the normalized query as a substring, literally.
CREATE FUNCTION search_pattern(query text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT '%' || replace(replace(replace(search_normalize(btrim(query)), '\', '\\'), '%', '\%'), '_', '\_') || '%'
$$;

CREATE FUNCTION person_search_text(name text, aliases text[]) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT search_normalize(name || ' ' || array_to_string(aliases, ' ')) $$;
COMMENT ON FUNCTION person_search_text(text, text[]) IS 'A person''s name and aliases as search sees them.';

CREATE INDEX people_search_idx ON people USING gin (person_search_text(name, aliases) gin_trgm_ops);
CREATE INDEX organizations_search_idx ON organizations USING gin (search_normalize(name || ' ' || slug) gin_trgm_ops);
CREATE INDEX publications_search_idx ON publications USING gin (search_normalize(title) gin_trgm_ops);
