//! Root fields users look for: `sources` (filtered, paged both ways),
//! `source`, `nodes` and `viewer`.

use serde_json::{Value, json};
use talentgraph::graphql::ids::{NodeKind, encode};

use crate::support::{TestApp, error_codes};

fn data(response: &Value) -> &Value {
    assert!(
        response.get("errors").is_none(),
        "unexpected errors: {response:#}"
    );
    &response["data"]
}

fn urls(connection: &Value) -> Vec<String> {
    connection["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["url"].as_str().expect("a url").to_owned())
        .collect()
}

/// The seeded two, and five more with dates of every precision.
async fn with_sources(app: &TestApp) {
    app.sql(
        "INSERT INTO sources (url, title, publisher, published_on, published_on_precision) VALUES
           ('https://a.example/2023', 'A year', 'Example Press', '2023-01-01', 'year'),
           ('https://b.example/2023-05', 'A month', 'example press', '2023-05-01', 'month'),
           ('https://c.example/2022-12-31', 'A day', 'Other', '2022-12-31', 'day'),
           ('https://d.example/undated', NULL, NULL, NULL, NULL),
           ('https://e.example/100%_sure', 'Percent', 'Other', '2024-02-29', 'day')",
    )
    .await;
}

const PAGE: &str = "query($where: SourceWhere, $first: Int, $after: String, $last: Int, $before: String) {
    sources(where: $where, first: $first, after: $after, last: $last, before: $before) {
        totalCount nodes { url } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";

async fn page(app: &TestApp, variables: Value) -> Value {
    data(&app.graphql_with(PAGE, variables).await)["sources"].clone()
}

#[tokio::test]
async fn sources_page_forward_and_backward_through_the_same_list() {
    let app = TestApp::spawn_seeded().await;
    with_sources(&app).await;
    let all = page(&app, json!({ "first": 100 })).await;
    let everything = urls(&all);
    assert_eq!(everything.len(), 7);
    assert_eq!(all["totalCount"], 7);
    let mut sorted = everything.clone();
    sorted.sort();
    assert_eq!(everything, sorted, "by URL");

    let mut forward = Vec::new();
    let mut after = Value::Null;
    loop {
        let p = page(&app, json!({ "first": 3, "after": after })).await;
        forward.extend(urls(&p));
        assert_eq!(p["pageInfo"]["hasPreviousPage"], !after.is_null());
        if p["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = p["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(forward, everything);

    let mut backward = Vec::new();
    let mut before = Value::Null;
    loop {
        let p = page(&app, json!({ "last": 3, "before": before })).await;
        let mut chunk = urls(&p);
        assert_eq!(p["pageInfo"]["hasNextPage"], !before.is_null());
        chunk.extend(backward);
        backward = chunk;
        if p["pageInfo"]["hasPreviousPage"] == false {
            break;
        }
        before = p["pageInfo"]["startCursor"].clone();
    }
    assert_eq!(backward, everything);

    let both = app
        .graphql_with(PAGE, json!({ "first": 1, "last": 1 }))
        .await;
    assert_eq!(error_codes(&both), ["BAD_USER_INPUT"]);
    let foreign = app
        .graphql(r#"{ people(first: 1) { pageInfo { endCursor } } }"#)
        .await;
    let cursor = foreign["data"]["people"]["pageInfo"]["endCursor"].clone();
    let refused = app
        .graphql_with(PAGE, json!({ "last": 1, "before": cursor }))
        .await;
    assert_eq!(error_codes(&refused), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn sources_filter_on_text_partial_dates_and_compose() {
    let app = TestApp::spawn_seeded().await;
    with_sources(&app).await;
    let matching = |filter: Value| {
        let app = &app;
        async move {
            let p = page(app, json!({ "where": filter, "first": 100 })).await;
            assert_eq!(
                p["totalCount"].as_u64(),
                Some(urls(&p).len() as u64),
                "totalCount counts what `where` keeps"
            );
            urls(&p)
        }
    };
    assert_eq!(
        matching(json!({ "url": { "startsWith": "https://arxiv.org/" } })).await,
        ["https://arxiv.org/abs/2302.13971"]
    );
    assert_eq!(
        matching(json!({ "publisher": { "contains": "EXAMPLE" } })).await,
        ["https://a.example/2023", "https://b.example/2023-05"]
    );
    assert_eq!(
        matching(json!({ "url": { "contains": "100%_" } })).await,
        ["https://e.example/100%_sure"],
        "% and _ are plain characters"
    );
    assert_eq!(
        matching(json!({ "title": { "isNull": true } })).await,
        ["https://d.example/undated"]
    );
    // A source dated 2023 may be from any day of 2023; one dated 2023-05
    // from any day of May.
    assert_eq!(
        matching(json!({ "publishedOn": { "from": "2023-06-01", "to": "2023-12-31" } })).await,
        ["https://a.example/2023"]
    );
    assert_eq!(
        matching(json!({ "publishedOn": { "from": "2023-05-31", "to": "2023-05-31" } })).await,
        ["https://a.example/2023", "https://b.example/2023-05"]
    );
    assert_eq!(
        matching(json!({ "publishedOn": { "to": "2022-12-31" } })).await,
        ["https://c.example/2022-12-31"]
    );
    assert_eq!(
        matching(json!({ "or": [
            { "publisher": { "eq": "Other" } },
            { "publishedOn": { "isNull": true } }
        ], "not": { "url": { "contains": "undated" } } }))
        .await,
        [
            "https://c.example/2022-12-31",
            "https://e.example/100%_sure",
            "https://www.listmystartup.app/article/metas-ai-exodus-how-mistral-and-others-are-winning-the-talent-war"
        ]
    );
    assert_eq!(
        matching(json!({ "and": [
            { "publisher": { "contains": "press" } },
            { "publishedOn": { "from": "2023-05-01" } }
        ] }))
        .await,
        ["https://a.example/2023", "https://b.example/2023-05"]
    );
}

#[tokio::test]
async fn a_source_is_found_by_url_or_reference() {
    let app = TestApp::spawn_seeded().await;
    let arxiv = "https://arxiv.org/abs/2302.13971";
    let found = app
        .graphql_with(
            r#"query($url: String!) {
                byUrl: source(url: $url) { id title publisher publishedOn }
                byRef: source(ref: {url: $url}) { id }
                nothing: source(url: "https://nowhere.example") { id } }"#,
            json!({ "url": arxiv }),
        )
        .await;
    let found = data(&found);
    assert_eq!(found["byUrl"]["publisher"], "arXiv");
    assert_eq!(found["byUrl"]["publishedOn"], "2023-02-27");
    assert_eq!(found["byRef"]["id"], found["byUrl"]["id"]);
    assert_eq!(found["nothing"], Value::Null);
    let by_id = app
        .graphql_with(
            r#"query($id: ID!) { source(ref: {id: $id}) { url } }"#,
            json!({ "id": found["byUrl"]["id"] }),
        )
        .await;
    assert_eq!(data(&by_id)["source"]["url"], arxiv);
}

#[tokio::test]
async fn nodes_keeps_the_order_asked_and_answers_null_for_unknown_ids() {
    let app = TestApp::spawn_seeded().await;
    let ids = data(
        &app.graphql(
            r#"{ a: person(slug: "guillaume-lample") { id } b: organization(slug: "mistral") { id }
                c: person(slug: "arthur-mensch") { id } d: publication(slug: "llama-2023") { id } }"#,
        )
        .await,
    )
    .clone();
    let missing = encode(NodeKind::Person, 987_654).to_string();
    let asked = json!([
        ids["c"]["id"],
        missing,
        ids["b"]["id"],
        ids["a"]["id"],
        ids["d"]["id"]
    ]);
    let answer = app
        .graphql_with(
            r#"query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
                ... on Person { slug } ... on Organization { slug } ... on Publication { slug } } }"#,
            json!({ "ids": asked }),
        )
        .await;
    let slugs: Vec<Value> = data(&answer)["nodes"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|n| n.get("slug").cloned().unwrap_or(Value::Null))
        .collect();
    assert_eq!(
        slugs,
        [
            json!("arthur-mensch"),
            Value::Null,
            json!("mistral"),
            json!("guillaume-lample"),
            json!("llama-2023")
        ]
    );
    assert_eq!(data(&answer)["nodes"][1], Value::Null);

    let garbage = app.graphql(r#"{ nodes(ids: ["not-an-id"]) { id } }"#).await;
    assert_eq!(error_codes(&garbage), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn nodes_loads_each_kind_in_one_statement() {
    let app = TestApp::spawn_seeded().await;
    let people =
        data(&app.graphql("{ people(first: 10) { nodes { id } } }").await)["people"]["nodes"]
            .as_array()
            .expect("people")
            .iter()
            .map(|p| p["id"].as_str().expect("id").to_owned())
            .collect::<Vec<_>>();
    let query = |ids: &[String]| {
        format!(
            "{{ nodes(ids: [{}]) {{ id }} }}",
            ids.iter()
                .map(|id| format!("\"{id}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let one = app.statements_for(&query(&people[..1])).await;
    let ten = app.statements_for(&query(&people)).await;
    assert_eq!(one, ten);
}

#[tokio::test]
async fn nodes_takes_at_most_a_hundred_ids_each_counted_in_the_cost() {
    let app = TestApp::spawn_seeded().await;
    let meta = data(
        &app.graphql(r#"{ organization(slug: "meta") { id } }"#)
            .await,
    )["organization"]["id"]
        .clone();
    let heavy = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Organization {
        employments(first: 100) { nodes { person { employments { organization {
            employments(first: 100) { totalCount } } } } } } } } }";
    let once = app.graphql_with(heavy, json!({ "ids": [meta] })).await;
    assert!(once.get("errors").is_none(), "{once:#}");
    let many = app
        .graphql_with(heavy, json!({ "ids": vec![meta.clone(); 100] }))
        .await;
    assert_eq!(error_codes(&many), ["QUERY_TOO_COMPLEX"]);
    let too_many = app
        .graphql_with(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": vec![meta; 101] }),
        )
        .await;
    assert_eq!(error_codes(&too_many), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn viewer_is_the_tokens_role_and_name_and_null_when_anonymous() {
    let app = TestApp::spawn_seeded().await;
    let anonymous = app.graphql("{ viewer { role name } }").await;
    assert_eq!(data(&anonymous)["viewer"], Value::Null);
    let editor = app.token("editor").await;
    let known = app
        .graphql_as(&editor, "{ viewer { role name } }", json!({}))
        .await;
    assert_eq!(
        data(&known)["viewer"],
        json!({ "role": "EDITOR", "name": "test editor" })
    );
    let forged = app
        .graphql_as("tg_forged", "{ viewer { role } }", json!({}))
        .await;
    assert_eq!(error_codes(&forged), ["UNAUTHENTICATED"]);
}
