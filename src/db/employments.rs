//! `employments`: stints of people at organizations.

use chrono::NaiveDate;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{Array, BigInt, Bool, Date, Nullable};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::Prepared;
use super::ahead::{ListedSourceRow, WithChildren};
use super::columns::{self, ColumnSet, Prefixed};
use super::organizations::OrganizationRead;
use super::people::PersonRead;
use super::schema::{employment_sources, employments};

columns::entity! {
    /// A whole `employments` row.
    row EmploymentRow, read EmploymentRead, table employments, prefix "stint_";
    // Every read needs what identifies, places, names and dates a stint, and
    // its career position: lists order (chronology, listing keysets) and
    // filter on them in memory whatever the selection shows.
    always {
        id: i64 => "id",
        person_id: i64 => "person",
        organization_id: i64 => "organization",
        title: Option<String> => "title",
        started_on: Option<NaiveDate> => "startedOn",
        started_on_precision: Option<String> => "startedOn",
        ended_on: Option<NaiveDate> => "endedOn",
        ended_on_precision: Option<String> => "endedOn",
        is_current: bool => "isCurrent",
        career_position: Option<i32> => "careerPosition",
    }
    columns {
        is_founder: bool => "isFounder",
        reported_years: Option<i32> => "reportedYears",
        is_leader: bool => "isLeader",
        version: i32 => "version",
    }
    other_fields ["inProgressOn", "attestations", "sources"]
}

#[derive(Debug, Insertable)]
#[diesel(table_name = employments)]
pub struct NewEmployment<'a> {
    pub person_id: i64,
    pub organization_id: i64,
    pub title: Option<&'a str>,
    pub is_founder: bool,
    pub started_on: Option<NaiveDate>,
    pub started_on_precision: Option<&'a str>,
    pub ended_on: Option<NaiveDate>,
    pub ended_on_precision: Option<&'a str>,
    pub is_current: bool,
    pub career_position: Option<i32>,
    pub reported_years: Option<i32>,
    pub is_leader: bool,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = employment_sources)]
pub struct NewEmploymentSource {
    pub employment_id: i64,
    pub source_id: i64,
}

pub async fn by_ids(conn: &mut AsyncPgConnection, ids: &[i64]) -> QueryResult<Vec<EmploymentRow>> {
    employments::table
        .filter(employments::id.eq_any(ids))
        .select(EmploymentRow::as_select())
        .load(conn)
        .await
}

/// Every stint of each person in `person_ids` (unordered: callers apply the
/// chronology rule of `domain::chronology`).
pub async fn of_people(
    conn: &mut AsyncPgConnection,
    person_ids: &[i64],
) -> QueryResult<Vec<EmploymentRow>> {
    // One key by `=`: see `people::by_ids`.
    if let [id] = person_ids {
        return employments::table
            .filter(employments::person_id.eq(id))
            .select(EmploymentRow::as_select())
            .load(conn)
            .await;
    }
    employments::table
        .filter(employments::person_id.eq_any(person_ids))
        .select(EmploymentRow::as_select())
        .load(conn)
        .await
}

/// The to-one relations a list of stints reads in its own statement: each
/// the columns its readers asked for, `None` when none asked for it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct StintJoins {
    /// The stint's organization (`Employment.organization`).
    pub organization: Option<ColumnSet<OrganizationRead>>,
    /// The stint's person (`Employment.person`).
    pub person: Option<ColumnSet<PersonRead>>,
}

impl StintJoins {
    /// What either reads: one statement for two readers.
    pub fn union(self, other: Self) -> Self {
        StintJoins {
            organization: ColumnSet::union_of(self.organization, other.organization),
            person: ColumnSet::union_of(self.person, other.person),
        }
    }

    /// The select list's additions and the joins that read them, for
    /// stints aliased `e`.
    pub(super) fn sql(self) -> (String, String) {
        let (mut columns, mut joins) = (String::new(), String::new());
        if let Some(organization) = self.organization {
            columns = format!("{columns}, {}", organization.select_prefixed("o"));
            joins.push_str(&super::join_by_id(
                "organizations",
                "o",
                "e.organization_id",
            ));
        }
        if let Some(person) = self.person {
            columns = format!("{columns}, {}", person.select_prefixed("p"));
            joins.push_str(&super::join_by_id("people", "p", "e.person_id"));
        }
        (columns, joins)
    }
}

