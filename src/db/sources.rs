//! `sources` and the citations that tie facts to them.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::columns;
use super::schema::{authorship_sources, employment_sources, sources};

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
    employment_sources::table
        .inner_join(sources::table)
        .filter(employment_sources::employment_id.eq_any(employment_ids))
        .order((employment_sources::employment_id, sources::id))
        .select((employment_sources::employment_id, SourceRow::as_select()))
        .load(conn)
        .await
}

/// The sources each authorship cites, as (authorship id, source), by source id.
pub async fn cited_by_authorships(
    conn: &mut AsyncPgConnection,
    authorship_ids: &[i64],
) -> QueryResult<Vec<(i64, SourceRow)>> {
    authorship_sources::table
        .inner_join(sources::table)
        .filter(authorship_sources::authorship_id.eq_any(authorship_ids))
        .order((authorship_sources::authorship_id, sources::id))
        .select((authorship_sources::authorship_id, SourceRow::as_select()))
        .load(conn)
        .await
}
