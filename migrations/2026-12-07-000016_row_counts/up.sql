-- How many rows the tables behind the unfiltered root connections hold
-- (`people`, `organizations`, `publications`, `sources`), kept by their own
-- triggers so that `totalCount` reads one row instead of counting the table:
-- count(*) over 1,000,000 people takes about 60 ms, in every request that
-- asks for it.
--
-- Exact, not an estimate: each statement that inserts or deletes rows adds
-- its own number in the same transaction, so a reader sees the count of the
-- rows it can see. The price is that writers adding or removing rows of one
-- table take turns on its count's row until they commit (a long import makes
-- a concurrent create of the same kind wait, up to `lock_timeout`).
CREATE TABLE row_counts (
    table_name text PRIMARY KEY,
    row_count bigint NOT NULL CHECK (row_count >= 0)
);

CREATE FUNCTION row_counts_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE row_counts SET row_count = row_count + (SELECT count(*) FROM new_rows)
    WHERE table_name = TG_TABLE_NAME;
    RETURN NULL;
END $$;

CREATE FUNCTION row_counts_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE row_counts SET row_count = row_count - (SELECT count(*) FROM old_rows)
    WHERE table_name = TG_TABLE_NAME;
    RETURN NULL;
END $$;

CREATE FUNCTION row_counts_after_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE row_counts SET row_count = 0 WHERE table_name = TG_TABLE_NAME;
    RETURN NULL;
END $$;

DO $$
DECLARE
    counted text;
BEGIN
    FOREACH counted IN ARRAY ARRAY['people', 'organizations', 'publications', 'sources'] LOOP
        -- Locks the table against writes until the migration commits, so
        -- that no row slips in between the count and the triggers.
        EXECUTE format('LOCK TABLE %I IN SHARE MODE', counted);
        EXECUTE format('INSERT INTO row_counts SELECT %L, count(*) FROM %I', counted, counted);
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION row_counts_after_insert()',
                       counted || '_count_insert', counted);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION row_counts_after_delete()',
                       counted || '_count_delete', counted);
        EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I
                        FOR EACH STATEMENT EXECUTE FUNCTION row_counts_after_truncate()',
                       counted || '_count_truncate', counted);
    END LOOP;
END $$;
