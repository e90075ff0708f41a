-- A page of an organization's current (or ended) stints in the listing's
-- order, read straight from the index: `status:` without `at:` filters on
-- is_current alone (`employments::STATUS_FILTER`). The listing index
-- (organization_id, started_on, id) had to walk past every stint of the
-- other status that starts earlier, a number that grows with the data.
CREATE INDEX employments_organization_status_started_on_idx
    ON employments (organization_id, is_current, started_on, id);
