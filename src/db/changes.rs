//! The audit log read as a feed: in (transaction, id) order and only below
//! the oldest transaction of this database still running ([`horizon`]), so
//! that nothing can ever appear behind a cursor (`migrations/*_live_changes` explains why). The public
//! `changes` query, the listener of every server process and its catch-up
//! after a reconnect all read it through [`page`].

use std::fmt;

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A place in the feed: an entry's transaction and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FeedPosition {
    pub tx: u64,
    pub id: i64,
}

impl fmt::Display for FeedPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.tx, self.id)
    }
}

impl FeedPosition {
    pub fn parse(text: &str) -> Option<Self> {
        let (tx, id) = text.split_once(':')?;
        Some(FeedPosition {
            tx: tx.parse().ok()?,
            id: id.parse().ok()?,
        })
    }
}

/// One audit entry as the feed reads it; the jsonb columns come as text and
/// the time as ISO 8601 text, so that the row needs no driver type beyond text.
#[derive(Debug, Clone, QueryableByName)]
pub struct FeedRow {
    #[diesel(sql_type = Text)]
    pub tx: String,
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub changed_at: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub token_id: Option<i64>,
    #[diesel(sql_type = Text)]
    pub actor: String,
    #[diesel(sql_type = Text)]
    pub action: String,
    #[diesel(sql_type = Text)]
    pub entity_type: String,
    #[diesel(sql_type = BigInt)]
    pub entity_id: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub before: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub after: Option<String>,
}

impl FeedRow {
    pub fn position(&self) -> Option<FeedPosition> {
        Some(FeedPosition {
            tx: self.tx.parse().ok()?,
            id: self.id,
        })
    }
}

#[derive(Debug, QueryableByName)]
struct HorizonRow {
    #[diesel(sql_type = Text)]
    horizon: String,
}

/// The oldest transaction of this database that may still write to the
/// log: entries of older ones are final. It must be read in a statement of
/// its own, before the entries (whose statement then sees every transaction
/// under it that committed meanwhile).
///
/// Not `pg_snapshot_xmin`: that is the oldest transaction of the whole
/// cluster, and a long one in another database would hold the feed back.
/// Here it is the oldest transaction still running in this database
/// (`pg_stat_activity`), and at most the next transaction id (one that
/// starts later is newer than every entry seen). Prepared (two-phase)
/// transactions are not seen; talentgraph never prepares any.
async fn horizon(conn: &mut AsyncPgConnection) -> QueryResult<String> {
    let row: HorizonRow = diesel::sql_query(
        "SELECT least(
                pg_snapshot_xmax(s),
                (SELECT min(x) FROM pg_snapshot_xip(s) AS x
                 WHERE (x::text::numeric % 4294967296)::bigint IN (
                     SELECT a.backend_xid::text::bigint FROM pg_stat_activity a
                     WHERE a.datname = current_database() AND a.backend_xid IS NOT NULL
                       AND a.pid <> pg_backend_pid()))
            )::text AS horizon
        FROM pg_current_snapshot() AS s",
    )
    .get_result(conn)
    .await?;
    Ok(row.horizon)
}

/// Up to `limit` entries after `after` (from the start when `None`), in feed
/// order, all final.
pub async fn page(
    conn: &mut AsyncPgConnection,
    after: Option<FeedPosition>,
    limit: i64,
) -> QueryResult<Vec<FeedRow>> {
    let horizon = horizon(conn).await?;
    let after = after.unwrap_or_default();
    diesel::sql_query(
        "SELECT tx::text AS tx, id, to_json(changed_at) #>> '{}' AS changed_at, token_id, actor,
            action, entity_type, entity_id, before::text AS before, after::text AS after
        FROM audit_log
        WHERE (tx, id) > ($1::text::xid8, $2)
          AND tx < $4::text::xid8
        ORDER BY tx, id
        LIMIT $3",
    )
    .bind::<Text, _>(after.tx.to_string())
    .bind::<BigInt, _>(after.id)
    .bind::<BigInt, _>(limit)
    .bind::<Text, _>(horizon)
    .load(conn)
    .await
}

