DROP INDEX employments_organization_id_started_on_idx;
CREATE INDEX employments_organization_id_started_on_idx ON employments (organization_id, started_on, id)
    INCLUDE (started_on_precision, ended_on, ended_on_precision, is_current);
