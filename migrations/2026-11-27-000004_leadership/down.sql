ALTER TABLE employments DROP COLUMN is_leader;
