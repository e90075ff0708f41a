//! Bounded work before any SQL: every document is measured first, and each
//! kind of excess is refused with its own code, no statement sent, and the
//! server still up afterwards.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::support::{TestApp, error_codes};

/// Far more than a refusal needs; only here so that a hang fails the test.
const PATIENCE: Duration = Duration::from_secs(20);

/// POSTs a raw body, asking for the newer media type; returns status and JSON.
async fn post_raw(app: &TestApp, body: String) -> (StatusCode, Value) {
    let request = app
        .client
        .post(app.url("/graphql"))
        .header(ACCEPT, "application/graphql-response+json")
        .header(CONTENT_TYPE, "application/json")
        .body(body)
        .send();
    let response = tokio::time::timeout(PATIENCE, request)
        .await
        .expect("answered in time")
        .expect("reachable: the server did not crash");
    let status = response.status();
    (status, response.json().await.expect("JSON"))
}

async fn post(app: &TestApp, query: &str, variables: Value) -> (StatusCode, Value) {
    post_raw(
        app,
        json!({ "query": query, "variables": variables }).to_string(),
    )
    .await
}

async fn assert_alive(app: &TestApp) {
    let data = app.data("{ people { totalCount } }").await;
    assert!(data["people"]["totalCount"].is_number());
}

/// 36 points a stint: its title, sources, person and the person's stints.
const STINTS: &str =
    "nodes { title sources { url } person { name employments { organization { name } } } }";

/// `count` copies of `item(i)`, space-separated.
fn repeat(count: usize, item: impl Fn(usize) -> String) -> String {
    (0..count).map(item).collect::<Vec<_>>().join(" ")
}

fn doubling_fragments(levels: usize) -> String {
    let mut query = format!(
        "{{ organization(slug: \"meta\") {{ ...F0 }} }}\nfragment F{levels} on Organization {{ name }}\n"
    );
    for i in 0..levels {
        query.push_str(&format!(
            "fragment F{i} on Organization {{ ...F{n} ...F{n} }}\n",
            n = i + 1
        ));
    }
    query
}

