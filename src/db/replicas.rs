//! Read replicas: PostgreSQL streaming standbys that queries run on.
//!
//! Each replica is probed on a connection of its own every
//! `TALENTGRAPH_REPLICA_CHECK_INTERVAL_MS`: whether it answers, how far its
//! replay is behind (`pg_last_xact_replay_timestamp()`, counted as no lag
//! when it has replayed all it received) and how far it has replayed
//! (`pg_last_wal_replay_lsn()`). A query goes to a replica that answers and
//! lags no more than `TALENTGRAPH_MAX_REPLICA_LAG_MS`, in turn; with none, to
//! the primary. Mutations, and everything they read afterwards, run on the
//! primary.
//!
//! Read-your-writes: a mutation's answer carries the primary's WAL position
//! after its commit (`pg_current_wal_lsn()`); a query that presents it is
//! served by a replica known to have replayed that far, or, after asking one
//! replica afresh, by the primary. It never waits for a replica: the cost of
//! the guarantee is at most one small statement on a replica, and reads on
//! the primary while the replicas catch up.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use diesel::sql_types::{BigInt, Bool, Text};
use diesel_async::AsyncPgConnection;
use prometheus::{IntCounterVec, IntGaugeVec, Opts, Registry};

use super::{DbPool, StatementCounter, WorkerPools, connect};
use crate::config::{DatabaseUrl, DbTimeouts};

/// The header a mutation's answer carries and a read presents back.
pub const LSN_HEADER: &str = "talentgraph-lsn";

/// A position in PostgreSQL's write-ahead log (`pg_lsn`, written `16/B374D848`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Lsn(pub u64);

impl FromStr for Lsn {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (high, low) = s.trim().split_once('/').ok_or(())?;
        let part = |text: &str| {
            (!text.is_empty() && text.len() <= 8)
                .then(|| u32::from_str_radix(text, 16).ok())
                .flatten()
                .ok_or(())
        };
        Ok(Lsn((u64::from(part(high)?) << 32) | u64::from(part(low)?)))
    }
}

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

/// What the last probe of a replica found.
#[derive(Debug)]
struct Health {
    /// `host:port`, for logs and metrics.
    label: String,
    up: AtomicBool,
    /// -1: unknown (it received WAL it has not replayed, and never replayed a commit).
    lag_ms: AtomicI64,
    replay_lsn: AtomicU64,
}

impl Health {
    fn usable(&self, max_lag: Duration) -> bool {
        let lag = self.lag_ms.load(Ordering::Acquire);
        self.up.load(Ordering::Acquire)
            && lag >= 0
            && u128::try_from(lag).is_ok_and(|lag| lag <= max_lag.as_millis())
    }
}

/// The replicas of one process: their health, shared by every worker, and
/// a pool per worker for each.
pub struct ReplicaSet {
    health: Arc<[Health]>,
    pools: Vec<WorkerPools>,
    max_lag: Duration,
    next: AtomicUsize,
    metrics: ReplicaMetrics,
}

/// The replica pools of one HTTP worker (see [`super::WorkerPools`]).
#[derive(Clone)]
pub struct WorkerReplicas {
    set: Arc<ReplicaSet>,
    pools: Arc<[DbPool]>,
}

/// Where a query runs.
pub enum Route {
    Primary,
    Replica { index: usize, pool: DbPool },
}

#[derive(Clone)]
struct ReplicaMetrics {
    up: IntGaugeVec,
    lag_ms: IntGaugeVec,
    usable: IntGaugeVec,
    reads: IntCounterVec,
}

