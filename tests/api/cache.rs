//! Caching: Apollo's automatic persisted queries over POST and GET (the
//! guard applies to a held query as to a sent one), and the `ETag` of
//! anonymous GET reads with `304 Not Modified`.

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CACHE_CONTROL, ETAG, IF_NONE_MATCH};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::{TestApp, error_codes};

fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

async fn post(app: &TestApp, body: Value) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&body)
        .send()
        .await
        .expect("the request reaches the app");
    let status = response.status();
    (status, response.json().await.expect("JSON"))
}

async fn get(app: &TestApp, params: &[(&str, String)]) -> reqwest::Response {
    app.client
        .get(app.url("/graphql"))
        .query(params)
        .send()
        .await
        .expect("the request reaches the app")
}

const FOUNDERS: &str = r#"{ organization(slug: "mistral") { founders { name } } }"#;

#[tokio::test]
async fn a_persisted_query_round_trips_as_apollo_client_sends_it() {
    let app = TestApp::spawn_seeded().await;
    let hash = sha256(FOUNDERS);

    let (status, miss) = post(&app, json!({ "extensions": persisted(&hash) })).await;
    assert_eq!(status, StatusCode::OK, "Apollo Server's status for a miss");
    assert_eq!(
        miss,
        json!({ "errors": [{ "message": "PersistedQueryNotFound",
                             "extensions": { "code": "PERSISTED_QUERY_NOT_FOUND" } }] })
    );

    let (status, registered) = post(
        &app,
        json!({ "query": FOUNDERS, "extensions": persisted(&hash) }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let expected = app.data(FOUNDERS).await;
    assert_eq!(registered["data"], expected);

    let (_, by_hash) = post(&app, json!({ "extensions": persisted(&hash) })).await;
    assert_eq!(by_hash["data"], expected);

    let over_get = get(
        &app,
        &[("extensions", persisted(&hash.to_uppercase()).to_string())],
    )
    .await;
    assert_eq!(over_get.status(), StatusCode::OK);
    let over_get: Value = over_get.json().await.expect("JSON");
    assert_eq!(over_get["data"], expected);
}

#[tokio::test]
async fn a_query_whose_hash_is_not_its_own_is_refused_and_not_kept() {
    let app = TestApp::spawn_seeded().await;
    let other = sha256("{ __typename }");
    let (status, body) = post(
        &app,
        json!({ "query": FOUNDERS, "extensions": persisted(&other) }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errors"][0]["message"],
        "provided sha does not match query"
    );
    let (_, after) = post(&app, json!({ "extensions": persisted(&other) })).await;
    assert_eq!(error_codes(&after), ["PERSISTED_QUERY_NOT_FOUND"]);

    let (status, version) = post(
        &app,
        json!({ "extensions": { "persistedQuery": { "version": 2, "sha256Hash": other } } }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&version), ["BAD_REQUEST"]);
}

#[tokio::test]
async fn the_guard_measures_a_held_query_as_if_it_were_sent() {
    let app = TestApp::spawn_seeded().await;
    // Within the cost limit for small pages, past it for large ones.
    let query = "query($n: Int) { organizations(first: $n) { nodes { employments(first: $n) {
        nodes { person { employments { organization { employments(first: $n) { totalCount } } } } } } } } }";
    let hash = sha256(query);
    let (_, small) = post(
        &app,
        json!({ "query": query, "variables": { "n": 2 }, "extensions": persisted(&hash) }),
    )
    .await;
    assert!(small.get("errors").is_none(), "{small:#}");
    let (_, large) = post(
        &app,
        json!({ "variables": { "n": 100 }, "extensions": persisted(&hash) }),
    )
    .await;
    assert_eq!(error_codes(&large), ["QUERY_TOO_COMPLEX"]);

    // A query the guard refuses is not kept.
    let deep = format!(
        "{{ {}__typename{} }}",
        "a: node(id: \"x\") { ".repeat(20),
        " }".repeat(20)
    );
    let deep_hash = sha256(&deep);
    let (_, refused) = post(
        &app,
        json!({ "query": deep, "extensions": persisted(&deep_hash) }),
    )
    .await;
    assert!(!error_codes(&refused).is_empty());
    let (_, gone) = post(&app, json!({ "extensions": persisted(&deep_hash) })).await;
    assert_eq!(error_codes(&gone), ["PERSISTED_QUERY_NOT_FOUND"]);

    // A held mutation does not run over GET.
    let mutation = r#"mutation { createPerson(input: {slug: "x", name: "X"}) { person { id } } }"#;
    let mutation_hash = sha256(mutation);
    let editor = app.token("editor").await;
    let response = app
        .client
        .post(app.url("/graphql"))
        .header(AUTHORIZATION, format!("Bearer {editor}"))
        .json(&json!({ "query": mutation, "extensions": persisted(&mutation_hash) }))
        .send()
        .await
        .expect("reaches the app");
    assert_eq!(response.status(), StatusCode::OK);
    let over_get = get(
        &app,
        &[("extensions", persisted(&mutation_hash).to_string())],
    )
    .await;
    assert_eq!(over_get.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn anonymous_get_reads_carry_an_etag_and_answer_304_while_nothing_changed() {
    let app = TestApp::spawn_seeded().await;
    let query = r#"{ person(slug: "guillaume-lample") { name bio } }"#;
    let first = get(&app, &[("query", query.to_owned())]).await;
    assert_eq!(first.status(), StatusCode::OK);
    let etag = first
        .headers()
        .get(ETAG)
        .and_then(|v| v.to_str().ok())
        .expect("an ETag")
        .to_owned();
    assert_eq!(
        first
            .headers()
            .get(CACHE_CONTROL)
            .and_then(|v| v.to_str().ok()),
        Some("no-cache")
    );
    let body = first.text().await.expect("a body");
    assert!(body.contains("Guillaume Lample"));

    let again = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", query)])
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .expect("reaches the app");
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(
        again.headers().get(ETAG).and_then(|v| v.to_str().ok()),
        Some(etag.as_str())
    );
    assert!(again.text().await.expect("a body").is_empty());

    app.sql("UPDATE people SET bio = 'Co-founder of Mistral AI.' WHERE slug = 'guillaume-lample'")
        .await;
    let changed = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", query)])
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .expect("reaches the app");
    assert_eq!(changed.status(), StatusCode::OK);
    let new_etag = changed.headers().get(ETAG).cloned().expect("an ETag");
    assert_ne!(new_etag.to_str().ok(), Some(etag.as_str()));
    assert!(
        changed
            .text()
            .await
            .expect("a body")
            .contains("Co-founder of Mistral AI.")
    );

    let with_token = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", query)])
        .header(
            AUTHORIZATION,
            format!("Bearer {}", app.token("editor").await),
        )
        .send()
        .await
        .expect("reaches the app");
    assert_eq!(with_token.status(), StatusCode::OK);
    assert!(
        with_token.headers().get(ETAG).is_none(),
        "no shared validator for a caller's read"
    );
}