/// A stint with the columns of its organization and person that were asked
/// for (each `None` when not asked).
#[derive(Debug, QueryableByName)]
pub struct JoinedStintRow {
    #[diesel(embed)]
    pub stint: EmploymentRow,
    /// Under the prefix `org_`.
    #[diesel(embed)]
    pub organization: Prefixed<OrganizationRead>,
    /// Under the prefix `listed_`.
    #[diesel(embed)]
    pub person: Prefixed<PersonRead>,
}

/// Every stint of each person in `person_ids` with the relations `joins`
/// asks for, in one statement (unordered, as [`of_people`]).
pub async fn of_people_joined(
    conn: &mut AsyncPgConnection,
    person_ids: &[i64],
    joins: StintJoins,
) -> QueryResult<Vec<JoinedStintRow>> {
    let person = super::ids_param(person_ids.len() == 1);
    let (columns, joins) = joins.sql();
    let sql = format!(
        "SELECT {stint}{columns}
        FROM employments e{joins}
        WHERE e.person_id = {person}",
        stint = employment_columns("e"),
    );
    Prepared(diesel::sql_query(sql).bind::<Array<BigInt>, _>(person_ids))
        .load(conn)
        .await
}

/// The leadership stints of each organization (`is_leader`), unordered,
/// with the relations `joins` asks for, in one statement.
pub async fn leaders_of(
    conn: &mut AsyncPgConnection,
    organization_ids: &[i64],
    joins: StintJoins,
) -> QueryResult<Vec<JoinedStintRow>> {
    let organization = super::ids_param(organization_ids.len() == 1);
    let (columns, joins) = joins.sql();
    let sql = format!(
        "SELECT {stint}{columns}
        FROM employments e{joins}
        WHERE e.organization_id = {organization} AND e.is_leader",
        stint = employment_columns("e"),
    );
    Prepared(diesel::sql_query(sql).bind::<Array<BigInt>, _>(organization_ids))
        .load(conn)
        .await
}

/// Which stints of an organization's listing to include.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrganizationScope {
    /// Also stints at the organization's units, at any depth.
    pub include_units: bool,
    /// `Some(true)`: current stints only; `Some(false)`: ended ones only.
    pub is_current: Option<bool>,
    /// Only stints in progress on this day (the rule of `domain::point_in_time`).
    pub at: Option<AtDay>,
}

/// A point-in-time filter: the day, and whether the dates must prove it
/// (`certain`) or merely allow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AtDay {
    pub day: NaiveDate,
    pub certain: bool,
}

/// Where an organization's listing resumes: after the stint with this start
/// (unknown starts sort last) and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListingCursor {
    pub started_on: Option<NaiveDate>,
    pub id: i64,
}

/// The columns a listing reads: of its stints, and of their people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListingColumns {
    pub stint: ColumnSet<EmploymentRead>,
    /// The stint's person, read by the same statement; `None` when the query
    /// asks for no person.
    pub person: Option<ColumnSet<PersonRead>>,
    /// Each stint's sources too, by the same statement
    /// ([`listing_pages_with_sources`]).
    pub sources: bool,
}

impl ListingColumns {
    /// What either reads: one statement for two readers.
    pub fn union(self, other: Self) -> Self {
        ListingColumns {
            stint: self.stint.union(other.stint),
            person: ColumnSet::union_of(self.person, other.person),
            sources: self.sources || other.sources,
        }
    }
}

#[derive(Debug, QueryableByName)]
pub struct ScopedEmploymentRow {
    #[diesel(sql_type = BigInt)]
    pub root_id: i64,
    #[diesel(embed)]
    pub employment: EmploymentRead,
    /// The stint's person, read by the listing statement itself under the
    /// prefix `listed_` (the stint's columns take the plain names).
    #[diesel(embed)]
    pub person: Prefixed<PersonRead>,
}

