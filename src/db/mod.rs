//! The database layer: the connection pool, embedded migrations, and one module
//! per table with its row types and the small named queries that read it.
//! Each entity's columns are declared once ([`columns::entity!`]); its row
//! types and select lists derive from that declaration.
//!
//! Every statement the pool's connections send is counted (see
//! [`StatementCounter`]): tests use the count to prove that nested GraphQL
//! fields load in batches.

pub mod ahead;
pub mod analytics;
pub mod attestations;
pub mod audit;
pub mod authorships;
pub mod changes;
pub mod columns;
pub mod connect;
pub mod employments;
pub mod filter;
pub mod headcount;
pub mod organizations;
pub mod people;
pub mod probe;
pub mod publications;
pub mod refs;
pub mod replicas;
pub mod row_counts;
pub mod schema;
pub mod search;
pub mod source_pages;
pub mod sources;
pub mod sqlstate;
pub mod tokens;
pub mod writes;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use diesel::QueryResult;
use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::pooled_connection::deadpool::{Object, Pool, PoolError};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use futures_util::FutureExt;
use tokio_postgres::error::SqlState;

use crate::config::{DatabaseUrl, DbTimeouts};
pub use connect::{ConnectError, connect};

pub type DbPool = Pool<AsyncPgConnection>;
pub type DbConn = Object<AsyncPgConnection>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Counts the SQL statements sent over every connection of a pool.
#[derive(Debug, Clone, Default)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        AtomicU64::load(&self.0, Ordering::Relaxed)
    }
}

/// Watches one pooled connection's statements: counts them for the pool's
/// [`StatementCounter`], and knows whether one is still running.
///
/// A connection is dropped with a statement running when the future that
/// ran it was dropped (its client went away, its request timed out) and the
/// connection was then closed rather than pooled (see
/// [`writes::WriteConnection`]). Closing the socket is not enough for a
/// statement waiting on a lock: PostgreSQL notices a vanished client only
/// when it next talks to it, and the transaction would keep its locks until
/// the wait ended. So the watch, dropped with its connection, asks
/// PostgreSQL to cancel the statement; the server then finds the client
/// gone, and rolls the transaction back.
struct Watch {
    counter: StatementCounter,
    /// Statements started and not finished. A statement whose future was
    /// dropped never finishes here, so a connection that went back to the
    /// pool after one counts it for good; the only cost is a cancel request,
    /// answered by nothing, when that connection is closed.
    running: usize,
    canceller: Option<connect::Canceller>,
}

impl Instrumentation for Watch {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } => {
                self.counter.0.fetch_add(1, Ordering::Relaxed);
                self.running += 1;
            }
            InstrumentationEvent::FinishQuery { .. } => {
                self.running = self.running.saturating_sub(1);
            }
            _ => {}
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if self.running > 0
            && let Some(canceller) = self.canceller.take()
        {
            canceller.cancel_in_background();
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// Holds the URL as `DatabaseUrl` shows it: without its password.
    #[error(
        "DATABASE_URL {0:?} does not name a database (expected postgres://user@host:port/name)"
    )]
    BadUrl(String),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("cannot create database {name:?}: {source}")]
    CreateDatabase {
        name: String,
        source: diesel::result::Error,
    },
    #[error("cannot build the connection pool: {0}")]
    Pool(#[from] diesel_async::pooled_connection::deadpool::BuildError),
    #[error("migrations failed: {0}")]
    Migrate(String),
    #[error("PostgreSQL did not answer within {0:?}")]
    Unresponsive(Duration),
}

/// Builds the pool. Connections are made lazily, so this succeeds while the
/// database is down; `Fast` recycling skips a ping per checkout (a broken
/// connection is detected on use and dropped by the pool, and one whose
/// server went away is closed, so the next checkout replaces it).
///
/// Every wait is bounded: for a free connection (`pool_wait`), for a new one
/// (`connect`), and inside PostgreSQL for a statement, a lock, and an idle
/// transaction, so no request can hold a connection for ever.
pub fn build_pool(
    database_url: &DatabaseUrl,
    max_size: usize,
    timeouts: DbTimeouts,
    counter: StatementCounter,
) -> Result<DbPool, SetupError> {
    build_pool_with(database_url, max_size, timeouts, true, counter)
}

