//! The analytic reads: alumni and talent flows. Each is one statement for any
//! number of organizations, so nested use stays batched.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::people::PersonRow;

/// Every organization's ancestors, itself included: `(org_id, ancestor_id)`
/// says org_id is inside ancestor_id's tree.
const ANCESTRY_CTE: &str = "
ancestry (org_id, ancestor_id) AS (
        SELECT id, id FROM organizations
    UNION ALL
        SELECT ancestry.org_id, o.parent_id
        FROM ancestry JOIN organizations o ON o.id = ancestry.ancestor_id
        WHERE o.parent_id IS NOT NULL
)";

#[derive(Debug, QueryableByName)]
pub struct AlumnusRow {
    #[diesel(sql_type = BigInt)]
    pub root_id: i64,
    #[diesel(embed)]
    pub person: PersonRow,
}

#[derive(Debug, QueryableByName)]
pub struct RootCount {
    #[diesel(sql_type = BigInt)]
    pub root_id: i64,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

/// People who had a stint inside each root's tree and have no current one
/// there: per root, ordered by (name, id).
const ALUMNI_CTE: &str = "
alumni (root_id, person_id) AS (
    SELECT a.ancestor_id, e.person_id
    FROM employments e JOIN ancestry a ON a.org_id = e.organization_id
    WHERE a.ancestor_id = ANY($1)
    GROUP BY a.ancestor_id, e.person_id
    HAVING NOT bool_or(e.is_current)
)";

/// Up to `limit` alumni of each root after the (name, id) keyset `after`.
pub async fn alumni_pages(
    conn: &mut AsyncPgConnection,
    root_ids: &[i64],
    after: Option<(&str, i64)>,
    limit: i64,
) -> QueryResult<Vec<AlumnusRow>> {
    let sql = format!(
        "WITH RECURSIVE {ANCESTRY_CTE}, {ALUMNI_CTE}
        SELECT r.root_id, p.*
        FROM unnest($1::bigint[]) AS r(root_id) CROSS JOIN LATERAL (
            SELECT p.* FROM alumni JOIN people p ON p.id = alumni.person_id
            WHERE alumni.root_id = r.root_id
              AND ($3::bigint IS NULL OR (p.name, p.id) > ($2::text, $3::bigint))
            ORDER BY p.name, p.id
            LIMIT $4
        ) p"
    );
    diesel::sql_query(sql)
        .bind::<Array<BigInt>, _>(root_ids)
        .bind::<Nullable<Text>, _>(after.map(|a| a.0))
        .bind::<Nullable<BigInt>, _>(after.map(|a| a.1))
        .bind::<BigInt, _>(limit)
        .load(conn)
        .await
}

pub async fn alumni_counts(
    conn: &mut AsyncPgConnection,
    root_ids: &[i64],
) -> QueryResult<Vec<RootCount>> {
    let sql = format!(
        "WITH RECURSIVE {ANCESTRY_CTE}, {ALUMNI_CTE}
        SELECT root_id, count(*) AS count FROM alumni GROUP BY root_id"
    );
    diesel::sql_query(sql)
        .bind::<Array<BigInt>, _>(root_ids)
        .load(conn)
        .await
}

/// Which moves to count, and how to label their ends.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FlowQuery {
    /// Moves out of these trees, labelled by the tree; `None`: out of any
    /// top-level tree, labelled by the organization left.
    pub from: Option<Vec<i64>>,
    /// Moves into these trees, labelled by the tree; `None`: anywhere,
    /// labelled by the organization joined.
    pub to: Option<Vec<i64>>,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

#[derive(Debug, Clone, QueryableByName)]
pub struct FlowRow {
    #[diesel(sql_type = BigInt)]
    pub from_id: i64,
    #[diesel(sql_type = BigInt)]
    pub to_id: i64,
    #[diesel(sql_type = Array<BigInt>)]
    pub person_ids: Vec<i64>,
}

/// Talent flows: a person's stint inside tree A ended, and the first of their
/// later stints (by the chronology rule of `domain::chronology`) outside A's
/// tree is the move's destination. Dated by the end of the stint left, else
/// the start of the one joined; with `since`/`until`, undated moves are left
/// out and a partial date counts when its period overlaps the range.
pub async fn talent_flows(
    conn: &mut AsyncPgConnection,
    query: &FlowQuery,
) -> QueryResult<Vec<FlowRow>> {
    let sql = format!(
        "WITH RECURSIVE {ANCESTRY_CTE},
        roots (org_id, root_id) AS (
            SELECT a.org_id, a.ancestor_id FROM ancestry a
            JOIN organizations o ON o.id = a.ancestor_id WHERE o.parent_id IS NULL
        ),
        candidates AS (
            SELECT DISTINCT e.person_id FROM employments e
            WHERE NOT e.is_current
              AND ($1::bigint[] IS NULL OR EXISTS (
                  SELECT 1 FROM ancestry a WHERE a.org_id = e.organization_id AND a.ancestor_id = ANY($1)))
        ),
        stints AS (
            SELECT e.*, row_number() OVER (
                PARTITION BY e.person_id
                ORDER BY e.career_position NULLS LAST, e.started_on NULLS LAST, e.is_current, e.id) AS seq
            FROM employments e JOIN candidates c ON c.person_id = e.person_id
        ),
        departures AS (
            SELECT s.id, s.person_id, s.seq, s.ended_on, s.ended_on_precision, f.tree, f.label
            FROM stints s CROSS JOIN LATERAL (
                    SELECT a.ancestor_id AS tree, a.ancestor_id AS label FROM ancestry a
                    WHERE $1::bigint[] IS NOT NULL AND a.org_id = s.organization_id AND a.ancestor_id = ANY($1)
                UNION ALL
                    SELECT r.root_id, s.organization_id FROM roots r
                    WHERE $1::bigint[] IS NULL AND r.org_id = s.organization_id
            ) f
            WHERE NOT s.is_current
        ),
        moves AS (
            SELECT DISTINCT ON (d.id, d.tree)
                d.person_id, d.label AS from_id, y.organization_id AS joined_id,
                CASE WHEN d.ended_on IS NOT NULL THEN d.ended_on ELSE y.started_on END AS moved_on,
                CASE WHEN d.ended_on IS NOT NULL THEN d.ended_on_precision ELSE y.started_on_precision END AS moved_on_precision
            FROM departures d JOIN stints y ON y.person_id = d.person_id AND y.seq > d.seq
            WHERE NOT EXISTS (
                SELECT 1 FROM ancestry a WHERE a.org_id = y.organization_id AND a.ancestor_id = d.tree)
            ORDER BY d.id, d.tree, y.seq
        ),
        labelled AS (
            SELECT m.person_id, m.from_id, t.label AS to_id
            FROM moves m CROSS JOIN LATERAL (
                    SELECT a.ancestor_id AS label FROM ancestry a
                    WHERE $2::bigint[] IS NOT NULL AND a.org_id = m.joined_id AND a.ancestor_id = ANY($2)
                UNION ALL
                    SELECT m.joined_id WHERE $2::bigint[] IS NULL
            ) t
            WHERE ($3::date IS NULL OR (m.moved_on IS NOT NULL
                    AND partial_date_last_day(m.moved_on, m.moved_on_precision) >= $3))
              AND ($4::date IS NULL OR (m.moved_on IS NOT NULL AND m.moved_on <= $4))
        )
        SELECT from_id, to_id, array_agg(DISTINCT person_id) AS person_ids
        FROM labelled GROUP BY from_id, to_id"
    );
    diesel::sql_query(sql)
        .bind::<Nullable<Array<BigInt>>, _>(query.from.as_deref())
        .bind::<Nullable<Array<BigInt>>, _>(query.to.as_deref())
        .bind::<Nullable<Date>, _>(query.since)
        .bind::<Nullable<Date>, _>(query.until)
        .load(conn)
        .await
}

/// One author of a cohort: a publication's author affiliated, then, with the
/// organization (or a unit of it).
#[derive(Debug, Clone, QueryableByName)]
pub struct CohortMemberRow {
    #[diesel(sql_type = BigInt)]
    pub publication_id: i64,
    #[diesel(sql_type = BigInt)]
    pub organization_id: i64,
    #[diesel(sql_type = BigInt)]
    pub person_id: i64,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub position: i32,
    /// Has a current stint inside the organization's tree.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub stayed: bool,
    /// Organizations outside the tree where the person has a current stint.
    #[diesel(sql_type = Array<BigInt>)]
    pub now_at: Vec<i64>,
}

/// The cohorts of each (publication, organization) pair, in author order.
pub async fn cohorts(
    conn: &mut AsyncPgConnection,
    pairs: &[(i64, i64)],
) -> QueryResult<Vec<CohortMemberRow>> {
    let (publications, organizations): (Vec<i64>, Vec<i64>) = pairs.iter().copied().unzip();
    let sql = format!(
        "WITH RECURSIVE {ANCESTRY_CTE},
        cohort AS (
            SELECT k.publication_id, k.organization_id, a.person_id, a.position
            FROM unnest($1::bigint[], $2::bigint[]) AS k(publication_id, organization_id)
            JOIN authorships a ON a.publication_id = k.publication_id
            JOIN ancestry an ON an.org_id = a.affiliation_id AND an.ancestor_id = k.organization_id
        )
        SELECT c.publication_id, c.organization_id, c.person_id, c.position,
            EXISTS (
                SELECT 1 FROM employments e
                JOIN ancestry an ON an.org_id = e.organization_id AND an.ancestor_id = c.organization_id
                WHERE e.person_id = c.person_id AND e.is_current
            ) AS stayed,
            ARRAY(
                SELECT DISTINCT e.organization_id FROM employments e
                WHERE e.person_id = c.person_id AND e.is_current
                  AND NOT EXISTS (
                      SELECT 1 FROM ancestry an
                      WHERE an.org_id = e.organization_id AND an.ancestor_id = c.organization_id)
            ) AS now_at
        FROM cohort c
        ORDER BY c.publication_id, c.organization_id, c.position"
    );
    diesel::sql_query(sql)
        .bind::<Array<BigInt>, _>(publications)
        .bind::<Array<BigInt>, _>(organizations)
        .load(conn)
        .await
}