/// The last final entry: where a listener starting now begins.
pub async fn end(conn: &mut AsyncPgConnection) -> QueryResult<FeedPosition> {
    let rows = page_from_end(conn).await?;
    Ok(rows
        .as_slice()
        .first()
        .and_then(FeedRow::position)
        .unwrap_or_default())
}

async fn page_from_end(conn: &mut AsyncPgConnection) -> QueryResult<Vec<FeedRow>> {
    let horizon = horizon(conn).await?;
    diesel::sql_query(
        "SELECT tx::text AS tx, id, to_json(changed_at) #>> '{}' AS changed_at, token_id, actor,
            action, entity_type, entity_id, NULL::text AS before, NULL::text AS after
        FROM audit_log
        WHERE tx < $1::text::xid8
        ORDER BY tx DESC, id DESC
        LIMIT 1",
    )
    .bind::<Text, _>(horizon)
    .load(conn)
    .await
}

/// An organization and every organization above it, nearest first.
#[derive(Debug, Clone, QueryableByName)]
pub struct ChainRow {
    #[diesel(sql_type = BigInt)]
    pub org_id: i64,
    #[diesel(sql_type = Array<BigInt>)]
    pub chain: Vec<i64>,
}

/// The parent chains of `org_ids`, each starting with the organization itself.
pub async fn chains(conn: &mut AsyncPgConnection, org_ids: &[i64]) -> QueryResult<Vec<ChainRow>> {
    diesel::sql_query(
        "WITH RECURSIVE up (org_id, at_id, depth) AS (
                SELECT o, o, 0 FROM unnest($1::bigint[]) AS o
            UNION ALL
                SELECT up.org_id, o.parent_id, up.depth + 1
                FROM up JOIN organizations o ON o.id = up.at_id
                WHERE o.parent_id IS NOT NULL AND up.depth < 64
        )
        SELECT org_id, array_agg(at_id ORDER BY depth) AS chain FROM up GROUP BY org_id",
    )
    .bind::<Array<BigInt>, _>(org_ids)
    .load(conn)
    .await
}

/// One move of the talent-flow rule (`career_moves`, kept by
/// `migrations/*_career_moves`), with every tree its stint left.
#[derive(Debug, Clone, QueryableByName)]
pub struct MoveRow {
    #[diesel(sql_type = BigInt)]
    pub person_id: i64,
    #[diesel(sql_type = BigInt)]
    pub left_employment_id: i64,
    #[diesel(sql_type = BigInt)]
    pub joined_employment_id: i64,
    #[diesel(sql_type = BigInt)]
    pub joined_organization_id: i64,
    #[diesel(sql_type = Nullable<diesel::sql_types::Date>)]
    pub moved_on: Option<chrono::NaiveDate>,
    #[diesel(sql_type = Nullable<Text>)]
    pub moved_on_precision: Option<String>,
    /// The trees the stint left: its organization and every one above it
    /// that the joined stint is outside of.
    #[diesel(sql_type = Array<BigInt>)]
    pub left_trees: Vec<i64>,
}

/// The moves a transaction made: those that join a stint it created, or
/// leave one it ended.
pub async fn moves_made(
    conn: &mut AsyncPgConnection,
    created: &[i64],
    ended: &[i64],
) -> QueryResult<Vec<MoveRow>> {
    diesel::sql_query(
        "SELECT person_id, left_employment_id, joined_employment_id, joined_organization_id,
            moved_on, moved_on_precision, array_agg(tree_id ORDER BY tree_id) AS left_trees
        FROM career_moves
        WHERE joined_employment_id = ANY($1) OR left_employment_id = ANY($2)
        GROUP BY person_id, left_employment_id, joined_employment_id, joined_organization_id,
            moved_on, moved_on_precision
        ORDER BY person_id, left_employment_id, joined_employment_id",
    )
    .bind::<Array<BigInt>, _>(created)
    .bind::<Array<BigInt>, _>(ended)
    .load(conn)
    .await
}
