//! A client's mistake is a request error, never `INTERNAL`, and a request
//! is read one way only: neither a document nor a JSON body may name the
//! same field twice.

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::support::{TestApp, error_codes};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// POSTs `body` as it is, with `Accept: accept`; the status and the JSON answer.
async fn post_raw(
    app: &TestApp,
    accept: &str,
    token: Option<&str>,
    body: String,
) -> (StatusCode, Value) {
    let mut request = app
        .client
        .post(app.url("/graphql"))
        .header(ACCEPT, accept)
        .header(CONTENT_TYPE, "application/json")
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("reachable");
    let status = response.status();
    (status, response.json().await.expect("JSON"))
}

#[tokio::test]
async fn an_input_object_literal_naming_a_field_twice_fails_validation_and_writes_nothing() {
    let app = TestApp::spawn_seeded().await;
    let token = app.token("editor").await;
    let query = "mutation {\n  createPerson(input: {slug: \"first\", name: \"A\", slug: \"second\"}) { person { slug } }\n}";
    let before = app.statements.get();
    let body = json!({ "query": query }).to_string();
    let (status, response) = post_raw(&app, GRAPHQL_RESPONSE, Some(&token), body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{response:#}");
    assert!(response.get("data").is_none(), "{response:#}");
    assert_eq!(error_codes(&response), ["GRAPHQL_VALIDATION_FAILED"]);
    assert_eq!(
        response["errors"][0]["message"],
        r#"There can be only one input field named "slug"."#
    );
    assert_eq!(
        response["errors"][0]["locations"],
        json!([{ "line": 2, "column": 24 }, { "line": 2, "column": 50 }])
    );
    assert_eq!(app.statements.get(), before, "nothing ran");
    for slug in ["first", "second"] {
        let data = app
            .data(&format!(r#"{{ person(slug: "{slug}") {{ name }} }}"#))
            .await;
        assert_eq!(data["person"], Value::Null, "{slug}");
    }
    // The same name in two objects, or in a string, is no repeat.
    let data = app
        .data(r#"{ a: person(slug: "slug: x, slug: y") { name } b: people(search: "slug") { totalCount } }"#)
        .await;
    assert_eq!(data["a"], Value::Null);
}

#[tokio::test]
async fn a_json_body_naming_a_key_twice_is_refused_so_no_proxy_reads_another_request() {
    let app = TestApp::spawn_seeded().await;
    let before = app.statements.get();
    for (body, key) in [
        (
            r#"{"query": "{ nope }", "query": "{ people { totalCount } }"}"#,
            "query",
        ),
        (
            r#"{"query": "query($s: String!) { person(slug: $s) { name } }", "variables": {"s": "meta", "s": "guillaume-lample"}}"#,
            "s",
        ),
        (
            r#"{"query": "{ __typename }", "extensions": {"a": {"b": 1, "b": 2}}}"#,
            "b",
        ),
    ] {
        for accept in [GRAPHQL_RESPONSE, "application/json"] {
            let (status, response) = post_raw(&app, accept, None, body.to_owned()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {response:#}");
            assert!(response.get("data").is_none(), "{response:#}");
            assert_eq!(error_codes(&response), ["BAD_REQUEST"], "{body}");
            let message = response["errors"][0]["message"]
                .as_str()
                .unwrap_or_default();
            assert!(message.contains(&format!("{key:?}")), "{message}");
        }
    }
    let get = app
        .client
        .get(app.url("/graphql"))
        .query(&[
            ("query", "query($s: String!) { person(slug: $s) { name } }"),
            ("variables", r#"{"s": "meta", "s": "guillaume-lample"}"#),
        ])
        .send()
        .await
        .expect("reachable");
    assert_eq!(get.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        error_codes(&get.json().await.expect("JSON")),
        ["BAD_REQUEST"]
    );
    // A query string naming `query` twice was already refused; it stays so.
    let get = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "{ nope }"), ("query", "{ __typename }")])
        .send()
        .await
        .expect("reachable");
    assert_eq!(get.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.statements.get(), before, "nothing ran");
}
