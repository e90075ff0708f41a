//! `sources` and the citations that tie facts to them.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{authorship_sources, employment_sources, sources};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = sources, check_for_backend(diesel::pg::Pg))]
pub struct SourceRow {
    pub id: i64,
    pub url: String,
    pub title: Option<String>,
    pub publisher: Option<String>,
    pub published_on: Option<NaiveDate>,
    pub published_on_precision: Option<String>,
    pub created_at: DateTime<Utc>,
    pub version: i32,
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
