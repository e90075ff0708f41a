//! A mutation cancelled mid-transaction (its client went away, or the
//! request timeout fired) rolls back at once: its connection never goes back
//! to the pool *idle in transaction* holding the transaction's locks.
//!
//! The move is held inside PostgreSQL by a row lock the test takes on the
//! stint it ends. PostgreSQL's own time limits are off, so nothing but the
//! app can end the wait.

use std::time::Duration;

use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use serde_json::{Value, json};
use talentgraph::config::Config;

use crate::support::{TestApp, error_codes, wait_for_a_lock_wait};

const MOVE: &str = "mutation($input: RecordMoveInput!) {
    recordMove(input: $input) { ended { isCurrent } started { organization { slug } } } }";

/// A move of Timothée Lacroix from Mistral to Kyutai, and the database id of
/// the stint it ends.
struct Move {
    variables: Value,
    stint: i64,
}

async fn a_move(app: &TestApp, editor: &str) -> Move {
    let person = app
        .data(r#"{ person(slug: "timothee-lacroix") { currentEmployments { id version organization { slug } } } }"#)
        .await;
    let current = &person["person"]["currentEmployments"][0];
    assert_eq!(current["organization"]["slug"], "mistral");
    let kyutai =
        app.data(r#"{ organization(slug: "kyutai") { id } }"#).await["organization"]["id"].clone();
    let source = app
        .graphql_as(
            editor,
            "mutation { createSource(input: { url: \"https://example.org/cancelled\" }) { source { id } } }",
            json!({}),
        )
        .await;
    let source = source["data"]["createSource"]["source"]["id"].clone();
    let id = async_graphql::ID(current["id"].as_str().expect("an id").to_owned());
    let (_, stint) = talentgraph::graphql::ids::decode(&id).expect("an id the API gave out");
    Move {
        variables: json!({ "input": {
            "employmentId": current["id"], "version": current["version"],
            "organizationId": kyutai, "sourceIds": [source] } }),
        stint,
    }
}

/// The app on the seeded data set, with PostgreSQL's time limits off.
async fn app_without_postgres_timeouts(configure: impl FnOnce(&mut Config)) -> TestApp {
    let app = TestApp::spawn_with(|config| {
        config.db_timeouts.statement = Duration::ZERO;
        config.db_timeouts.lock = Duration::ZERO;
        config.db_timeouts.idle_in_transaction = Duration::ZERO;
        configure(config);
    })
    .await;
    talentgraph::seed::seed(&mut app.conn().await)
        .await
        .expect("seed");
    app
}

/// A transaction holding the stint's row lock until COMMIT.
async fn lock_row(app: &TestApp, stint: i64) -> AsyncPgConnection {
    let mut holder = app.conn().await;
    holder
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM employments WHERE id = {stint} FOR UPDATE"
        ))
        .await
        .expect("lock the row");
    holder
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// The app's sessions on the test database in a state matching `condition`.
async fn app_sessions(watcher: &mut AsyncPgConnection, condition: &str) -> i64 {
    // Inside a transaction pg_stat_activity is read once: read it afresh.
    diesel::sql_query("SELECT pg_stat_clear_snapshot()")
        .execute(watcher)
        .await
        .expect("clear the statistics snapshot");
    diesel::sql_query(format!(
        "SELECT count(*) AS n FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'talentgraph' AND {condition}"
    ))
    .get_result::<Count>(watcher)
    .await
    .expect("pg_stat_activity")
    .n
}

/// Polls (bounded) until no app session matches `condition`.
async fn until_no_app_session(watcher: &mut AsyncPgConnection, condition: &str, what: &str) {
    for _ in 0..200 {
        if app_sessions(watcher, condition).await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}");
}

/// After the move was cancelled while waiting for the row: the wait ended,
/// no app connection is left in a transaction, another writer takes the row
/// lock, nothing was written, and the app writes again.
async fn the_cancelled_move_rolled_back(
    app: &TestApp,
    editor: &str,
    the_move: &Move,
    mut holder: AsyncPgConnection,
    watcher: &mut AsyncPgConnection,
) {
    until_no_app_session(
        watcher,
        "wait_event_type = 'Lock'",
        "the cancelled move's statement still waits for the row lock",
    )
    .await;
    holder.batch_execute("COMMIT").await.expect("unlock");
    until_no_app_session(
        watcher,
        "state LIKE 'idle in transaction%'",
        "a cancelled move left its connection idle in transaction",
    )
    .await;

    let mut writer = app.conn().await;
    writer
        .batch_execute(&format!(
            "SET lock_timeout = '10s'; BEGIN; SELECT 1 FROM employments WHERE id = {} FOR UPDATE",
            the_move.stint
        ))
        .await
        .expect("another writer takes the row lock");
    writer.batch_execute("ROLLBACK").await.expect("release");

    let person = app
        .data(r#"{ person(slug: "timothee-lacroix") { currentEmployments { organization { slug } } } }"#)
        .await;
    assert_eq!(
        person["person"]["currentEmployments"],
        json!([{ "organization": { "slug": "mistral" } }]),
        "the cancelled move wrote something"
    );
    let moved = app
        .graphql_as(editor, MOVE, the_move.variables.clone())
        .await;
    assert_eq!(
        moved["data"]["recordMove"]["started"]["organization"]["slug"], "kyutai",
        "{moved:#}"
    );
}

#[tokio::test]
async fn a_client_that_disconnects_mid_transaction_leaves_no_transaction_open() {
    // Long enough that only the client's going away can end the request.
    let app = app_without_postgres_timeouts(|config| {
        config.request_timeout = Duration::from_secs(300);
    })
    .await;
    let editor = app.token("editor").await;
    let the_move = a_move(&app, &editor).await;
    let holder = lock_row(&app, the_move.stint).await;

    let body = json!({ "query": MOVE, "variables": the_move.variables }).to_string();
    let socket = app.post_on_own_socket(&editor, &body).await;
    let mut watcher = crate::support::establish(&app.database_url)
        .await
        .expect("connect");
    wait_for_a_lock_wait(&mut watcher).await;

    // Abruptly, as a killed process or a browser's abort does: a reset, not
    // a FIN, which actix takes for a half-closed client still waiting for
    // its answer.
    socket.set_zero_linger().expect("SO_LINGER 0");
    drop(socket);
    the_cancelled_move_rolled_back(&app, &editor, &the_move, holder, &mut watcher).await;
}

#[tokio::test]
async fn a_request_timeout_mid_transaction_leaves_no_transaction_open() {
    let app = app_without_postgres_timeouts(|config| {
        config.request_timeout = Duration::from_secs(1);
    })
    .await;
    let editor = app.token("editor").await;
    let the_move = a_move(&app, &editor).await;
    let holder = lock_row(&app, the_move.stint).await;

    let request = tokio::spawn({
        let (client, url, editor) = (app.client.clone(), app.url("/graphql"), editor.clone());
        let body = json!({ "query": MOVE, "variables": the_move.variables });
        async move {
            client
                .post(url)
                .bearer_auth(editor)
                .json(&body)
                .send()
                .await
                .expect("answered")
                .json::<Value>()
                .await
                .expect("JSON")
        }
    });
    let mut watcher = crate::support::establish(&app.database_url)
        .await
        .expect("connect");
    wait_for_a_lock_wait(&mut watcher).await;
    let timed_out = request.await.expect("the request task");
    assert_eq!(error_codes(&timed_out), ["TIMEOUT"], "{timed_out:#}");

    the_cancelled_move_rolled_back(&app, &editor, &the_move, holder, &mut watcher).await;
}
