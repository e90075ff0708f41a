//! The one connection per process that LISTENs, and what it does with a
//! notification: read the audit log from where it stopped, in feed order,
//! turn each committed transaction into events and broadcast them.
//!
//! A notification only wakes the listener; the log is the truth. So a
//! notification lost with its connection (a PostgreSQL restart) loses
//! nothing: on reconnect the listener reads on from its position, and since
//! the feed only ever grows behind the horizon (`db::changes`), nothing is
//! delivered twice either.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};

use super::{Control, Entry, Event, Live, LoadedMove, MoveEvent};
use crate::config::DatabaseUrl;
use crate::db::changes::{self, FeedPosition, FeedRow};
use crate::db::{self, connect::connect_listening};

/// The channel the audit trigger notifies on (`migrations/*_live_changes`).
pub const AUDIT_CHANNEL: &str = "talentgraph_audit";
/// The channel a revoked token is announced on.
pub const TOKENS_CHANNEL: &str = "talentgraph_tokens";

/// Entries read per statement while catching up.
const PAGE: i64 = 500;
/// While a notified entry is still behind the horizon (an older transaction
/// is open), look again this often.
const BEHIND_POLL: Duration = Duration::from_millis(50);
/// Even with no notification, look this often: a notification can be lost
/// without the connection being (it never is in PostgreSQL, but this costs
/// one indexed statement).
const IDLE_POLL: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const RECONNECT_DELAY: Duration = Duration::from_millis(500);
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(5);

