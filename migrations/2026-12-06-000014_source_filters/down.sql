DROP INDEX sources_published_on_idx;
DROP INDEX sources_publisher_trgm_idx;
DROP INDEX sources_title_trgm_idx;
DROP INDEX sources_url_trgm_idx;
