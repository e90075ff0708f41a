//! Live reads: the `Subscription` root (`employmentChanged`, `personMoved`,
//! `auditEvents`), the `Move` type they and talent flows share, and the
//! public `changes` feed. Every event carries the feed cursor of the entry
//! that produced it, so a client that lost its socket reads
//! `changes(after: lastCursor)` and subscribes again without a gap.

use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::types::Json;
use async_graphql::{Context, Enum, ID, Object, Subscription};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::{Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;

use super::auth::require;
use super::context::ContextExt;
use super::employment::Employment;
use super::error::{ApiError, ApiResult};
use super::ids;
use super::loaders::{EmploymentId, PersonId};
use super::mutation::{AuditAction, AuditEntityType, AuditEntry};
use super::organization::Organization;
use super::pagination::page_size;
use super::person::{Certainty, Person};
use super::refs::{self, OrganizationRef, PersonRef};
use super::scalars::{DateTimeScalar, PartialDateScalar};
use crate::auth::Role;
use crate::db;
use crate::db::changes::FeedPosition;
use crate::domain::PartialDate;
use crate::live::{Entry, Event, Live, MoveEvent};

/// A feed cursor as clients hold it: opaque, the same in `changes` and in
/// every subscription event.
pub fn encode_cursor(position: FeedPosition) -> String {
    URL_SAFE_NO_PAD.encode(format!("change:{position}"))
}

fn decode_cursor(cursor: &str) -> ApiResult<FeedPosition> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix("change:").and_then(FeedPosition::parse))
        .ok_or_else(|| ApiError::InvalidField {
            field: "after".to_owned(),
            message: "is not a cursor of the change feed".to_owned(),
        })
}

/// Tells the socket a subscription runs on that it fell behind: request
/// data on WebSocket operations only.
#[derive(Clone)]
pub struct SlowConsumer(pub tokio::sync::mpsc::UnboundedSender<u64>);

/// Set by the socket on each operation: told once the operation listens, so
/// that the socket reads the client's next message only then. A client
/// that gets a `pong` for a `ping` sent after `subscribe` knows the
/// subscription misses nothing from then on.
pub struct Armed(pub std::sync::Mutex<Option<tokio::sync::oneshot::Sender<()>>>);

/// The events of this process, each after the subscription's loader forgot
/// what it read for the last one (its cache would answer from before the
/// change). A subscription that falls more than the queue behind tells its
/// socket, which closes, and ends.
fn events<'a>(ctx: &Context<'a>) -> ApiResult<impl Stream<Item = Event> + 'a> {
    let live = ctx
        .data::<Arc<Live>>()
        .map_err(|_| ApiError::BadUserInput("subscriptions run over WebSocket only".into()))?;
    let loader = ctx
        .data::<super::loaders::DbLoader>()
        .map_err(|e| ApiError::internal(e.message))?;
    let slow = ctx.data_opt::<SlowConsumer>().cloned();
    let receiver = live.subscribe();
    if let Some(armed) = ctx.data_opt::<Armed>()
        && let Some(sender) = armed.0.lock().ok().and_then(|mut s| s.take())
    {
        let _ = sender.send(());
    }
    Ok(futures_util::stream::unfold(
        receiver,
        move |mut receiver| {
            let slow = slow.clone();
            async move {
                match receiver.recv().await {
                    Ok(event) => {
                        loader.loader().forget_reads();
                        Some((event, receiver))
                    }
                    Err(RecvError::Lagged(behind)) => {
                        if let Some(slow) = slow {
                            let _ = slow.0.send(behind);
                        }
                        None
                    }
                    Err(RecvError::Closed) => None,
                }
            }
        },
    ))
}

/// How a stint changed.
#[derive(Debug, Enum, Copy, Clone, Eq, PartialEq)]
pub enum EmploymentChangeKind {
    /// The stint was recorded.
    Added,
    /// Something about it changed (title, dates, citations are separate entries).
    Changed,
    /// It was current and now is not: the person left.
    Ended,
    /// It was deleted.
    Removed,
}

/// A stint added, changed, ended or removed.
pub struct EmploymentChange {
    entry: Arc<Entry>,
    employment: Employment,
}

/// A stint added, changed, ended or removed, as the change left it.
#[Object]
impl EmploymentChange {
    /// The change feed's cursor for this change: `changes(after:)` resumes after it.
    async fn cursor(&self) -> String {
        encode_cursor(self.entry.position)
    }

