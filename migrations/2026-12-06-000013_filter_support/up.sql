-- Support for `where:` filters that name an organization "with its units".
--
-- An organization and its units at any depth, as a set of ids. A recursive
-- CTE written inline gives the planner no idea of its size (it guessed 361
-- rows for a tree of 6 at 5,000 organizations) and it then hashed every
-- stint of the table (a sequential scan of employments) instead of reading
-- the tree's stints from the (organization_id, started_on, id) index. As a
-- PL/pgSQL function it is never inlined, so its ROWS estimate stands: trees
-- are small, and the index wins.
CREATE FUNCTION organization_tree(root bigint) RETURNS SETOF bigint
LANGUAGE plpgsql STABLE PARALLEL SAFE ROWS 10
AS $$
BEGIN
    RETURN QUERY
        WITH RECURSIVE tree (id) AS (
                SELECT root
            UNION
                SELECT o.id FROM organizations o JOIN tree ON o.parent_id = tree.id
        )
        SELECT tree.id FROM tree;
END
$$;
COMMENT ON FUNCTION organization_tree(bigint) IS
    'The organization and its units at any depth; the root id comes back as given, known or not.';
