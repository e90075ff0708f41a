//! `employments`: stints of people at organizations.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Date, Integer, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::organizations::{ORGANIZATION_DETAIL_COLUMNS, OrganizationDetailRow};
use super::people::{PersonBrief, PersonDetail};
use super::schema::{employment_sources, employments};
use super::{ColumnGroup, Columns, Omissible, Prepared};

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Identifiable)]
#[diesel(table_name = employments, check_for_backend(diesel::pg::Pg))]
pub struct EmploymentRow {
    pub id: i64,
    pub person_id: i64,
    pub organization_id: i64,
    pub title: Option<String>,
    pub is_founder: bool,
    pub started_on: Option<NaiveDate>,
    pub started_on_precision: Option<String>,
    pub ended_on: Option<NaiveDate>,
    pub ended_on_precision: Option<String>,
    pub is_current: bool,
    pub career_position: Option<i32>,
    pub reported_years: Option<i32>,
    pub is_leader: bool,
    pub version: i32,
}

/// The columns of a stint that every read needs: what identifies, places,
/// names and dates it, and its career position (which orders a person's
/// stints). The others ([`EmploymentDetail`]) are read when asked for.
#[derive(Debug, Clone, QueryableByName)]
#[diesel(table_name = employments, check_for_backend(diesel::pg::Pg))]
pub struct EmploymentCore {
    pub id: i64,
    pub person_id: i64,
    pub organization_id: i64,
    pub title: Option<String>,
    pub started_on: Option<NaiveDate>,
    pub started_on_precision: Option<String>,
    pub ended_on: Option<NaiveDate>,
    pub ended_on_precision: Option<String>,
    pub is_current: bool,
    pub career_position: Option<i32>,
}

/// The rest of a stint's row (see [`Columns`]).
#[derive(Debug, Clone, Copy, QueryableByName)]
#[diesel(table_name = employments, check_for_backend(diesel::pg::Pg))]
pub struct EmploymentDetail {
    pub is_founder: bool,
    pub reported_years: Option<i32>,
    pub is_leader: bool,
    pub version: i32,
}

impl ColumnGroup for EmploymentDetail {
    const PROBE: &'static str = "is_founder";
}

