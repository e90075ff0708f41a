//! The GraphQL execution rules a typed client relies on, each on the exact
//! request that once broke it (issue #14); `conformance.rs` checks the same
//! rules across the whole schema.

use serde_json::{Value, json};

use crate::support::TestApp;

async fn raw(app: &TestApp, query: &str) -> String {
    crate::support::without_cost(&app.raw(None, query, &json!({}), false).await)
}

#[tokio::test]
async fn response_keys_come_in_the_order_the_selection_asks_for_them() {
    let app = TestApp::spawn_seeded().await;
    assert_eq!(
        raw(&app, "{ people(first: 2) { totalCount nodes { name } } }").await,
        r#"{"data":{"people":{"totalCount":17,"nodes":[{"name":"Armand Joulin"},{"name":"Arthur Mensch"}]}}}"#
    );
    assert_eq!(
        raw(
            &app,
            r#"{ z: person(slug: "hugo-touvron") { slug } a: person(slug: "arthur-mensch") { slug } }"#
        )
        .await,
        r#"{"data":{"z":{"slug":"hugo-touvron"},"a":{"slug":"arthur-mensch"}}}"#
    );
}

#[tokio::test]
async fn a_failed_non_null_field_nulls_its_nearest_nullable_parent_and_nothing_else() {
    let app = TestApp::spawn_seeded().await;
    let response = app
        .graphql(
            r#"{ before: person(slug: "arthur-mensch") { slug }
                 organization(slug: "meta") { name employments(at: "2023-01-01", certainty: NO) { totalCount } }
                 after: organization(slug: "mistral") { name } }"#,
        )
        .await;
    assert_eq!(
        response["data"].to_string(),
        json!({
            "before": { "slug": "arthur-mensch" },
            "organization": null,
            "after": { "name": "Mistral AI" },
        })
        .to_string()
    );
    let errors = response["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{response}");
    assert_eq!(errors[0]["path"], json!(["organization", "employments"]));
    assert_eq!(errors[0]["extensions"]["code"], "BAD_USER_INPUT");
}

#[tokio::test]
async fn a_failed_nullable_field_is_null_with_its_siblings_answered() {
    let app = TestApp::spawn_seeded().await;
    let response = app
        .graphql(r#"{ a: node(id: "not-an-id") { id } b: person(slug: "arthur-mensch") { slug } }"#)
        .await;
    assert_eq!(
        response["data"].to_string(),
        json!({ "a": null, "b": { "slug": "arthur-mensch" } }).to_string()
    );
    assert_eq!(response["errors"][0]["path"], json!(["a"]));
}

#[tokio::test]
async fn each_mutation_field_reads_the_writes_of_the_ones_before_it() {
    let app = TestApp::spawn_seeded().await;
    let editor = app.token("editor").await;
    let person = app
        .data(r#"{ person(slug: "arthur-mensch") { employments { id version title } } }"#)
        .await;
    let stint = person["person"]["employments"][0].clone();
    let version = stint["version"].as_i64().expect("a version");
    const UPDATE_TWICE: &str =
        "mutation($first: UpdateEmploymentInput!, $second: UpdateEmploymentInput!) {
        first: updateEmployment(input: $first) {
          employment { title person { employments { id title } } } }
        second: updateEmployment(input: $second) {
          employment { title person { employments { id title } } } } }";
    let response = app
        .graphql_as(
            &editor,
            UPDATE_TWICE,
            json!({
                "first": { "id": stint["id"], "version": version, "title": "First title" },
                "second": { "id": stint["id"], "version": version + 1, "title": "Second title" },
            }),
        )
        .await;
    assert!(response.get("errors").is_none(), "{response:#}");
    let title_in_career = |field: &str| -> Value {
        response["data"][field]["employment"]["person"]["employments"]
            .as_array()
            .expect("a list")
            .iter()
            .find(|s| s["id"] == stint["id"])
            .expect("the stint is in the career")["title"]
            .clone()
    };
    assert_eq!(
        response["data"]["first"]["employment"]["title"],
        "First title"
    );
    assert_eq!(title_in_career("first"), "First title");
    assert_eq!(
        response["data"]["second"]["employment"]["title"],
        "Second title"
    );
    assert_eq!(title_in_career("second"), "Second title");
}

#[tokio::test]
async fn a_variable_left_out_leaves_its_input_field_unchanged_and_its_argument_at_its_default() {
    let app = TestApp::spawn_seeded().await;
    let editor = app.token("editor").await;
    app.sql("UPDATE people SET bio = 'Co-founder of Mistral AI.' WHERE slug = 'arthur-mensch'")
        .await;
    let before = app
        .data(r#"{ person(slug: "arthur-mensch") { id version name bio employments { id } } }"#)
        .await["person"]
        .clone();
    let response = app
        .graphql_as(
            &editor,
            "mutation($id: ID!, $version: Int!, $bio: String, $name: String) {
               updatePerson(input: {id: $id, version: $version, bio: $bio, name: $name}) {
                 person { name bio } } }",
            json!({ "id": before["id"], "version": before["version"], "name": before["name"] }),
        )
        .await;
    assert!(response.get("errors").is_none(), "{response:#}");
    assert_eq!(
        response["data"]["updatePerson"]["person"]["bio"], before["bio"],
        "a left-out $bio must not clear the bio"
    );

    let stints = app
        .graphql_with(
            "query($id: ID!, $status: EmploymentStatus) {
                 node(id: $id) { ... on Person { employments(status: $status) { id } } } }",
            json!({ "id": before["id"] }),
        )
        .await;
    assert!(stints.get("errors").is_none(), "{stints:#}");
    assert_eq!(stints["data"]["node"]["employments"], before["employments"]);
}

#[tokio::test]
async fn a_failed_non_null_root_field_is_an_executed_answer_with_null_data() {
    let app = TestApp::spawn_seeded().await;
    for accept in ["application/graphql-response+json", "application/json"] {
        let response = app
            .client
            .post(app.url("/graphql"))
            .header("accept", accept)
            .json(&json!({ "query": "{ organizations(first: 500) { totalCount } }" }))
            .send()
            .await
            .expect("the request reaches the app");
        // It executed: not a request error (400 without `data`).
        assert_eq!(response.status(), reqwest::StatusCode::OK, "{accept}");
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body.get("data"), Some(&Value::Null), "{accept}: {body}");
        assert_eq!(
            body["errors"][0]["path"],
            json!(["organizations"]),
            "{body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    }
}

#[tokio::test]
async fn a_request_that_never_executed_has_no_data_entry_in_either_media_type() {
    let app = TestApp::spawn_seeded().await;
    for (accept, status) in [
        (
            "application/graphql-response+json",
            reqwest::StatusCode::BAD_REQUEST,
        ),
        ("application/json", reqwest::StatusCode::OK),
    ] {
        let response = app
            .client
            .post(app.url("/graphql"))
            .header("accept", accept)
            .json(&json!({ "query": "{ nope }" }))
            .send()
            .await
            .expect("the request reaches the app");
        assert_eq!(response.status(), status, "{accept}");
        let body: Value = response.json().await.expect("JSON");
        assert!(body.get("data").is_none(), "{accept}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
            "{body}"
        );
    }
}
