//! What an operator sees: the `X-Request-Id` header, `INTERNAL` errors that
//! carry it (a panicking resolver included), and Prometheus metrics.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, error_codes};

const READ_ORGANIZATIONS: &str = "{ organizations(first: 1) { totalCount } }";

async fn post(app: &TestApp, query: &str, request_id: Option<&str>) -> (String, Value) {
    let mut request = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": query }));
    if let Some(id) = request_id {
        request = request.header("x-request-id", id);
    }
    let response = request.send().await.expect("the app answers");
    let id = response.headers()["x-request-id"]
        .to_str()
        .expect("an ASCII id")
        .to_owned();
    (id, response.json().await.expect("a JSON body"))
}

#[tokio::test]
async fn every_response_carries_a_request_id_keeping_a_sane_incoming_one() {
    let app = TestApp::spawn().await;
    let (kept, _) = post(&app, READ_ORGANIZATIONS, Some("lb-7f3a.2")).await;
    assert_eq!(kept, "lb-7f3a.2");

    let (first, _) = post(&app, READ_ORGANIZATIONS, None).await;
    let (second, _) = post(&app, READ_ORGANIZATIONS, Some("no spaces <allowed>")).await;
    for generated in [&first, &second] {
        assert_eq!(generated.len(), 32, "{generated}");
        assert!(
            generated.chars().all(|c| c.is_ascii_hexdigit()),
            "{generated}"
        );
    }
    assert_ne!(first, second);

    let health = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("reachable");
    assert!(health.headers().contains_key("x-request-id"));
}

#[tokio::test]
async fn a_panicking_resolver_is_answered_with_internal_and_the_request_id() {
    let app = TestApp::spawn_with(|config| config.debug_faults = true).await;
    let (id, response) = post(
        &app,
        "{ _debugPanic: organizations(first: 1) { totalCount } }",
        Some("panic-probe-1"),
    )
    .await;
    assert_eq!(id, "panic-probe-1");
    assert_eq!(error_codes(&response), ["INTERNAL"], "{response:#}");
    assert_eq!(
        response["errors"][0]["extensions"]["requestId"],
        "panic-probe-1"
    );
    let text = response.to_string();
    for leak in ["panicked", "_debugPanic:", ".rs:", "talentgraph::"] {
        assert!(!text.contains(leak), "{leak} leaked: {text}");
    }
    // The worker survived: the same app answers the next request.
    let data = app.data(READ_ORGANIZATIONS).await;
    assert_eq!(data["organizations"]["totalCount"], 0);
}

#[tokio::test]
async fn the_panic_alias_does_nothing_unless_faults_are_switched_on() {
    let app = TestApp::spawn().await;
    let data = app
        .data("{ _debugPanic: organizations(first: 1) { totalCount } }")
        .await;
    assert_eq!(data["_debugPanic"]["totalCount"], 0);
}

/// The value of the sample whose name and labels are exactly `series`.
fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().ok())?
        })
        .unwrap_or(0.0)
}