#[derive(Debug, QueryableByName)]
pub struct ScopedCount {
    #[diesel(sql_type = BigInt)]
    pub root_id: i64,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

/// The organizations each root stands for: itself, plus its units at any
/// depth when the scope includes units.
const SCOPE_CTE: &str = "
WITH RECURSIVE scope (root_id, organization_id) AS (
        SELECT id, id FROM organizations WHERE id = ANY($1)
    UNION ALL
        SELECT scope.root_id, o.id
        FROM organizations o JOIN scope ON o.parent_id = scope.organization_id
        WHERE $2
),
roots AS (
    SELECT root_id, array_agg(organization_id) AS organization_ids FROM scope GROUP BY root_id
)";

/// The scope's filters on a stint `e`: status ($3), and in progress on day $4
/// (possibly, or certainly when $5) by the point-in-time rule, whose one SQL
/// definition is `stint_in_progress_on` (`migrations/*_attestations`; its Rust
/// twin is `domain::point_in_time`). PostgreSQL inlines it: a few comparisons
/// a row.
pub(crate) const SCOPE_FILTER: &str = "
    ($3::boolean IS NULL OR e.is_current = $3)
    AND ($4::date IS NULL OR stint_in_progress_on(
            e.started_on, e.started_on_precision, e.ended_on, e.ended_on_precision,
            e.is_current, e.attested_from, e.attested_until, e.ended_by, $4::date)
        IN ('certainly', CASE WHEN $5 THEN 'certainly' ELSE 'possibly' END))";

/// A scope filter that keeps every stint.
const NO_FILTER: &str = "TRUE";

/// The scope's filter when it asks for a status and no day: a plain
/// equality, so that the index on (organization_id, is_current, started_on,
/// id) finds a page of current stints directly. Behind `$3 IS NULL OR`, the
/// status was a filter on the listing index instead, which walks past every
/// ended stint that starts before the first current one: ten times as many
/// at 1,000,000 people as at 100,000.
const STATUS_FILTER: &str = "e.is_current = $3";

/// The least filter that keeps the stints `scope` keeps: a statement text
/// of its own for each kind of scope, so that each gets its own plan.
fn scope_filter(scope: OrganizationScope) -> &'static str {
    if scope.at.is_some() {
        SCOPE_FILTER
    } else if scope.is_current.is_some() {
        STATUS_FILTER
    } else {
        NO_FILTER
    }
}

/// The point-in-time rule applied to a stint aliased `alias` on the day
/// `day` (an SQL expression): `'certainly'`, `'possibly'` or `'no'`.
pub fn in_progress_sql(alias: &str, day: &str) -> String {
    format!(
        "stint_in_progress_on({alias}.started_on, {alias}.started_on_precision, \
         {alias}.ended_on, {alias}.ended_on_precision, {alias}.is_current, \
         {alias}.attested_from, {alias}.attested_until, {alias}.ended_by, {day})"
    )
}