    /// What happened to the stint.
    async fn kind(&self) -> EmploymentChangeKind {
        change_kind(&self.entry)
    }

    /// The stint as the change left it (as it was, when it was removed).
    async fn employment(&self) -> &Employment {
        &self.employment
    }

    /// The change as the public feed lists it.
    async fn change(&self) -> Change {
        Change(Arc::clone(&self.entry))
    }
}

fn change_kind(entry: &Entry) -> EmploymentChangeKind {
    let current = |row: &Option<serde_json::Value>| {
        row.as_ref()
            .and_then(|r| r.get("is_current"))
            .and_then(serde_json::Value::as_bool)
    };
    match entry.action.as_str() {
        "CREATE" => EmploymentChangeKind::Added,
        "DELETE" => EmploymentChangeKind::Removed,
        _ if current(&entry.before) == Some(true) && current(&entry.after) == Some(false) => {
            EmploymentChangeKind::Ended
        }
        _ => EmploymentChangeKind::Changed,
    }
}

/// A stint as an audit entry recorded it.
fn stint_of(row: &serde_json::Value) -> Option<Employment> {
    let text = |name: &str| row.get(name).and_then(serde_json::Value::as_str);
    let date =
        |name: &str| text(name).and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let int = |name: &str| row.get(name).and_then(serde_json::Value::as_i64);
    let read = db::employments::EmploymentRead {
        id: int("id")?,
        person_id: int("person_id")?,
        organization_id: int("organization_id")?,
        title: text("title").map(str::to_owned),
        started_on: date("started_on"),
        started_on_precision: text("started_on_precision").map(str::to_owned),
        ended_on: date("ended_on"),
        ended_on_precision: text("ended_on_precision").map(str::to_owned),
        is_current: row.get("is_current")?.as_bool()?,
        career_position: int("career_position").and_then(|n| i32::try_from(n).ok()),
        // Read by id when asked.
        is_founder: None,
        reported_years: None,
        is_leader: None,
        version: None,
    };
    Employment::try_from(read).ok()
}

/// One entry of the public change feed: what changed and how, without who
/// made it (tokens are private).
pub struct Change(Arc<Entry>);

impl Change {
    fn kind(&self) -> ApiResult<AuditEntityType> {
        AuditEntityType::ALL
            .into_iter()
            .find(|t| t.as_db() == self.0.entity_type)
            .ok_or_else(|| ApiError::internal(format!("audit entity {:?}", self.0.entity_type)))
    }
}

/// A feed entry's time: the feed carries it as PostgreSQL wrote it, in RFC 3339.
fn feed_time(changed_at: &str) -> ApiResult<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(changed_at)
        .map(|time| time.with_timezone(&chrono::Utc))
        .map_err(|e| ApiError::internal(format!("audit time {changed_at:?}: {e}")))
}

/// One change to the data, as the public feed lists it.
#[Object]
impl Change {
    /// Where this change is in the feed: `changes(after:)` resumes after it.
    async fn cursor(&self) -> String {
        encode_cursor(self.0.position)
    }

    /// RFC 3339 timestamp of the transaction that made the change.
    #[graphql(deprecation = "Use `changedTimestamp`, typed `DateTime`.")]
    async fn changed_at(&self) -> &str {
        &self.0.changed_at
    }

    /// When the transaction that made the change started (its timestamp).
    async fn changed_timestamp(&self) -> ApiResult<DateTimeScalar> {
        feed_time(&self.0.changed_at).map(DateTimeScalar)
    }

    /// Whether the row was created, updated or deleted.
    async fn action(&self) -> ApiResult<AuditAction> {
        match self.0.action.as_str() {
            "CREATE" => Ok(AuditAction::Create),
            "UPDATE" => Ok(AuditAction::Update),
            "DELETE" => Ok(AuditAction::Delete),
            other => Err(ApiError::internal(format!("audit action {other:?}"))),
        }
    }

    /// What kind of row changed.
    async fn entity_type(&self) -> ApiResult<AuditEntityType> {
        self.kind()
    }

    /// The global id of the entity (for a citation, of the fact citing it).
    async fn entity_id(&self) -> ApiResult<ID> {
        Ok(ids::encode(self.kind()?.node_kind(), self.0.entity_id))
    }

    /// The row before the change; null for a creation.
    async fn before(&self) -> Option<Json<serde_json::Value>> {
        self.0.before.clone().map(Json)
    }

