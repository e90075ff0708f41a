-- Partial dates: history is rarely known to the day.
--
-- A partial date is stored as two columns: `<name>` (a date) and `<name>_precision`
-- ('year' | 'month' | 'day'). The date is the first day of the period the value
-- names ("2023-04" is stored as 2023-04-01 with precision 'month'), so ordinary
-- date indexes and comparisons work on the lower bound, and the precision says
-- how much of the date is known. The API never returns more than the precision.

CREATE FUNCTION partial_date_is_valid(value date, date_precision text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN value IS NULL AND date_precision IS NULL THEN true
        WHEN value IS NULL OR date_precision IS NULL THEN false
        WHEN date_precision = 'day' THEN true
        WHEN date_precision = 'month' THEN extract(day FROM value) = 1
        WHEN date_precision = 'year' THEN extract(day FROM value) = 1 AND extract(month FROM value) = 1
        ELSE false
    END
$$;
COMMENT ON FUNCTION partial_date_is_valid(date, text) IS
    'True when a partial date''s two columns agree: both null, or a known precision whose period starts on the stored date.';

CREATE FUNCTION partial_date_last_day(value date, date_precision text)
RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT CASE date_precision
        WHEN 'year' THEN (value + interval '1 year' - interval '1 day')::date
        WHEN 'month' THEN (value + interval '1 month' - interval '1 day')::date
        ELSE value
    END
$$;
COMMENT ON FUNCTION partial_date_last_day(date, text) IS
    'The last day of the period a partial date names: 2023 -> 2023-12-31, 2023-02 -> 2023-02-28.';