impl ReplicaMetrics {
    fn new(registry: &Registry) -> Result<Self, prometheus::Error> {
        let gauge = |name: &str, help: &str| IntGaugeVec::new(Opts::new(name, help), &["replica"]);
        let metrics = ReplicaMetrics {
            up: gauge(
                "db_replica_up",
                "1 if the read replica answered its last probe",
            )?,
            lag_ms: gauge(
                "db_replica_lag_ms",
                "How far the read replica's replay is behind, in ms (-1: unknown)",
            )?,
            usable: gauge(
                "db_replica_usable",
                "1 if queries may run on the read replica (up, and lag within the limit)",
            )?,
            reads: IntCounterVec::new(
                Opts::new(
                    "db_reads_total",
                    "GraphQL queries by where they ran: primary or a replica",
                ),
                &["target"],
            )?,
        };
        registry.register(Box::new(metrics.up.clone()))?;
        registry.register(Box::new(metrics.lag_ms.clone()))?;
        registry.register(Box::new(metrics.usable.clone()))?;
        registry.register(Box::new(metrics.reads.clone()))?;
        Ok(metrics)
    }
}

impl ReplicaSet {
    /// Pools for each replica (lazy: nothing connects yet) and their
    /// metrics. [`ReplicaSet::spawn_probes`] starts watching them.
    pub fn build(
        urls: &[DatabaseUrl],
        workers: usize,
        pool_size: usize,
        timeouts: DbTimeouts,
        prepared_statements: bool,
        counter: StatementCounter,
        max_lag: Duration,
        registry: &Registry,
    ) -> anyhow::Result<Arc<Self>> {
        let metrics = ReplicaMetrics::new(registry)?;
        let mut pools = Vec::with_capacity(urls.len());
        let mut health = Vec::with_capacity(urls.len());
        for url in urls {
            pools.push(WorkerPools::build_with(
                url,
                workers,
                pool_size,
                timeouts,
                prepared_statements,
                counter.clone(),
            )?);
            let label = label(url);
            metrics.up.with_label_values(&[&label]).set(0);
            metrics.lag_ms.with_label_values(&[&label]).set(-1);
            metrics.usable.with_label_values(&[&label]).set(0);
            health.push(Health {
                label,
                up: AtomicBool::new(false),
                lag_ms: AtomicI64::new(-1),
                replay_lsn: AtomicU64::new(0),
            });
        }
        Ok(Arc::new(ReplicaSet {
            health: health.into(),
            pools,
            max_lag,
            next: AtomicUsize::new(0),
            metrics,
        }))
    }

    pub fn is_empty(&self) -> bool {
        self.health.is_empty()
    }

    /// Probes each replica every `interval` on a connection of its own, on
    /// the current runtime, for as long as the set lives.
    pub fn spawn_probes(self: &Arc<Self>, urls: &[DatabaseUrl], interval: Duration) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("no runtime to probe the read replicas on: reads stay on the primary");
            return;
        };
        for (index, url) in urls.iter().enumerate() {
            let set = Arc::downgrade(self);
            let url = url.clone();
            runtime.spawn(async move {
                let mut conn: Option<AsyncPgConnection> = None;
                loop {
                    let Some(set) = set.upgrade() else { return };
                    let found = probe(&mut conn, &url, interval).await;
                    set.record(index, found);
                    drop(set);
                    tokio::time::sleep(interval).await;
                }
            });
        }
    }

    fn record(&self, index: usize, found: Result<Probe, String>) {
        let Some(health) = self.health.get(index) else {
            return;
        };
        let was_up = health.up.load(Ordering::Acquire);
        match found {
            Ok(probe) => {
                health.lag_ms.store(probe.lag_ms, Ordering::Release);
                if let Some(lsn) = probe.replay_lsn {
                    health.replay_lsn.fetch_max(lsn.0, Ordering::AcqRel);
                }
                health.up.store(true, Ordering::Release);
                if !was_up {
                    tracing::info!(replica = %health.label, lag_ms = probe.lag_ms, "read replica is up");
                }
            }
            Err(error) => {
                health.up.store(false, Ordering::Release);
                if was_up {
                    tracing::warn!(replica = %health.label, %error, "read replica is down: reads go elsewhere");
                }
            }
        }
        self.publish(index);
    }

    fn publish(&self, index: usize) {
        if let Some(health) = self.health.get(index) {
            let label = [health.label.as_str()];
            self.metrics
                .up
                .with_label_values(&label)
                .set(i64::from(health.up.load(Ordering::Acquire)));
            self.metrics
                .lag_ms
                .with_label_values(&label)
                .set(health.lag_ms.load(Ordering::Acquire));
            self.metrics
                .usable
                .with_label_values(&label)
                .set(i64::from(health.usable(self.max_lag)));
        }
    }

    /// A replica failed a query: take it out until its next good probe.
    pub fn mark_down(&self, index: usize) {
        if let Some(health) = self.health.get(index)
            && health.up.swap(false, Ordering::AcqRel)
        {
            tracing::warn!(replica = %health.label, "a query failed on a read replica: reads go elsewhere");
            self.publish(index);
        }
    }

    /// Counts a query by where it ran.
    pub fn count_read(&self, route: &Route) {
        let target = match route {
            Route::Primary => "primary",
            Route::Replica { .. } => "replica",
        };
        self.metrics.reads.with_label_values(&[target]).inc();
    }

    /// The next worker's pools, one per replica (asked once per worker, as
    /// [`WorkerPools::next_pool`] is).
    pub fn next_worker(self: &Arc<Self>) -> WorkerReplicas {
        WorkerReplicas {
            set: Arc::clone(self),
            pools: self.pools.iter().map(WorkerPools::next_pool).collect(),
        }
    }

    /// The usable replicas, starting from the next in turn.
    fn usable_in_turn(&self) -> Vec<usize> {
        let count = self.health.len();
        if count == 0 {
            return Vec::new();
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed) % count;
        (0..count)
            .map(|offset| (start + offset) % count)
            .filter(|&index| self.health[index].usable(self.max_lag))
            .collect()
    }
}

