//! `organizations`: companies, labs and their units.

use chrono::NaiveDate;
use diesel::dsl::{AsSelect, IntoBoxed, Select};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::Prepared;
use super::ahead::{ListedOrganizationRow, OrganizationChildren, WithChildren};
use super::columns;
use super::schema::organizations;

columns::entity! {
    /// A whole `organizations` row.
    row OrganizationRow, read OrganizationRead, table organizations, prefix "org_";
    always {
        id: i64 => "id",
        slug: String => "slug",
        name: String => "name",
    }
    columns {
        kind: String => "kind",
        parent_id: Option<i64> => "parent",
        country: Option<String> => "country",
        website: Option<String> => "website",
        founded_on: Option<NaiveDate> => "foundedOn",
        founded_on_precision: Option<String> => "foundedOn",
        version: i32 => "version",
    }
    other_fields [
        "units",
        "founders",
        "leaders",
        "alumni",
        "talentFlows",
        "headcount",
        "employments",
    ]
}

#[derive(Debug, Insertable)]
#[diesel(table_name = organizations)]
pub struct NewOrganization<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
    pub parent_id: Option<i64>,
    pub country: Option<&'a str>,
    pub website: Option<&'a str>,
    pub founded_on: Option<NaiveDate>,
    pub founded_on_precision: Option<&'a str>,
}

pub async fn by_ids(
    conn: &mut AsyncPgConnection,
    ids: &[i64],
) -> QueryResult<Vec<OrganizationRow>> {
    // One key by `=`: see `people::by_ids`.
    if let [id] = ids {
        return organizations::table
            .filter(organizations::id.eq(id))
            .select(OrganizationRow::as_select())
            .load(conn)
            .await;
    }
    organizations::table
        .filter(organizations::id.eq_any(ids))
        .select(OrganizationRow::as_select())
        .load(conn)
        .await
}

pub async fn by_slug(
    conn: &mut AsyncPgConnection,
    slug: &str,
) -> QueryResult<Option<OrganizationRow>> {
    organizations::table
        .filter(organizations::slug.eq(slug))
        .select(OrganizationRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The organization `slug` names with its child list `children`
/// ([`WithChildren::of_organizations`]): one statement where a lookup and
/// the list took two.
pub async fn with_children(
    conn: &mut AsyncPgConnection,
    slug: &str,
    children: OrganizationChildren,
) -> QueryResult<Vec<ListedOrganizationRow<OrganizationRow>>> {
    let organization = organizations::table
        .filter(organizations::slug.eq(slug))
        .select(OrganizationRow::as_select());
    super::ahead::load(
        conn,
        Prepared(WithChildren::of_organizations(organization, children).unnumbered()),
    )
    .await
}

pub async fn by_slugs(
    conn: &mut AsyncPgConnection,
    slugs: &[String],
) -> QueryResult<Vec<OrganizationRow>> {
    organizations::table
        .filter(organizations::slug.eq_any(slugs))
        .select(OrganizationRow::as_select())
        .load(conn)
        .await
}

/// The direct units of each of `parent_ids`, by name.
pub async fn units_of(
    conn: &mut AsyncPgConnection,
    parent_ids: &[i64],
) -> QueryResult<Vec<OrganizationRow>> {
    // One parent by `=`, as `people::by_ids` says why.
    if let [parent_id] = parent_ids {
        return organizations::table
            .filter(organizations::parent_id.eq(parent_id))
            .order((organizations::name, organizations::id))
            .select(OrganizationRow::as_select())
            .load(conn)
            .await;
    }
    organizations::table
        .filter(organizations::parent_id.eq_any(parent_ids))
        .order((organizations::name, organizations::id))
        .select(OrganizationRow::as_select())
        .load(conn)
        .await
}

/// A page of organizations ordered by (name, id), after the keyset `after`.
pub async fn page(
    conn: &mut AsyncPgConnection,
    kind: Option<&str>,
    after: Option<(&str, i64)>,
    limit: i64,
) -> QueryResult<Vec<OrganizationRow>> {
    in_order(kind, after).limit(limit).load(conn).await
}

/// [`page`] with each organization's child list `children`: one statement
/// for the page and those lists.
pub async fn page_with_children<'a>(
    conn: &mut AsyncPgConnection,
    kind: Option<&'a str>,
    after: Option<(&'a str, i64)>,
    limit: i64,
    children: OrganizationChildren,
) -> QueryResult<Vec<ListedOrganizationRow<OrganizationRow>>> {
    super::ahead::load(
        conn,
        Prepared(WithChildren::of_organizations(in_order(kind, after), children).at_most(limit)),
    )
    .await
}

type OrganizationsQuery<'a> =
    IntoBoxed<'a, Select<organizations::table, AsSelect<OrganizationRow, Pg>>, Pg>;

/// Every organization (of `kind`, when given) after the keyset `after`,
/// ordered by (name, id).
fn in_order<'a>(kind: Option<&'a str>, after: Option<(&'a str, i64)>) -> OrganizationsQuery<'a> {
    let mut query = organizations::table
        .select(OrganizationRow::as_select())
        .into_boxed();
    if let Some(kind) = kind {
        query = query.filter(organizations::kind.eq(kind));
    }
    if let Some((name, id)) = after {
        query = query.filter(
            organizations::name
                .gt(name)
                .or(organizations::name.eq(name).and(organizations::id.gt(id))),
        );
    }
    query.order((organizations::name, organizations::id))
}

pub async fn count(conn: &mut AsyncPgConnection, kind: Option<&str>) -> QueryResult<i64> {
    match kind {
        None => super::row_counts::of(conn, super::row_counts::Counted::Organizations).await,
        Some(kind) => {
            organizations::table
                .filter(organizations::kind.eq(kind))
                .count()
                .get_result(conn)
                .await
        }
    }
}
