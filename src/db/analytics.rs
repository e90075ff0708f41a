//! The analytic reads: alumni and talent flows. Each is one statement for any
//! number of organizations, so nested use stays batched.

use chrono::NaiveDate;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{Array, BigInt, Date, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::Prepared;
use super::ahead::{ListedStintRow, WithChildren};
use super::columns::ColumnSet;
use super::organizations::{OrganizationRead, OrganizationRow};
use super::people::PersonRead;

/// `inside_$1 (root, org_id)`: each organization in the trees of the roots
/// `$1`, walked down from the roots (so it costs the size of those trees).
fn tree_cte(name: &str, roots: &str) -> String {
    format!(
        "{name} (root, org_id) AS (
                SELECT r, r FROM unnest({roots}::bigint[]) AS r
            UNION ALL
                SELECT {name}.root, o.id FROM organizations o JOIN {name} ON o.parent_id = {name}.org_id
        )"
    )
}

#[derive(Debug, QueryableByName)]
pub struct AlumnusRow {
    #[diesel(sql_type = BigInt)]
    pub root_id: i64,
    #[diesel(embed)]
    pub person: PersonRead,
}

#[derive(Debug, QueryableByName)]
pub struct RootCount {
    #[diesel(sql_type = BigInt)]
    pub root_id: i64,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

/// Up to `limit` alumni of each root after the (name, id) keyset `after`:
/// people who had a stint inside the root's tree and have no current one
/// there (`tree_members`, kept by `migrations/*_tree_members`).
pub async fn alumni_pages(
    conn: &mut AsyncPgConnection,
    root_ids: &[i64],
    after: Option<(&str, i64)>,
    limit: i64,
    columns: ColumnSet<PersonRead>,
) -> QueryResult<Vec<AlumnusRow>> {
    Prepared(alumni_query(root_ids, after, limit, columns))
        .load(conn)
        .await
}

/// [`alumni_pages`] with every stint of each alumnus, and each stint's
/// columns `organization` of its organization: one statement for the pages
/// and their people's stint lists.
pub async fn alumni_pages_with_stints(
    conn: &mut AsyncPgConnection,
    root_ids: &[i64],
    after: Option<(&str, i64)>,
    limit: i64,
    columns: ColumnSet<PersonRead>,
    organization: Option<ColumnSet<OrganizationRead>>,
) -> QueryResult<Vec<ListedStintRow<AlumnusRow>>> {
    let listed = alumni_query(root_ids, after, limit, columns);
    super::ahead::load(conn, Prepared(WithChildren::stints(listed, organization))).await
}

fn alumni_query<'a>(
    root_ids: &'a [i64],
    after: Option<(&'a str, i64)>,
    limit: i64,
    columns: ColumnSet<PersonRead>,
) -> BoxedSqlQuery<'a, Pg, SqlQuery> {
    diesel::sql_query(format!(
        "SELECT r.root_id, {person}
        FROM unnest($1::bigint[]) AS r(root_id) CROSS JOIN LATERAL (
            SELECT m.person_id FROM tree_members m
            WHERE m.tree_id = r.root_id AND NOT m.is_current
              AND ($3::bigint IS NULL OR (m.person_name, m.person_id) > ($2::text, $3::bigint))
            ORDER BY m.person_name, m.person_id
            LIMIT $4
        ) m JOIN people p ON p.id = m.person_id
        ORDER BY r.root_id, p.name, p.id",
        person = columns.select("p"),
    ))
    .into_boxed()
    .bind::<Array<BigInt>, _>(root_ids)
    .bind::<Nullable<Text>, _>(after.map(|a| a.0))
    .bind::<Nullable<BigInt>, _>(after.map(|a| a.1))
    .bind::<BigInt, _>(limit)
}

