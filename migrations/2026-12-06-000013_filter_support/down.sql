DROP FUNCTION organization_tree(bigint);