/// Requests to /graphql counted, whatever their status.
fn graphql_requests(metrics: &str) -> f64 {
    metrics
        .lines()
        .filter(|line| line.starts_with(r#"talentgraph_http_requests_total{route="/graphql","#))
        .filter_map(|line| line.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

async fn scrape(app: &TestApp) -> String {
    let response = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("reachable");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/plain; version=0.0.4")
    );
    response.text().await.expect("text")
}

#[tokio::test]
async fn metrics_count_requests_errors_by_code_latency_and_pool_usage() {
    let app = TestApp::spawn().await;
    let parse_failed = r#"talentgraph_graphql_errors_total{code="GRAPHQL_PARSE_FAILED"}"#;
    let latency = r#"talentgraph_http_request_duration_seconds_count{route="/graphql"}"#;
    let before = scrape(&app).await;

    app.data(READ_ORGANIZATIONS).await;
    app.data(READ_ORGANIZATIONS).await;
    let broken = app.graphql("{ organizations(first: 1) {").await;
    assert_eq!(error_codes(&broken), ["GRAPHQL_PARSE_FAILED"]);

    // Refused before execution: counted by its code all the same.
    let batch = app
        .client
        .post(app.url("/graphql"))
        .json(&json!([{ "query": READ_ORGANIZATIONS }]))
        .send()
        .await
        .expect("answered");
    assert_eq!(batch.status(), StatusCode::BAD_REQUEST);

    let after = scrape(&app).await;
    assert_eq!(
        graphql_requests(&after) - graphql_requests(&before),
        4.0,
        "{after}"
    );
    let batch_refused = r#"talentgraph_graphql_errors_total{code="BATCH_NOT_SUPPORTED"}"#;
    assert_eq!(sample(&after, batch_refused), 1.0, "{after}");
    assert_eq!(
        sample(&after, parse_failed) - sample(&before, parse_failed),
        1.0,
        "{after}"
    );
    assert_eq!(
        sample(&after, latency) - sample(&before, latency),
        4.0,
        "{after}"
    );
    assert_eq!(
        sample(&after, "talentgraph_db_pool_max_size"),
        4.0,
        "{after}"
    );
    assert!(sample(&after, "talentgraph_db_pool_size") >= 1.0, "{after}");
    assert!(after.contains("talentgraph_db_pool_available "), "{after}");
    assert!(after.contains("talentgraph_db_pool_waiting "), "{after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_logs_one_json_line_per_request_with_its_id_operation_and_duration() {
    let app = TestApp::spawn().await;
    let binary = crate::binary::Binary::serve(&[
        ("DATABASE_URL", &app.database_url),
        ("TALENTGRAPH_LOG_FORMAT", "json"),
    ]);
    binary.wait_until_ready(&app.client).await;
    let response = app
        .client
        .post(binary.url("/graphql"))
        .header("x-request-id", "log-probe-1")
        .json(&json!({ "query": "query Counting { organizations(first: 1) { totalCount } }" }))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.headers()["x-request-id"], "log-probe-1");

    let mut lines = Vec::new();
    for _ in 0..100 {
        lines = binary
            .log_lines()
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|line| {
                line["span"]["request_id"] == "log-probe-1" && line["message"] == "request"
            })
            .collect();
        if !lines.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        lines.len(),
        1,
        "one line for the request:\n{}",
        binary.log()
    );
    let line = &lines[0];
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["span"]["operation"], "Counting", "{line}");
    assert_eq!(line["span"]["method"], "POST", "{line}");
    assert_eq!(line["span"]["path"], "/graphql", "{line}");
    assert_eq!(line["status"], 200, "{line}");
    assert!(
        line["duration_ms"].as_f64().is_some_and(|ms| ms >= 0.0),
        "{line}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unexpected_database_error_is_internal_with_the_request_id_and_logged_under_it() {
    let app = TestApp::spawn().await;
    let binary = crate::binary::Binary::serve(&[
        ("DATABASE_URL", &app.database_url),
        ("TALENTGRAPH_LOG_FORMAT", "json"),
    ]);
    binary.wait_until_ready(&app.client).await;
    // A table gone from under the app: a failure no code path expects.
    app.sql("ALTER TABLE organizations RENAME TO organizations_gone")
        .await;
    let response = app
        .client
        .post(binary.url("/graphql"))
        .header("x-request-id", "broken-1")
        .json(&json!({ "query": READ_ORGANIZATIONS }))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.headers()["x-request-id"], "broken-1");
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(error_codes(&body), ["INTERNAL"], "{body:#}");
    assert_eq!(body["errors"][0]["extensions"]["requestId"], "broken-1");
    let text = body.to_string();
    for leak in [
        "relation",
        "organizations_gone",
        "SELECT",
        "diesel",
        "DatabaseError",
    ] {
        assert!(!text.contains(leak), "{leak} leaked: {text}");
    }

    let mut cause = None;
    for _ in 0..100 {
        cause = binary
            .log_lines()
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .find(|line| line["level"] == "ERROR" && line["reference"] == "broken-1");
        if cause.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let cause = cause.unwrap_or_else(|| panic!("no logged cause:\n{}", binary.log()));
    assert!(
        cause["error"]
            .as_str()
            .is_some_and(|e| e.contains("does not exist")),
        "the log keeps the cause: {cause}"
    );
}
