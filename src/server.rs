//! Builds the pool, the schema and the actix HTTP server on a bound listener.
//! Binding happens before the server runs, so callers (and tests, on port 0)
//! learn the real port.
//!
//! The server does not need the database to start: `serve` binds at once,
//! answers `/readyz` with 503 and GraphQL with `DATABASE_UNAVAILABLE`, and
//! creates and migrates the database in the background as soon as PostgreSQL
//! answers ([`spawn_database_preparation`]).
//!
//! actix's own signal handling is off: [`Application::run_until_stopped`]
//! shuts down on our terms (see [`crate::shutdown`]).

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_web::dev::Service;
use actix_web::http::ConnectionType;
use actix_web::{App, HttpServer, web};
use anyhow::Context as _;
use futures_util::FutureExt;

use crate::config::Config;
use crate::db::{self, StatementCounter};
use crate::observability::{self, ExecutionGuard, Metrics};
use crate::shutdown::{Draining, ShutdownTimes, Signals};
use crate::{graphql, seed};

/// A server bound to its port, ready to run.
pub struct Application {
    pub port: u16,
    pub statements: StatementCounter,
    pub readiness: Readiness,
    server: actix_web::dev::Server,
    draining: Draining,
    shutdown: ShutdownTimes,
    live: Arc<crate::live::Live>,
}

/// Whether the database is created and migrated. Until it is, the service
/// answers but is not ready.
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    pub fn ready() -> Self {
        let readiness = Readiness::default();
        readiness.set_ready();
        readiness
    }

    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    pub fn set_ready(&self) {
        self.0.store(true, Ordering::Release);
    }
}

/// `TALENTGRAPH_LISTEN` cannot be bound. The message names the address and
/// the variable because those are what an operator changes (or frees).
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {address} (TALENTGRAPH_LISTEN): {}", describe(.cause))]
pub struct ListenError {
    pub address: SocketAddr,
    // Not a `source`: its text is already in the message, and a cause chain
    // would print it a second time.
    cause: std::io::Error,
}

fn describe(cause: &std::io::Error) -> String {
    match cause.kind() {
        // The OS says "Address already in use (os error 98)": the errno
        // means nothing to an operator.
        std::io::ErrorKind::AddrInUse => "address already in use".to_owned(),
        std::io::ErrorKind::AddrNotAvailable => {
            "no network interface of this machine has that address".to_owned()
        }
        _ => cause.to_string(),
    }
}

impl Application {
    /// Binds `config.listen` (port 0 picks a free port) and builds the app
    /// for a database that is already migrated.
    pub fn build(config: &Config) -> anyhow::Result<Self> {
        Self::build_with(config, Readiness::ready())
    }

