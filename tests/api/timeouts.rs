//! Time limits: a statement past PostgreSQL's `statement_timeout` or
//! `lock_timeout`, or a request past the request timeout, fails with
//! `TIMEOUT`, and the connection it used serves the next request.
//!
//! Slowness is real: the test's own connection holds an exclusive lock on
//! `organizations`, so the app's read waits inside PostgreSQL.

use std::time::Duration;

use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use talentgraph::config::Config;

use crate::support::{TestApp, error_codes};

const READ_ORGANIZATIONS: &str = "{ organizations(first: 1) { totalCount } }";

#[derive(QueryableByName)]
struct Backend {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pid: i32,
}

/// The server processes of the test database's other connections.
async fn backends(app: &TestApp, except: &[i32]) -> Vec<i32> {
    let mut pids: Vec<i32> = diesel::sql_query(
        // Not the listener's connection (`live`): it is not the pool's.
        "SELECT pid FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid() \
           AND application_name <> 'talentgraph-listener'",
    )
    .load::<Backend>(&mut app.conn().await)
    .await
    .expect("pg_stat_activity")
    .into_iter()
    .map(|b| b.pid)
    .filter(|pid| !except.contains(pid))
    .collect();
    pids.sort_unstable();
    pids
}

/// A connection holding an exclusive lock on `organizations` until COMMIT.
async fn lock_organizations(app: &TestApp) -> (AsyncPgConnection, i32) {
    let mut locker = app.conn().await;
    let pid = diesel::sql_query("SELECT pg_backend_pid() AS pid")
        .get_result::<Backend>(&mut locker)
        .await
        .expect("own pid")
        .pid;
    locker
        .batch_execute("BEGIN; LOCK TABLE organizations IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock");
    (locker, pid)
}

/// Runs the read against a locked table with a one-connection pool and
/// asserts `TIMEOUT`, then that the same connection serves the next read.
async fn a_blocked_read_times_out_and_its_connection_is_reused(
    configure: impl FnOnce(&mut Config),
) {
    let app = TestApp::spawn_with(|config| {
        config.db_pool_size = 1;
        configure(config);
    })
    .await;
    app.data(READ_ORGANIZATIONS).await;
    let pool_connection = backends(&app, &[]).await;
    assert_eq!(
        pool_connection.len(),
        1,
        "the pool holds its one connection"
    );

    let (mut locker, locker_pid) = lock_organizations(&app).await;
    let response = app.graphql(READ_ORGANIZATIONS).await;
    assert_eq!(error_codes(&response), ["TIMEOUT"], "{response:#}");
    let message = response["errors"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        !message.contains("canceling") && !message.contains("timeout ="),
        "PostgreSQL's own words stay in the log: {message}"
    );
    locker.batch_execute("COMMIT").await.expect("unlock");

    let data = app.data(READ_ORGANIZATIONS).await;
    assert_eq!(data["organizations"]["totalCount"], 0);
    assert_eq!(
        backends(&app, &[locker_pid]).await,
        pool_connection,
        "the pool kept the same connection"
    );
}

#[tokio::test]
async fn a_statement_past_statement_timeout_fails_with_timeout_and_its_connection_is_reused() {
    a_blocked_read_times_out_and_its_connection_is_reused(|config| {
        config.db_timeouts.statement = Duration::from_millis(300);
        config.db_timeouts.lock = Duration::ZERO;
    })
    .await;
}

#[tokio::test]
async fn a_lock_wait_past_lock_timeout_fails_with_timeout_and_its_connection_is_reused() {
    a_blocked_read_times_out_and_its_connection_is_reused(|config| {
        config.db_timeouts.statement = Duration::ZERO;
        config.db_timeouts.lock = Duration::from_millis(300);
    })
    .await;
}

#[tokio::test]
async fn a_request_past_the_request_timeout_fails_with_timeout_and_the_pool_serves_the_next() {
    // PostgreSQL's own limits off: only the request timeout can end the wait.
    a_blocked_read_times_out_and_its_connection_is_reused(|config| {
        config.request_timeout = Duration::from_millis(300);
        config.db_timeouts.statement = Duration::ZERO;
        config.db_timeouts.lock = Duration::ZERO;
    })
    .await;
}
