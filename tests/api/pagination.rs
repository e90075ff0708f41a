//! Relay connections: first/after, cursors, totalCount, page size limits.

use serde_json::{Value, json};

use diesel_async::SimpleAsyncConnection;

use crate::support::{TestApp, error_codes, strings, wait_for_lock_waits};

/// Follows `endCursor` until the last page; returns every page's values at `field`.
async fn walk(
    app: &TestApp,
    query: impl Fn(&str) -> String,
    connection: impl Fn(&Value) -> &Value,
) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut after = String::from("null");
    loop {
        let data = app.data(&query(&after)).await;
        let page = connection(&data);
        pages.push(strings(&page["edges"], |e| &e["node"]["slug"]));
        let edges = page["edges"].as_array().expect("edges");
        assert_eq!(
            page["pageInfo"]["endCursor"],
            edges.last().map_or(Value::Null, |e| e["cursor"].clone())
        );
        assert_eq!(
            page["pageInfo"]["hasPreviousPage"],
            Value::Bool(after != "null")
        );
        if page["pageInfo"]["hasNextPage"] != true {
            return pages;
        }
        after = format!("{}", page["pageInfo"]["endCursor"]);
    }
}

#[tokio::test]
async fn people_page_through_everyone_once_in_name_order() {
    let app = TestApp::spawn_seeded().await;
    let pages = walk(
        &app,
        |after| format!("{{ people(first: 5, after: {after}) {{ totalCount edges {{ cursor node {{ slug name }} }} pageInfo {{ hasNextPage hasPreviousPage endCursor }} }} }}"),
        |data| &data["people"],
    )
    .await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [5, 5, 5, 2]);
    let seen: Vec<String> = pages.concat();
    let everyone = app
        .data("{ people(first: 100) { totalCount nodes { slug } } }")
        .await;
    assert_eq!(everyone["people"]["totalCount"], 17);
    assert_eq!(seen, strings(&everyone["people"]["nodes"], |p| &p["slug"]));
    assert_eq!(
        seen.first().map(String::as_str),
        Some("armand-joulin"),
        "ordered by name"
    );
}

#[tokio::test]
async fn organization_employments_page_through_units_too() {
    let app = TestApp::spawn_seeded().await;
    let mut ids = Vec::new();
    let mut after = String::from("null");
    loop {
        let data = app
            .data(&format!(
                "{{ organization(slug: \"meta\") {{ employments(first: 4, after: {after}) {{ totalCount edges {{ cursor node {{ id }} }} pageInfo {{ hasNextPage endCursor }} }} }} }}"
            ))
            .await;
        let page = &data["organization"]["employments"];
        assert_eq!(page["totalCount"], 17);
        ids.extend(strings(&page["edges"], |e| &e["node"]["id"]));
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = format!("{}", page["pageInfo"]["endCursor"]);
    }
    let total = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!((total, ids.len()), (17, 17), "each stint exactly once");
}

