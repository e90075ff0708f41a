//! GraphQL-over-HTTP: media types by `Accept`, methods, and request errors.

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, ALLOW, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::support::{TestApp, error_codes};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

#[tokio::test]
async fn the_answer_comes_in_the_media_type_the_client_prefers() {
    let app = TestApp::spawn_seeded().await;
    for (accept, expected) in [
        (None, "application/json"),
        (Some("*/*"), "application/json"),
        (Some("application/json"), "application/json"),
        (Some(GRAPHQL_RESPONSE), GRAPHQL_RESPONSE),
        (
            Some("application/json;q=0.5, application/graphql-response+json"),
            GRAPHQL_RESPONSE,
        ),
        (
            Some("application/graphql-response+json;q=0.1, application/json"),
            "application/json",
        ),
    ] {
        let mut request = app
            .client
            .post(app.url("/graphql"))
            .json(&json!({ "query": r#"{ person(slug: "guillaume-lample") { name } }"# }));
        if let Some(accept) = accept {
            request = request.header(ACCEPT, accept);
        }
        let response = request.send().await.expect("reachable");
        assert_eq!(response.status(), StatusCode::OK, "{accept:?}");
        assert_eq!(response.headers()[CONTENT_TYPE], expected, "{accept:?}");
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["data"]["person"]["name"], "Guillaume Lample");
    }
}

#[tokio::test]
async fn a_client_accepting_neither_json_type_gets_406_and_nothing_runs() {
    let app = TestApp::spawn_seeded().await;
    let before = app.statements.get();
    for accept in [
        "application/xml",
        "text/html, image/*",
        "application/json;q=0",
    ] {
        let post = app
            .client
            .post(app.url("/graphql"))
            .header(ACCEPT, accept)
            .json(&json!({ "query": "{ people { totalCount } }" }))
            .send()
            .await
            .expect("reachable");
        assert_eq!(post.status(), StatusCode::NOT_ACCEPTABLE, "{accept}");
        let get = app
            .client
            .get(app.url("/graphql"))
            .header(ACCEPT, accept)
            .query(&[("query", "{ people { totalCount } }")])
            .send()
            .await
            .expect("reachable");
        assert_eq!(get.status(), StatusCode::NOT_ACCEPTABLE, "{accept}");
        assert_eq!(
            error_codes(&get.json().await.expect("JSON")),
            ["NOT_ACCEPTABLE"]
        );
    }
    assert_eq!(app.statements.get(), before, "no SQL");
}

const CREATE_PERSON: &str = "mutation Write($input: CreatePersonInput!) {
    createPerson(input: $input) { person { slug } } }";

#[tokio::test]
async fn a_mutation_over_get_is_refused_with_405_and_runs_nothing() {
    let app = TestApp::spawn_seeded().await;
    let token = app.token("editor").await;
    let variables = json!({ "input": { "slug": "via-get", "name": "Via Get" } }).to_string();
    let read_and_write = format!("query Read {{ people {{ totalCount }} }} {CREATE_PERSON}");
    let before = app.statements.get();
    for (query, operation_name) in [
        (CREATE_PERSON, None),
        ("mutation { __typename }", None),
        ("subscription { __typename }", None),
        (read_and_write.as_str(), Some("Write")),
    ] {
        let mut params = vec![("query", query), ("variables", variables.as_str())];
        if let Some(name) = operation_name {
            params.push(("operationName", name));
        }
        let response = app
            .client
            .get(app.url("/graphql"))
            .bearer_auth(&token)
            .query(&params)
            .send()
            .await
            .expect("reachable");
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{query}");
        assert_eq!(response.headers()[ALLOW], "POST", "{query}");
        assert_eq!(
            error_codes(&response.json().await.expect("JSON")),
            ["METHOD_NOT_ALLOWED"]
        );
    }
    assert_eq!(
        app.statements.get(),
        before,
        "nothing executed, not even the token check"
    );

    // The query of the same document, picked by name, still runs over GET,
    // and nobody was created.
    let read = app
        .client
        .get(app.url("/graphql"))
        .query(&[
            ("query", read_and_write.as_str()),
            ("variables", variables.as_str()),
            ("operationName", "Read"),
        ])
        .send()
        .await
        .expect("reachable");
    assert_eq!(read.status(), StatusCode::OK);
    let body: Value = read.json().await.expect("JSON");
    assert_eq!(body["data"]["people"]["totalCount"], 17, "{body}");

    // The same mutation over POST is real.
    let created = app
        .graphql_as(
            &token,
            CREATE_PERSON,
            json!({ "input": { "slug": "via-post", "name": "Via Post" } }),
        )
        .await;
    assert_eq!(
        created["data"]["createPerson"]["person"]["slug"], "via-post",
        "{created}"
    );
}

#[tokio::test]
async fn other_methods_are_405_with_the_allowed_ones_named() {
    let app = TestApp::spawn().await;
    for method in [
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
        reqwest::Method::PATCH,
    ] {
        let response = app
            .client
            .request(method.clone(), app.url("/graphql"))
            .json(&json!({ "query": "{ __typename }" }))
            .send()
            .await
            .expect("reachable");
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method}"
        );
        assert_eq!(response.headers()[ALLOW], "GET, POST", "{method}");
    }
}

#[tokio::test]
async fn request_errors_are_400_with_a_code_whatever_the_media_type() {
    let app = TestApp::spawn().await;
    for accept in ["application/json", GRAPHQL_RESPONSE] {
        for (body, code) in [
            ("{ \"query\": ", "BAD_REQUEST"),
            (r#"{ "query": 1 }"#, "BAD_REQUEST"),
            (r#"{ "variables": {} }"#, "BAD_REQUEST"),
            (
                r#"{ "query": "{ __typename }", "variables": [] }"#,
                "BAD_REQUEST",
            ),
            (
                r#"{ "query": "{ __typename }", "extensions": "x" }"#,
                "BAD_REQUEST",
            ),
            (
                r#"[{ "query": "{ __typename }" }, { "query": "{ __typename }" }]"#,
                "BATCH_NOT_SUPPORTED",
            ),
        ] {
            let response = app
                .client
                .post(app.url("/graphql"))
                .header(ACCEPT, accept)
                .header(CONTENT_TYPE, "application/json")
                .body(body)
                .send()
                .await
                .expect("reachable");
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(response.headers()[CONTENT_TYPE], accept, "{body}");
            assert_eq!(
                error_codes(&response.json().await.expect("JSON")),
                [code],
                "{body}"
            );
        }
    }
    let without_query = app
        .client
        .get(app.url("/graphql"))
        .send()
        .await
        .expect("reachable");
    assert_eq!(without_query.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_oversized_body_is_413_with_a_code_before_it_is_read() {
    let app = TestApp::spawn().await;
    let huge = format!(
        r#"{{"query":"{{ __typename }}","variables":{{"pad":"{}"}}}}"#,
        "x".repeat(1024 * 1024)
    );
    let response = app
        .client
        .post(app.url("/graphql"))
        .header(CONTENT_TYPE, "application/json")
        .body(huge)
        .send()
        .await
        .expect("reachable");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        error_codes(&response.json().await.expect("JSON")),
        ["REQUEST_TOO_LARGE"]
    );
}