    /// The row after the change; null for a deletion.
    async fn after(&self) -> Option<Json<serde_json::Value>> {
        self.0.after.clone().map(Json)
    }
}

/// A page of the change feed, oldest first.
pub type ChangeConnection = Connection<String, Change>;

fn entry_of(row: db::changes::FeedRow) -> ApiResult<Entry> {
    let position = row
        .position()
        .ok_or_else(|| ApiError::internal(format!("audit entry {} has a bad tx", row.id)))?;
    let json = |t: Option<String>| t.and_then(|t| serde_json::from_str(&t).ok());
    Ok(Entry {
        position,
        changed_at: row.changed_at,
        token_id: row.token_id,
        actor: row.actor,
        action: row.action,
        entity_type: row.entity_type,
        entity_id: row.entity_id,
        before: json(row.before),
        after: json(row.after),
        organization_chain: Vec::new(),
        stint_person: None,
        stint_organization: None,
    })
}

#[derive(Default)]
pub struct ChangesQuery;

#[Object]
impl ChangesQuery {
    /// Every change to the data, oldest first, for clients that sync: read
    /// on from the last cursor you hold (a subscription event's cursor works
    /// too). A change appears once its transaction, and every transaction
    /// before it, has committed, so nothing ever appears behind a cursor.
    async fn changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "A cursor from the feed or from a subscription event: the page starts after it; from the first change when omitted."
        )]
        after: Option<String>,
        #[graphql(desc = "Page size: 20 when omitted, at most 100.")] first: Option<i32>,
    ) -> ApiResult<ChangeConnection> {
        let limit = page_size(first)?;
        let after = after.as_deref().map(decode_cursor).transpose()?;
        let mut conn = ctx.pool()?.get().await?;
        let mut rows = db::changes::page(&mut conn, after, limit + 1).await?;
        let has_next = rows.len() as i64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        let mut connection = Connection::new(after.is_some(), has_next);
        for row in rows {
            let entry = entry_of(row)?;
            connection.edges.push(Edge::new(
                encode_cursor(entry.position),
                Change(Arc::new(entry)),
            ));
        }
        Ok(connection)
    }
}

/// One move by the talent-flow rule: a person's stint ended, and the first
/// of their later stints outside the organization it was in followed it.
#[derive(Clone)]
pub struct Move {
    pub cursor: Option<FeedPosition>,
    pub person_id: i64,
    pub left_id: i64,
    pub joined_id: i64,
    pub moved_on: Option<PartialDate>,
    pub preloaded: Option<Arc<MoveEvent>>,
}

impl Move {
    fn from_event(event: &Arc<MoveEvent>) -> ApiResult<Self> {
        Ok(Move {
            cursor: Some(event.position),
            person_id: event.row.person_id,
            left_id: event.row.left_employment_id,
            joined_id: event.row.joined_employment_id,
            moved_on: PartialDate::from_columns(
                event.row.moved_on,
                event.row.moved_on_precision.as_deref(),
            )?,
            preloaded: Some(Arc::clone(event)),
        })
    }

    async fn stint(&self, ctx: &Context<'_>, left: bool) -> ApiResult<Employment> {
        if let Some(loaded) = self.preloaded.as_ref().and_then(|e| e.loaded.as_ref()) {
            let (row, organization) = if left {
                (&loaded.left, &loaded.left_organization)
            } else {
                (&loaded.joined, &loaded.joined_organization)
            };
            let mut stint = Employment::try_from(row.clone())?;
            stint.preloaded_person = Some(Person::from(loaded.person.clone()));
            stint.preloaded_organization = Some(Organization::try_from(organization.clone())?);
            return Ok(stint);
        }
        let id = if left { self.left_id } else { self.joined_id };
        ctx.loader()?
            .load_one(EmploymentId(id))
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("the stint of this move is gone ({id})")))?
            .try_into()
    }
}

/// A move: a person's stint ended, and the first of their later stints
/// outside the organization (and its tree) followed it (docs/analytics.md).
#[Object]
impl Move {
    /// The change feed's cursor of the transaction that made the move, on
    /// subscription events; null where the move is listed, not delivered.
    async fn cursor(&self) -> Option<String> {
        self.cursor.map(encode_cursor)
    }