/// Runs the listener for as long as the process lives.
pub fn spawn(live: Arc<Live>, url: DatabaseUrl, readiness: crate::server::Readiness) {
    tokio::spawn(async move {
        // The audit log and its trigger come with the migrations.
        while !readiness.is_ready() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut position: Option<FeedPosition> = None;
        let mut delay = RECONNECT_DELAY;
        loop {
            let opened = tokio::time::timeout(CONNECT_TIMEOUT, connect_listening(&url)).await;
            let (mut conn, mut notes) = match opened {
                Ok(Ok(opened)) => opened,
                Ok(Err(error)) => {
                    tracing::warn!(%error, "live: cannot open the LISTEN connection; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(MAX_RECONNECT_DELAY);
                    continue;
                }
                Err(_) => {
                    tracing::warn!("live: opening the LISTEN connection timed out; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(MAX_RECONNECT_DELAY);
                    continue;
                }
            };
            delay = RECONNECT_DELAY;
            match listen(&live, &mut conn, &mut notes, &mut position).await {
                Ok(()) => tracing::warn!("live: the LISTEN connection closed; reconnecting"),
                Err(error) => {
                    tracing::warn!(%error, "live: the LISTEN connection failed; reconnecting")
                }
            }
            live.metrics.listener_reconnects.inc();
            tokio::time::sleep(RECONNECT_DELAY).await;
        }
    });
}

async fn listen(
    live: &Live,
    conn: &mut AsyncPgConnection,
    notes: &mut tokio::sync::mpsc::UnboundedReceiver<tokio_postgres::Notification>,
    position: &mut Option<FeedPosition>,
) -> anyhow::Result<()> {
    // LISTEN first: whatever commits from here on wakes us, and whatever
    // committed before is read from the log below.
    conn.batch_execute(&format!("LISTEN {AUDIT_CHANNEL}; LISTEN {TOKENS_CHANNEL}"))
        .await?;
    match position {
        // Subscribers hear what happens after they subscribe: a process
        // starts at the end of the log.
        None => {
            let end = changes::end(conn).await?;
            live.metrics.listener_position.set(end.id);
            *position = Some(end);
        }
        // Revocations announced while we were away were not heard.
        Some(_) => live.announce(Control::Recheck),
    }
    tracing::info!(position = ?position, "live: listening for changes");
    let mut newest_notified: i64 = 0;
    let mut newest_read: i64 = 0;
    loop {
        let read = catch_up(live, conn, position).await?;
        newest_read = newest_read.max(read);
        let wait = if newest_notified > newest_read {
            BEHIND_POLL
        } else {
            IDLE_POLL
        };
        tokio::select! {
            note = notes.recv() => {
                let Some(note) = note else { return Ok(()) };
                let mut pending = vec![note];
                while let Ok(note) = notes.try_recv() {
                    pending.push(note);
                }
                for note in pending {
                    match note.channel() {
                        TOKENS_CHANNEL => {
                            if let Ok(id) = note.payload().parse() {
                                live.announce(Control::Revoked(id));
                            }
                        }
                        _ => {
                            if let Ok(id) = note.payload().parse::<i64>() {
                                newest_notified = newest_notified.max(id);
                            }
                        }
                    }
                }
            }
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// Reads and broadcasts every final entry after `position`, a whole
/// transaction at a time; returns the largest entry id read.
async fn catch_up(
    live: &Live,
    conn: &mut AsyncPgConnection,
    position: &mut Option<FeedPosition>,
) -> anyhow::Result<i64> {
    let mut newest = 0;
    let mut read_at = *position;
    // Rows of the transaction the last page ended in: it may go on in the
    // next page, and its moves are known only once all of it is read.
    let mut pending: Vec<FeedRow> = Vec::new();
    loop {
        let rows = changes::page(conn, read_at, PAGE).await?;
        let full = rows.len() as i64 == PAGE;
        if let Some(last) = rows.last() {
            read_at = last.position();
            newest = newest.max(rows.iter().map(|r| r.id).max().unwrap_or(0));
        }
        pending.extend(rows);
        // Everything but the last transaction of a full page is complete.
        let complete = if full {
            let last_tx = pending.last().map(|r| r.tx.clone());
            let split = pending
                .iter()
                .rposition(|r| Some(&r.tx) != last_tx.as_ref())
                .map_or(0, |i| i + 1);
            pending.drain(..split).collect::<Vec<_>>()
        } else {
            std::mem::take(&mut pending)
        };
        if !complete.is_empty() {
            publish(live, conn, complete, position).await?;
        }
        if !full {
            return Ok(newest);
        }
    }
}

fn json(text: Option<&str>) -> Option<serde_json::Value> {
    text.and_then(|t| serde_json::from_str(t).ok())
}

fn organization_of(
    entry: &FeedRow,
    before: &Option<serde_json::Value>,
    after: &Option<serde_json::Value>,
) -> Option<i64> {
    if entry.entity_type != "employment" {
        return None;
    }
    after
        .as_ref()
        .or(before.as_ref())
        .and_then(|row| row.get("organization_id"))
        .and_then(serde_json::Value::as_i64)
}

fn flag(row: &Option<serde_json::Value>, name: &str) -> Option<bool> {
    row.as_ref()?.get(name)?.as_bool()
}

/// Broadcasts whole transactions, each entry then the moves it made, and
/// moves `position` past each transaction once it is out.
async fn publish(
    live: &Live,
    conn: &mut AsyncPgConnection,
    rows: Vec<FeedRow>,
    position: &mut Option<FeedPosition>,
) -> anyhow::Result<()> {
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(at) = row.position() else {
            anyhow::bail!(
                "audit entry {} has a transaction id that is not a number",
                row.id
            );
        };
        let before = json(row.before.as_deref());
        let after = json(row.after.as_deref());
        let organization = organization_of(&row, &before, &after);
        entries.push((at, row, before, after, organization));
    }
    // One statement for the chains of every stint's organization.
    let org_ids: Vec<i64> = entries
        .iter()
        .filter_map(|e| e.4)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut chains: HashMap<i64, Vec<i64>> = if org_ids.is_empty() {
        HashMap::new()
    } else {
        changes::chains(conn, &org_ids)
            .await?
            .into_iter()
            .map(|c| (c.org_id, c.chain))
            .collect()
    };
    // And their people and organizations, one statement each.
    let person_ids: Vec<i64> = entries
        .iter()
        .filter(|e| e.4.is_some())
        .filter_map(|e| {
            e.3.as_ref()
                .or(e.2.as_ref())
                .and_then(|row| row.get("person_id"))
                .and_then(serde_json::Value::as_i64)
        })
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let people: HashMap<i64, _> = if person_ids.is_empty() {
        HashMap::new()
    } else {
        db::people::by_ids(conn, &person_ids)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect()
    };
    let organizations: HashMap<i64, _> = if org_ids.is_empty() {
        HashMap::new()
    } else {
        db::organizations::by_ids(conn, &org_ids)
            .await?
            .into_iter()
            .map(|o| (o.id, o))
            .collect()
    };
    let mut start = 0;
    while start < entries.len() {
        let tx = entries[start].0.tx;
        let end = entries[start..]
            .iter()
            .position(|e| e.0.tx != tx)
            .map_or(entries.len(), |n| start + n);
        let transaction = &entries[start..end];
        // The moves this transaction made: those joining a stint it created
        // or leaving one it ended (by the talent-flow rule's own table).
        let mut created = Vec::new();
        let mut ended = Vec::new();
        for (_, row, before, after, _) in transaction {
            if row.entity_type != "employment" {
                continue;
            }
            match row.action.as_str() {
                "CREATE" => created.push(row.entity_id),
                "UPDATE"
                    if flag(before, "is_current") == Some(true)
                        && flag(after, "is_current") == Some(false) =>
                {
                    ended.push(row.entity_id);
                }
                _ => {}
            }
        }
        let moves = if created.is_empty() && ended.is_empty() {
            Vec::new()
        } else {
            moves_of(conn, &created, &ended, &mut chains).await?
        };
        let last = transaction[transaction.len() - 1].0;
        for (at, row, before, after, organization) in transaction {
            let organization_chain = organization
                .and_then(|id| chains.get(&id).cloned())
                .unwrap_or_default();
            let person = after
                .as_ref()
                .or(before.as_ref())
                .and_then(|row| row.get("person_id"))
                .and_then(serde_json::Value::as_i64)
                .filter(|_| organization.is_some())
                .and_then(|id| people.get(&id).cloned());
            live.publish(Event::Entry(Arc::new(Entry {
                stint_person: person,
                stint_organization: organization.and_then(|id| organizations.get(&id).cloned()),
                position: *at,
                changed_at: row.changed_at.clone(),
                token_id: row.token_id,
                actor: row.actor.clone(),
                action: row.action.clone(),
                entity_type: row.entity_type.clone(),
                entity_id: row.entity_id,
                before: before.clone(),
                after: after.clone(),
                organization_chain,
            })));
        }
        for mut event in moves {
            event.position = last;
            live.publish(Event::Move(Arc::new(event)));
        }
        *position = Some(last);
        live.metrics
            .listener_position
            .set(live.metrics.listener_position.get().max(last.id));
        start = end;
    }
    Ok(())
}

/// The moves, with every row a subscriber shows read once for all of them.
async fn moves_of(
    conn: &mut AsyncPgConnection,
    created: &[i64],
    ended: &[i64],
    chains: &mut HashMap<i64, Vec<i64>>,
) -> anyhow::Result<Vec<MoveEvent>> {
    let rows = changes::moves_made(conn, created, ended).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let missing: Vec<i64> = rows
        .iter()
        .map(|m| m.joined_organization_id)
        .filter(|id| !chains.contains_key(id))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if !missing.is_empty() {
        for chain in changes::chains(conn, &missing).await? {
            chains.insert(chain.org_id, chain.chain);
        }
    }
    let stint_ids: Vec<i64> = rows
        .iter()
        .flat_map(|m| [m.left_employment_id, m.joined_employment_id])
        .collect();
    let stints: HashMap<i64, _> = db::employments::by_ids(conn, &stint_ids)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let person_ids: Vec<i64> = rows.iter().map(|m| m.person_id).collect();
    let people: HashMap<i64, _> = db::people::by_ids(conn, &person_ids)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let org_ids: Vec<i64> = stints.values().map(|s| s.organization_id).collect();
    let organizations: HashMap<i64, _> = db::organizations::by_ids(conn, &org_ids)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    Ok(rows
        .into_iter()
        .map(|row| {
            let loaded = (|| {
                let left = stints.get(&row.left_employment_id)?.clone();
                let joined = stints.get(&row.joined_employment_id)?.clone();
                Some(LoadedMove {
                    person: people.get(&row.person_id)?.clone(),
                    left_organization: organizations.get(&left.organization_id)?.clone(),
                    joined_organization: organizations.get(&joined.organization_id)?.clone(),
                    left,
                    joined,
                })
            })();
            MoveEvent {
                position: FeedPosition::default(),
                joined_chain: chains
                    .get(&row.joined_organization_id)
                    .cloned()
                    .unwrap_or_else(|| vec![row.joined_organization_id]),
                row,
                loaded,
            }
        })
        .collect())
}