impl WorkerReplicas {
    pub fn set(&self) -> &ReplicaSet {
        &self.set
    }

    /// Where a query runs: a usable replica that has replayed `at_least`
    /// (when the client presents the position of its last write), else the
    /// primary.
    pub async fn route(&self, at_least: Option<Lsn>) -> Route {
        let candidates = self.set.usable_in_turn();
        let replica = |index: usize| {
            self.pools.get(index).map(|pool| Route::Replica {
                index,
                pool: pool.clone(),
            })
        };
        let Some(wanted) = at_least else {
            return candidates
                .first()
                .copied()
                .and_then(replica)
                .unwrap_or(Route::Primary);
        };
        let replayed =
            |index: usize| Lsn(self.set.health[index].replay_lsn.load(Ordering::Acquire));
        if let Some(&index) = candidates.iter().find(|&&index| replayed(index) >= wanted) {
            return replica(index).unwrap_or(Route::Primary);
        }
        // The probes may be behind the replica: ask one, once.
        if let Some(&index) = candidates.first()
            && let Some(pool) = self.pools.get(index)
            && let Ok(Some(lsn)) = replay_lsn(pool).await
        {
            self.set.health[index]
                .replay_lsn
                .fetch_max(lsn.0, Ordering::AcqRel);
            if lsn >= wanted {
                return replica(index).unwrap_or(Route::Primary);
            }
        }
        Route::Primary
    }
}

/// `host:port` of a URL, or the URL without its password.
fn label(url: &DatabaseUrl) -> String {
    tokio_postgres::Config::from_str(url.expose())
        .ok()
        .and_then(|config| {
            let host = match config.get_hosts().first()? {
                tokio_postgres::config::Host::Tcp(host) => host.clone(),
                tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
            };
            let port = config.get_ports().first().copied().unwrap_or(5432);
            Some(format!("{host}:{port}"))
        })
        .unwrap_or_else(|| url.to_string())
}

#[derive(Debug)]
struct Probe {
    lag_ms: i64,
    replay_lsn: Option<Lsn>,
}

#[derive(diesel::QueryableByName)]
struct ProbeRow {
    #[diesel(sql_type = Bool)]
    in_recovery: bool,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    replay_lsn: Option<String>,
    #[diesel(sql_type = BigInt)]
    lag_ms: i64,
}

