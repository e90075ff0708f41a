//! `publications`: papers whose author lists define cohorts.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::Prepared;
use super::ahead::{AuthorshipsAhead, ListedAuthorshipRow, WithChildren};
use super::columns::{self, ColumnSet};
use super::schema::publications;

columns::entity! {
    /// A whole `publications` row.
    row PublicationRow, read PublicationRead, table publications, prefix "publication_";
    // Every read needs what identifies and names a publication: lists order
    // by title.
    always {
        id: i64 => "id",
        slug: String => "slug",
        title: String => "title",
    }
    columns {
        published_on: Option<NaiveDate> => "publishedOn",
        published_on_precision: Option<String> => "publishedOn",
        venue: Option<String> => "venue",
        url: Option<String> => "url",
        created_at: DateTime<Utc> => "",
        updated_at: DateTime<Utc> => "",
        version: i32 => "version",
    }
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

/// The publication `slug` names, its columns `columns`.
pub async fn by_slug(
    conn: &mut AsyncPgConnection,
    slug: &str,
    columns: ColumnSet<PublicationRead>,
) -> QueryResult<Option<PublicationRead>> {
    Prepared(slug_query(slug, columns))
        .get_result(conn)
        .await
        .optional()
}

/// The publication `slug` names with its authorships in author order, and
/// what `ahead` asks for of each authorship
/// ([`WithChildren::authorships`]): one statement where a lookup and its
/// author list took two.
pub async fn with_authorships(
    conn: &mut AsyncPgConnection,
    slug: &str,
    columns: ColumnSet<PublicationRead>,
    ahead: AuthorshipsAhead,
) -> QueryResult<Vec<ListedAuthorshipRow<PublicationRead>>> {
    super::ahead::load(
        conn,
        Prepared(WithChildren::authorships(slug_query(slug, columns), ahead).unnumbered()),
    )
    .await
}

fn slug_query(slug: &str, columns: ColumnSet<PublicationRead>) -> BoxedSqlQuery<'_, Pg, SqlQuery> {
    diesel::sql_query(format!(
        "SELECT {} FROM publications p WHERE p.slug = $1",
        columns.select("p")
    ))
    .into_boxed()
    .bind::<Text, _>(slug)
}

/// A page of publications ordered by (title, id), after the keyset `after`,
/// their columns `columns`.
pub async fn page(
    conn: &mut AsyncPgConnection,
    after: Option<(&str, i64)>,
    limit: i64,
    columns: ColumnSet<PublicationRead>,
) -> QueryResult<Vec<PublicationRead>> {
    Prepared(
        in_order(after, columns)
            .sql(" LIMIT $3")
            .bind::<BigInt, _>(limit),
    )
    .load(conn)
    .await
}

/// [`page`] with each publication's authorships in author order, and what
/// `ahead` asks for of each authorship: one statement for the page and
/// its author lists.
pub async fn page_with_authorships(
    conn: &mut AsyncPgConnection,
    after: Option<(&str, i64)>,
    limit: i64,
    columns: ColumnSet<PublicationRead>,
    ahead: AuthorshipsAhead,
) -> QueryResult<Vec<ListedAuthorshipRow<PublicationRead>>> {
    super::ahead::load(
        conn,
        Prepared(WithChildren::authorships(in_order(after, columns), ahead).at_most(limit)),
    )
    .await
}

/// Every publication after the keyset `after`, ordered by (title, id), its
/// columns `columns`. Two texts, with and without the keyset, so that each
/// keeps the plan that walks the (title, id) index.
fn in_order(
    after: Option<(&str, i64)>,
    columns: ColumnSet<PublicationRead>,
) -> BoxedSqlQuery<'_, Pg, SqlQuery> {
    let select = columns.select("p");
    match after {
        None => diesel::sql_query(format!(
            "SELECT {select} FROM publications p ORDER BY p.title, p.id"
        ))
        .into_boxed()
        // Unused: keeps the limit `$3` in both texts.
        .bind::<Nullable<Text>, _>(None::<&str>)
        .bind::<Nullable<BigInt>, _>(None::<i64>),
        Some((title, id)) => diesel::sql_query(format!(
            "SELECT {select} FROM publications p WHERE (p.title, p.id) > ($1, $2) \
             ORDER BY p.title, p.id"
        ))
        .into_boxed()
        .bind::<Nullable<Text>, _>(Some(title))
        .bind::<Nullable<BigInt>, _>(Some(id)),
    }
}

pub async fn count(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    super::row_counts::of(conn, super::row_counts::Counted::Publications).await
}
