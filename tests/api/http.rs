//! The HTTP surface: health, readiness, the playground, and how /graphql
//! treats what it is sent.

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::support::{TestApp, error_codes};

#[tokio::test]
async fn health_and_readiness_answer_when_the_database_is_up() {
    let app = TestApp::spawn().await;
    for path in ["/healthz", "/readyz"] {
        let response = app
            .client
            .get(app.url(path))
            .send()
            .await
            .expect("reachable");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn the_playground_and_every_asset_it_loads_come_from_the_app() {
    let app = TestApp::spawn().await;
    let page = app
        .client
        .get(app.url("/"))
        .send()
        .await
        .expect("reachable");
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/html")
    );
    let html = page.text().await.expect("a page");
    assert!(
        !html.contains("https://") && !html.contains("http://"),
        "the page must not load anything remote"
    );
    assert!(
        html.contains("query LlamaAuthors") && html.contains("llama-2023"),
        "the default query shows off the data"
    );
    for (asset, content_type) in [
        ("/playground/yoga-graphiql.umd.js", "text/javascript"),
        ("/playground/graphiql.css", "text/css"),
        ("/playground/editor.worker.js", "text/javascript"),
        ("/playground/json.worker.js", "text/javascript"),
        ("/playground/graphql.worker.js", "text/javascript"),
    ] {
        assert!(html.contains(asset), "the page references {asset}");
        let response = app
            .client
            .get(app.url(asset))
            .send()
            .await
            .expect("reachable");
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
        assert_eq!(response.headers()[CONTENT_TYPE], content_type, "{asset}");
        assert!(
            response.bytes().await.map(|b| b.len()).unwrap_or(0) > 1000,
            "{asset} has content"
        );
    }
    let missing = app
        .client
        .get(app.url("/playground/nope.js"))
        .send()
        .await
        .expect("reachable");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn get_runs_a_query_from_the_query_string() {
    let app = TestApp::spawn_seeded().await;
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[
            (
                "query",
                "query One($slug: String!) { person(slug: $slug) { name } }",
            ),
            ("variables", r#"{"slug":"guillaume-lample"}"#),
            ("operationName", "One"),
        ])
        .send()
        .await
        .expect("reachable");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(
        body["data"],
        json!({ "person": { "name": "Guillaume Lample" } })
    );
    assert_eq!(body["extensions"]["cost"]["requested"], 2, "{body}");
}

#[tokio::test]
async fn bodies_a_browser_form_can_send_are_not_executed() {
    let app = TestApp::spawn_seeded().await;
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let response = app
            .client
            .post(app.url("/graphql"))
            .header(CONTENT_TYPE, content_type)
            .body(r#"{"query":"{ people { totalCount } }"}"#)
            .send()
            .await
            .expect("reachable");
        assert_eq!(
            response.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type}"
        );
    }
}

#[tokio::test]
async fn malformed_batched_and_oversized_bodies_are_request_errors() {
    let app = TestApp::spawn().await;
    let post = |body: String| {
        app.client
            .post(app.url("/graphql"))
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
    };
    let not_json = post("{ people".into()).await.expect("reachable");
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    let batch = post(r#"[{"query":"{ __typename }"},{"query":"{ __typename }"}]"#.into())
        .await
        .expect("reachable");
    assert_eq!(batch.status(), StatusCode::BAD_REQUEST);
    let huge = format!(
        r#"{{"query":"{{ __typename }}","variables":{{"pad":"{}"}}}}"#,
        "x".repeat(100_000)
    );
    let too_large = post(huge).await.expect("reachable");
    assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn syntax_and_validation_errors_carry_codes_and_a_400() {
    let app = TestApp::spawn().await;
    let syntax = app
        .client
        .post(app.url("/graphql"))
        .header(ACCEPT, "application/graphql-response+json")
        .json(&json!({ "query": "{ people { " }))
        .send()
        .await
        .expect("reachable");
    assert_eq!(syntax.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        syntax.headers()[CONTENT_TYPE],
        "application/graphql-response+json"
    );
    assert_eq!(
        error_codes(&syntax.json().await.expect("JSON")),
        ["GRAPHQL_PARSE_FAILED"]
    );

    let unknown_field = app
        .client
        .post(app.url("/graphql"))
        .header(ACCEPT, "application/json")
        .json(&json!({ "query": "{ people { salary } }" }))
        .send()
        .await
        .expect("reachable");
    // Plain JSON clients get 200, as the legacy media type requires.
    assert_eq!(unknown_field.status(), StatusCode::OK);
    assert_eq!(unknown_field.headers()[CONTENT_TYPE], "application/json");
    assert_eq!(
        error_codes(&unknown_field.json().await.expect("JSON")),
        ["GRAPHQL_VALIDATION_FAILED"]
    );

    // A variable problem in the document itself is a validation error, not bad input.
    let undefined_variable = app.graphql(r#"{ person(slug: $slug) { name } }"#).await;
    assert_eq!(
        error_codes(&undefined_variable),
        ["GRAPHQL_VALIDATION_FAILED"],
        "{undefined_variable}"
    );
}

#[tokio::test]
async fn nesting_beyond_the_depth_limit_is_refused_before_any_sql() {
    let app = TestApp::spawn_seeded().await;
    let mut query = String::from("name");
    // 6 x 3 levels: past the depth limit (16), within the parser's nesting limit.
    for _ in 0..6 {
        query = format!("employments {{ organization {{ founders {{ {query} }} }} }}");
    }
    let before = app.statements.get();
    let response = app
        .graphql(&format!(
            "{{ person(slug: \"robert-fergus\") {{ {query} }} }}"
        ))
        .await;
    assert_eq!(error_codes(&response), ["QUERY_TOO_DEEP"], "{response}");
    assert_eq!(app.statements.get(), before, "no SQL for a refused query");
}

#[tokio::test]
async fn every_stage_of_a_request_codes_its_errors() {
    let app = TestApp::spawn_seeded().await;
    let cases = [
        (
            json!({ "query": "{ person(slug: " }),
            "GRAPHQL_PARSE_FAILED",
        ),
        (
            // A required argument left out (`person`'s `slug` is no longer
            // required: `ref` may take its place).
            json!({ "query": "{ search { __typename } }" }),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            json!({ "query": "{ people(first: \"ten\") { totalCount } }" }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "query": "query A { people { totalCount } }", "operationName": "B" }),
            "BAD_REQUEST",
        ),
        (
            json!({ "query": "query A { people { totalCount } } query B { organizations { totalCount } }" }),
            "BAD_REQUEST",
        ),
        (
            json!({ "query": "{ people(first: 1000) { totalCount } }" }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "query": "{ person(slug: \"guillaume-lample\") { employments(at: \"2023-01-01\", certainty: NO) { title } } }" }),
            "BAD_USER_INPUT",
        ),
    ];
    for (body, code) in cases {
        let response: serde_json::Value = app
            .client
            .post(app.url("/graphql"))
            .json(&body)
            .send()
            .await
            .expect("reachable")
            .json()
            .await
            .expect("JSON");
        assert_eq!(error_codes(&response), [code], "{body}: {response}");
    }
}
