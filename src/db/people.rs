//! `people`: the persons whose careers are tracked.

use diesel::dsl::{AsSelect, IntoBoxed, Select};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::Prepared;
use super::ahead::{ListedStintRow, WithChildren};
use super::columns::{self, ColumnSet};
use super::organizations::OrganizationRead;
use super::schema::{employments, people};

columns::entity! {
    /// A whole `people` row.
    row PersonRow, read PersonRead, table people, prefix "listed_";
    always {
        id: i64 => "id",
        slug: String => "slug",
        name: String => "name",
    }
    columns {
        aliases: Vec<String> => "aliases",
        bio: Option<String> => "bio",
        version: i32 => "version",
    }
    other_fields ["employments", "currentEmployments", "authorships"]
}

#[derive(Debug, Insertable)]
#[diesel(table_name = people)]
pub struct NewPerson<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub aliases: Vec<&'a str>,
    pub bio: Option<&'a str>,
}

pub async fn by_ids(conn: &mut AsyncPgConnection, ids: &[i64]) -> QueryResult<Vec<PersonRow>> {
    // One key is compared with `=`, not `= ANY`: PostgreSQL plans a prepared
    // `= ANY($1)` generically for ten elements, finds the plan for one
    // cheaper, and so re-plans it at every call (0.13-0.19 ms of planning
    // for 0.04 ms of work, a third of a person lookup's database time).
    if let [id] = ids {
        return people::table
            .filter(people::id.eq(id))
            .select(PersonRow::as_select())
            .load(conn)
            .await;
    }
    people::table
        .filter(people::id.eq_any(ids))
        .select(PersonRow::as_select())
        .load(conn)
        .await
}

pub async fn by_slug(conn: &mut AsyncPgConnection, slug: &str) -> QueryResult<Option<PersonRow>> {
    people::table
        .filter(people::slug.eq(slug))
        .select(PersonRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// A page of people ordered by (name, id), after the keyset `after`.
pub async fn page(
    conn: &mut AsyncPgConnection,
    after: Option<(&str, i64)>,
    limit: i64,
) -> QueryResult<Vec<PersonRow>> {
    in_order(after).limit(limit).load(conn).await
}

/// [`page`] with every stint of each person, and each stint's columns
/// `organization` of its organization: one statement for the page and its
/// people's stint lists.
pub async fn page_with_stints(
    conn: &mut AsyncPgConnection,
    after: Option<(&str, i64)>,
    limit: i64,
    organization: Option<ColumnSet<OrganizationRead>>,
) -> QueryResult<Vec<ListedStintRow<PersonRow>>> {
    super::ahead::load(
        conn,
        Prepared(WithChildren::stints(in_order(after), organization).at_most(limit)),
    )
    .await
}

/// How [`with_stints`] finds its people.
#[derive(Debug, Clone, Copy)]
pub enum PeopleLookup<'a> {
    Slug(&'a str),
    Ids(&'a [i64]),
}

/// The people `lookup` finds, each with every stint of theirs and each
/// stint's columns `organization` of its organization: one statement where
/// a lookup and its stint lists took two, one after the other.
pub async fn with_stints(
    conn: &mut AsyncPgConnection,
    lookup: PeopleLookup<'_>,
    organization: Option<ColumnSet<OrganizationRead>>,
) -> QueryResult<Vec<ListedStintRow<PersonRow>>> {
    let people = people::table.select(PersonRow::as_select()).into_boxed();
    let people = match lookup {
        PeopleLookup::Slug(slug) => people.filter(people::slug.eq(slug)),
        // One key with `=`, as in `by_ids`.
        PeopleLookup::Ids([id]) => people.filter(people::id.eq(id)),
        PeopleLookup::Ids(ids) => people.filter(people::id.eq_any(ids)),
    };
    super::ahead::load(
        conn,
        Prepared(WithChildren::stints(people, organization).unnumbered()),
    )
    .await
}

type PeopleQuery<'a> = IntoBoxed<'a, Select<people::table, AsSelect<PersonRow, Pg>>, Pg>;

/// Every person after the keyset `after`, ordered by (name, id).
fn in_order(after: Option<(&str, i64)>) -> PeopleQuery<'_> {
    let mut query = people::table.select(PersonRow::as_select()).into_boxed();
    if let Some((name, id)) = after {
        query = query.filter(
            people::name
                .gt(name)
                .or(people::name.eq(name).and(people::id.gt(id))),
        );
    }
    query.order((people::name, people::id))
}

pub async fn count(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    super::row_counts::of(conn, super::row_counts::Counted::People).await
}

/// The founders of each organization in `organization_ids` (people with a
/// founder stint there), by name; one row per (organization, person).
pub async fn founders_of(
    conn: &mut AsyncPgConnection,
    organization_ids: &[i64],
) -> QueryResult<Vec<(i64, PersonRow)>> {
    employments::table
        .inner_join(people::table)
        .filter(employments::organization_id.eq_any(organization_ids))
        // The column itself, not `= $2` with `true` bound: only then can a
        // prepared statement's generic plan use the partial index on
        // founders; without it PostgreSQL planned the statement anew at every
        // call (0.17 ms, twice its running time).
        .filter(employments::is_founder)
        .select((employments::organization_id, PersonRow::as_select()))
        .distinct_on((employments::organization_id, people::name, people::id))
        .order((employments::organization_id, people::name, people::id))
        .load(conn)
        .await
}
