//! Rate limits per client, charged by what a query may cost.

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, RETRY_AFTER};
use serde_json::{Value, json};

use crate::support::{TestApp, error_codes};

/// 1 + 20 x (nodes 1 + name 1): people's default page of 20 names.
const COSTS_41: &str = "{ people { nodes { name } } }";

async fn send(app: &TestApp, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": COSTS_41 }));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("reachable")
}

async fn limited(capacity: u64, trust_forwarded_for: bool) -> TestApp {
    TestApp::spawn_with(|config| {
        config.http.rate_limit_capacity = capacity;
        // Slow enough that no test run refills a bucket noticeably.
        config.http.rate_limit_refill_per_second = 1;
        config.http.trust_forwarded_for = trust_forwarded_for;
    })
    .await
}

#[tokio::test]
async fn a_client_past_its_budget_gets_429_with_retry_after_and_no_sql() {
    let app = limited(100, false).await;
    for _ in 0..2 {
        assert_eq!(send(&app, &[]).await.status(), StatusCode::OK);
    }
    let before = app.statements.get();
    let refused = send(&app, &[]).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = refused.headers()[RETRY_AFTER]
        .to_str()
        .expect("ASCII")
        .parse()
        .expect("seconds");
    // 18 points left, 41 needed, 1 point a second.
    assert!((20..=24).contains(&retry_after), "{retry_after}");
    let body: Value = refused.json().await.expect("JSON");
    assert_eq!(error_codes(&body), ["RATE_LIMITED"]);
    assert_eq!(app.statements.get(), before, "no SQL for a refused request");

    // A cheap query still fits in what is left.
    let cheap = app.graphql("{ __typename }").await;
    assert_eq!(cheap["data"]["__typename"], "Query");
}

#[tokio::test]
async fn each_valid_token_has_its_own_budget_and_neither_forwarded_for_nor_invented_tokens_buy_one()
{
    let app = limited(50, false).await;
    assert_eq!(send(&app, &[]).await.status(), StatusCode::OK);
    // A made-up X-Forwarded-For does not buy a fresh bucket.
    let spoofed = send(&app, &[("x-forwarded-for", "203.0.113.9")]).await;
    assert_eq!(spoofed.status(), StatusCode::TOO_MANY_REQUESTS);
    // A made-up token does not either: it is charged to the address.
    let invented = send(&app, &[(AUTHORIZATION.as_str(), "Bearer tg_made-up")]).await;
    assert_eq!(invented.status(), StatusCode::TOO_MANY_REQUESTS);
    // Each valid token has a budget of its own.
    for role in ["editor", "admin"] {
        let token = format!("Bearer {}", app.token(role).await);
        let with_token = send(&app, &[(AUTHORIZATION.as_str(), &token)]).await;
        assert_eq!(with_token.status(), StatusCode::OK, "{role}");
        let again = send(&app, &[(AUTHORIZATION.as_str(), &token)]).await;
        assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS, "{role}");
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_address_has_its_own_budget() {
    let app = limited(50, true).await;
    for address in ["203.0.113.9", "198.51.100.7"] {
        let header = format!("10.0.0.1, {address}");
        let first = send(&app, &[("x-forwarded-for", &header)]).await;
        assert_eq!(first.status(), StatusCode::OK, "{address}");
        let second = send(&app, &[("x-forwarded-for", &header)]).await;
        assert_eq!(second.status(), StatusCode::TOO_MANY_REQUESTS, "{address}");
    }
}
