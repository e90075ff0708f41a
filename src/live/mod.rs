//! Live: what subscribers are told, and how it reaches them.
//!
//! Events come from the database, never from the process that wrote: the
//! audit trigger NOTIFYs at commit, one dedicated connection per process
//! LISTENs ([`listener`]), reads the new audit entries in feed order
//! (`db::changes`), turns them into [`Event`]s (a change; a move, by the
//! talent-flow rule's own table) and broadcasts them to this process's
//! sockets ([`socket`]), where each subscription filters and resolves them.
//! A write by another replica, by `talentgraph import` or by psql therefore
//! reaches every subscriber of every replica, and a listener that loses its
//! connection catches up from the log where it stopped.

pub mod listener;
pub mod socket;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use prometheus::{IntCounter, IntCounterVec, IntGauge, Opts};
use tokio::sync::{broadcast, watch};

use crate::config::ConfigError;
use crate::db::changes::{FeedPosition, MoveRow};
use crate::db::employments::EmploymentRow;
use crate::db::organizations::OrganizationRow;
use crate::db::people::PersonRow;

/// One audit entry, as every subscriber of this process sees it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub position: FeedPosition,
    pub changed_at: String,
    pub token_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: i64,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    /// For a stint: its organization and every organization above it (read
    /// when the entry was delivered), so that a subscriber to a tree needs no
    /// query to know whether the stint is in it.
    pub organization_chain: Vec<i64>,
    /// For a stint: its person and organization, read once for every
    /// subscriber (a thousand subscribers would otherwise each read them).
    pub stint_person: Option<PersonRow>,
    pub stint_organization: Option<OrganizationRow>,
}

/// A move the talent-flow rule records, with what a subscriber shows of it,
/// read once for all subscribers.
#[derive(Debug, Clone)]
pub struct MoveEvent {
    /// The last entry of the transaction that made the move.
    pub position: FeedPosition,
    pub row: MoveRow,
    /// The joined stint's organization and those above it.
    pub joined_chain: Vec<i64>,
    pub loaded: Option<LoadedMove>,
}

/// The rows behind a move, read in one batch for every subscriber.
#[derive(Debug, Clone)]
pub struct LoadedMove {
    pub person: PersonRow,
    pub left: EmploymentRow,
    pub left_organization: OrganizationRow,
    pub joined: EmploymentRow,
    pub joined_organization: OrganizationRow,
}

#[derive(Debug, Clone)]
pub enum Event {
    Entry(Arc<Entry>),
    Move(Arc<MoveEvent>),
}

/// What sockets hear besides events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// This token was revoked: its sockets close.
    Revoked(i64),
    /// The listener reconnected, and revocations may have gone unheard:
    /// sockets with a token check it again.
    Recheck,
}

/// The limits of `TALENTGRAPH_WS_*` (README, "Live").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveConfig {
    /// `TALENTGRAPH_WS_MAX_SOCKETS`: open sockets per process.
    pub max_sockets: usize,
    /// `TALENTGRAPH_WS_MAX_SUBSCRIPTIONS`: operations at once per socket.
    pub max_subscriptions: usize,
    /// `TALENTGRAPH_WS_QUEUE`: events a subscription may fall behind before
    /// its socket is closed as a slow consumer.
    pub queue: usize,
    /// `TALENTGRAPH_WS_PING_SECS`: how often the server pings an idle socket.
    pub ping_interval: Duration,
    /// `TALENTGRAPH_WS_IDLE_TIMEOUT_SECS`: a socket silent this long (no
    /// pong, no message) is closed.
    pub idle_timeout: Duration,
    /// `TALENTGRAPH_WS_INIT_TIMEOUT_SECS`: time allowed for `connection_init`.
    pub init_timeout: Duration,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            max_sockets: 10_000,
            max_subscriptions: 100,
            queue: 1024,
            ping_interval: Duration::from_secs(15),
            idle_timeout: Duration::from_secs(45),
            init_timeout: Duration::from_secs(10),
        }
    }
}

impl LiveConfig {
    pub fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let defaults = LiveConfig::default();
        let number = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
            match lookup(name) {
                None => Ok(default),
                Some(value) => match value.trim().parse::<u64>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(ConfigError::Invalid {
                        name,
                        value,
                        reason: "expected a whole number of at least 1".into(),
                    }),
                },
            }
        };
        let count = |name, default: usize| {
            number(name, default as u64).map(|n| usize::try_from(n).unwrap_or(usize::MAX))
        };
        let secs =
            |name, default: Duration| number(name, default.as_secs()).map(Duration::from_secs);
        let config = LiveConfig {
            max_sockets: count("TALENTGRAPH_WS_MAX_SOCKETS", defaults.max_sockets)?,
            max_subscriptions: count(
                "TALENTGRAPH_WS_MAX_SUBSCRIPTIONS",
                defaults.max_subscriptions,
            )?,
            queue: count("TALENTGRAPH_WS_QUEUE", defaults.queue)?,
            ping_interval: secs("TALENTGRAPH_WS_PING_SECS", defaults.ping_interval)?,
            idle_timeout: secs("TALENTGRAPH_WS_IDLE_TIMEOUT_SECS", defaults.idle_timeout)?,
            init_timeout: secs("TALENTGRAPH_WS_INIT_TIMEOUT_SECS", defaults.init_timeout)?,
        };
        if config.idle_timeout <= config.ping_interval {
            return Err(ConfigError::Invalid {
                name: "TALENTGRAPH_WS_IDLE_TIMEOUT_SECS",
                value: config.idle_timeout.as_secs().to_string(),
                reason: "must be longer than TALENTGRAPH_WS_PING_SECS, or every quiet socket would be closed".into(),
            });
        }
        Ok(config)
    }
}

