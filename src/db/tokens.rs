//! `api_tokens`: who may write. See `crate::auth` for secrets and roles.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::api_tokens;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_tokens, check_for_backend(diesel::pg::Pg))]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    name: &str,
    role: &str,
    token_hash: &[u8],
) -> QueryResult<TokenRow> {
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::name.eq(name),
            api_tokens::role.eq(role),
            api_tokens::token_hash.eq(token_hash),
        ))
        .returning(TokenRow::as_returning())
        .get_result(conn)
        .await
}

/// The token with this hash, unless it was revoked.
pub async fn active_by_hash(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8],
) -> QueryResult<Option<TokenRow>> {
    api_tokens::table
        .filter(api_tokens::token_hash.eq(token_hash))
        .filter(api_tokens::revoked_at.is_null())
        .select(TokenRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Revokes a token; revoking twice keeps the first time. `None`: no such token.
pub async fn revoke(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<TokenRow>> {
    diesel::update(api_tokens::table.find(id))
        .set(api_tokens::revoked_at.eq(diesel::dsl::sql::<
            diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
        >("coalesce(revoked_at, now())")))
        .returning(TokenRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

pub async fn all(conn: &mut AsyncPgConnection) -> QueryResult<Vec<TokenRow>> {
    api_tokens::table
        .select(TokenRow::as_select())
        .order(api_tokens::id)
        .load(conn)
        .await
}

/// A token's name, revoked or not (audit entries name their token).
pub async fn name_of(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<String>> {
    api_tokens::table
        .filter(api_tokens::id.eq(id))
        .select(api_tokens::name)
        .first(conn)
        .await
        .optional()
}

/// Stores a token under `token_hash` unless one with that hash exists
/// (valid or revoked: a revoked bootstrap token stays revoked). Returns the
/// new token, or `None` when there was one already.
pub async fn insert_if_missing(
    conn: &mut AsyncPgConnection,
    name: &str,
    role: &str,
    token_hash: &[u8],
) -> QueryResult<Option<TokenRow>> {
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::name.eq(name),
            api_tokens::role.eq(role),
            api_tokens::token_hash.eq(token_hash),
        ))
        .on_conflict(api_tokens::token_hash)
        .do_nothing()
        .returning(TokenRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}
