//! Entities named by a reference (`{id}`, `{slug}` or `{url}`): every
//! reference of one kind that a request level asks for is looked up in one
//! statement, ids and natural keys together (`id = ANY($1) OR slug = ANY($2)`,
//! both sides index scans: the primary key and the unique slug or url).

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::organizations::OrganizationRow;
use super::people::PersonRow;
use super::publications::PublicationRow;
use super::schema::{organizations, people, publications, sources};
use super::sources::SourceRow;

pub async fn organizations(
    conn: &mut AsyncPgConnection,
    ids: &[i64],
    slugs: &[String],
) -> QueryResult<Vec<OrganizationRow>> {
    organizations::table
        .filter(
            organizations::id
                .eq_any(ids)
                .or(organizations::slug.eq_any(slugs)),
        )
        .select(OrganizationRow::as_select())
        .load(conn)
        .await
}

pub async fn people(
    conn: &mut AsyncPgConnection,
    ids: &[i64],
    slugs: &[String],
) -> QueryResult<Vec<PersonRow>> {
    people::table
        .filter(people::id.eq_any(ids).or(people::slug.eq_any(slugs)))
        .select(PersonRow::as_select())
        .load(conn)
        .await
}

pub async fn publications(
    conn: &mut AsyncPgConnection,
    ids: &[i64],
    slugs: &[String],
) -> QueryResult<Vec<PublicationRow>> {
    publications::table
        .filter(
            publications::id
                .eq_any(ids)
                .or(publications::slug.eq_any(slugs)),
        )
        .select(PublicationRow::as_select())
        .load(conn)
        .await
}

pub async fn sources(
    conn: &mut AsyncPgConnection,
    ids: &[i64],
    urls: &[String],
) -> QueryResult<Vec<SourceRow>> {
    sources::table
        .filter(sources::id.eq_any(ids).or(sources::url.eq_any(urls)))
        .select(SourceRow::as_select())
        .load(conn)
        .await
}