impl EmploymentRow {
    pub fn into_parts(self) -> (EmploymentCore, EmploymentDetail) {
        let detail = EmploymentDetail {
            is_founder: self.is_founder,
            reported_years: self.reported_years,
            is_leader: self.is_leader,
            version: self.version,
        };
        let core = EmploymentCore {
            id: self.id,
            person_id: self.person_id,
            organization_id: self.organization_id,
            title: self.title,
            started_on: self.started_on,
            started_on_precision: self.started_on_precision,
            ended_on: self.ended_on,
            ended_on_precision: self.ended_on_precision,
            is_current: self.is_current,
            career_position: self.career_position,
        };
        (core, detail)
    }
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

/// A stint with its organization's names, and its organization's other
/// columns when they were asked for.
#[derive(Debug, QueryableByName)]
pub struct StintWithOrganizationRow {
    #[diesel(embed)]
    pub stint: EmploymentRow,
    #[diesel(sql_type = Text)]
    pub org_slug: String,
    #[diesel(sql_type = Text)]
    pub org_name: String,
    #[diesel(embed)]
    pub organization: Omissible<OrganizationDetailRow>,
}

/// Every stint of each person in `person_ids` with its organization, in one
/// statement (unordered, as [`of_people`]).
pub async fn of_people_with_organizations(
    conn: &mut AsyncPgConnection,
    person_ids: &[i64],
    organization: Columns,
) -> QueryResult<Vec<StintWithOrganizationRow>> {
    let detail = match organization {
        Columns::Brief => String::new(),
        Columns::Full => format!(", {ORGANIZATION_DETAIL_COLUMNS}"),
    };
    // One key by `=`: see `people::by_ids`.
    let person = if person_ids.len() == 1 {
        "($1::bigint[])[1]"
    } else {
        "ANY($1)"
    };
    let sql = format!(
        "SELECT {stint}, o.slug AS org_slug, o.name AS org_name{detail}
        FROM employments e JOIN organizations o ON o.id = e.organization_id
        WHERE e.person_id = {person}",
        stint = employment_columns("e"),
    );
    Prepared(diesel::sql_query(sql).bind::<Array<BigInt>, _>(person_ids))
        .load(conn)
        .await
}

/// The leadership stints of each organization (`is_leader`), unordered.
pub async fn leaders_of(
    conn: &mut AsyncPgConnection,
    organization_ids: &[i64],
) -> QueryResult<Vec<EmploymentRow>> {
    employments::table
        .filter(employments::organization_id.eq_any(organization_ids))
        .filter(employments::is_leader.eq(true))
        .select(EmploymentRow::as_select())
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

/// What a listing reads beside each stint's core columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListingColumns {
    pub stint: Columns,
    /// The stint's person, read by the same statement; `None` when the query
    /// asks for no person.
    pub person: Option<Columns>,
}

#[derive(Debug, QueryableByName)]
pub struct ScopedEmploymentRow {
    #[diesel(sql_type = BigInt)]
    pub root_id: i64,
    #[diesel(embed)]
    pub employment: EmploymentCore,
    #[diesel(embed)]
    pub detail: Omissible<EmploymentDetail>,
    #[diesel(embed)]
    pub person: Omissible<ListedPerson>,
    #[diesel(embed)]
    pub person_detail: Omissible<ListedPersonDetail>,
}

/// The stint's person's names, read by the listing statement itself
/// (`listed_*`: the stint's columns take the plain names).
#[derive(Debug, QueryableByName)]
pub struct ListedPerson {
    #[diesel(sql_type = Text)]
    listed_slug: String,
    #[diesel(sql_type = Text)]
    listed_name: String,
}

impl ColumnGroup for ListedPerson {
    const PROBE: &'static str = "listed_slug";
}

impl ListedPerson {
    /// The person of stint `employment`.
    pub fn into_brief(self, employment: &EmploymentCore) -> PersonBrief {
        PersonBrief {
            id: employment.person_id,
            slug: self.listed_slug,
            name: self.listed_name,
        }
    }
}

/// The rest of the stint's person, when the query asks for it.
#[derive(Debug, QueryableByName)]
pub struct ListedPersonDetail {
    #[diesel(sql_type = Array<Text>)]
    listed_aliases: Vec<String>,
    #[diesel(sql_type = Nullable<Text>)]
    listed_bio: Option<String>,
    #[diesel(sql_type = Integer)]
    listed_version: i32,
}

impl ColumnGroup for ListedPersonDetail {
    const PROBE: &'static str = "listed_aliases";
}

impl From<ListedPersonDetail> for PersonDetail {
    fn from(listed: ListedPersonDetail) -> Self {
        PersonDetail {
            aliases: listed.listed_aliases,
            bio: listed.listed_bio,
            version: listed.listed_version,
        }
    }
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
fn employment_columns(alias: &str) -> String {
    qualified(alias, &EMPLOYMENT_CORE_COLUMNS)
        + ", "
        + &qualified(alias, &EMPLOYMENT_DETAIL_COLUMNS)
}

const EMPLOYMENT_CORE_COLUMNS: [&str; 10] = [
    "id",
    "person_id",
    "organization_id",
    "title",
    "started_on",
    "started_on_precision",
    "ended_on",
    "ended_on_precision",
    "is_current",
    "career_position",
];

const EMPLOYMENT_DETAIL_COLUMNS: [&str; 4] =
    ["is_founder", "reported_years", "is_leader", "version"];

/// The stint columns a listing reads, of the table aliased `alias`: no
/// column it does not use.
fn listing_columns(alias: &str, stint: Columns) -> String {
    match stint {
        Columns::Brief => qualified(alias, &EMPLOYMENT_CORE_COLUMNS),
        Columns::Full => employment_columns(alias),
    }
}

fn qualified(alias: &str, columns: &[&str]) -> String {
    columns
        .iter()
        .map(|column| format!("{alias}.{column}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first stints of the organization `organization_id` (an SQL
/// expression) on a first page, or on one after an undated stint (`$7`):
/// straight from the index on (organization_id, started_on, id), whose order
/// (unknown starts are NULL, last) is the listing's.
fn first_page_scan(organization_id: &str, filter: &str, columns: &str) -> String {
    format!(
        "SELECT {columns} FROM employments e
        WHERE e.organization_id = {organization_id}
          AND {filter}
          AND ($7::bigint IS NULL OR (e.started_on IS NULL AND e.id > $7::bigint))
        ORDER BY e.started_on, e.id
        LIMIT $8"
    )
}

/// The person columns of a listing row (`listed_*`) and the join that
/// reads them, or nothing when the query asks for no person.
fn listed_person(person: Option<Columns>) -> (&'static str, &'static str) {
    // `$9` is always true. As a parameter of the join it keeps PostgreSQL
    // from caching the person lookup (a Memoize node): people seldom repeat
    // on a page (12 hits in 869 rows for (b)), and the cache's upkeep cost
    // a sixth of the statement.
    const JOIN: &str = "LEFT JOIN people p ON $9 AND p.id = stint.person_id";
    match person {
        None => ("", ""),
        Some(Columns::Brief) => (", p.slug AS listed_slug, p.name AS listed_name", JOIN),
        Some(Columns::Full) => (
            ", p.slug AS listed_slug, p.name AS listed_name, p.aliases AS listed_aliases,
            p.bio AS listed_bio, p.version AS listed_version",
            JOIN,
        ),
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
    let dated_cursor = cursor.is_some_and(|c| c.started_on.is_some());
    let stint = listing_columns("stint", columns.stint);
    let first_columns = listing_columns("e", columns.stint);
    // The people too when the query asks for them: one statement for the
    // whole page instead of a second one by id.
    let (person, join_person) = listed_person(columns.person);
    // Without a status or a day the filter is void: left out, it costs the
    // planner nothing.
    let filter = if scope.is_current.is_some() || scope.at.is_some() {
        SCOPE_FILTER
    } else {
        "TRUE"
    };
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
        let first_of_unit = first_page_scan("u.organization_id", filter, &first_columns);
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
        let first_of_root = first_page_scan("roots.root_id", filter, &first_columns);
        format!(
            "SELECT roots.root_id, stint.*{person}
        FROM unnest($1::bigint[]) AS roots(root_id)
        CROSS JOIN LATERAL ({first_of_root}) stint
        {join_person}"
        )
    };
    Prepared(
        diesel::sql_query(sql)
            .bind::<Array<BigInt>, _>(root_ids)
            .bind::<Bool, _>(scope.include_units)
            .bind::<Nullable<Bool>, _>(scope.is_current)
            .bind::<Nullable<Date>, _>(scope.at.map(|a| a.day))
            .bind::<Bool, _>(scope.at.is_some_and(|a| a.certain))
            .bind::<Nullable<Date>, _>(cursor.and_then(|c| c.started_on))
            .bind::<Nullable<BigInt>, _>(cursor.map(|c| c.id))
            .bind::<BigInt, _>(limit)
            .bind::<Bool, _>(true),
    )
    .load(conn)
    .await
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
              AND {SCOPE_FILTER}
        ) counted"
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