/// [`build_pool`], with or without statements kept prepared per connection.
///
/// `prepared_statements: false` is for PgBouncer's transaction mode before
/// 1.21: a statement prepared on one server connection must not be looked
/// for on another. diesel-async always prepares through tokio-postgres, so
/// without its cache every statement is prepared, run and closed on the
/// spot instead of kept (one more round trip each).
pub fn build_pool_with(
    database_url: &DatabaseUrl,
    max_size: usize,
    timeouts: DbTimeouts,
    prepared_statements: bool,
    counter: StatementCounter,
) -> Result<DbPool, SetupError> {
    let mut config = ManagerConfig::<AsyncPgConnection>::default();
    config.recycling_method = RecyclingMethod::Fast;
    let session_setup = session_settings(&timeouts);
    // A connection drives its socket from a task spawned on the runtime that
    // opens it, and dies with that runtime. The server gives each HTTP worker
    // a pool of its own (see `server::WorkerPools`): its connections are
    // opened, driven and used on the worker's thread, and a worker that stops
    // takes only connections no other worker uses.
    //
    // The manager is given the URL as `DatabaseUrl` shows it, without its
    // password; connections are opened with the real one, kept here.
    let url = database_url.clone();
    config.custom_setup = Box::new(move |_shown| {
        let counter = counter.clone();
        let session_setup = session_setup.clone();
        let url = url.clone();
        async move {
            let (mut conn, canceller) = connect::open(&url)
                .await
                .map_err(|error| diesel::ConnectionError::BadConnection(error.to_string()))?;
            conn.batch_execute(&session_setup)
                .await
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
            if !prepared_statements {
                conn.set_prepared_statement_cache_size(diesel::connection::CacheSize::Disabled);
            }
            conn.set_instrumentation(Watch {
                counter,
                running: 0,
                canceller: Some(canceller),
            });
            Ok(conn)
        }
        .boxed()
    });
    let manager = AsyncDieselConnectionManager::new_with_config(database_url.to_string(), config);
    Ok(Pool::builder(manager)
        .max_size(max_size)
        .wait_timeout(Some(timeouts.pool_wait))
        .create_timeout(Some(timeouts.connect))
        .recycle_timeout(Some(timeouts.connect))
        .runtime(deadpool::Runtime::Tokio1)
        .build()?)
}

/// The server's connection pools: one per HTTP worker.
///
/// A worker runs its requests on a single thread. With a pool of its own, a
/// statement is written, answered and decoded on that thread, where a shared
/// pool's connections would be driven from another runtime's threads: two
/// thread wake-ups per statement, and buffers filled on one core and read
/// on another.
#[derive(Clone)]
pub struct WorkerPools {
    pools: Arc<[DbPool]>,
    handed_out: Arc<AtomicUsize>,
}

impl WorkerPools {
    /// `workers` pools that share `max_size` connections between them, so
    /// that the process never holds more than `max_size` (unless there are
    /// more workers than that: each pool holds at least one).
    pub fn build(
        database_url: &DatabaseUrl,
        workers: usize,
        max_size: usize,
        timeouts: DbTimeouts,
        counter: StatementCounter,
    ) -> Result<Self, SetupError> {
        Self::build_with(database_url, workers, max_size, timeouts, true, counter)
    }