pub async fn alumni_counts(
    conn: &mut AsyncPgConnection,
    root_ids: &[i64],
) -> QueryResult<Vec<RootCount>> {
    Prepared(
        diesel::sql_query(
            "SELECT tree_id AS root_id, count(*) AS count FROM tree_members
        WHERE tree_id = ANY($1) AND NOT is_current GROUP BY tree_id",
        )
        .bind::<Array<BigInt>, _>(root_ids),
    )
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
    /// Keep only the largest flows of each `from` (outbound) or `to` organization.
    pub first: Option<i64>,
    /// Return who moved, not only how many: thousands of flows carry tens of
    /// thousands of ids, for nothing when the query does not ask for people.
    pub with_people: bool,
}

#[derive(Debug, Clone, QueryableByName)]
pub struct FlowRow {
    #[diesel(sql_type = BigInt)]
    pub from_id: i64,
    #[diesel(sql_type = BigInt)]
    pub to_id: i64,
    /// How many distinct people made the move.
    #[diesel(sql_type = BigInt)]
    pub person_count: i64,
    /// Who they are, when the query asked (`FlowQuery::with_people`); else empty.
    #[diesel(sql_type = Array<BigInt>)]
    pub person_ids: Vec<i64>,
    /// The organization at the end the query does not name, read along
    /// (thousands of flows would otherwise each look it up).
    #[diesel(embed)]
    pub other_end: OrganizationRow,
}

/// Whether move `m` is in the `since` ($3) / `until` ($4) range: the one
/// rule for flows and for the moves they list.
const DATED: &str = "
    -- The move's last possible day is on or after $3 (see SCOPE_FILTER
    -- in db::employments for why the day is truncated instead).
    ($3::date IS NULL OR m.moved_on >= CASE m.moved_on_precision
            WHEN 'year' THEN date_trunc('year', $3::timestamp)::date
            WHEN 'month' THEN date_trunc('month', $3::timestamp)::date
            ELSE $3 END)
      AND ($4::date IS NULL OR (m.moved_on IS NOT NULL AND m.moved_on <= $4))";

/// Which moves a talent flow counts, however its query named its ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowEnds {
    /// `from` was named: moves out of its tree (else: out of a top-level
    /// tree, labelled by the organization left).
    pub from_tree: bool,
    /// `to` was named: moves into its tree (else: into exactly the
    /// organization joined).
    pub to_tree: bool,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

/// One move of a flow (`key`: the flow's place in the request).
#[derive(Debug, Clone, QueryableByName)]
pub struct FlowMoveRow {
    #[diesel(sql_type = BigInt)]
    pub key: i64,
    #[diesel(sql_type = BigInt)]
    pub person_id: i64,
    #[diesel(sql_type = BigInt)]
    pub left_employment_id: i64,
    #[diesel(sql_type = BigInt)]
    pub joined_employment_id: i64,
    #[diesel(sql_type = Nullable<Date>)]
    pub moved_on: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Text>)]
    pub moved_on_precision: Option<String>,
    /// All the flow's moves, not only this page's.
    #[diesel(sql_type = BigInt)]
    pub total: i64,
}

