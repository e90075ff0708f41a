//! How many people were inside an organization (its units included) on each
//! of a series of days: a count with honest bounds, from the point-in-time rule.

use chrono::NaiveDate;
use diesel::sql_types::{Array, BigInt, Date};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::Prepared;
use super::employments::in_progress_sql;

#[derive(Debug, Clone, Copy, diesel::QueryableByName)]
pub struct HeadcountRow {
    #[diesel(sql_type = BigInt)]
    pub root_id: i64,
    #[diesel(sql_type = Date)]
    pub day: NaiveDate,
    /// People with a stint inside the tree that was certainly going on.
    #[diesel(sql_type = BigInt)]
    pub certainly: i64,
    /// People with a stint inside the tree that the dates do not rule out
    /// (those certainly there included).
    #[diesel(sql_type = BigInt)]
    pub possibly: i64,
}

/// The headcount of each root's tree on each of `days`: one statement for
/// any number of roots. A person with several stints inside counts once.
pub async fn headcounts(
    conn: &mut AsyncPgConnection,
    root_ids: &[i64],
    days: &[NaiveDate],
) -> diesel::QueryResult<Vec<HeadcountRow>> {
    let answer = in_progress_sql("s", "p.day");
    let sql = format!(
        "WITH RECURSIVE tree (root, org_id) AS (
                SELECT r, r FROM unnest($1::bigint[]) AS r
            UNION ALL
                SELECT tree.root, o.id FROM organizations o JOIN tree ON o.parent_id = tree.org_id
        ),
        stints AS MATERIALIZED (
            SELECT tree.root, e.* FROM tree JOIN employments e ON e.organization_id = tree.org_id
        )
        SELECT root_id, day,
            count(DISTINCT person_id) FILTER (WHERE answer = 'certainly') AS certainly,
            count(DISTINCT person_id) FILTER (WHERE answer <> 'no') AS possibly
        FROM (
            SELECT r.root AS root_id, p.day, s.person_id, {answer} AS answer
            FROM unnest($1::bigint[]) AS r(root)
            CROSS JOIN unnest($2::date[]) AS p(day)
            LEFT JOIN stints s ON s.root = r.root
            -- OFFSET 0 keeps PostgreSQL from pulling the subquery up, which
            -- would evaluate the inlined rule once per count: twice per
            -- (stint, day) pair. Once is 1.5-2.6x faster at the largest
            -- organization of 100,000 people (BENCHMARKS.md, session 8).
            OFFSET 0
        ) pairs
        GROUP BY root_id, day
        ORDER BY root_id, day"
    );
    Prepared(
        diesel::sql_query(sql)
            .bind::<Array<BigInt>, _>(root_ids)
            .bind::<Array<Date>, _>(days),
    )
    .load(conn)
    .await
}
