//! What the service shows the internet: introspection, suggestions and the
//! playground (on by default, switchable off), and CORS for configured
//! origins only.

use reqwest::StatusCode;
use reqwest::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_REQUEST_HEADERS,
    ACCESS_CONTROL_REQUEST_METHOD, ORIGIN,
};
use serde_json::json;

use crate::support::{TestApp, error_codes};

const TYPO: &str = "{ people { totlCount } }";

#[tokio::test]
async fn introspection_suggestions_and_the_playground_are_on_by_default() {
    let app = TestApp::spawn().await;
    let data = app.data("{ __schema { queryType { name } } }").await;
    assert_eq!(data["__schema"]["queryType"]["name"], "Query");
    let typo = app.graphql(TYPO).await;
    assert!(
        typo.to_string().contains("Did you mean"),
        "suggestions help explorers: {typo}"
    );
    let page = app
        .client
        .get(app.url("/"))
        .send()
        .await
        .expect("reachable");
    assert_eq!(page.status(), StatusCode::OK);
}

#[tokio::test]
async fn switched_off_they_reveal_nothing() {
    let app = TestApp::spawn_with(|config| {
        config.http.introspection = false;
        config.http.playground = false;
    })
    .await;
    for query in [
        "{ __schema { queryType { name } } }",
        r#"{ __type(name: "Person") { fields { name } } }"#,
    ] {
        let response = app.graphql(query).await;
        let text = response.to_string();
        assert!(
            !text.contains("\"Query\"") && !text.contains("slug"),
            "{query}: {response}"
        );
    }
    let typo = app.graphql(TYPO).await;
    assert_eq!(error_codes(&typo), ["GRAPHQL_VALIDATION_FAILED"]);
    assert!(
        !typo.to_string().contains("Did you mean"),
        "no field names leak through suggestions: {typo}"
    );
    for path in ["/", "/playground/yoga-graphiql.umd.js"] {
        let response = app
            .client
            .get(app.url(path))
            .send()
            .await
            .expect("reachable");
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // The API itself still answers.
    assert_eq!(
        app.data("{ people { totalCount } }").await["people"]["totalCount"],
        0
    );
}

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(reqwest::Method::OPTIONS, app.url("/graphql"))
        .header(ORIGIN, origin)
        .header(ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(
            ACCESS_CONTROL_REQUEST_HEADERS,
            "content-type, authorization",
        )
        .send()
        .await
        .expect("reachable")
}

#[tokio::test]
async fn only_configured_origins_pass_a_cors_preflight_and_never_with_credentials() {
    let app = TestApp::spawn_with(|config| {
        config.http.cors_origins = vec!["https://app.example.org".to_owned()];
    })
    .await;
    let allowed = preflight(&app, "https://app.example.org").await;
    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(
        allowed.headers()[ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://app.example.org"
    );
    assert!(
        allowed
            .headers()
            .get(ACCESS_CONTROL_ALLOW_CREDENTIALS)
            .is_none()
    );

    let refused = preflight(&app, "https://evil.example.com").await;
    assert!(refused.status().is_client_error(), "{}", refused.status());
    assert!(refused.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());

    // A simple cross-origin request from the allowed origin can read the answer.
    let response = app
        .client
        .post(app.url("/graphql"))
        .header(ORIGIN, "https://app.example.org")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("reachable");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://app.example.org"
    );
    assert!(
        response
            .headers()
            .get(ACCESS_CONTROL_ALLOW_CREDENTIALS)
            .is_none()
    );
}

#[tokio::test]
async fn by_default_no_other_origin_may_call_from_a_browser() {
    let app = TestApp::spawn().await;
    let refused = preflight(&app, "https://app.example.org").await;
    assert!(refused.status().is_client_error(), "{}", refused.status());
    assert!(refused.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());

    // Browsers send Origin on same-origin POSTs too (the playground's): they work.
    let same_origin = app
        .client
        .post(app.url("/graphql"))
        .header(ORIGIN, app.address.as_str())
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("reachable");
    assert_eq!(same_origin.status(), StatusCode::OK);
    let body: serde_json::Value = same_origin.json().await.expect("JSON");
    assert_eq!(body["data"]["__typename"], "Query");
}
