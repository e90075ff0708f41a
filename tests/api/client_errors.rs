//! A client's mistake is a request error, never `INTERNAL`: variables are
//! coerced before anything runs, no NUL character reaches PostgreSQL,
//! cursors are checked whole and belong to one list, and neither a document
//! nor a JSON body may name the same field twice.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
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

async fn post(app: &TestApp, query: &str, variables: Value) -> (StatusCode, Value) {
    let body = json!({ "query": query, "variables": variables }).to_string();
    post_raw(app, GRAPHQL_RESPONSE, None, body).await
}

/// Asserts a request error: 400, no `data`, one `BAD_USER_INPUT` per
/// expected field and no request id (nothing internal happened).
fn assert_bad_input(status: StatusCode, response: &Value, fields: &[&str]) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{response:#}");
    assert!(response.get("data").is_none(), "{response:#}");
    let errors = response["errors"].as_array().expect("errors");
    let named: Vec<&str> = errors
        .iter()
        .map(|e| e["extensions"]["field"].as_str().unwrap_or("<none>"))
        .collect();
    assert_eq!(named, fields, "{response:#}");
    for error in errors {
        assert_eq!(
            error["extensions"]["code"], "BAD_USER_INPUT",
            "{response:#}"
        );
        assert!(
            error["extensions"].get("requestId").is_none(),
            "{response:#}"
        );
    }
}