#[tokio::test]
async fn each_kind_of_excess_is_refused_with_its_own_code_and_no_sql() {
    let app = TestApp::spawn_seeded().await;
    let mut deep = String::from("name");
    for _ in 0..6 {
        deep = format!("employments {{ organization {{ founders {{ {deep} }} }} }}");
    }
    let cases = [
        (
            format!(r#"{{ person(slug: "robert-fergus") {{ {deep} }} }}"#),
            "QUERY_TOO_DEEP",
        ),
        (
            format!(
                "{{ organizations(first: 100) {{ nodes {{ employments(first: 100) {{ {STINTS} }} }} }} }}"
            ),
            "QUERY_TOO_COMPLEX",
        ),
        (
            format!(
                r#"{{ organization(slug: "meta") {{ {} }} }}"#,
                repeat(51, |i| format!("a{i}: name"))
            ),
            "TOO_MANY_ALIASES",
        ),
        (
            format!(
                r#"{{ organization(slug: "meta") {{ {} }} }}"#,
                repeat(51, |_| "name @include(if: true)".to_owned())
            ),
            "TOO_MANY_DIRECTIVES",
        ),
        (
            format!("{{ {} }}", repeat(21, |i| format!("t{i}: __typename"))),
            "TOO_MANY_ROOT_FIELDS",
        ),
        (
            format!(
                r#"{{ organization(slug: "meta") {{ {} }} }}"#,
                repeat(1001, |_| "name".to_owned())
            ),
            "TOO_MANY_FIELDS",
        ),
        // 2^25 fields if expanded; measured once per fragment instead.
        (doubling_fragments(25), "TOO_MANY_FIELDS"),
        (
            format!(
                r#"{{ organization(slug: "meta") {{ name({}) }} }}"#,
                repeat(501, |_| "a: 1".to_owned())
            ),
            "TOO_MANY_ARGUMENTS",
        ),
        (
            format!(
                "query({}) {{ __typename }}",
                repeat(101, |i| format!("$v{i}: Int"))
            ),
            "TOO_MANY_VARIABLES",
        ),
        (
            "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }".to_owned(),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            format!(
                r#"{{ person(slug: "x") {{ name(x: {}1{}) }} }}"#,
                "[".repeat(65),
                "]".repeat(65)
            ),
            "NESTING_TOO_DEEP",
        ),
    ];
    let before = app.statements.get();
    for (query, code) in &cases {
        let (status, body) = post(&app, query, json!({})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{code}: {body}");
        assert_eq!(error_codes(&body), [*code], "{body}");
        assert!(body.get("data").is_none(), "{body}");
    }
    assert_eq!(app.statements.get(), before, "no SQL for refused documents");
    assert_alive(&app).await;
}

#[tokio::test]
async fn page_sizes_from_variables_count_towards_the_cost() {
    let app = TestApp::spawn_seeded().await;
    let query = format!(
        "query($n: Int) {{ organizations(first: $n) {{ nodes {{ employments(first: $n) {{ {STINTS} }} }} }} }}"
    );
    let query = query.as_str();
    let (status, body) = post(&app, query, json!({ "n": 100 })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&body), ["QUERY_TOO_COMPLEX"], "{body}");
    let (status, body) = post(&app, query, json!({ "n": 5 })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["data"]["organizations"]["nodes"].is_array(), "{body}");
}

#[tokio::test]
async fn everyday_queries_and_full_introspection_fit_within_the_limits() {
    let app = TestApp::spawn_seeded().await;
    // The README's richest query, and the one GraphiQL sends on load.
    app.data(r#"{ publication(slug: "llama-2023") { retention(organization: "meta") {
        destinations { to { name } count people { name currentEmployments { title organization { name } } } } } } }"#)
        .await;
    let schema = app.data(INTROSPECTION_QUERY).await;
    assert!(
        schema["__schema"]["types"]
            .as_array()
            .is_some_and(|t| t.len() > 20)
    );
}

#[tokio::test]
async fn a_hundred_thousand_brackets_never_reach_the_parser() {
    let app = TestApp::spawn_seeded().await;
    let before = app.statements.get();
    // Past the body limit: refused before it is read.
    let (status, body) = post(
        &app,
        &format!(r#"{{ person(slug: {}) {{ name }} }}"#, "[".repeat(100_000)),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_codes(&body), ["REQUEST_TOO_LARGE"]);
    // Within the body limit: 30 times what used to abort the process.
    for brackets in ["[", "{a:", "("] {
        let (status, body) = post(
            &app,
            &format!(
                r#"{{ person(slug: {}) {{ name }} }}"#,
                brackets.repeat(60_000 / brackets.len())
            ),
            json!({}),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{brackets}");
        assert_eq!(error_codes(&body), ["NESTING_TOO_DEEP"], "{brackets}");
    }
    // In the variables: past serde_json's own limit, and past ours within it.
    for depth in [30_000, 100] {
        let variables = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        let (status, body) = post_raw(
            &app,
            format!(
                r#"{{"query":"query($v: [Int]) {{ __typename }}","variables":{{"v":{variables}}}}}"#
            ),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{depth}");
        assert_eq!(error_codes(&body), ["NESTING_TOO_DEEP"], "{depth}: {body}");
    }
    // Over GET too.
    let get = app
        .client
        .get(app.url("/graphql"))
        .query(&[
            ("query", "query($v: [Int]) { __typename }".to_owned()),
            ("variables", format!(r#"{{"v":{}}}"#, "[".repeat(5_000))),
        ])
        .send()
        .await
        .expect("reachable");
    assert_eq!(get.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        error_codes(&get.json().await.expect("JSON")),
        ["NESTING_TOO_DEEP"]
    );
    assert_eq!(app.statements.get(), before, "no SQL");
    assert_alive(&app).await;
}

/// graphql-js's `getIntrospectionQuery()`, as GraphiQL sends it.
const INTROSPECTION_QUERY: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) {
    name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}
"#;
