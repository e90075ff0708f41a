-- Leadership: whether a stint is the one at the head of its organization
-- ("Joelle Pineau led FAIR"). Kept as a flag beside the free-text title so
-- that succession can be listed without parsing titles.
ALTER TABLE employments ADD COLUMN is_leader boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN employments.is_leader IS 'The person headed the organization during this stint.';
CREATE INDEX employments_leaders_idx ON employments (organization_id) WHERE is_leader;