#[tokio::test]
async fn the_default_page_is_twenty_and_a_hundred_is_the_most() {
    let app = TestApp::spawn().await;
    app.sql("INSERT INTO people (slug, name) SELECT 'person-' || n, 'Person ' || lpad(n::text, 3, '0') FROM generate_series(1, 130) n")
        .await;
    let data = app
        .data("{ default: people { totalCount nodes { slug } pageInfo { hasNextPage } } most: people(first: 100) { nodes { slug } } none: people(first: 0) { nodes { slug } pageInfo { hasNextPage } } }")
        .await;
    assert_eq!(data["default"]["totalCount"], 130);
    assert_eq!(data["default"]["nodes"].as_array().map(Vec::len), Some(20));
    assert_eq!(data["default"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(data["most"]["nodes"].as_array().map(Vec::len), Some(100));
    assert_eq!(
        data["none"],
        json!({ "nodes": [], "pageInfo": { "hasNextPage": true } })
    );
}

#[tokio::test]
async fn page_sizes_out_of_range_are_refused_not_clamped() {
    let app = TestApp::spawn_seeded().await;
    for query in [
        "{ people(first: 101) { totalCount } }",
        "{ people(first: -1) { totalCount } }",
        "{ organizations(first: 1000) { totalCount } }",
        "{ publications(first: 101) { totalCount } }",
        r#"{ organization(slug: "meta") { employments(first: 101) { totalCount } } }"#,
    ] {
        let response = app.graphql(query).await;
        assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{query}");
        let message = response["errors"][0]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(message.contains("between 0 and 100"), "{message}");
    }
}

#[tokio::test]
async fn a_cursor_not_from_the_list_is_bad_input() {
    let app = TestApp::spawn_seeded().await;
    for query in [
        r#"{ people(after: "garbage") { totalCount } }"#,
        r#"{ organizations(after: "WzFd") { totalCount } }"#,
        r#"{ organization(slug: "meta") { employments(after: "WyJub3QtYS1kYXRlIiwxXQ") { totalCount } } }"#,
    ] {
        let response = app.graphql(query).await;
        assert_eq!(
            error_codes(&response),
            ["BAD_USER_INPUT"],
            "{query}: {response}"
        );
    }
}

#[tokio::test]
async fn every_list_taking_first_refuses_out_of_range_values() {
    let app = TestApp::spawn_seeded().await;
    for query in [
        r#"{ organization(slug: "meta") { alumni(first: 101) { totalCount } } }"#,
        r#"{ organization(slug: "meta") { alumni(first: -1) { totalCount } } }"#,
        r#"{ organization(slug: "meta") { alumni(after: "not-a-cursor") { totalCount } } }"#,
        r#"{ organization(slug: "meta") { talentFlows(first: 0) { count } } }"#,
        r#"{ organization(slug: "meta") { talentFlows(first: 101) { count } } }"#,
        r#"{ talentFlows(from: "meta", first: -5) { count } }"#,
        r#"{ search(query: "meta", first: 0) { __typename } }"#,
        r#"{ search(query: "meta", first: 51) { __typename } }"#,
    ] {
        let response = app.graphql(query).await;
        assert_eq!(
            error_codes(&response),
            ["BAD_USER_INPUT"],
            "{query}: {response}"
        );
    }
}

/// Every page of Meta's stint listing with `arguments` (a page size, filters),
/// following `endCursor`: each page's connection with `totalCount` and the
/// `nodes` selecting `node_fields`.
async fn meta_stint_pages(app: &TestApp, arguments: &str, node_fields: &str) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut after = String::from("null");
    loop {
        let data = app
            .data(&format!(
                "{{ organization(slug: \"meta\") {{ employments({arguments}, after: {after}) {{
                    totalCount nodes {{ {node_fields} }} pageInfo {{ hasNextPage endCursor }} }} }} }}"
            ))
            .await;
        let page = data["organization"]["employments"].clone();
        let more = page["pageInfo"]["hasNextPage"] == true;
        after = format!("{}", page["pageInfo"]["endCursor"]);
        pages.push(page);
        if !more {
            return pages;
        }
    }
}

/// Stints at Meta and its units with start dates (some equal) and without:
/// the listing order is start (unknown last) then id.
const DATED_STINTS: &str = "
    INSERT INTO people (slug, name) SELECT 'dated-' || n, 'Dated ' || n FROM generate_series(1, 12) n;
    BEGIN;
    INSERT INTO employments (person_id, organization_id, is_current, started_on, started_on_precision)
    SELECT p.id, o.id, false,
           CASE WHEN n % 4 = 0 THEN NULL ELSE make_date(2010 + n % 5, 1, 1) END,
           CASE WHEN n % 4 = 0 THEN NULL ELSE 'year' END
    FROM generate_series(1, 12) n
    JOIN people p ON p.slug = 'dated-' || n
    JOIN organizations o ON o.slug = CASE WHEN n % 3 = 0 THEN 'fair' ELSE 'meta' END;
    INSERT INTO employment_sources (employment_id, source_id)
    SELECT e.id, (SELECT min(id) FROM sources) FROM employments e
    WHERE NOT EXISTS (SELECT 1 FROM employment_sources s WHERE s.employment_id = e.id);
    COMMIT;
";

#[tokio::test]
async fn dated_and_undated_stints_page_in_listing_order_at_any_page_size() {
    let app = TestApp::spawn_seeded().await;
    app.sql(DATED_STINTS).await;
    for include_units in [false, true] {
        let scope = if include_units {
            "o.id = m.id OR o.parent_id = m.id"
        } else {
            "o.id = m.id"
        };
        let expected: Vec<String> = {
            use diesel::QueryableByName;
            use diesel_async::RunQueryDsl;
            #[derive(QueryableByName)]
            struct Row {
                #[diesel(sql_type = diesel::sql_types::Text)]
                slug: String,
            }
            let rows: Vec<Row> = diesel::sql_query(format!(
                "SELECT p.slug || ':' || coalesce(e.started_on::text, '-') AS slug
                 FROM employments e JOIN people p ON p.id = e.person_id
                 JOIN organizations o ON o.id = e.organization_id
                 JOIN organizations m ON m.slug = 'meta' AND ({scope})
                 ORDER BY e.started_on NULLS LAST, e.id"
            ))
            .load(&mut app.conn().await)
            .await
            .expect("the expected order");
            rows.into_iter().map(|r| r.slug).collect()
        };
        assert!(expected.iter().any(|s| s.ends_with(":-")));
        assert!(expected.iter().any(|s| !s.ends_with(":-")));
        for page_size in [1, 2, 3, 5, 100] {
            let mut seen = Vec::new();
            let arguments = format!("first: {page_size}, includeUnits: {include_units}");
            for page in meta_stint_pages(&app, &arguments, "startedOn person { slug }").await {
                for node in page["nodes"].as_array().expect("nodes") {
                    let started = node["startedOn"]
                        .as_str()
                        .map_or("-".to_owned(), |d| format!("{d}-01-01"));
                    seen.push(format!(
                        "{}:{started}",
                        node["person"]["slug"].as_str().unwrap_or("?")
                    ));
                }
            }
            assert_eq!(
                seen, expected,
                "page size {page_size}, units {include_units}"
            );
        }
    }
}

