-- An organization's stint listing reads the ids of a page from this index
-- alone (an index-only scan) and only then the page's rows. That needs every
-- column its filters read in the index: the status, and for `at:` the
-- point-in-time rule's inputs (`stint_in_progress_on`), which since the
-- attestations include attested_from, attested_until and ended_by. Without
-- them PostgreSQL fetched every stint of the organization from the table to
-- filter it.
DROP INDEX employments_organization_id_started_on_idx;
CREATE INDEX employments_organization_id_started_on_idx ON employments (organization_id, started_on, id)
    INCLUDE (started_on_precision, ended_on, ended_on_precision, is_current,
             attested_from, attested_until, ended_by);
