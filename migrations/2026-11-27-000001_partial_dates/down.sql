DROP FUNCTION partial_date_last_day(date, text);
DROP FUNCTION partial_date_is_valid(date, text);