/// What a replica says of its replay. On a server that is not in recovery
/// (a promoted replica) there is nothing to replay and no lag.
const PROBE_SQL: &str = "SELECT pg_is_in_recovery() AS in_recovery, \
    pg_last_wal_replay_lsn()::text AS replay_lsn, \
    CASE WHEN NOT pg_is_in_recovery() \
           OR pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0 \
         ELSE coalesce((extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) \
                        * 1000)::bigint, -1) \
    END AS lag_ms";

async fn probe(
    conn: &mut Option<AsyncPgConnection>,
    url: &DatabaseUrl,
    limit: Duration,
) -> Result<Probe, String> {
    let limit = limit.max(Duration::from_millis(500));
    use diesel_async::RunQueryDsl;
    let attempt = async {
        if conn.is_none() {
            *conn = Some(connect(url).await.map_err(|error| error.to_string())?);
        }
        let Some(open) = conn.as_mut() else {
            return Err("no connection".to_owned());
        };
        let row: ProbeRow = diesel::sql_query(PROBE_SQL)
            .get_result(open)
            .await
            .map_err(|error| error.to_string())?;
        Ok(Probe {
            lag_ms: row.lag_ms,
            replay_lsn: match row.in_recovery {
                true => row.replay_lsn.and_then(|lsn| lsn.parse().ok()),
                false => None,
            },
        })
    };
    let found = tokio::time::timeout(limit, attempt)
        .await
        .unwrap_or_else(|_| Err("the probe timed out".to_owned()));
    if found.is_err() {
        *conn = None;
    }
    found
}

#[derive(diesel::QueryableByName)]
struct LsnRow {
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    lsn: Option<String>,
}

/// How far a replica has replayed, asked on one of its pooled connections.
async fn replay_lsn(pool: &DbPool) -> Result<Option<Lsn>, String> {
    use diesel_async::RunQueryDsl;
    let mut conn = pool.get().await.map_err(|error| error.to_string())?;
    let row: LsnRow = diesel::sql_query("SELECT pg_last_wal_replay_lsn()::text AS lsn")
        .get_result(&mut *conn)
        .await
        .map_err(|error| error.to_string())?;
    Ok(row.lsn.and_then(|lsn| lsn.parse().ok()))
}

/// The primary's WAL position now: after a commit, at or past it.
pub async fn current_lsn(pool: &DbPool) -> Option<Lsn> {
    use diesel_async::RunQueryDsl;
    let mut conn = pool.get().await.ok()?;
    let row: LsnRow = diesel::sql_query("SELECT pg_current_wal_lsn()::text AS lsn")
        .get_result(&mut *conn)
        .await
        .ok()?;
    row.lsn.and_then(|lsn| lsn.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsns_read_and_print_as_postgresql_writes_them() {
        let lsn: Lsn = "16/B374D848".parse().expect("an LSN");
        assert_eq!(lsn.0, (0x16 << 32) | 0xB374_D848);
        assert_eq!(lsn.to_string(), "16/B374D848");
        assert!("0/3000060".parse::<Lsn>().expect("an LSN") < lsn);
        for bad in ["", "0", "x/1", "1/", "123456789/0", "0/1/2"] {
            assert!(bad.parse::<Lsn>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_replica_is_usable_only_up_and_within_the_lag() {
        let health = Health {
            label: "r".into(),
            up: AtomicBool::new(true),
            lag_ms: AtomicI64::new(100),
            replay_lsn: AtomicU64::new(0),
        };
        assert!(health.usable(Duration::from_millis(100)));
        assert!(!health.usable(Duration::from_millis(99)));
        health.lag_ms.store(-1, Ordering::Release);
        assert!(!health.usable(Duration::from_secs(60)));
        health.lag_ms.store(0, Ordering::Release);
        health.up.store(false, Ordering::Release);
        assert!(!health.usable(Duration::from_secs(60)));
    }
}