    /// [`WorkerPools::build`], with or without prepared statements (see
    /// [`build_pool_with`]).
    pub fn build_with(
        database_url: &DatabaseUrl,
        workers: usize,
        max_size: usize,
        timeouts: DbTimeouts,
        prepared_statements: bool,
        counter: StatementCounter,
    ) -> Result<Self, SetupError> {
        let workers = workers.max(1);
        let each = Self::per_worker(workers, max_size);
        let pools = (0..workers)
            .map(|_| {
                build_pool_with(
                    database_url,
                    each,
                    timeouts,
                    prepared_statements,
                    counter.clone(),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(WorkerPools {
            pools: pools.into(),
            handed_out: Arc::default(),
        })
    }

    /// The connections each of `workers` pools holds when they share `max_size`.
    pub fn per_worker(workers: usize, max_size: usize) -> usize {
        (max_size / workers.max(1)).max(1)
    }

    /// The next worker's pool. The server asks once per worker; should actix
    /// restart a worker, the new one gets a pool whose connections died with
    /// the old runtime, and the pool replaces each on its first use.
    pub fn next_pool(&self) -> DbPool {
        let index = self.handed_out.fetch_add(1, Ordering::Relaxed) % self.pools.len();
        self.pools[index].clone()
    }

    /// All pools' sizes and waits, summed.
    pub fn status(&self) -> deadpool::Status {
        self.pools.iter().map(|pool| pool.status()).fold(
            deadpool::Status {
                max_size: 0,
                size: 0,
                available: 0,
                waiting: 0,
            },
            |sum, status| deadpool::Status {
                max_size: sum.max_size + status.max_size,
                size: sum.size + status.size,
                available: sum.available + status.available,
                waiting: sum.waiting + status.waiting,
            },
        )
    }
}

/// The `SET`s each pooled connection starts with.
fn session_settings(timeouts: &DbTimeouts) -> String {
    // An API's queries are short: JIT compilation costs more than it saves
    // (seen: +1 s on a talent-flow query), and analytic sorts should stay in
    // memory.
    format!(
        "SET jit = off; SET work_mem = '16MB'; \
         SET statement_timeout = {}; SET lock_timeout = {}; \
         SET idle_in_transaction_session_timeout = {}",
        timeouts.statement.as_millis(),
        timeouts.lock.as_millis(),
        timeouts.idle_in_transaction.as_millis(),
    )
}

/// The right side of `id = ...` for the ids bound as `$1` (a bigint
/// array), `one` when it holds exactly one: then its element, compared by
/// `=`, as `people::by_ids` does and says why (a prepared `= ANY($1)` is
/// re-planned at every call with one key).
pub(crate) fn ids_param(one: bool) -> &'static str {
    if one { "($1::bigint[])[1]" } else { "ANY($1)" }
}

/// A join to the row of `table` whose id is `key` (an SQL expression over
/// the other tables), under `alias`; its columns read as NULL when there is
/// none.
///
/// Written as a plain join, PostgreSQL prices each probe of the primary key
/// as a random page read and, past a hundred rows or so, hashes the whole
/// table instead: all 5,011 organizations of 100,000 people read for the 150
/// stints of 50 people (1.5 ms, where 126 probes take 0.5 ms), and ten times
/// as many at ten times the size. The `LIMIT` keeps the subquery from being
/// pulled up into that join, so each row probes the index. It changes no
/// answer: ids are unique.
pub(crate) fn join_by_id(table: &str, alias: &str, key: &str) -> String {
    format!(
        " LEFT JOIN LATERAL (SELECT {alias}.* FROM {table} {alias} \
         WHERE {alias}.id = {key} LIMIT 1) {alias} ON TRUE"
    )
}

/// Whether PostgreSQL ended the statement for running or waiting too long:
/// `statement_timeout` (57014 query_canceled, which a cancel request also
/// gives), `lock_timeout` (55P03 lock_not_available), or
/// `idle_in_transaction_session_timeout` (25P03).
pub fn is_timeout(error: &diesel::result::Error) -> bool {
    sqlstate::sqlstate(error).is_some_and(|code| {
        code == SqlState::QUERY_CANCELED
            || code == SqlState::LOCK_NOT_AVAILABLE
            || code == SqlState::IDLE_IN_TRANSACTION_SESSION_TIMEOUT
    })
}

/// Whether the error means the connection to PostgreSQL is gone (a restart, a
/// network failure, an administrator's `pg_terminate_backend`).
pub fn is_connection_lost(error: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    // diesel-async gives an error without a SQLSTATE (a socket closed or
    // broken) the kind `UnableToSendCommand`.
    if let Error::DatabaseError(
        DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
        _,
    ) = error
    {
        return true;
    }
    sqlstate::sqlstate(error).is_some_and(|code| {
        // Class 08: connection exception.
        code.code().starts_with("08")
            || code == SqlState::ADMIN_SHUTDOWN
            || code == SqlState::CRASH_SHUTDOWN
            || code == SqlState::CANNOT_CONNECT_NOW
    })
}

/// A hand-written statement that the connection keeps prepared, like diesel's
/// own query builder statements.
///
/// diesel never caches `sql_query`: each run parses and plans the statement
/// afresh, in two round trips (prepare, then execute). The hot listing
/// statements are fixed texts whose planning cost more than their run, so
/// they are prepared once per connection and keyed by their text. Only
/// statements with a bounded set of texts may be wrapped: each distinct text
/// stays prepared for the connection's life.
#[derive(Debug, Clone, Copy)]
pub struct Prepared<Q>(pub Q);

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Prepared<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

// No static id: the statement cache keys it by its SQL text and bind types.
impl<Q> QueryId for Prepared<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}

/// Splits `postgres://…/name?opts` into the URL of the server's `postgres`
/// maintenance database and the database name.
pub fn maintenance_url(database_url: &DatabaseUrl) -> Result<(DatabaseUrl, String), SetupError> {
    let (_, name, _) = split_database_url(database_url)?;
    Ok((
        with_database_name(database_url, "postgres")?,
        name.to_owned(),
    ))
}

/// `database_url` naming the database `name` instead, on the same server.
pub fn with_database_name(
    database_url: &DatabaseUrl,
    name: &str,
) -> Result<DatabaseUrl, SetupError> {
    let (server, _, query) = split_database_url(database_url)?;
    Ok(DatabaseUrl::new(match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }))
}

