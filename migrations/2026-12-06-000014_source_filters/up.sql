-- `Query.sources(where:)` filters sources by url, title and publisher
-- (`contains` is ILIKE '%…%', which only a trigram index serves; `startsWith`
-- on url uses the unique index behind sources_url_key only under the C
-- collation, so the trigram index serves it too) and by publication date.
CREATE INDEX sources_url_trgm_idx ON sources USING gin (url gin_trgm_ops);
CREATE INDEX sources_title_trgm_idx ON sources USING gin (title gin_trgm_ops);
CREATE INDEX sources_publisher_trgm_idx ON sources USING gin (publisher gin_trgm_ops);
CREATE INDEX sources_published_on_idx ON sources (published_on);
