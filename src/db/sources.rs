//! `sources` and the citations that tie facts to them.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::Prepared;
use super::columns::{self, ColumnSet};
use super::schema::sources;

columns::entity! {
    /// A whole `sources` row. Every read takes all of it.
    row SourceRow, read SourceRead, table sources, prefix "source_";
    always {
        id: i64 => "id",
        url: String => "url",
        title: Option<String> => "title",
        publisher: Option<String> => "publisher",
        published_on: Option<NaiveDate> => "publishedOn",
        published_on_precision: Option<String> => "publishedOn",
        created_at: DateTime<Utc> => "",
        version: i32 => "version",
    }
    columns {}
    other_fields []
}

#[derive(Debug, Insertable)]
#[diesel(table_name = sources)]
pub struct NewSource<'a> {
    pub url: &'a str,
    pub title: Option<&'a str>,
    pub publisher: Option<&'a str>,
    pub published_on: Option<NaiveDate>,
    pub published_on_precision: Option<&'a str>,
}

pub async fn by_ids(conn: &mut AsyncPgConnection, ids: &[i64]) -> QueryResult<Vec<SourceRow>> {
    sources::table
        .filter(sources::id.eq_any(ids))
        .select(SourceRow::as_select())
        .load(conn)
        .await
}

/// The sources each employment cites, as (employment id, source), by source id.
pub async fn cited_by_employments(
    conn: &mut AsyncPgConnection,
    employment_ids: &[i64],
) -> QueryResult<Vec<(i64, SourceRow)>> {
    cited_through(conn, "employment_sources", "employment_id", employment_ids).await
}

/// The sources each authorship cites, as (authorship id, source), by source id.
pub async fn cited_by_authorships(
    conn: &mut AsyncPgConnection,
    authorship_ids: &[i64],
) -> QueryResult<Vec<(i64, SourceRow)>> {
    cited_through(conn, "authorship_sources", "authorship_id", authorship_ids).await
}

#[derive(QueryableByName)]
struct CitedRow {
    #[diesel(sql_type = BigInt)]
    owner_id: i64,
    #[diesel(embed)]
    source: SourceRow,
}

/// The sources cited through `link`, a table of (`owner`, source_id) rows,
/// by each owner in `owner_ids`: in the link's key order, each source read by
/// its id (`join_by_id`: as a plain join, PostgreSQL hashed every source to
/// answer ten citations).
async fn cited_through(
    conn: &mut AsyncPgConnection,
    link: &str,
    owner: &str,
    owner_ids: &[i64],
) -> QueryResult<Vec<(i64, SourceRow)>> {
    let sql = format!(
        "SELECT l.{owner} AS owner_id, {columns} FROM {link} l{source}
        WHERE l.{owner} = {any} ORDER BY l.{owner}, l.source_id",
        columns = ColumnSet::<SourceRead>::all().select("s"),
        source = super::join_by_id("sources", "s", "l.source_id"),
        any = super::ids_param(owner_ids.len() == 1),
    );
    let rows: Vec<CitedRow> = Prepared(diesel::sql_query(sql).bind::<Array<BigInt>, _>(owner_ids))
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(|r| (r.owner_id, r.source)).collect())
}