/// `postgres://user@host:port/name?opts` -> (`postgres://user@host:port`, `name`, `opts`).
fn split_database_url(url: &DatabaseUrl) -> Result<(&str, &str, Option<&str>), SetupError> {
    let bad = || SetupError::BadUrl(url.to_string());
    let database_url = url.expose();
    let (base, query) = match database_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (database_url, None),
    };
    let after_scheme = base.find("://").ok_or_else(bad)? + 3;
    let slash = base[after_scheme..].find('/').ok_or_else(bad)? + after_scheme;
    let name = &base[slash + 1..];
    if name.is_empty() || name.contains('/') {
        return Err(bad());
    }
    Ok((&base[..slash], name, query))
}

/// Creates the database named by `database_url` unless it exists.
pub async fn create_database_if_missing(database_url: &DatabaseUrl) -> Result<(), SetupError> {
    // A URL that names no database will never work: say so before connecting.
    let (url, name) = maintenance_url(database_url)?;
    match connect(database_url).await {
        Ok(_) => return Ok(()),
        Err(error) if error.is_missing_database() => {}
        Err(error) => return Err(error.into()),
    }
    let mut conn = connect(&url).await?;
    let exists: bool = diesel::select(diesel::dsl::exists(
        pg_database::table.filter(pg_database::datname.eq(&name)),
    ))
    .get_result(&mut conn)
    .await
    .map_err(|source| SetupError::CreateDatabase {
        name: name.clone(),
        source,
    })?;
    if !exists {
        // Identifiers cannot be bound as parameters; quote it as PostgreSQL does.
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        let created = diesel::sql_query(format!("CREATE DATABASE {quoted}"))
            .execute(&mut conn)
            .await;
        match created {
            Ok(_) => tracing::info!(database = %name, "created database"),
            // Another process created it between our check and our CREATE:
            // PostgreSQL says so (42P04), or its catalog's unique index does.
            Err(error)
                if sqlstate::sqlstate(&error) == Some(SqlState::DUPLICATE_DATABASE)
                    || matches!(
                        error,
                        diesel::result::Error::DatabaseError(
                            diesel::result::DatabaseErrorKind::UniqueViolation,
                            _
                        )
                    ) => {}
            Err(source) => return Err(SetupError::CreateDatabase { name, source }),
        }
    }
    Ok(())
}

diesel::table! {
    pg_database (datname) {
        datname -> Text,
    }
}

