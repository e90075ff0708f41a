DROP INDEX publications_search_idx;
DROP INDEX organizations_search_idx;
DROP INDEX people_search_idx;
DROP FUNCTION person_search_text(text, text[]);
DROP FUNCTION search_pattern(text);
DROP FUNCTION search_normalize(text);
-- The extensions stay: other schemas may use them, and keeping them is harmless.