/// A filtered listing (by status, or in progress on a day) pages like the
/// whole one: the stints of the whole listing, read at once and kept by each
/// stint's own `isCurrent` or `inProgressOn`, in the same order, at any page
/// size, with and without units. The filtered first page is read by another
/// statement than the whole listing (the page's ids from the index first).
#[tokio::test]
async fn filtered_listings_page_as_the_whole_listing_filtered() {
    let app = TestApp::spawn_seeded().await;
    app.sql(DATED_STINTS).await;
    app.sql(
        "UPDATE employments SET is_current = true WHERE person_id IN
         (SELECT id FROM people WHERE slug IN ('dated-2', 'dated-4', 'dated-5', 'dated-7', 'dated-8'))",
    )
    .await;
    const DAY: &str = "2011-06-01";
    type Keep = fn(&Value) -> bool;
    let filters: [(&str, Keep); 4] = [
        ("status: CURRENT", |n| n["isCurrent"] == true),
        ("status: FORMER", |n| n["isCurrent"] == false),
        ("at: \"2011-06-01\", atCertainty: POSSIBLY", |n| {
            n["inProgressOn"] != "NO"
        }),
        ("at: \"2011-06-01\", atCertainty: CERTAINLY", |n| {
            n["inProgressOn"] == "CERTAINLY"
        }),
    ];
    for include_units in [false, true] {
        let whole = app
            .data(&format!(
                "{{ organization(slug: \"meta\") {{ employments(first: 100, includeUnits: {include_units}) {{
                    nodes {{ id isCurrent inProgressOn(date: \"{DAY}\") }} }} }} }}"
            ))
            .await;
        let whole = whole["organization"]["employments"]["nodes"]
            .as_array()
            .expect("nodes")
            .clone();
        for (filter, keep) in filters {
            let expected: Vec<String> = whole
                .iter()
                .filter(|n| keep(n))
                .map(|n| n["id"].as_str().expect("an id").to_owned())
                .collect();
            assert!(
                !expected.is_empty() && expected.len() < whole.len(),
                "{filter} keeps some stints, not all: {} of {}",
                expected.len(),
                whole.len()
            );
            for page_size in [1, 2, 3, 100] {
                let arguments =
                    format!("first: {page_size}, {filter}, includeUnits: {include_units}");
                let mut seen = Vec::new();
                for page in meta_stint_pages(&app, &arguments, "id").await {
                    assert_eq!(page["totalCount"], expected.len(), "{filter}");
                    seen.extend(strings(&page["nodes"], |n| &n["id"]));
                }
                assert_eq!(
                    seen, expected,
                    "{filter}, page size {page_size}, units {include_units}"
                );
            }
        }
    }
}

/// A page and its `totalCount` do not depend on each other, so the count is
/// not sent after the page has come back: with the tables they read locked
/// (an unfiltered count reads `row_counts`), both of the request's statements
/// wait on a lock at the same time. The answer is the one read without the
/// lock, for a plain list, a filtered one and a nested one counted through
/// the loader.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_and_its_total_count_are_read_at_the_same_time() {
    let app = TestApp::spawn_seeded().await;
    for (query, table) in [
        (
            "{ people(first: 2) { totalCount nodes { slug } } }",
            "people, row_counts",
        ),
        (
            r#"{ people(first: 2, where: {currentlyAt: {slug: "mistral"}}) { totalCount nodes { slug } } }"#,
            "people",
        ),
        (
            r#"{ organization(slug: "meta") { employments(first: 2) { totalCount nodes { title } } } }"#,
            "employments",
        ),
    ] {
        let expected = app.data(query).await;
        let mut holder = app.conn().await;
        holder
            .batch_execute(&format!(
                "BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"
            ))
            .await
            .expect("lock");
        let request = tokio::spawn(
            reqwest::Client::new()
                .post(app.url("/graphql"))
                .json(&json!({ "query": query }))
                .send(),
        );
        let mut watcher = crate::support::establish(&app.database_url)
            .await
            .expect("connect");
        wait_for_lock_waits(&mut watcher, 2).await;
        holder.batch_execute("ROLLBACK").await.expect("unlock");
        let answer: Value = request
            .await
            .expect("the request task")
            .expect("an answer")
            .json()
            .await
            .expect("JSON");
        assert_eq!(answer["data"], expected, "{query}: {answer:#}");
    }
}