    /// Who moved.
    async fn person(&self, ctx: &Context<'_>) -> ApiResult<Person> {
        if let Some(loaded) = self.preloaded.as_ref().and_then(|e| e.loaded.as_ref()) {
            return Ok(Person::from(loaded.person.clone()));
        }
        let row = ctx.loader()?.load_one(PersonId(self.person_id)).await?;
        row.map(Person::from).ok_or_else(|| {
            ApiError::NotFound(format!(
                "the person of this move is gone ({})",
                self.person_id
            ))
        })
    }

    /// The stint the person left, with its sources.
    async fn left(&self, ctx: &Context<'_>) -> ApiResult<Employment> {
        self.stint(ctx, true).await
    }

    /// The stint the person joined next, with its sources.
    async fn joined(&self, ctx: &Context<'_>) -> ApiResult<Employment> {
        self.stint(ctx, false).await
    }

    /// When: the end of the stint left, else the start of the one joined, at
    /// the precision known; null when neither is dated.
    async fn moved_on(&self) -> Option<PartialDateScalar> {
        self.moved_on.map(PartialDateScalar::from)
    }

    /// How sure `movedOn` is: CERTAINLY when the stint left has an end date,
    /// POSSIBLY when only the joined stint's start dates the move (the person
    /// may have left earlier); null when `movedOn` is.
    async fn moved_on_certainty(&self, ctx: &Context<'_>) -> ApiResult<Option<Certainty>> {
        if self.moved_on.is_none() {
            return Ok(None);
        }
        let left = self.stint(ctx, true).await?;
        Ok(Some(if left.ended_on.is_some() {
            Certainty::Certainly
        } else {
            Certainty::Possibly
        }))
    }
}

/// How many moves a flow lists, across all pages.
#[derive(async_graphql::SimpleObject)]
pub struct MoveCount {
    /// The number of moves in the whole list, across all pages.
    pub total_count: i64,
}

/// A page of the moves behind a talent flow.
pub type MoveConnection = Connection<String, Move, MoveCount>;

fn encode_move_cursor(moved_on: Option<chrono::NaiveDate>, left_id: i64) -> String {
    let day = moved_on.map_or_else(|| "infinity".to_owned(), |d| d.to_string());
    URL_SAFE_NO_PAD.encode(format!("move:{day}:{left_id}"))
}

fn decode_move_cursor(cursor: &str) -> ApiResult<(String, i64)> {
    let invalid = || ApiError::InvalidField {
        field: "after".to_owned(),
        message: "is not a cursor of this list of moves".to_owned(),
    };
    let text = URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(invalid)?;
    let rest = text.strip_prefix("move:").ok_or_else(invalid)?;
    let (day, id) = rest.rsplit_once(':').ok_or_else(invalid)?;
    // PostgreSQL's `infinity` sorts undated moves last.
    if day != "infinity" && chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").is_err() {
        return Err(invalid());
    }
    Ok((day.to_owned(), id.parse().map_err(|_| invalid())?))
}

