//! `totalCount` of the unfiltered root connections, read from the row counts
//! the tables' triggers keep (`migrations/*_row_counts`): always the number
//! of rows the request can see, whatever wrote them.

use diesel::QueryableByName;
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use serde_json::json;

use crate::support::{TestApp, wait_for_lock_waits};

const TABLES: [&str; 4] = ["people", "organizations", "publications", "sources"];

/// What `totalCount` says of each table, and what count(*) says.
async fn counts(app: &TestApp) -> Vec<(i64, i64)> {
    let data = app
        .data(
            "{ people(first: 1) { totalCount } organizations(first: 1) { totalCount }
               publications(first: 1) { totalCount } sources(first: 1) { totalCount } }",
        )
        .await;
    let mut pairs = Vec::new();
    for table in TABLES {
        let counted = app.rows_in(table).await;
        let total = data[table]["totalCount"].as_i64().expect("a totalCount");
        pairs.push((total, counted));
    }
    pairs
}

fn assert_exact(pairs: &[(i64, i64)], when: &str) {
    for (table, (total, counted)) in TABLES.iter().zip(pairs) {
        assert_eq!(total, counted, "{table} {when}");
    }
}

#[tokio::test]
async fn total_counts_follow_every_kind_of_write() {
    let app = TestApp::spawn_seeded().await;
    let seeded = counts(&app).await;
    assert_exact(&seeded, "after the seed's import");
    assert!(seeded.iter().all(|&(total, _)| total > 0), "{seeded:?}");

    app.sql(
        "INSERT INTO people (slug, name) SELECT 'counted-' || n, 'Counted ' || n FROM generate_series(1, 3) n;
         INSERT INTO organizations (slug, name, kind) VALUES ('counted-org', 'Counted', 'company');
         DELETE FROM people WHERE slug = 'counted-1';",
    )
    .await;
    let written = counts(&app).await;
    assert_exact(&written, "after inserts and a delete in SQL");
    assert_eq!(written[0].0, seeded[0].0 + 2);
    assert_eq!(written[1].0, seeded[1].0 + 1);

    let token = app.token("editor").await;
    let created = app
        .graphql_as(
            &token,
            "mutation($input: CreatePersonInput!) { createPerson(input: $input) { person { id version } } }",
            json!({ "input": { "slug": "counted-by-api", "name": "Counted By Api" } }),
        )
        .await;
    let person = &created["data"]["createPerson"]["person"];
    assert_exact(&counts(&app).await, "after createPerson");
    let deleted = app
        .graphql_as(
            &token,
            "mutation($input: DeleteInput!) { deletePerson(input: $input) { deletedId } }",
            json!({ "input": { "id": person["id"], "version": person["version"] } }),
        )
        .await;
    assert_eq!(
        deleted["data"]["deletePerson"]["deletedId"], person["id"],
        "{deleted}"
    );
    let after_api = counts(&app).await;
    assert_exact(&after_api, "after deletePerson");
    assert_eq!(after_api, written);

    // Undone writes leave the count as it was; a truncation counts zero
    // inside its transaction.
    let mut conn = app.conn().await;
    conn.batch_execute(
        "BEGIN;
         INSERT INTO publications (slug, title) VALUES ('undone', 'Undone');
         TRUNCATE sources CASCADE;",
    )
    .await
    .expect("writes in a transaction");
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        row_count: i64,
    }
    let inside: Vec<Count> = diesel::sql_query(
        "SELECT row_count FROM row_counts WHERE table_name IN ('publications', 'sources') ORDER BY table_name",
    )
    .load(&mut conn)
    .await
    .expect("the counts inside");
    assert_eq!(inside[0].row_count, written[2].0 + 1);
    assert_eq!(inside[1].row_count, 0);
    conn.batch_execute("ROLLBACK").await.expect("rollback");
    assert_eq!(counts(&app).await, written, "after a rollback");
}

/// Two transactions adding people at once: the second waits on the count's
/// row until the first commits, and both are counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_are_both_counted() {
    let app = TestApp::spawn_seeded().await;
    let before = counts(&app).await;
    let mut first = app.conn().await;
    first
        .batch_execute(
            "BEGIN; INSERT INTO people (slug, name) VALUES ('first-writer', 'First Writer')",
        )
        .await
        .expect("the first insert");
    let mut second = app.conn().await;
    let second_writer = tokio::spawn(async move {
        second
            .batch_execute(
                "BEGIN; INSERT INTO people (slug, name) VALUES ('second-writer', 'Second Writer'); COMMIT",
            )
            .await
    });
    let mut watcher = crate::support::establish(&app.database_url)
        .await
        .expect("connect");
    wait_for_lock_waits(&mut watcher, 1).await;
    assert_eq!(counts(&app).await, before, "neither is committed yet");
    first
        .batch_execute("COMMIT")
        .await
        .expect("the first commit");
    second_writer
        .await
        .expect("the second writer's task")
        .expect("the second insert");
    let after = counts(&app).await;
    assert_exact(&after, "after both commits");
    assert_eq!(after[0].0, before[0].0 + 2);
}