/// The columns of [`EmploymentRow`], of the table aliased `alias`.
fn employment_columns(alias: &'static str) -> &'static str {
    ColumnSet::<EmploymentRead>::all().select(alias)
}

/// The first stints of the organization `organization_id` (an SQL
/// expression) on a first page, or on one after an undated stint (`$7`), in
/// the order of the index on (organization_id, started_on, id), which
/// (unknown starts are NULL, last) is the listing's.
///
/// Unfiltered, the scan reads the page's rows straight from the table.
/// Filtered, it first takes the page's ids from the index alone, whose
/// included columns are all the filters read, and only then their rows:
/// read whole, PostgreSQL (guessing an organization's stints at its average,
/// about 60) fetched and sorted every current stint of a large unit, 1,050
/// rows for 11 in 7 ms, where the index-only scan takes 0.3 ms.
fn first_page_scan(
    organization_id: &str,
    filter: &str,
    columns: ColumnSet<EmploymentRead>,
) -> String {
    let page = |selected: &str| {
        format!(
            "SELECT {selected} FROM employments e
            WHERE e.organization_id = {organization_id}
              AND {filter}
              AND ($7::bigint IS NULL OR (e.started_on IS NULL AND e.id > $7::bigint))
            ORDER BY e.started_on, e.id
            LIMIT $8"
        )
    };
    if filter == NO_FILTER {
        page(columns.select("e"))
    } else {
        format!(
            "SELECT {} FROM ({}) page JOIN employments e ON e.id = page.id",
            columns.select("e"),
            page("e.id")
        )
    }
}

/// The person columns of a listing row (`listed_*`) and the join that
/// reads them, or nothing when the query asks for no person.
fn listed_person(person: Option<ColumnSet<PersonRead>>) -> (String, &'static str) {
    // `$9` is always true. As a parameter of the join it keeps PostgreSQL
    // from caching the person lookup (a Memoize node): people seldom repeat
    // on a page (12 hits in 869 rows for (b)), and the cache's upkeep cost
    // a sixth of the statement.
    const JOIN: &str = "LEFT JOIN people p ON $9 AND p.id = stint.person_id";
    match person {
        None => (String::new(), ""),
        Some(columns) => (format!(", {}", columns.select_prefixed("p")), JOIN),
    }
}

/// Up to `limit` stints of each root organization after `cursor`, in no
/// order (see [`listing_order`]): one statement for any number of roots.
///
/// Sorting a page of 50 organizations' stints in PostgreSQL copied every
/// wide row into a sort, a seventh of the statement's cost; the caller puts
/// each organization's 20 rows in order for next to nothing.
pub async fn listing_pages(
    conn: &mut AsyncPgConnection,
    root_ids: &[i64],
    scope: OrganizationScope,
    cursor: Option<ListingCursor>,
    limit: i64,
    columns: ListingColumns,
) -> QueryResult<Vec<ScopedEmploymentRow>> {
    Prepared(listing_statement(root_ids, scope, cursor, limit, columns))
        .load(conn)
        .await
}

/// [`listing_pages`] with the sources each stint cites, by source id
/// ([`WithChildren::sources`]): one statement where the pages and their
/// stints' sources took two, one after the other.
pub async fn listing_pages_with_sources(
    conn: &mut AsyncPgConnection,
    root_ids: &[i64],
    scope: OrganizationScope,
    cursor: Option<ListingCursor>,
    limit: i64,
    columns: ListingColumns,
) -> QueryResult<Vec<ListedSourceRow<ScopedEmploymentRow>>> {
    let listing = listing_statement(root_ids, scope, cursor, limit, columns);
    super::ahead::load(
        conn,
        Prepared(WithChildren::sources(
            listing,
            "employment_sources",
            "employment_id",
        )),
    )
    .await
}

/// The statement of [`listing_pages`].
fn listing_statement<'a>(
    root_ids: &'a [i64],
    scope: OrganizationScope,
    cursor: Option<ListingCursor>,
    limit: i64,
    columns: ListingColumns,
) -> BoxedSqlQuery<'a, Pg, SqlQuery> {
    let dated_cursor = cursor.is_some_and(|c| c.started_on.is_some());
    let stint = columns.stint.select("stint");
    // The people too when the query asks for them: one statement for the
    // whole page instead of a second one by id.
    let (person, join_person) = listed_person(columns.person);
    let filter = scope_filter(scope);
    let sql = if dated_cursor {
        format!(
            "{SCOPE_CTE}
        SELECT roots.root_id, {stint}{person}
        FROM roots CROSS JOIN LATERAL (
            -- After a dated stint come the later dated ones, then every
            -- undated one: each part read from the index on
            -- (organization_id, started_on, id) with the cursor as an index
            -- condition, then merged. Only the page's rows touch the table.
            SELECT first.id FROM unnest(roots.organization_ids) AS u(organization_id)
            CROSS JOIN LATERAL (
                (SELECT e.id, e.started_on FROM employments e
                WHERE e.organization_id = u.organization_id AND e.started_on IS NOT NULL
                  AND {filter}
                  AND (e.started_on, e.id) > ($6::date, $7::bigint)
                ORDER BY e.started_on, e.id
                LIMIT $8)
                UNION ALL
                (SELECT e.id, e.started_on FROM employments e
                WHERE e.organization_id = u.organization_id AND e.started_on IS NULL
                  AND {filter}
                -- All NULL: by id, but said so that the index order serves it.
                ORDER BY e.started_on, e.id
                LIMIT $8)
            ) first
            ORDER BY first.started_on NULLS LAST, first.id
            LIMIT $8
        ) page
        JOIN employments stint ON stint.id = page.id
        {join_person}"
        )
    } else if scope.include_units {
        let first_of_unit = first_page_scan("u.organization_id", filter, columns.stint);
        format!(
            "{SCOPE_CTE}
        SELECT roots.root_id, stint.*{person}
        FROM roots CROSS JOIN LATERAL (
            -- Each unit's first rows in the listing's order, then the
            -- roots' pages merged.
            SELECT first.* FROM unnest(roots.organization_ids) AS u(organization_id)
            CROSS JOIN LATERAL ({first_of_unit}) first
            ORDER BY first.started_on NULLS LAST, first.id
            LIMIT $8
        ) stint
        {join_person}"
        )
    } else {
        // Each organization alone: no tree to walk and no pages to merge, a
        // statement with less to plan.
        let first_of_root = first_page_scan("roots.root_id", filter, columns.stint);
        // One root as one row, not an array of one: PostgreSQL plans
        // `unnest($1)` generically for ten roots, finds the plan for one
        // cheaper, and so planned (m)'s statement anew at every call (0.16
        // ms), as `people::by_ids` says of `= ANY($1)`.
        let roots = if root_ids.len() == 1 {
            "(VALUES (($1::bigint[])[1])) AS roots(root_id)"
        } else {
            "unnest($1::bigint[]) AS roots(root_id)"
        };
        format!(
            "SELECT roots.root_id, stint.*{person}
        FROM {roots}
        CROSS JOIN LATERAL ({first_of_root}) stint
        {join_person}"
        )
    };
    diesel::sql_query(sql)
        .into_boxed()
        .bind::<Array<BigInt>, _>(root_ids)
        .bind::<Bool, _>(scope.include_units)
        .bind::<Nullable<Bool>, _>(scope.is_current)
        .bind::<Nullable<Date>, _>(scope.at.map(|a| a.day))
        .bind::<Bool, _>(scope.at.is_some_and(|a| a.certain))
        .bind::<Nullable<Date>, _>(cursor.and_then(|c| c.started_on))
        .bind::<Nullable<BigInt>, _>(cursor.map(|c| c.id))
        .bind::<BigInt, _>(limit)
        .bind::<Bool, _>(true)
}

