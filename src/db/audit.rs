//! `audit_log`: the trail of every change, written by triggers
//! (`migrations/*_writes`) and read back here for admins.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{api_tokens, audit_log};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log, check_for_backend(diesel::pg::Pg))]
pub struct AuditRow {
    pub id: i64,
    pub changed_at: DateTime<Utc>,
    pub token_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: i64,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// Which entries to list: all, one kind of entity, or one entity (whose
/// citations are filed under its own id with the `_source` kinds).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity_types: Option<Vec<String>>,
    pub entity_id: Option<i64>,
}

/// Newest first, before the keyset `before_id`, with the token's name.
pub async fn page(
    conn: &mut AsyncPgConnection,
    filter: &AuditFilter,
    before_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<(AuditRow, Option<String>)>> {
    let mut query = audit_log::table
        .left_join(api_tokens::table)
        .select((AuditRow::as_select(), api_tokens::name.nullable()))
        .into_boxed();
    if let Some(types) = &filter.entity_types {
        query = query.filter(audit_log::entity_type.eq_any(types.clone()));
    }
    if let Some(id) = filter.entity_id {
        query = query.filter(audit_log::entity_id.eq(id));
    }
    if let Some(before) = before_id {
        query = query.filter(audit_log::id.lt(before));
    }
    query
        .order(audit_log::id.desc())
        .limit(limit)
        .load(conn)
        .await
}

/// A page of entries between ids (`older_than` and `newer_than`, both
/// excluded), newest first, or from the oldest end when `backward` (the rows
/// then come back oldest first).
pub async fn range(
    conn: &mut AsyncPgConnection,
    filter: &AuditFilter,
    older_than: Option<i64>,
    newer_than: Option<i64>,
    limit: i64,
    backward: bool,
) -> QueryResult<Vec<(AuditRow, Option<String>)>> {
    let mut query = audit_log::table
        .left_join(api_tokens::table)
        .select((AuditRow::as_select(), api_tokens::name.nullable()))
        .into_boxed();
    if let Some(types) = &filter.entity_types {
        query = query.filter(audit_log::entity_type.eq_any(types.clone()));
    }
    if let Some(id) = filter.entity_id {
        query = query.filter(audit_log::entity_id.eq(id));
    }
    if let Some(id) = older_than {
        query = query.filter(audit_log::id.lt(id));
    }
    if let Some(id) = newer_than {
        query = query.filter(audit_log::id.gt(id));
    }
    query = if backward {
        query.order(audit_log::id.asc())
    } else {
        query.order(audit_log::id.desc())
    };
    query.limit(limit).load(conn).await
}

pub async fn count(conn: &mut AsyncPgConnection, filter: &AuditFilter) -> QueryResult<i64> {
    let mut query = audit_log::table.count().into_boxed();
    if let Some(types) = &filter.entity_types {
        query = query.filter(audit_log::entity_type.eq_any(types.clone()));
    }
    if let Some(id) = filter.entity_id {
        query = query.filter(audit_log::entity_id.eq(id));
    }
    query.get_result(conn).await
}
