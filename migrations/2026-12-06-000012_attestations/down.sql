DROP FUNCTION stint_in_progress_on(date, text, date, text, boolean, date, date, date, date);
DROP TABLE employment_attestations;
DROP FUNCTION employment_attestations_summarize();
ALTER TABLE employments
    DROP COLUMN attested_from,
    DROP COLUMN attested_until,
    DROP COLUMN ended_by;
