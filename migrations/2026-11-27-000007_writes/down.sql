DROP TRIGGER authorship_sources_audit ON authorship_sources;
DROP TRIGGER employment_sources_audit ON employment_sources;
DROP TRIGGER sources_audit ON sources;
DROP TRIGGER authorships_audit ON authorships;
DROP TRIGGER publications_audit ON publications;
DROP TRIGGER employments_audit ON employments;
DROP TRIGGER people_audit ON people;
DROP TRIGGER organizations_audit ON organizations;
DROP FUNCTION audit_row_change();
DROP TABLE audit_log;
DROP TABLE api_tokens;

DROP TRIGGER sources_bump_version ON sources;
DROP TRIGGER authorships_bump_version ON authorships;
DROP TRIGGER publications_bump_version ON publications;
DROP TRIGGER employments_bump_version ON employments;
DROP TRIGGER people_bump_version ON people;
DROP TRIGGER organizations_bump_version ON organizations;
DROP FUNCTION bump_version();

ALTER TABLE sources       DROP COLUMN version;
ALTER TABLE authorships   DROP COLUMN version;
ALTER TABLE publications  DROP COLUMN version;
ALTER TABLE employments   DROP COLUMN version;
ALTER TABLE people        DROP COLUMN version;
ALTER TABLE organizations DROP COLUMN version;