/// Applies pending embedded migrations; returns the versions applied.
///
/// diesel's migration harness is synchronous and panics on a single-threaded
/// runtime (diesel-async issue #266), so it runs on a blocking thread.
pub async fn run_migrations(database_url: &DatabaseUrl) -> Result<Vec<String>, SetupError> {
    use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;

    // Connected here, on the caller's runtime, which drives the connection
    // while the blocking thread uses it.
    let conn = connect(database_url).await?;
    tokio::task::spawn_blocking(move || {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::from(conn);
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map_err(|e| SetupError::Migrate(e.to_string()))?;
        Ok(applied.iter().map(ToString::to_string).collect())
    })
    .await
    .map_err(|e| SetupError::Migrate(format!("migration task failed: {e}")))?
}

/// Creates and migrates the database, retrying until PostgreSQL answers: the
/// service starts (and says it is not ready) while the database is down.
/// Returns the migrations applied.
pub async fn prepare_until_ready(
    database_url: &DatabaseUrl,
    connect_timeout: Duration,
) -> Vec<String> {
    let mut delay = Duration::from_millis(200);
    loop {
        let attempt = async {
            tokio::time::timeout(connect_timeout, create_database_if_missing(database_url))
                .await
                .map_err(|_| SetupError::Unresponsive(connect_timeout))??;
            run_migrations(database_url).await
        };
        match attempt.await {
            Ok(applied) => return applied,
            // PostgreSQL not (yet) reachable is expected; anything else (a
            // migration that fails) needs a person, but may be a race with
            // another instance migrating, so it is retried too.
            Err(error @ (SetupError::Connect(_) | SetupError::Unresponsive(_))) => {
                tracing::warn!(%error, retry_in_ms = delay.as_millis() as u64, "database not ready");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(error) => {
                tracing::error!(%error, retry_in_ms = delay.as_millis() as u64, "database setup failed");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Whether an error from the pool means "the database is not reachable".
pub fn is_unavailable(error: &PoolError) -> bool {
    !matches!(error, PoolError::PostCreateHook(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn worker_pools_share_the_connection_limit_and_hold_at_least_one_each() {
        let url = DatabaseUrl::from("postgres://postgres@127.0.0.1:5432/talentgraph");
        let limit = |workers, max_size| {
            WorkerPools::build(
                &url,
                workers,
                max_size,
                DbTimeouts::default(),
                StatementCounter::default(),
            )
            .map(|pools| (pools.pools.len(), pools.status().max_size))
            .ok()
        };
        assert_eq!(limit(2, 16), Some((2, 16)));
        assert_eq!(limit(3, 16), Some((3, 15)));
        assert_eq!(limit(1, 16), Some((1, 16)));
        assert_eq!(limit(0, 16), Some((1, 16)));
        assert_eq!(limit(20, 16), Some((20, 20)));
    }

    #[test]
    fn the_maintenance_url_keeps_user_host_and_options() {
        let (url, name) = maintenance_url(&DatabaseUrl::from(
            "postgres://postgres@127.0.0.1:5432/talentgraph?sslmode=disable",
        ))
        .expect("a database URL");
        assert_eq!(
            url.expose(),
            "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
        );
        assert_eq!(name, "talentgraph");
    }

    #[test]
    fn each_connection_bounds_statements_locks_and_idle_transactions() {
        let settings = session_settings(&DbTimeouts {
            statement: Duration::from_millis(1500),
            lock: Duration::ZERO,
            ..DbTimeouts::default()
        });
        assert!(settings.contains("statement_timeout = 1500;"), "{settings}");
        assert!(settings.contains("lock_timeout = 0;"), "{settings}");
        assert!(
            settings.contains("idle_in_transaction_session_timeout = 10000"),
            "{settings}"
        );
    }

    #[test]
    fn a_refused_url_is_quoted_without_its_password() {
        let url = DatabaseUrl::from("postgres://app:s3cr3t-pw@db.internal:5432");
        let error = maintenance_url(&url).expect_err("no database name");
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(
            shown.contains("postgres://app:***@db.internal:5432"),
            "{shown}"
        );
    }

    #[test]
    fn a_url_without_a_database_name_is_refused() {
        for bad in [
            "postgres://postgres@127.0.0.1:5432",
            "postgres://h/",
            "127.0.0.1/db",
        ] {
            assert!(maintenance_url(&DatabaseUrl::from(bad)).is_err(), "{bad}");
        }
    }
}
