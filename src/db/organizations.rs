//! `organizations`: companies, labs and their units.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use diesel::sql_types::{BigInt, Date, Integer, Nullable, Text};

use super::ColumnGroup;
use super::schema::organizations;

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Identifiable)]
#[diesel(table_name = organizations, check_for_backend(diesel::pg::Pg))]
pub struct OrganizationRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<i64>,
    pub country: Option<String>,
    pub website: Option<String>,
    pub founded_on: Option<NaiveDate>,
    pub founded_on_precision: Option<String>,
    pub version: i32,
}

/// The columns of an organization beyond its id and names, read when the
/// query asks for one of them (see [`Columns`](super::Columns)). Named
/// `org_*`: they are read beside a stint, whose columns take the plain names.
#[derive(Debug, Clone, QueryableByName)]
pub struct OrganizationDetailRow {
    #[diesel(sql_type = Text)]
    pub org_kind: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub org_parent_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub org_country: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub org_website: Option<String>,
    #[diesel(sql_type = Nullable<Date>)]
    pub org_founded_on: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Text>)]
    pub org_founded_on_precision: Option<String>,
    #[diesel(sql_type = Integer)]
    pub org_version: i32,
}

impl ColumnGroup for OrganizationDetailRow {
    const PROBE: &'static str = "org_kind";
}

/// The `org_*` select list of [`OrganizationDetailRow`], of the table aliased `o`.
pub const ORGANIZATION_DETAIL_COLUMNS: &str = "o.kind AS org_kind, o.parent_id AS org_parent_id,
    o.country AS org_country, o.website AS org_website, o.founded_on AS org_founded_on,
    o.founded_on_precision AS org_founded_on_precision, o.version AS org_version";

impl OrganizationRow {
    /// The row as (id, slug, name) and the detail a brief read leaves out.
    pub fn into_parts(self) -> (i64, String, String, OrganizationDetailRow) {
        let detail = OrganizationDetailRow {
            org_kind: self.kind,
            org_parent_id: self.parent_id,
            org_country: self.country,
            org_website: self.website,
            org_founded_on: self.founded_on,
            org_founded_on_precision: self.founded_on_precision,
            org_version: self.version,
        };
        (self.id, self.slug, self.name, detail)
    }
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
    query
        .order((organizations::name, organizations::id))
        .limit(limit)
        .load(conn)
        .await
}

pub async fn count(conn: &mut AsyncPgConnection, kind: Option<&str>) -> QueryResult<i64> {
    let mut query = organizations::table.count().into_boxed();
    if let Some(kind) = kind {
        query = query.filter(organizations::kind.eq(kind));
    }
    query.get_result(conn).await
}