/// A page of the moves behind each flow `(from, to)` after the keyset
/// `(day or "infinity", left stint)`, optionally only those
/// of `cohorts[i]`'s people, undated last then by stint: the rows
/// `talent_flows` counts, from the same table and with the same range rule.
pub async fn flow_moves(
    conn: &mut AsyncPgConnection,
    flows: &[(i64, i64)],
    cohorts: &[(i64, i64)],
    ends: FlowEnds,
    after: Option<(&str, i64)>,
    limit: i64,
) -> QueryResult<Vec<FlowMoveRow>> {
    let (from_ids, to_ids): (Vec<i64>, Vec<i64>) = flows.iter().copied().unzip();
    let (cohort_keys, cohort_people): (Vec<i64>, Vec<i64>) = cohorts.iter().copied().unzip();
    let sql = format!(
        "WITH RECURSIVE {named_to},
        flows AS (
            SELECT f.key - 1 AS key, f.from_id, f.to_id
            FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS f(from_id, to_id, key)
        ),
        cohorts AS (SELECT * FROM unnest($7::bigint[], $8::bigint[]) AS c(key, person_id))
        SELECT f.key, mv.person_id, mv.left_employment_id, mv.joined_employment_id,
            mv.moved_on, mv.moved_on_precision, mv.total
        FROM flows f CROSS JOIN LATERAL (
            SELECT * FROM (
                SELECT m.*, count(*) OVER () AS total FROM career_moves m
                WHERE (CASE WHEN $5 THEN m.tree_id = f.from_id
                       ELSE m.tree_is_top_level AND m.left_organization_id = f.from_id END)
                  AND (CASE WHEN $6 THEN m.joined_organization_id IN
                            (SELECT nt.org_id FROM named_to nt WHERE nt.root = f.to_id)
                       ELSE m.joined_organization_id = f.to_id END)
                  AND {dated}
                  AND (NOT EXISTS (SELECT 1 FROM cohorts c WHERE c.key = f.key)
                       OR m.person_id IN (SELECT c.person_id FROM cohorts c WHERE c.key = f.key))
            ) m
            WHERE $9::text IS NULL
               OR (coalesce(m.moved_on, 'infinity'::date), m.left_employment_id) > ($9::text::date, $10::bigint)
            ORDER BY coalesce(m.moved_on, 'infinity'::date), m.left_employment_id
            LIMIT $11
        ) mv
        ORDER BY f.key, coalesce(mv.moved_on, 'infinity'::date), mv.left_employment_id",
        named_to = tree_cte("named_to", "(CASE WHEN $6 THEN $2 ELSE '{}' END)"),
        dated = DATED,
    );
    diesel::sql_query(sql)
        .bind::<Array<BigInt>, _>(from_ids)
        .bind::<Array<BigInt>, _>(to_ids)
        .bind::<Nullable<Date>, _>(ends.since)
        .bind::<Nullable<Date>, _>(ends.until)
        .bind::<diesel::sql_types::Bool, _>(ends.from_tree)
        .bind::<diesel::sql_types::Bool, _>(ends.to_tree)
        .bind::<Array<BigInt>, _>(cohort_keys)
        .bind::<Array<BigInt>, _>(cohort_people)
        .bind::<Nullable<Text>, _>(after.map(|a| a.0))
        .bind::<Nullable<BigInt>, _>(after.map(|a| a.1))
        .bind::<BigInt, _>(limit)
        .load(conn)
        .await
}

