//! `/explore`: the pages, their files and their queries. (The pages in a
//! browser: `scripts/explore-check.sh`.)

use reqwest::StatusCode;
use reqwest::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::support::TestApp;
use talentgraph::explore::QUERIES;

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .send()
        .await
        .expect("reachable")
}

#[tokio::test]
async fn every_page_url_serves_the_page_and_its_files_come_from_this_origin() {
    let app = TestApp::spawn().await;
    for path in [
        "/explore",
        "/explore/organization/meta",
        "/explore/person/guillaume-lample",
        "/explore/publication/llama-2023",
        "/explore/search",
    ] {
        let response = get(&app, path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let csp = response.headers()[CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("text")
            .to_owned();
        assert!(csp.contains("default-src 'self'"), "{csp}");
        assert!(csp.contains("connect-src 'self'"), "{csp}");
        let html = response.text().await.expect("a body");
        // Every script and style the page loads is its own, each script pinned by a hash.
        let off_machine: Vec<&str> = html
            .split(['"', '\''])
            .filter(|s| s.starts_with("http") || s.starts_with("//"))
            .collect();
        assert!(
            off_machine.is_empty(),
            "{path} refers off the machine: {off_machine:?}"
        );
        assert_eq!(html.matches("integrity=\"sha384-").count(), 2);
    }
    for (file, content_type) in [
        ("explore.js", "text/javascript"),
        ("explore.css", "text/css"),
        ("d3.min.js", "text/javascript"),
        ("d3-sankey.min.js", "text/javascript"),
        ("LICENSE-d3.txt", "text/plain"),
        ("LICENSE-d3-sankey.txt", "text/plain"),
        ("organization.graphql", "application/graphql"),
    ] {
        let response = get(&app, &format!("/explore/assets/{file}")).await;
        assert_eq!(response.status(), StatusCode::OK, "{file}");
        let served = response.headers()[CONTENT_TYPE].to_str().expect("text");
        assert!(served.starts_with(content_type), "{file}: {served}");
    }
    assert_eq!(
        get(&app, "/explore/assets/nothing.js").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn switched_off_the_pages_are_not_there() {
    let app = TestApp::spawn_with(|config| config.http.explore = false).await;
    for path in [
        "/explore",
        "/explore/organization/meta",
        "/explore/assets/d3.min.js",
    ] {
        assert_eq!(
            get(&app, path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

fn query(name: &str) -> &'static str {
    QUERIES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
        .expect("the page has this query")
}

/// Runs one of the page's queries as the page does; returns its data and
/// how many SQL statements it cost.
async fn run(app: &TestApp, name: &str, variables: Value) -> (Value, u64) {
    let before = app.statements.get();
    let response = app.graphql_with(query(name), variables).await;
    let statements = app.statements.get() - before;
    assert!(response.get("errors").is_none(), "{name}: {response:#}");
    (response["data"].clone(), statements)
}

/// More of everything the pages list: 40 alumni of Meta (now at Kyutai, with
/// an attestation each) and ten more stints for Guillaume Lample.
const GROWTH: &str = "
    INSERT INTO people (slug, name) SELECT 'grown-' || n, 'Grown ' || n FROM generate_series(1, 40) n;
    BEGIN;
    INSERT INTO employments (person_id, organization_id, is_current, career_position)
    SELECT p.id, o.id, o.slug = 'kyutai', CASE o.slug WHEN 'meta' THEN 1 ELSE 2 END
    FROM people p CROSS JOIN organizations o
    WHERE p.slug LIKE 'grown-%' AND o.slug IN ('meta', 'kyutai');
    INSERT INTO employments (person_id, organization_id, is_current, career_position)
    SELECT (SELECT id FROM people WHERE slug = 'guillaume-lample'), o.id, false, 2 + n
    FROM organizations o CROSS JOIN generate_series(1, 10) n WHERE o.slug = 'cohere';
    INSERT INTO employment_sources (employment_id, source_id)
    SELECT e.id, (SELECT min(id) FROM sources) FROM employments e
    WHERE NOT EXISTS (SELECT 1 FROM employment_sources s WHERE s.employment_id = e.id);
    COMMIT;
    INSERT INTO employment_attestations (employment_id, source_id, claim, on_date, on_date_precision)
    SELECT e.id, (SELECT min(id) FROM sources), 'in_progress', '2022-01-01', 'year'
    FROM employments e JOIN people p ON p.id = e.person_id WHERE p.slug LIKE 'grown-%';
";

fn organization_variables(slug: &str) -> Value {
    json!({ "slug": slug, "since": null, "until": null, "from": "2015-01-01", "to": "2026-12-06", "interval": "QUARTER" })
}

#[tokio::test]
async fn the_pages_queries_cost_the_same_statements_whatever_they_find() {
    let app = TestApp::spawn_seeded().await;

    let (meta, meta_statements) = run(&app, "organization", organization_variables("meta")).await;
    let outbound = &meta["organization"]["outbound"];
    assert_eq!(outbound[0]["to"]["name"], "Mistral AI");
    assert_eq!(outbound[0]["count"], 5);
    let (_, lample_statements) = run(&app, "person", json!({ "slug": "guillaume-lample" })).await;

    // Forty more people who left Meta for Kyutai, and more stints for one
    // person: the same number of statements reads them all.
    app.sql(GROWTH).await;
    let (grown, grown_statements) = run(&app, "organization", organization_variables("meta")).await;
    assert_eq!(grown["organization"]["alumni"]["totalCount"], 52);
    assert_eq!(meta_statements, grown_statements);

    let (lample, grown_lample_statements) =
        run(&app, "person", json!({ "slug": "guillaume-lample" })).await;
    assert_eq!(
        lample["person"]["employments"][0]["attestations"][0]["on"],
        "2023-02-27"
    );
    assert_eq!(
        lample["person"]["employments"].as_array().map(Vec::len),
        Some(12)
    );
    assert_eq!(lample_statements, grown_lample_statements);

    let (llama, publication_statements) =
        run(&app, "publication", json!({ "slug": "llama-2023" })).await;
    assert_eq!(
        llama["publication"]["authors"].as_array().map(Vec::len),
        Some(14)
    );
    let (retention, retention_statements) = run(
        &app,
        "retention",
        json!({ "slug": "llama-2023", "organization": "meta" }),
    )
    .await;
    let retention = &retention["publication"]["retention"];
    assert_eq!(retention["stayed"].as_array().map(Vec::len), Some(3));
    assert_eq!(retention["left"].as_array().map(Vec::len), Some(11));
    assert_eq!(retention["destinations"][0]["to"]["name"], "Mistral AI");
    assert_eq!(retention["destinations"][0]["count"], 5);

    let (found, search_statements) = run(&app, "search", json!({ "query": "lample" })).await;
    assert_eq!(found["search"][0]["name"], "Guillaume Lample");

    // A handful each: one page is one request, and no count grows with the data.
    for (name, statements) in [
        ("organization", meta_statements),
        ("person", lample_statements),
        ("publication", publication_statements),
        ("retention", retention_statements),
        ("search", search_statements),
    ] {
        assert!(statements <= 12, "{name}: {statements} statements");
    }
}
