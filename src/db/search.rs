//! Search across people, organizations and publications: accent- and
//! case-insensitive (`search_normalize`), typo-tolerant (pg_trgm's word
//! similarity), ranked by relevance. See `migrations/*_search`.
//!
//! A hit's score is 1 when the query appears in the text as it is, else the
//! word similarity of the query to the text (0.6 and above match).

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{BigInt, Double, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::ahead::{ListedStintRow, WithChildren};
use super::columns::ColumnSet;
use super::organizations::{OrganizationRead, OrganizationRow};
use super::people::PersonRow;

/// A hit of `everything`: which table, which row, how well it matched.
#[derive(Debug, Clone, QueryableByName)]
pub struct Hit {
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Double)]
    pub score: f64,
}

/// Where a ranked list resumes: after this (score, id).
pub type RankCursor = (f64, i64);

/// `(kind, id, score)` of the people matching the query `$1`.
pub(crate) const PEOPLE_HITS: &str = "
    SELECT 'person' AS kind, id,
        CASE WHEN person_search_text(name, aliases) LIKE search_pattern($1) THEN 1.0
             ELSE word_similarity(search_normalize($1), person_search_text(name, aliases)) END::float8 AS score
    FROM people
    WHERE search_normalize($1) <% person_search_text(name, aliases)
       OR person_search_text(name, aliases) LIKE search_pattern($1)";

/// `(kind, id, score)` of the organizations matching `$1`, of kind `$2` when set.
pub(crate) const ORGANIZATION_HITS: &str = "
    SELECT 'organization' AS kind, id,
        CASE WHEN search_normalize(name || ' ' || slug) LIKE search_pattern($1) THEN 1.0
             ELSE word_similarity(search_normalize($1), search_normalize(name || ' ' || slug)) END::float8 AS score
    FROM organizations
    WHERE ($2::text IS NULL OR kind = $2)
      AND (search_normalize($1) <% search_normalize(name || ' ' || slug)
           OR search_normalize(name || ' ' || slug) LIKE search_pattern($1))";

/// `(kind, id, score)` of the publications matching `$1`.
const PUBLICATION_HITS: &str = "
    SELECT 'publication' AS kind, id,
        CASE WHEN search_normalize(title) LIKE search_pattern($1) THEN 1.0
             ELSE word_similarity(search_normalize($1), search_normalize(title)) END::float8 AS score
    FROM publications
    WHERE search_normalize($1) <% search_normalize(title) OR search_normalize(title) LIKE search_pattern($1)";

/// The best `limit` hits across all three kinds, best first.
pub async fn everything(
    conn: &mut AsyncPgConnection,
    query: &str,
    limit: i64,
) -> QueryResult<Vec<Hit>> {
    let sql = format!(
        "SELECT * FROM ({PEOPLE_HITS} UNION ALL {ORGANIZATION_HITS} UNION ALL {PUBLICATION_HITS}) hits
         ORDER BY score DESC, kind, id LIMIT $3"
    );
    diesel::sql_query(sql)
        .bind::<Text, _>(query)
        .bind::<Nullable<Text>, _>(None::<&str>)
        .bind::<BigInt, _>(limit)
        .load(conn)
        .await
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// People matching `query`, best first, after `after`.
pub async fn people(
    conn: &mut AsyncPgConnection,
    query: &str,
    after: Option<RankCursor>,
    limit: i64,
) -> QueryResult<Vec<(f64, PersonRow)>> {
    let rows: Vec<ScoredPersonRow> = people_statement(query, after, limit).load(conn).await?;
    Ok(rows.into_iter().map(|r| (r.score, r.person)).collect())
}

/// [`people`] with every stint of each person, and each stint's columns
/// `organization` of its organization ([`WithChildren::stints`]).
pub async fn people_with_stints(
    conn: &mut AsyncPgConnection,
    query: &str,
    after: Option<RankCursor>,
    limit: i64,
    organization: Option<ColumnSet<OrganizationRead>>,
) -> QueryResult<Vec<ListedStintRow<ScoredPersonRow>>> {
    super::ahead::load(
        conn,
        WithChildren::stints(people_statement(query, after, limit), organization),
    )
    .await
}

/// A person matching a search, with the score that ranks it.
#[derive(Debug, QueryableByName)]
pub struct ScoredPersonRow {
    #[diesel(sql_type = Double)]
    pub score: f64,
    #[diesel(embed)]
    pub person: PersonRow,
}

fn people_statement(
    query: &str,
    after: Option<RankCursor>,
    limit: i64,
) -> BoxedSqlQuery<'_, Pg, SqlQuery> {
    let sql = format!(
        "SELECT hits.score, p.* FROM ({PEOPLE_HITS}) hits JOIN people p ON p.id = hits.id
         WHERE $3::bigint IS NULL OR hits.score < $2 OR (hits.score = $2 AND hits.id > $3)
         ORDER BY hits.score DESC, hits.id LIMIT $4"
    );
    diesel::sql_query(sql)
        .into_boxed()
        .bind::<Text, _>(query)
        .bind::<Nullable<Double>, _>(after.map(|a| a.0))
        .bind::<Nullable<BigInt>, _>(after.map(|a| a.1))
        .bind::<BigInt, _>(limit)
}

pub async fn people_count(conn: &mut AsyncPgConnection, query: &str) -> QueryResult<i64> {
    let row: Count = diesel::sql_query(format!("SELECT count(*) AS n FROM ({PEOPLE_HITS}) hits"))
        .bind::<Text, _>(query)
        .get_result(conn)
        .await?;
    Ok(row.n)
}

/// Organizations matching `query` (of one kind, when given), best first.
pub async fn organizations(
    conn: &mut AsyncPgConnection,
    query: &str,
    kind: Option<&str>,
    after: Option<RankCursor>,
    limit: i64,
) -> QueryResult<Vec<(f64, OrganizationRow)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Double)]
        score: f64,
        #[diesel(embed)]
        organization: OrganizationRow,
    }
    let sql = format!(
        "SELECT hits.score, o.* FROM ({ORGANIZATION_HITS}) hits JOIN organizations o ON o.id = hits.id
         WHERE $4::bigint IS NULL OR hits.score < $3 OR (hits.score = $3 AND hits.id > $4)
         ORDER BY hits.score DESC, hits.id LIMIT $5"
    );
    let rows: Vec<Row> = diesel::sql_query(sql)
        .bind::<Text, _>(query)
        .bind::<Nullable<Text>, _>(kind)
        .bind::<Nullable<Double>, _>(after.map(|a| a.0))
        .bind::<Nullable<BigInt>, _>(after.map(|a| a.1))
        .bind::<BigInt, _>(limit)
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.score, r.organization))
        .collect())
}

pub async fn organizations_count(
    conn: &mut AsyncPgConnection,
    query: &str,
    kind: Option<&str>,
) -> QueryResult<i64> {
    let row: Count = diesel::sql_query(format!(
        "SELECT count(*) AS n FROM ({ORGANIZATION_HITS}) hits"
    ))
    .bind::<Text, _>(query)
    .bind::<Nullable<Text>, _>(kind)
    .get_result(conn)
    .await?;
    Ok(row.n)
}
