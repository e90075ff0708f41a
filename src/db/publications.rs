//! `publications`: papers whose author lists define cohorts.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl::{AsSelect, IntoBoxed, Select};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::Prepared;
use super::ahead::{ListedAuthorshipRow, WithChildren};
use super::authorships::AuthorshipJoins;
use super::columns;
use super::schema::publications;

columns::entity! {
    /// A whole `publications` row. Every read takes all of it (no list of
    /// publications narrows its columns yet).
    row PublicationRow, read PublicationRead, table publications, prefix "publication_";
    always {
        id: i64 => "id",
        slug: String => "slug",
        title: String => "title",
        published_on: Option<NaiveDate> => "publishedOn",
        published_on_precision: Option<String> => "publishedOn",
        venue: Option<String> => "venue",
        url: Option<String> => "url",
        created_at: DateTime<Utc> => "",
        updated_at: DateTime<Utc> => "",
        version: i32 => "version",
    }
    columns {}
    other_fields ["retention", "authors"]
}

#[derive(Debug, Insertable)]
#[diesel(table_name = publications)]
pub struct NewPublication<'a> {
    pub slug: &'a str,
    pub title: &'a str,
    pub published_on: Option<NaiveDate>,
    pub published_on_precision: Option<&'a str>,
    pub venue: Option<&'a str>,
    pub url: Option<&'a str>,
}

pub async fn by_ids(conn: &mut AsyncPgConnection, ids: &[i64]) -> QueryResult<Vec<PublicationRow>> {
    publications::table
        .filter(publications::id.eq_any(ids))
        .select(PublicationRow::as_select())
        .load(conn)
        .await
}

pub async fn by_slug(
    conn: &mut AsyncPgConnection,
    slug: &str,
) -> QueryResult<Option<PublicationRow>> {
    publications::table
        .filter(publications::slug.eq(slug))
        .select(PublicationRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The publication `slug` names with its authorships in author order, and
/// each authorship's relations `joins` asks for
/// ([`WithChildren::authorships`]): one statement where a lookup and its
/// author list took two.
pub async fn with_authorships(
    conn: &mut AsyncPgConnection,
    slug: &str,
    joins: AuthorshipJoins,
) -> QueryResult<Vec<ListedAuthorshipRow<PublicationRow>>> {
    let publication = publications::table
        .filter(publications::slug.eq(slug))
        .select(PublicationRow::as_select());
    Prepared(WithChildren::authorships(publication, joins).unnumbered())
        .load(conn)
        .await
}

/// A page of publications ordered by (title, id), after the keyset `after`.
pub async fn page(
    conn: &mut AsyncPgConnection,
    after: Option<(&str, i64)>,
    limit: i64,
) -> QueryResult<Vec<PublicationRow>> {
    in_order(after).limit(limit).load(conn).await
}

/// [`page`] with each publication's authorships in author order, and each
/// authorship's relations `joins` asks for: one statement for the page and
/// its author lists.
pub async fn page_with_authorships(
    conn: &mut AsyncPgConnection,
    after: Option<(&str, i64)>,
    limit: i64,
    joins: AuthorshipJoins,
) -> QueryResult<Vec<ListedAuthorshipRow<PublicationRow>>> {
    Prepared(WithChildren::authorships(in_order(after), joins).at_most(limit))
        .load(conn)
        .await
}

type PublicationsQuery<'a> =
    IntoBoxed<'a, Select<publications::table, AsSelect<PublicationRow, Pg>>, Pg>;

/// Every publication after the keyset `after`, ordered by (title, id).
fn in_order(after: Option<(&str, i64)>) -> PublicationsQuery<'_> {
    let mut query = publications::table
        .select(PublicationRow::as_select())
        .into_boxed();
    if let Some((title, id)) = after {
        query = query.filter(
            publications::title
                .gt(title)
                .or(publications::title.eq(title).and(publications::id.gt(id))),
        );
    }
    query.order((publications::title, publications::id))
}

pub async fn count(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    super::row_counts::of(conn, super::row_counts::Counted::Publications).await
}