#[tokio::test]
async fn a_required_variable_left_out_is_a_request_error_naming_it_and_runs_nothing() {
    let app = TestApp::spawn_seeded().await;
    let query = "query($s: String!) { person(slug: $s) { name } }";
    let before = app.statements.get();

    let (status, response) = post(&app, query, json!({})).await;
    assert_bad_input(status, &response, &["$s"]);
    assert_eq!(
        response["errors"][0]["message"],
        r#"Variable "$s" of required type "String!" was not provided."#
    );
    assert_eq!(
        response["errors"][0]["locations"],
        json!([{ "line": 1, "column": 7 }])
    );

    let (status, response) = post(&app, query, json!({ "s": null })).await;
    assert_bad_input(status, &response, &["$s"]);
    assert_eq!(
        response["errors"][0]["message"],
        r#"Variable "$s" of non-null type "String!" must not be null."#
    );

    // Plain JSON answers request errors with 200, as GraphQL-over-HTTP asks.
    let body = json!({ "query": query }).to_string();
    let (status, response) = post_raw(&app, "application/json", None, body).await;
    assert_eq!(status, StatusCode::OK);
    assert!(response.get("data").is_none(), "{response:#}");
    assert_eq!(error_codes(&response), ["BAD_USER_INPUT"]);

    assert_eq!(app.statements.get(), before, "no resolver ran");

    // Given, the same document runs; an optional variable may be left out.
    let (status, response) = post(&app, query, json!({ "s": "guillaume-lample" })).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(response["data"]["person"]["name"], "Guillaume Lample");
    let (status, response) = post(
        &app,
        "query($s: String) { people(search: $s) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(response["data"]["people"]["totalCount"], 17);
}

#[tokio::test]
async fn a_variable_of_the_wrong_type_is_refused_naming_it_before_anything_runs() {
    let app = TestApp::spawn_seeded().await;
    let token = app.token("editor").await;
    let stints =
        r#"query($d: Date!) { organization(slug: "meta") { employments(at: $d) { totalCount } } }"#;
    let before = app.statements.get();

    let (status, response) = post(&app, stints, json!({ "d": 5 })).await;
    assert_bad_input(status, &response, &["$d"]);
    assert_eq!(
        response["errors"][0]["message"],
        r#"Variable "$d" got invalid value 5; Expected type "Date"."#
    );

    for (query, variables, fields) in [
        (stints, json!({ "d": "2023-02-30" }), vec!["$d"]),
        (
            "query($n: Int) { people(first: $n) { totalCount } }",
            json!({ "n": 3_000_000_000_i64 }),
            vec!["$n"],
        ),
        (
            "query($k: OrganizationKind) { organizations(kind: $k) { totalCount } }",
            json!({ "k": "NOPE" }),
            vec!["$k"],
        ),
        (
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": [true] }),
            vec!["$id"],
        ),
        (
            "mutation($input: CreatePersonInput!) { createPerson(input: $input) { person { slug } } }",
            json!({ "input": { "slug": "ada", "nmae": "Ada", "aliases": ["A", 7] } }),
            vec!["$input", "$input", "$input.aliases.1"],
        ),
    ] {
        let body = json!({ "query": query, "variables": variables }).to_string();
        let (status, response) = post_raw(&app, GRAPHQL_RESPONSE, Some(&token), body).await;
        assert_bad_input(status, &response, &fields);
    }
    assert_eq!(
        app.statements.get(),
        before,
        "nothing ran, not even the token check"
    );

    // The same mistakes as literals fail validation.
    for query in [
        r#"{ organization(slug: "meta") { employments(at: 5) { totalCount } } }"#,
        r#"{ organization(slug: "meta") { employments(at: "2023-02-30") { totalCount } } }"#,
    ] {
        let (status, response) = post(&app, query, json!({})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{response:#}");
        assert!(response.get("data").is_none(), "{response:#}");
        assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{query}");
    }
}

#[tokio::test]
async fn a_nul_character_is_refused_wherever_it_comes_from_and_never_reaches_postgresql() {
    let app = TestApp::spawn_seeded().await;
    let token = app.token("editor").await;
    let create =
        "mutation($input: CreatePersonInput!) { createPerson(input: $input) { person { slug } } }";
    let before = app.statements.get();
    for (query, variables, fields) in [
        (
            r#"{ search(query: "a\u0000b") { __typename } }"#,
            json!({}),
            vec!["query"],
        ),
        (
            r#"{ person(slug: "a\u0000") { name } }"#,
            json!({}),
            vec!["slug"],
        ),
        (
            r#"{ people(search: "\u0000") { totalCount } }"#,
            json!({}),
            vec!["search"],
        ),
        (
            "query($s: String!) { person(slug: $s) { name } }",
            json!({ "s": "a\u{0}b" }),
            vec!["$s"],
        ),
        (
            "query($q: String!) { search(query: $q) { __typename } }",
            json!({ "q": "\u{0}" }),
            vec!["$q"],
        ),
        (
            r#"mutation { createPerson(input: {slug: "nul", name: "A\u0000"}) { person { slug } } }"#,
            json!({}),
            vec!["input.name"],
        ),
        (
            create,
            json!({ "input": { "slug": "nul", "name": "A", "aliases": ["\u{0}"] } }),
            vec!["$input.aliases.0"],
        ),
    ] {
        let body = json!({ "query": query, "variables": variables }).to_string();
        let (status, response) = post_raw(&app, GRAPHQL_RESPONSE, Some(&token), body).await;
        assert_bad_input(status, &response, &fields);
    }
    assert_eq!(
        app.statements.get(),
        before,
        "no statement reached PostgreSQL, so none could fail there"
    );
    let data = app.data(r#"{ person(slug: "nul") { name } }"#).await;
    assert_eq!(data["person"], Value::Null, "nobody was created");
}

/// A cursor as this API gives them out, re-encoded with its key changed.
fn with_key(cursor: &str, key: Value) -> String {
    let json = URL_SAFE_NO_PAD.decode(cursor).expect("base64url");
    let (list, _): (String, Value) = serde_json::from_slice(&json).expect("[list, key]");
    URL_SAFE_NO_PAD.encode(json!([list, key]).to_string())
}

#[tokio::test]
async fn a_cursor_from_another_list_or_with_an_impossible_key_is_bad_input() {
    let app = TestApp::spawn_seeded().await;
    let stints = |org: &str, after: &str| {
        format!(
            r#"{{ organization(slug: "{org}") {{ employments(first: 2, after: {after}) {{ totalCount edges {{ cursor }} }} }} }}"#
        )
    };
    let data = app.data(&stints("meta", "null")).await;
    let meta_cursor = data["organization"]["employments"]["edges"][1]["cursor"]
        .as_str()
        .expect("a cursor")
        .to_owned();
    let data = app
        .data("{ organizations(first: 1) { edges { cursor } } }")
        .await;
    let organizations_cursor = data["organizations"]["edges"][0]["cursor"]
        .as_str()
        .expect("a cursor")
        .to_owned();
    // Each list still takes its own cursors.
    app.data(&stints("meta", &format!("{meta_cursor:?}"))).await;
    app.data(&format!(
        "{{ organizations(after: {organizations_cursor:?}) {{ totalCount }} }}"
    ))
    .await;

    let app = &app;
    let refused = |query: String| async move {
        let response = app.graphql(&query).await;
        assert_eq!(
            error_codes(&response),
            ["BAD_USER_INPUT"],
            "{query}: {response:#}"
        );
        let error = &response["errors"][0]["extensions"];
        assert_eq!(error["field"], "after", "{response:#}");
        assert!(error.get("requestId").is_none(), "{response:#}");
    };
    // A date no stint can have, in a cursor as they were written before
    // they named their list.
    let year_minus_5000 = URL_SAFE_NO_PAD.encode(r#"["-5000-01-01",1]"#);
    refused(stints("meta", &format!("{year_minus_5000:?}"))).await;
    // Another list's cursor.
    refused(format!(
        "{{ people(after: {organizations_cursor:?}) {{ totalCount }} }}"
    ))
    .await;
    refused(format!(
        "{{ publications(after: {organizations_cursor:?}) {{ totalCount }} }}"
    ))
    .await;
    refused(stints("mistral", &format!("{meta_cursor:?}"))).await;
    refused(format!(
        r#"{{ organization(slug: "meta") {{ alumni(after: {meta_cursor:?}) {{ totalCount }} }} }}"#
    ))
    .await;
    // The list's own name, with a date no stint can have, a key of the
    // wrong shape, or a NUL.
    for date in ["-5000-01-01", "2023-02-30", "10000-01-01"] {
        let cursor = with_key(&meta_cursor, json!([date, 1]));
        refused(stints("meta", &format!("{cursor:?}"))).await;
    }
    for key in [json!([1, "Meta"]), json!(["Me\u{0}ta", 1])] {
        let cursor = with_key(&organizations_cursor, key);
        refused(format!(
            "{{ organizations(after: {cursor:?}) {{ totalCount }} }}"
        ))
        .await;
    }
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

/// A document found valid is not validated again (its verdict is kept with
/// the parsed document), yet every request's own variables are still
/// checked: a value that breaks the document's types after a valid one is
/// refused as bad input, and an invalid document stays invalid. Debug
/// builds validate anyway and panic when a kept verdict would not hold.
#[tokio::test]
async fn a_document_valid_once_still_checks_each_requests_variables() {
    let app = TestApp::spawn_seeded().await;
    let people = "query People($n: Int!) { people(first: $n) { nodes { slug } } } \
                  query Org($slug: String!) { organization(slug: $slug) { name } }";
    let ask = |operation: &str, variables: Value| {
        let body = json!({ "query": people, "operationName": operation, "variables": variables });
        post_raw(&app, GRAPHQL_RESPONSE, None, body.to_string())
    };

    for _ in 0..2 {
        let (status, response) = ask("People", json!({ "n": 2 })).await;
        assert_eq!(status, StatusCode::OK, "{response:#}");
        assert_eq!(
            response["data"]["people"]["nodes"].as_array().map(Vec::len),
            Some(2)
        );
        let (status, response) = ask("Org", json!({ "slug": "meta" })).await;
        assert_eq!(status, StatusCode::OK, "{response:#}");
        assert_eq!(
            response["data"]["organization"]["name"], "Meta",
            "{response:#}"
        );
    }
    let before = app.statements.get();
    for (operation, variables, field) in [
        ("People", json!({ "n": "two" }), "$n"),
        ("People", json!({ "n": null }), "$n"),
        ("People", json!({}), "$n"),
        ("Org", json!({ "slug": 7 }), "$slug"),
    ] {
        let (status, response) = ask(operation, variables).await;
        assert_bad_input(status, &response, &[field]);
    }
    assert_eq!(
        app.statements.get(),
        before,
        "a refused request runs nothing"
    );
    let (status, response) = ask("People", json!({ "n": 1 })).await;
    assert_eq!(status, StatusCode::OK, "{response:#}");
    assert_eq!(
        response["data"]["people"]["nodes"].as_array().map(Vec::len),
        Some(1)
    );

    let typo = r#"{ organization(slug: "meta") { nmae } }"#;
    for _ in 0..2 {
        let (_, response) = post(&app, typo, json!({})).await;
        assert_eq!(
            error_codes(&response),
            ["GRAPHQL_VALIDATION_FAILED"],
            "{response:#}"
        );
    }
}