/// The process's hub: one per server, shared by every worker.
pub struct Live {
    pub config: LiveConfig,
    events: broadcast::Sender<Event>,
    control: broadcast::Sender<Control>,
    closing: watch::Sender<bool>,
    sockets: AtomicUsize,
    pub metrics: LiveMetrics,
}

/// Counted in `/metrics`.
#[derive(Clone)]
pub struct LiveMetrics {
    pub sockets: IntGauge,
    pub subscriptions: IntGauge,
    pub events: IntCounterVec,
    pub closed: IntCounterVec,
    pub listener_reconnects: IntCounter,
    /// The id of the last audit entry broadcast: compared with
    /// `max(audit_log.id)`, how far behind the listener is.
    pub listener_position: IntGauge,
}

impl LiveMetrics {
    fn new() -> Result<Self, prometheus::Error> {
        Ok(LiveMetrics {
            sockets: IntGauge::new("ws_sockets", "Open GraphQL WebSocket connections")?,
            subscriptions: IntGauge::new(
                "ws_subscriptions",
                "Operations running on GraphQL WebSocket connections",
            )?,
            events: IntCounterVec::new(
                Opts::new(
                    "live_events_total",
                    "Events read from the audit log and broadcast to this process's subscribers",
                ),
                &["kind"],
            )?,
            closed: IntCounterVec::new(
                Opts::new(
                    "ws_closed_total",
                    "GraphQL WebSocket connections closed by the server, by reason",
                ),
                &["reason"],
            )?,
            listener_reconnects: IntCounter::new(
                "live_listener_reconnects_total",
                "Times the LISTEN connection was opened again after losing it",
            )?,
            listener_position: IntGauge::new(
                "live_listener_position",
                "Id of the last audit entry this process broadcast (or started after)",
            )?,
        })
    }

    pub fn collectors(&self) -> Vec<Box<dyn prometheus::core::Collector>> {
        vec![
            Box::new(self.sockets.clone()),
            Box::new(self.subscriptions.clone()),
            Box::new(self.events.clone()),
            Box::new(self.closed.clone()),
            Box::new(self.listener_reconnects.clone()),
            Box::new(self.listener_position.clone()),
        ]
    }
}

/// A socket counted against `max_sockets` until dropped.
pub struct SocketSlot(Arc<Live>);

impl Drop for SocketSlot {
    fn drop(&mut self) {
        self.0.sockets.fetch_sub(1, Ordering::AcqRel);
        self.0.metrics.sockets.dec();
    }
}

impl Live {
    pub fn new(config: LiveConfig) -> Result<Arc<Self>, prometheus::Error> {
        // The broadcast ring holds `queue` events for every receiver: one
        // that falls further behind is told it lagged, and its socket closes.
        let (events, _) = broadcast::channel(config.queue);
        let (control, _) = broadcast::channel(64);
        let (closing, _) = watch::channel(false);
        Ok(Arc::new(Live {
            config,
            events,
            control,
            closing,
            sockets: AtomicUsize::new(0),
            metrics: LiveMetrics::new()?,
        }))
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    pub fn control(&self) -> broadcast::Receiver<Control> {
        self.control.subscribe()
    }

    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    pub fn publish(&self, event: Event) {
        let kind = match &event {
            Event::Entry(_) => "entry",
            Event::Move(_) => "move",
        };
        self.metrics.events.with_label_values(&[kind]).inc();
        // No receiver is not an error: nobody subscribes yet.
        let _ = self.events.send(event);
    }

    pub fn announce(&self, control: Control) {
        let _ = self.control.send(control);
    }

    /// Every socket closes (1001, going away): on SIGTERM.
    pub fn close_all(&self) {
        self.closing.send_replace(true);
    }

    /// A slot for one more socket, unless `max_sockets` are open.
    pub fn open_socket(self: &Arc<Self>) -> Option<SocketSlot> {
        let max = self.config.max_sockets;
        self.sockets
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()?;
        self.metrics.sockets.inc();
        Some(SocketSlot(Arc::clone(self)))
    }
}