    /// Like [`Application::build`], but not ready until `readiness` says so
    /// (see [`spawn_database_preparation`]).
    pub fn build_with(config: &Config, readiness: Readiness) -> anyhow::Result<Self> {
        let statements = StatementCounter::default();
        let pools = db::WorkerPools::build_with(
            &config.database_url,
            config.http_workers,
            config.db_pool_size,
            config.db_timeouts,
            config.scale.prepared_statements,
            statements.clone(),
        )?;
        let metrics = Metrics::new()?;
        let replicas = db::replicas::ReplicaSet::build(
            &config.scale.read_database_urls,
            config.http_workers,
            config.db_pool_size,
            config.db_timeouts,
            config.scale.prepared_statements,
            statements.clone(),
            config.scale.max_replica_lag,
            metrics.registry(),
        )?;
        replicas.spawn_probes(
            &config.scale.read_database_urls,
            config.scale.replica_check_interval,
        );
        let executions_per_worker = executions_per_worker(config);
        // No pool in the schema: each request brings its worker's (see
        // `http::execute`), so none can reach into another worker's runtime.
        let schema =
            graphql::build_schema_with(None, config.http.introspection, config.debug_faults);
        let sdl = schema.sdl();
        // The guard prices every request with this model: a server that could
        // not build it would enforce its limits in name only.
        let model = graphql::limits::CostModel::try_from_sdl(&sdl)
            .context("cannot build the cost model that every request is measured with")?;
        let mut guard = crate::http::Guard::new(model, &config.http);
        if let Some(url) = &config.scale.redis_url {
            guard.share_limits(crate::http::SharedBuckets::new(
                url,
                &config.scale.redis_key_prefix,
                metrics.registry(),
            )?);
        }
        let guard = web::Data::new(guard);
        let http_config = web::Data::new(config.http.clone());
        let listener = TcpListener::bind(config.listen).map_err(|cause| ListenError {
            address: config.listen,
            cause,
        })?;
        let port = listener.local_addr()?.port();
        let schema = web::Data::new(schema);
        let pools = web::Data::new(pools);
        // One hub and one LISTEN connection per process, whatever the
        // number of workers: sockets on every worker hear every event.
        let live = crate::live::Live::new(config.live)?;
        for collector in live.metrics.collectors() {
            metrics.register(collector)?;
        }
        crate::live::listener::spawn(
            Arc::clone(&live),
            config
                .listen_database_url
                .clone()
                .unwrap_or_else(|| config.database_url.clone()),
            readiness.clone(),
        );
        let live_data = web::Data::new(Arc::clone(&live));
        let metrics = web::Data::new(metrics);
        let probe_url = config.database_url.clone();
        let probe_limit = config.db_timeouts.connect;
        let pool_wait = config.db_timeouts.pool_wait;
        let execution_guard = web::Data::new(ExecutionGuard {
            request_timeout: config.request_timeout,
            readiness: readiness.clone(),
            debug_faults: config.debug_faults,
            executions: Arc::new(tokio::sync::Semaphore::new(
                config.max_concurrent_executions,
            )),
        });
        let draining = Draining::default();
        let draining_data = web::Data::new(draining.clone());
        let server = HttpServer::new(move || {
            let draining = draining_data.clone();
            // Called once on each worker's thread: the worker's own pool.
            let pool = web::Data::new(pools.next_pool());
            let worker_replicas = web::Data::new(replicas.next_worker());
            let probe = web::Data::new(db::probe::ReadinessProbe::new(
                probe_url.clone(),
                probe_limit,
            ));
            let executions = web::Data::new(crate::http::WorkerExecutions {
                slots: Arc::new(tokio::sync::Semaphore::new(executions_per_worker)),
                wait: pool_wait,
            });
            App::new()
                .app_data(schema.clone())
                .app_data(pool)
                .app_data(worker_replicas)
                .app_data(probe)
                .app_data(executions)
                .app_data(pools.clone())
                .app_data(guard.clone())
                .app_data(draining.clone())
                .app_data(http_config.clone())
                .app_data(metrics.clone())
                .app_data(execution_guard.clone())
                .app_data(live_data.clone())
                .app_data(web::Data::new(execution_guard.readiness.clone()))
                .wrap(crate::http::cors(&http_config.cors_origins))
                .wrap(actix_web::middleware::Compress::default())
                .wrap(actix_web::middleware::from_fn(
                    observability::track_requests,
                ))
                // While draining, a kept-alive connection would hold the
                // shutdown open until its idle timeout: close each one after
                // its response instead.
                .wrap_fn(move |req, srv| {
                    let draining = draining.clone();
                    srv.call(req).map(move |res| {
                        res.map(|mut res| {
                            if draining.is_draining() {
                                res.response_mut()
                                    .head_mut()
                                    .set_connection_type(ConnectionType::Close);
                            }
                            res
                        })
                    })
                })
                .configure(crate::http::configure)
                .configure(observability::configure)
        })
        .workers(config.http_workers)
        .disable_signals()
        .shutdown_timeout(config.shutdown.in_flight_secs())
        .listen(listener)?
        .run();
        Ok(Application {
            port,
            statements,
            readiness,
            server,
            draining,
            shutdown: config.shutdown,
            live,
        })
    }

