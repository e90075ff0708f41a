-- Attestations: a source shows a stint in progress on a (partial) date, or shows
-- that it had ended by then, even when the stint's own start and end are unknown.
-- Wikidata's "point in time" and "latest date" qualifiers, for one stint.
--
-- The point-in-time rule reads them through three columns kept on the stint by a
-- trigger, so that the rule stays a function of one row (`stint_in_progress_on`)
-- and every caller -- listings, counts, filters, headcount -- applies the same one.

CREATE TABLE employment_attestations (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    employment_id      bigint NOT NULL,
    source_id          bigint NOT NULL,
    claim              text   NOT NULL,
    on_date            date   NOT NULL,
    on_date_precision  text   NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT employment_attestations_employment_fkey FOREIGN KEY (employment_id)
        REFERENCES employments (id) ON DELETE CASCADE,
    CONSTRAINT employment_attestations_source_fkey FOREIGN KEY (source_id)
        REFERENCES sources (id) ON DELETE RESTRICT,
    CONSTRAINT employment_attestations_claim_valid CHECK (claim IN ('in_progress', 'ended')),
    CONSTRAINT employment_attestations_on_date_valid
        CHECK (partial_date_is_valid(on_date, on_date_precision)),
    CONSTRAINT employment_attestations_key
        UNIQUE (employment_id, claim, on_date, on_date_precision, source_id)
);
COMMENT ON TABLE employment_attestations IS
    'Evidence on a date: a source shows the stint in progress on on_date (claim in_progress) or already ended by it (claim ended).';
CREATE INDEX employment_attestations_source_id_idx ON employment_attestations (source_id);

-- What the attestations prove, kept on the stint:
--   attested_from:  the earliest day by which the stint had certainly started
--                   (the last day of its earliest in_progress attestation);
--   attested_until: the latest day on which it had certainly not yet ended
--                   (the first day of its latest in_progress attestation);
--   ended_by:       the earliest day by which it had certainly ended
--                   (the last day of its earliest ended attestation).
ALTER TABLE employments
    ADD COLUMN attested_from  date,
    ADD COLUMN attested_until date,
    ADD COLUMN ended_by       date;

CREATE FUNCTION employment_attestations_summarize() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    stint bigint;
BEGIN
    FOR stint IN
        SELECT DISTINCT x FROM unnest(ARRAY[
            CASE WHEN TG_OP <> 'INSERT' THEN OLD.employment_id END,
            CASE WHEN TG_OP <> 'DELETE' THEN NEW.employment_id END]) AS x
        WHERE x IS NOT NULL
    LOOP
        UPDATE employments e SET
            attested_from = s.attested_from,
            attested_until = s.attested_until,
            ended_by = s.ended_by
        FROM (
            SELECT
                min(partial_date_last_day(a.on_date, a.on_date_precision))
                    FILTER (WHERE a.claim = 'in_progress') AS attested_from,
                max(a.on_date) FILTER (WHERE a.claim = 'in_progress') AS attested_until,
                min(partial_date_last_day(a.on_date, a.on_date_precision))
                    FILTER (WHERE a.claim = 'ended') AS ended_by
            FROM employment_attestations a WHERE a.employment_id = stint
        ) s
        WHERE e.id = stint
          AND (e.attested_from, e.attested_until, e.ended_by)
              IS DISTINCT FROM (s.attested_from, s.attested_until, s.ended_by);
    END LOOP;
    RETURN NULL;
END
$$;

CREATE TRIGGER employment_attestations_summarize
    AFTER INSERT OR UPDATE OR DELETE ON employment_attestations
    FOR EACH ROW EXECUTE FUNCTION employment_attestations_summarize();

CREATE TRIGGER employment_attestations_audit AFTER INSERT OR UPDATE OR DELETE ON employment_attestations
    FOR EACH ROW EXECUTE FUNCTION audit_row_change('employment_attestation', 'employment_id');

-- The point-in-time rule (docs/dates.md), in one place for every SQL caller; its
-- Rust twin is `domain::point_in_time::StintBounds::in_progress_on`, and a test
-- checks that both answer alike. Each side of the stint is decided on its own:
--   started:   'certainly' when the whole start period is on or before `day`, or an
--              attestation shows the stint going on by then; 'no' when the whole
--              start period is after `day`; otherwise 'possibly'.
--   not ended: 'certainly' when the stint is current, the whole end period is on or
--              after `day`, or an attestation shows it going on on or after `day`;
--              'no' when the whole end period is before `day` or a source shows it
--              had ended before `day`; otherwise 'possibly'.
-- Evidence of the stint going on wins over a recorded bound it contradicts.
-- The answer is the lesser of the two: 'no' < 'possibly' < 'certainly'.
-- A bound's whole period is compared without computing its last day per row
-- (an end's last day is before `day` exactly when the end is before `day`
-- truncated to its precision; a start's last day is on or before `day` exactly
-- when the start is on or before `day` + 1 less one period), and the function
-- is plain SQL without STRICT, so PostgreSQL inlines it into each caller.
CREATE FUNCTION stint_in_progress_on(
    started_on date, started_on_precision text,
    ended_on date, ended_on_precision text, is_current boolean,
    attested_from date, attested_until date, ended_by date,
    day date)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN NOT (coalesce(started_on <= CASE started_on_precision
                    WHEN 'year' THEN ((day + 1)::timestamp - interval '1 year')::date
                    WHEN 'month' THEN ((day + 1)::timestamp - interval '1 month')::date
                    ELSE day END, false)
              OR coalesce(attested_from <= day, false))
             AND coalesce(started_on > day, false)
            THEN 'no'
        WHEN NOT (is_current OR coalesce(ended_on >= day, false)
              OR coalesce(attested_until >= day, false))
             AND (coalesce(ended_on < CASE ended_on_precision
                        WHEN 'year' THEN date_trunc('year', day::timestamp)::date
                        WHEN 'month' THEN date_trunc('month', day::timestamp)::date
                        ELSE day END, false)
                  OR coalesce(ended_by < day, false))
            THEN 'no'
        WHEN (coalesce(started_on <= CASE started_on_precision
                    WHEN 'year' THEN ((day + 1)::timestamp - interval '1 year')::date
                    WHEN 'month' THEN ((day + 1)::timestamp - interval '1 month')::date
                    ELSE day END, false)
              OR coalesce(attested_from <= day, false))
             AND (is_current OR coalesce(ended_on >= day, false)
              OR coalesce(attested_until >= day, false))
            THEN 'certainly'
        ELSE 'possibly'
    END
$$;
COMMENT ON FUNCTION stint_in_progress_on(date, text, date, text, boolean, date, date, date, date) IS
    'Whether a stint was in progress on a day: certainly, possibly or no (docs/dates.md).';