/// `TalentFlow.moves`: one statement for every flow of the level.
pub async fn flow_moves(
    ctx: &Context<'_>,
    flow: &super::talent_flow::TalentFlow,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<MoveConnection> {
    let limit = page_size(first)?;
    let after_key = after.as_deref().map(decode_move_cursor).transpose()?;
    let key = super::loaders::FlowMovesKey {
        from_id: flow.from_id,
        to_id: flow.to_id,
        cohort: flow.cohort.clone(),
        ends: flow.ends,
        after: after_key,
        limit: limit + 1,
    };
    let mut rows = ctx.loader()?.load_one(key).await?.unwrap_or_default();
    let total = rows.first().map_or(0, |r| r.total);
    let has_next = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let mut connection = Connection::with_additional_fields(
        after.is_some(),
        has_next,
        MoveCount { total_count: total },
    );
    for row in rows {
        let node = Move {
            cursor: None,
            person_id: row.person_id,
            left_id: row.left_employment_id,
            joined_id: row.joined_employment_id,
            moved_on: PartialDate::from_columns(row.moved_on, row.moved_on_precision.as_deref())?,
            preloaded: None,
        };
        connection.edges.push(Edge::new(
            encode_move_cursor(row.moved_on, row.left_employment_id),
            node,
        ));
    }
    Ok(connection)
}

/// A change to the audit log, for admins.
pub struct AuditEvent {
    entry: Arc<Entry>,
    token_name: Option<String>,
}

/// One new entry of the audit log.
#[Object]
impl AuditEvent {
    /// The change feed's cursor of the entry.
    async fn cursor(&self) -> String {
        encode_cursor(self.entry.position)
    }

    /// The entry, with who made it.
    async fn entry(&self) -> ApiResult<AuditEntry> {
        let changed_at = feed_time(&self.entry.changed_at)?;
        Ok(AuditEntry {
            row: db::audit::AuditRow {
                id: self.entry.position.id,
                changed_at,
                token_id: self.entry.token_id,
                actor: self.entry.actor.clone(),
                action: self.entry.action.clone(),
                entity_type: self.entry.entity_type.clone(),
                entity_id: self.entry.entity_id,
                before: self.entry.before.clone(),
                after: self.entry.after.clone(),
            },
            token_name: self.token_name.clone(),
        })
    }
}

#[derive(Default)]
pub struct Subscription;

/// Events as they are committed, over WebSocket (`graphql-transport-ws`) at
/// `/graphql`. Each carries the feed cursor that `Query.changes` resumes from.
#[Subscription]
impl Subscription {
    /// A stint added, changed, ended or removed at the organization (or, by
    /// default, in any of its units). Public.
    async fn employment_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization whose stints to watch.")] organization: OrganizationRef,
        #[graphql(
            default = true,
            desc = "Also its units, and theirs (the default); false: the organization alone."
        )]
        include_units: bool,
    ) -> async_graphql::Result<impl Stream<Item = EmploymentChange>> {
        let root = refs::id(ctx, "organization", &organization).await?;
        Ok(events(ctx)?.filter_map(move |event| async move {
            let Event::Entry(entry) = event else {
                return None;
            };
            if entry.entity_type != "employment" {
                return None;
            }
            let inside = match include_units {
                true => entry.organization_chain.contains(&root),
                false => entry.organization_chain.first() == Some(&root),
            };
            if !inside {
                return None;
            }
            let mut employment = stint_of(entry.after.as_ref().or(entry.before.as_ref())?)?;
            employment.preloaded_person = entry.stint_person.clone().map(Person::from);
            employment.preloaded_organization = entry
                .stint_organization
                .clone()
                .and_then(|o| Organization::try_from(o).ok());
            Some(EmploymentChange { entry, employment })
        }))
    }

    /// A move by the talent-flow rule, as soon as it is recorded: out of
    /// `from`'s tree (any, when omitted) into `to`'s (anywhere, when
    /// omitted), with the stints on both sides and their sources. Public.
    async fn person_moved(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only moves out of this organization or its units.")] from: Option<
            OrganizationRef,
        >,
        #[graphql(desc = "Only moves into this organization or its units.")] to: Option<
            OrganizationRef,
        >,
        #[graphql(desc = "Only this person's moves.")] person: Option<PersonRef>,
    ) -> async_graphql::Result<impl Stream<Item = Move>> {
        let from = match from {
            Some(from) => Some(refs::id(ctx, "from", &from).await?),
            None => None,
        };
        let to = match to {
            Some(to) => Some(refs::id(ctx, "to", &to).await?),
            None => None,
        };
        let person = match person {
            Some(person) => Some(refs::id(ctx, "person", &person).await?),
            None => None,
        };
        Ok(events(ctx)?.filter_map(move |event| async move {
            let Event::Move(event) = event else {
                return None;
            };
            let row = &event.row;
            let out_of = match from {
                Some(from) => row.left_trees.contains(&from),
                None => true,
            };
            let into = to.is_none_or(|to| event.joined_chain.contains(&to));
            let who = person.is_none_or(|p| p == row.person_id);
            if !(out_of && into && who) {
                return None;
            }
            Move::from_event(&event)
                .inspect_err(|error| tracing::error!(?error, "live: a move could not be read"))
                .ok()
        }))
    }

    /// Every new audit log entry, with who made it. Needs an admin token,
    /// sent in `connection_init`.
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = AuditEvent>> {
        require(ctx, Role::Admin).await?;
        let pool = ctx
            .data::<crate::db::DbPool>()
            .map_err(|e| ApiError::internal(e.message))?;
        Ok(events(ctx)?.filter_map(move |event| async move {
            let Event::Entry(entry) = event else {
                return None;
            };
            let token_name = match entry.token_id {
                Some(id) => match pool.get().await {
                    Ok(mut conn) => db::tokens::name_of(&mut conn, id).await.ok().flatten(),
                    Err(_) => None,
                },
                None => None,
            };
            Some(AuditEvent { entry, token_name })
        }))
    }
}
