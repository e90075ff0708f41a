DROP INDEX employments_organization_person_idx;
DROP TRIGGER organizations_moves_after_reparent ON organizations;
DROP FUNCTION organizations_refresh_moves();
DROP TRIGGER employments_moves_after_delete ON employments;
DROP TRIGGER employments_moves_after_update ON employments;
DROP TRIGGER employments_moves_after_insert ON employments;
DROP FUNCTION employments_refresh_moves();
DROP FUNCTION refresh_career_moves(bigint[]);
DROP TABLE career_moves;