/// Talent flows, most people first (then by the other end's name) for each
/// organization at the end the query names, from the moves `migrations/*_career_moves` keeps: a
/// person's stint inside tree A ended, and the first of their later stints
/// (by the chronology rule of `domain::chronology`) outside A's tree is the
/// move's destination. Dated by the end of the stint left, else the start of
/// the one joined; with `since`/`until`, undated moves are left out and a
/// partial date counts when its period overlaps the range.
pub async fn talent_flows(
    conn: &mut AsyncPgConnection,
    query: &FlowQuery,
) -> QueryResult<Vec<FlowRow>> {
    let sql = format!(
        "WITH RECURSIVE {named_to},
        moves AS (
                SELECT m.person_id, m.tree_id AS from_id, m.joined_organization_id AS joined_id,
                    m.moved_on, m.moved_on_precision
                FROM career_moves m
                WHERE m.tree_id = ANY($1)
            UNION ALL
                -- Into named trees: read through the joined organizations' index.
                SELECT m.person_id, m.left_organization_id, m.joined_organization_id,
                    m.moved_on, m.moved_on_precision
                FROM (SELECT DISTINCT org_id FROM named_to) nt
                JOIN career_moves m ON m.joined_organization_id = nt.org_id AND m.tree_is_top_level
                WHERE $1::bigint[] IS NULL
            UNION ALL
                SELECT m.person_id, m.left_organization_id, m.joined_organization_id,
                    m.moved_on, m.moved_on_precision
                FROM career_moves m
                WHERE $1::bigint[] IS NULL AND $2::bigint[] IS NULL AND m.tree_is_top_level
        ),
        dated AS (
            SELECT * FROM moves m WHERE {dated}
        ),
        labelled AS (
                SELECT m.person_id, m.from_id, nt.root AS to_id
                FROM dated m JOIN named_to nt ON nt.org_id = m.joined_id
            UNION ALL
                SELECT m.person_id, m.from_id, m.joined_id FROM dated m WHERE $2::bigint[] IS NULL
        ),
        -- Distinct movers first, hashed, then counted: count(DISTINCT) would
        -- sort every group's rows.
        movers AS (
            SELECT DISTINCT from_id, to_id, person_id FROM labelled
        ),
        flows AS (
            SELECT from_id, to_id, count(*) AS person_count,
                COALESCE(array_agg(person_id) FILTER (WHERE $7), '{{}}') AS person_ids
            FROM movers GROUP BY from_id, to_id
        ),
        ranked AS (
            SELECT f.*, row_number() OVER (
                PARTITION BY CASE WHEN $6 THEN f.from_id ELSE f.to_id END
                ORDER BY f.person_count DESC, o.name, o.id) AS rank
            FROM flows f JOIN organizations o ON o.id = CASE WHEN $6 THEN f.to_id ELSE f.from_id END
        )
        SELECT r.from_id, r.to_id, r.person_count, r.person_ids, other.*
        FROM ranked r JOIN organizations other ON other.id = CASE WHEN $6 THEN r.to_id ELSE r.from_id END
        WHERE $5::bigint IS NULL OR r.rank <= $5
        ORDER BY CASE WHEN $6 THEN r.from_id ELSE r.to_id END, r.rank",
        named_to = tree_cte("named_to", "$2"),
        dated = DATED,
    );
    diesel::sql_query(sql)
        .bind::<Nullable<Array<BigInt>>, _>(query.from.as_deref())
        .bind::<Nullable<Array<BigInt>>, _>(query.to.as_deref())
        .bind::<Nullable<Date>, _>(query.since)
        .bind::<Nullable<Date>, _>(query.until)
        .bind::<Nullable<BigInt>, _>(query.first)
        // Flows are ranked per organization at the end the query names.
        .bind::<diesel::sql_types::Bool, _>(query.from.is_some() || query.to.is_none())
        .bind::<diesel::sql_types::Bool, _>(query.with_people)
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
        "WITH RECURSIVE {},
        cohort AS (
            SELECT k.publication_id, k.organization_id, a.person_id, a.position
            FROM unnest($1::bigint[], $2::bigint[]) AS k(publication_id, organization_id)
            JOIN authorships a ON a.publication_id = k.publication_id
            JOIN inside t ON t.root = k.organization_id AND t.org_id = a.affiliation_id
        ),
        current AS (
            SELECT c.publication_id, c.organization_id, c.person_id, e.organization_id AS at_id,
                EXISTS (SELECT 1 FROM inside t WHERE t.root = c.organization_id AND t.org_id = e.organization_id)
                    AS is_inside
            FROM cohort c JOIN employments e ON e.person_id = c.person_id AND e.is_current
        )
        SELECT c.publication_id, c.organization_id, c.person_id, c.position,
            COALESCE(bool_or(cur.is_inside), false) AS stayed,
            COALESCE(array_agg(DISTINCT cur.at_id) FILTER (WHERE NOT cur.is_inside), '{{}}') AS now_at
        FROM cohort c LEFT JOIN current cur
          ON cur.publication_id = c.publication_id AND cur.organization_id = c.organization_id
         AND cur.person_id = c.person_id
        GROUP BY c.publication_id, c.organization_id, c.person_id, c.position
        ORDER BY c.publication_id, c.organization_id, c.position",
        tree_cte("inside", "$2")
    );
    diesel::sql_query(sql)
        .bind::<Array<BigInt>, _>(publications)
        .bind::<Array<BigInt>, _>(organizations)
        .load(conn)
        .await
}
