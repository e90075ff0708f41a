DO $$
DECLARE
    counted text;
BEGIN
    FOREACH counted IN ARRAY ARRAY['people', 'organizations', 'publications', 'sources'] LOOP
        EXECUTE format('DROP TRIGGER %I ON %I', counted || '_count_insert', counted);
        EXECUTE format('DROP TRIGGER %I ON %I', counted || '_count_delete', counted);
        EXECUTE format('DROP TRIGGER %I ON %I', counted || '_count_truncate', counted);
    END LOOP;
END $$;
DROP FUNCTION row_counts_after_insert();
DROP FUNCTION row_counts_after_delete();
DROP FUNCTION row_counts_after_truncate();
DROP TABLE row_counts;
