//! Faults: PostgreSQL absent at start, restarted under load, and a pool
//! with every connection busy. Each outage is real: a throwaway cluster is
//! stopped and started (see `cluster.rs`), or a lock holds the only
//! connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use diesel::QueryableByName;
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use reqwest::StatusCode;
use serde_json::{Value, json};
use talentgraph::db;
use talentgraph::server::Application;

use crate::binary::Binary;
use crate::cluster::Cluster;
use crate::support::{TestApp, error_codes, test_config};

const READ_ORGANIZATIONS: &str = "{ organizations(first: 1) { totalCount } }";

/// A client whose every request gives up after a few seconds: "fails fast"
/// means an answer well within that, never a hang.
fn impatient_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("a client")
}

/// The GraphQL response to `query`, or the transport error as text.
async fn ask(client: &reqwest::Client, base: &str, query: &str) -> Result<Value, String> {
    let response = client
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query }))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    response.json().await.map_err(|e| e.to_string())
}

async fn status(client: &reqwest::Client, url: String) -> StatusCode {
    client
        .get(url)
        .send()
        .await
        .expect("the app answers")
        .status()
}

/// Polls (bounded) until `check` holds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..600 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never happened: {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_starts_without_the_database_and_becomes_ready_when_it_appears() {
    let cluster = Cluster::init();
    let binary = Binary::serve(&[("DATABASE_URL", &cluster.url("talentgraph"))]);
    let client = impatient_client();
    binary.wait_until_serving(&client).await;

    assert_eq!(
        status(&client, binary.url("/readyz")).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let response = ask(&client, &binary.address, READ_ORGANIZATIONS)
        .await
        .expect("an answer, not a hang");
    assert_eq!(
        error_codes(&response),
        ["DATABASE_UNAVAILABLE"],
        "{response:#}"
    );

    tokio::task::block_in_place(|| cluster.start());
    eventually("/readyz says 200 once the database is up", || async {
        status(&client, binary.url("/readyz")).await == StatusCode::OK
    })
    .await;
    // The database was created and migrated by the running service.
    let response = ask(&client, &binary.address, READ_ORGANIZATIONS)
        .await
        .expect("an answer");
    assert_eq!(
        response["data"]["organizations"]["totalCount"],
        0,
        "{response:#}\n{}",
        binary.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_during_a_restart_fail_fast_and_the_pool_recovers_by_itself() {
    let cluster = Cluster::init();
    tokio::task::block_in_place(|| cluster.start());
    let url = cluster.url("talentgraph");
    let database_url = talentgraph::config::DatabaseUrl::from(url.as_str());
    db::create_database_if_missing(&database_url)
        .await
        .expect("created");
    db::run_migrations(&database_url).await.expect("migrated");
    let mut config = test_config(&url);
    config.db_pool_size = 2;
    let app = Application::build(&config).expect("the app builds");
    let base = format!("http://127.0.0.1:{}", app.port);
    tokio::spawn(app.run());
    let client = impatient_client();
    let ok = ask(&client, &base, READ_ORGANIZATIONS).await.expect("up");
    assert_eq!(ok["data"]["organizations"]["totalCount"], 0, "{ok:#}");

    // Load all through the restart: a steady stream of reads.
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn({
        let (client, base, stop) = (client.clone(), base.clone(), Arc::clone(&stop));
        async move {
            let mut outcomes = Vec::new();
            while !AtomicBool::load(&stop, Ordering::Relaxed) && outcomes.len() < 5_000 {
                outcomes.push(ask(&client, &base, READ_ORGANIZATIONS).await);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            outcomes
        }
    });

    tokio::time::sleep(Duration::from_millis(200)).await;
    tokio::task::block_in_place(|| cluster.stop());
    for _ in 0..5 {
        let response = ask(&client, &base, READ_ORGANIZATIONS)
            .await
            .expect("an answer during the outage, not a hang");
        assert_eq!(
            error_codes(&response),
            ["DATABASE_UNAVAILABLE"],
            "{response:#}"
        );
    }
    assert_eq!(
        status(&client, format!("{base}/readyz")).await,
        StatusCode::SERVICE_UNAVAILABLE
    );

    tokio::task::block_in_place(|| cluster.start());
    eventually("a read succeeds after the restart", || async {
        ask(&client, &base, READ_ORGANIZATIONS)
            .await
            .is_ok_and(|r| r.get("errors").is_none())
    })
    .await;
    for _ in 0..5 {
        let response = ask(&client, &base, READ_ORGANIZATIONS).await.expect("up");
        assert!(response.get("errors").is_none(), "{response:#}");
    }
    assert_eq!(
        status(&client, format!("{base}/readyz")).await,
        StatusCode::OK
    );

    stop.store(true, Ordering::Relaxed);
    let outcomes = load.await.expect("the load task");
    let failed = outcomes
        .iter()
        .filter(|o| o.as_ref().is_ok_and(|r| r.get("errors").is_some()))
        .count();
    eprintln!("load: {} requests, {failed} refused", outcomes.len());
    assert!(failed > 0, "the load ran through the outage");
    assert!(failed < outcomes.len(), "and around it");
    for outcome in &outcomes {
        let response = outcome.as_ref().expect("every request answered");
        let codes = error_codes(response);
        assert!(
            codes.iter().all(|c| c == "DATABASE_UNAVAILABLE"),
            "only DATABASE_UNAVAILABLE during a restart: {response:#}"
        );
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[tokio::test]
async fn an_exhausted_pool_makes_a_request_wait_a_bounded_time_then_answer_service_busy() {
    let app = TestApp::spawn_with(|config| {
        config.db_pool_size = 1;
        config.db_timeouts.pool_wait = Duration::from_millis(200);
        config.db_timeouts.statement = Duration::ZERO;
        config.db_timeouts.lock = Duration::ZERO;
    })
    .await;
    app.data(READ_ORGANIZATIONS).await;

    // The pool's only connection waits on a lock held here.
    let mut locker = app.conn().await;
    locker
        .batch_execute("BEGIN; LOCK TABLE organizations IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock");
    let holder = tokio::spawn({
        let (client, url) = (app.client.clone(), app.url(""));
        async move { ask(&client, &url, READ_ORGANIZATIONS).await }
    });
    eventually("the app's read waits on the lock", || async {
        diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .get_result::<Count>(&mut app.conn().await)
        .await
        .is_ok_and(|c| c.n == 1)
    })
    .await;

    let response = ask(&impatient_client(), &app.address, READ_ORGANIZATIONS)
        .await
        .expect("an answer after the pool wait");
    assert_eq!(error_codes(&response), ["SERVICE_BUSY"], "{response:#}");

    locker.batch_execute("COMMIT").await.expect("unlock");
    let held = holder.await.expect("task").expect("answered");
    assert_eq!(held["data"]["organizations"]["totalCount"], 0, "{held:#}");
    app.data(READ_ORGANIZATIONS).await;
}

#[tokio::test]
async fn a_database_that_accepts_but_never_answers_is_unavailable_after_the_connect_timeout() {
    // The kernel completes the TCP handshake on a bound socket's backlog, so
    // the app connects, sends its startup message, and hears nothing back:
    // a hung server, as far as a client can tell.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("a socket");
    let port = silent.local_addr().expect("its port").port();
    let mut config = test_config(&format!("postgres://postgres@127.0.0.1:{port}/talentgraph"));
    config.db_timeouts.connect = Duration::from_millis(300);
    let app = Application::build(&config).expect("the app builds");
    let base = format!("http://127.0.0.1:{}", app.port);
    tokio::spawn(app.run());

    let client = impatient_client();
    let response = ask(&client, &base, READ_ORGANIZATIONS)
        .await
        .expect("an answer within the client's patience, not a hang");
    assert_eq!(
        error_codes(&response),
        ["DATABASE_UNAVAILABLE"],
        "{response:#}"
    );
    assert_eq!(
        status(&client, format!("{base}/readyz")).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    drop(silent);
}

/// With room for one execution, a second request waits for the first to
/// finish instead of running beside it; then both are answered.
#[tokio::test]
async fn requests_beyond_the_execution_limit_wait_their_turn() {
    let app = TestApp::spawn_with(|config| config.max_concurrent_executions = 1).await;
    talentgraph::seed::seed(&mut app.conn().await)
        .await
        .expect("seed");
    let mut blocker = app.conn().await;
    blocker
        .batch_execute("BEGIN; LOCK TABLE organizations IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock");
    let held = tokio::spawn({
        let client = reqwest::Client::new();
        let url = app.url("/graphql");
        async move {
            client
                .post(url)
                .json(&json!({ "query": r#"{ organization(slug: "mistral") { name } }"# }))
                .send()
                .await
                .expect("answered")
                .json::<Value>()
                .await
                .expect("JSON")
        }
    });
    // The first request is executing: waiting inside PostgreSQL for the lock.
    crate::support::wait_for_a_lock_wait(&mut app.conn().await).await;
    // A second request needs no lock, but no execution slot is free.
    let second = tokio::spawn({
        let client = reqwest::Client::new();
        let url = app.url("/graphql");
        async move {
            client
                .post(url)
                .json(&json!({ "query": "{ people(first: 1) { totalCount } }" }))
                .send()
                .await
                .expect("answered")
                .json::<Value>()
                .await
                .expect("JSON")
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !second.is_finished(),
        "the second request ran beside the first"
    );
    blocker.batch_execute("COMMIT").await.expect("unlock");
    let first = held.await.expect("first");
    assert_eq!(
        first["data"]["organization"]["name"], "Mistral AI",
        "{first}"
    );
    let second = second.await.expect("second");
    assert_eq!(second["data"]["people"]["totalCount"], 17, "{second}");
}
