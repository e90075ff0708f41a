//! Pools that agree with their limits: a busy copy still says it is ready,
//! and a worker runs no more executions than its connections can serve.

use std::time::Duration;

use diesel_async::SimpleAsyncConnection;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, error_codes};

const READ_ORGANIZATIONS: &str = "{ organizations { totalCount } }";

#[tokio::test]
async fn a_copy_whose_every_connection_is_busy_is_still_ready() {
    let app = TestApp::spawn_with(|config| {
        config.db_pool_size = 1;
        config.db_timeouts.pool_wait = Duration::from_millis(300);
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
    let held = tokio::spawn({
        let (client, url) = (app.client.clone(), app.url("/graphql"));
        async move {
            client
                .post(url)
                .json(&json!({ "query": READ_ORGANIZATIONS }))
                .send()
                .await
                .expect("answered")
                .json::<Value>()
                .await
                .expect("JSON")
        }
    });
    crate::support::wait_for_a_lock_wait(&mut app.conn().await).await;

    // Busy, not broken: a load balancer must keep sending traffic here.
    for _ in 0..3 {
        let ready = app
            .client
            .get(app.url("/readyz"))
            .send()
            .await
            .expect("answered");
        assert_eq!(ready.status(), StatusCode::OK);
    }
    // A request beyond the worker's one execution slot waits no longer than
    // it would for a connection, then hears that the service is busy.
    let busy = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": READ_ORGANIZATIONS }))
        .send()
        .await
        .expect("answered");
    assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = busy.json().await.expect("JSON");
    assert_eq!(error_codes(&body), ["SERVICE_BUSY"], "{body}");

    locker.batch_execute("COMMIT").await.expect("unlock");
    let held = held.await.expect("the held request");
    assert_eq!(held["data"]["organizations"]["totalCount"], 0, "{held}");
}