/// The order of an organization's listing: by start, unknown starts last,
/// then by id (the index's order, and the keyset of its cursors).
pub fn listing_order(started_on: Option<NaiveDate>, id: i64) -> impl Ord {
    (started_on.is_none(), started_on, id)
}

/// How many stints each root organization's listing has in all.
///
/// Counted per root, by the index on `organization_id`: as a join, the
/// point-in-time filter's estimate (a CASE compared with a list, guessed at
/// 1% of all stints) made PostgreSQL scan the whole table in parallel and
/// filter it, 63 ms for the largest organization at 100,000 people where the
/// index takes 19 ms.
pub async fn listing_counts(
    conn: &mut AsyncPgConnection,
    root_ids: &[i64],
    scope: OrganizationScope,
) -> QueryResult<Vec<ScopedCount>> {
    let sql = format!(
        "{SCOPE_CTE}
        SELECT roots.root_id, counted.count
        FROM roots CROSS JOIN LATERAL (
            SELECT count(*) AS count FROM employments e
            WHERE e.organization_id = ANY(roots.organization_ids)
              AND {filter}
        ) counted",
        filter = scope_filter(scope),
    );
    Prepared(
        diesel::sql_query(sql)
            .bind::<Array<BigInt>, _>(root_ids)
            .bind::<Bool, _>(scope.include_units)
            .bind::<Nullable<Bool>, _>(scope.is_current)
            .bind::<Nullable<Date>, _>(scope.at.map(|a| a.day))
            .bind::<Bool, _>(scope.at.is_some_and(|a| a.certain)),
    )
    .load(conn)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listing_runs_by_start_then_id_with_unknown_starts_last() {
        let day = |d: &str| Some(d.parse::<NaiveDate>().expect("a date"));
        let mut stints = [
            (5, None),
            (4, day("2021-03-01")),
            (2, None),
            (3, day("2019-01-01")),
            (1, day("2021-03-01")),
        ];
        stints.sort_unstable_by_key(|&(id, started_on)| listing_order(started_on, id));
        let ids: Vec<i64> = stints.iter().map(|&(id, _)| id).collect();
        assert_eq!(ids, [3, 1, 4, 2, 5]);
    }
}
