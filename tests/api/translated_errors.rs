//! Error codes come from SQLSTATEs and constraint names, never from
//! PostgreSQL's English: with the test database's `lc_messages` set to
//! another language, a refused delete and both timeouts keep their codes.

use std::time::Duration;

use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use serde_json::json;

use crate::support::{TestApp, error_codes};

const READ_ORGANIZATIONS: &str = "{ organizations(first: 1) { totalCount } }";

/// Languages PostgreSQL may have translations for, most likely first.
const LOCALES: [&str; 6] = [
    "fr_FR.UTF-8",
    "fr_FR.utf8",
    "de_DE.UTF-8",
    "de_DE.utf8",
    "es_ES.UTF-8",
    "es_ES.utf8",
];

#[derive(QueryableByName)]
struct Said {
    #[diesel(sql_type = diesel::sql_types::Text)]
    said: String,
}

/// What a statement timeout says on `conn` in its current language.
async fn statement_timeout_message(conn: &mut AsyncPgConnection) -> String {
    let error = conn
        .batch_execute("SET statement_timeout = 1; SELECT pg_sleep(0.2)")
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    conn.batch_execute("SET statement_timeout = 0")
        .await
        .expect("reset");
    error
}

/// Makes the test database speak a language other than English to every
/// new session, or says none is installed. Setting `lc_messages` needs a
/// locale the operating system has, and PostgreSQL's translations of it.
async fn speak_another_language(app: &TestApp) -> Option<&'static str> {
    let mut conn = app.conn().await;
    let english = statement_timeout_message(&mut conn).await;
    for locale in LOCALES {
        if conn
            .batch_execute(&format!("SET lc_messages = '{locale}'"))
            .await
            .is_err()
        {
            continue;
        }
        let translated = statement_timeout_message(&mut conn).await;
        if translated.is_empty() || translated == english {
            continue;
        }
        let current: Said = diesel::sql_query("SELECT current_database()::text AS said")
            .get_result(&mut conn)
            .await
            .expect("the database's name");
        conn.batch_execute(&format!(
            "ALTER DATABASE \"{}\" SET lc_messages = '{locale}'",
            current.said
        ))
        .await
        .expect("set the database's language");
        // New sessions speak it: the app's pool opens its connections later.
        let mut fresh = app.conn().await;
        assert_eq!(statement_timeout_message(&mut fresh).await, translated);
        return Some(locale);
    }
    None
}

/// A connection holding an exclusive lock on `organizations` until COMMIT.
async fn lock_organizations(app: &TestApp) -> AsyncPgConnection {
    let mut locker = app.conn().await;
    locker
        .batch_execute("BEGIN; LOCK TABLE organizations IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock");
    locker
}

/// Without a non-English locale the check cannot run: CI (`.ci/run`, which
/// installs one and sets `TALENTGRAPH_REQUIRE_TRANSLATED_ERRORS=1`) fails;
/// a developer's `cargo test` says so and goes on.
fn no_other_language() {
    let message = format!("no locale but English for lc_messages (install one: {LOCALES:?})");
    if std::env::var_os("TALENTGRAPH_REQUIRE_TRANSLATED_ERRORS").is_some() {
        panic!("{message}");
    }
    eprintln!("skipped: {message}");
}

#[tokio::test]
async fn a_refused_delete_and_a_statement_timeout_keep_their_codes_in_another_language() {
    let app = TestApp::spawn_with(|config| {
        config.db_timeouts.statement = Duration::from_millis(300);
        config.db_timeouts.lock = Duration::ZERO;
    })
    .await;
    let Some(locale) = speak_another_language(&app).await else {
        no_other_language();
        return;
    };
    talentgraph::seed::seed(&mut app.conn().await)
        .await
        .expect("seed");
    let editor = app.token("editor").await;

    // Meta still has stints and units: the database refuses the delete.
    let meta = app
        .data(r#"{ organization(slug: "meta") { id version } }"#)
        .await;
    let refused = app
        .graphql_as(
            &editor,
            "mutation($input: DeleteInput!) { deleteOrganization(input: $input) { deletedId } }",
            json!({ "input": { "id": meta["organization"]["id"], "version": meta["organization"]["version"] } }),
        )
        .await;
    assert_eq!(error_codes(&refused), ["CONFLICT"], "{locale}: {refused:#}");

    let mut locker = lock_organizations(&app).await;
    let response = app.graphql(READ_ORGANIZATIONS).await;
    assert_eq!(
        error_codes(&response),
        ["TIMEOUT"],
        "{locale}: {response:#}"
    );
    locker.batch_execute("COMMIT").await.expect("unlock");
}

#[tokio::test]
async fn a_lock_timeout_keeps_its_code_in_another_language() {
    let app = TestApp::spawn_with(|config| {
        config.db_timeouts.statement = Duration::ZERO;
        config.db_timeouts.lock = Duration::from_millis(300);
    })
    .await;
    let Some(locale) = speak_another_language(&app).await else {
        no_other_language();
        return;
    };
    let mut locker = lock_organizations(&app).await;
    let response = app.graphql(READ_ORGANIZATIONS).await;
    assert_eq!(
        error_codes(&response),
        ["TIMEOUT"],
        "{locale}: {response:#}"
    );
    locker.batch_execute("COMMIT").await.expect("unlock");
}