    /// What stops the server from outside: tests stop theirs before they
    /// drop its database, so nothing it still runs logs in to a dropped one.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped through [`Self::handle`] or dropped (tests run it this way).
    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }

    /// Serves until SIGTERM or SIGINT, then drains and stops gracefully
    /// within the grace period (see [`crate::shutdown`]).
    pub async fn run_until_stopped(self, mut signals: Signals) -> std::io::Result<()> {
        let handle = self.server.handle();
        let draining = self.draining.clone();
        let times = self.shutdown;
        let live = Arc::clone(&self.live);
        let stopper = tokio::spawn(async move {
            let signal = signals.recv().await;
            draining.begin();
            // Sockets live until closed: close them now (1001, going away),
            // well inside the grace, so clients reconnect to another instance.
            live.close_all();
            tracing::info!(
                signal,
                drain_secs = times.drain.as_secs(),
                grace_secs = times.grace.as_secs(),
                "shutting down: /readyz answers 503; new connections are refused after the drain"
            );
            let graceful = tokio::select! {
                () = tokio::time::sleep(times.drain) => true,
                signal = signals.recv() => {
                    tracing::info!(signal, "second signal: stopping without the drain");
                    false
                }
            };
            // A graceful stop keeps the requests in flight only with
            // actix-server 2.9.1 or later (Cargo.lock): before it, a worker
            // that saw its connection queue close before the stop command
            // reached it exited at once and dropped what it was executing.
            handle.stop(graceful).await;
        });
        let served = self.server.await;
        stopper.abort();
        tracing::info!("stopped");
        served
    }
}

/// How many requests each worker executes at once: its share of
/// `TALENTGRAPH_MAX_CONCURRENT_EXECUTIONS`, and never more than the
/// connections its pool holds, so that an execution that needs a connection
/// finds one within the pool's wait rather than timing out behind the others.
pub fn executions_per_worker(config: &Config) -> usize {
    let workers = config.http_workers.max(1);
    let share = config.max_concurrent_executions.div_ceil(workers);
    let connections = db::WorkerPools::per_worker(workers, config.db_pool_size);
    share.min(connections).max(1)
}

/// Creates and migrates the database (and loads the article's data set if
/// `seed`, then the `TALENTGRAPH_SEED_FILE` data set, and stores the
/// `TALENTGRAPH_BOOTSTRAP_TOKEN`), retrying until PostgreSQL answers, then
/// marks the app ready.
pub fn spawn_database_preparation(config: &Config, seed: bool, readiness: Readiness) {
    spawn_database_preparation_with(config, seed, None, readiness);
}

/// [`spawn_database_preparation`], with a data set read from a file.
pub fn spawn_database_preparation_with(
    config: &Config,
    seed: bool,
    seed_file: Option<seed::SeedFile>,
    readiness: Readiness,
) {
    let config = config.clone();
    tokio::spawn(async move {
        loop {
            let applied =
                db::prepare_until_ready(&config.database_url, config.db_timeouts.connect).await;
            tracing::info!(count = applied.len(), ?applied, "migrations applied");
            match load_start_data(&config, seed, seed_file.as_ref()).await {
                Ok(()) => break,
                Err(error) => {
                    tracing::warn!(
                        error = format!("{error:#}"),
                        "loading start data failed, retrying"
                    );
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        }
        readiness.set_ready();
        tracing::info!("ready");
    });
}

async fn load_start_data(
    config: &Config,
    seed: bool,
    seed_file: Option<&seed::SeedFile>,
) -> anyhow::Result<()> {
    if !seed && seed_file.is_none() && config.scale.bootstrap_token.is_none() {
        return Ok(());
    }
    let mut conn = db::connect(&config.database_url).await?;
    if seed {
        let report = seed::seed(&mut conn).await?;
        tracing::info!(?report, "seeded the article's data set");
    }
    if let Some(file) = seed_file {
        let report = file
            .load(&mut conn)
            .await
            .with_context(|| format!("TALENTGRAPH_SEED_FILE {}", file.path.display()))?;
        tracing::info!(?report, file = %file.path.display(), "loaded the seed file");
    }
    if let Some(token) = &config.scale.bootstrap_token
        && seed::bootstrap_token(&mut conn, token.expose()).await?
    {
        tracing::info!("stored the bootstrap admin token (its hash)");
    }
    Ok(())
}
