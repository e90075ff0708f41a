//! No N+1: the SQL statements a request costs do not grow with the rows it returns.

use crate::support::TestApp;

/// 40 more people, each with a stint at FAIR and a current one at Mistral,
/// cited, and an authorship: enough rows for page sizes to matter.
const MORE_PEOPLE: &str = "
    BEGIN;
    INSERT INTO people (slug, name) SELECT 'extra-' || n, 'Extra ' || lpad(n::text, 2, '0') FROM generate_series(1, 40) n;
    INSERT INTO employments (person_id, organization_id, is_current, career_position)
    SELECT p.id, o.id, o.slug = 'mistral', CASE o.slug WHEN 'fair' THEN 1 ELSE 2 END
    FROM people p CROSS JOIN organizations o
    WHERE p.slug LIKE 'extra-%' AND o.slug IN ('fair', 'mistral');
    INSERT INTO employment_sources (employment_id, source_id)
    SELECT e.id, (SELECT min(id) FROM sources) FROM employments e
    JOIN people p ON p.id = e.person_id WHERE p.slug LIKE 'extra-%';
    INSERT INTO authorships (publication_id, person_id, position, affiliation_id)
    SELECT (SELECT id FROM publications), p.id, 100 + row_number() OVER (ORDER BY p.id), NULL
    FROM people p WHERE p.slug LIKE 'extra-%';
    INSERT INTO authorship_sources (authorship_id, source_id)
    SELECT a.id, (SELECT min(id) FROM sources) FROM authorships a WHERE a.position > 100;
    COMMIT;
";

/// organizations -> units, founders, stints -> sources, person -> stints ->
/// organization -> parent; person -> authorships -> publication, sources.
/// Each relation appears at one place in the tree, so each is one batch.
fn nested_query(page: usize) -> String {
    format!(
        r#"{{
            organizations(first: {page}) {{
                totalCount
                nodes {{
                    name units {{ name }} founders {{ name }}
                    employments(first: {page}) {{
                        totalCount
                        nodes {{
                            title sources {{ url }}
                            person {{
                                name
                                employments {{ organization {{ name parent {{ name }} }} }}
                                authorships {{ position publication {{ title }} sources {{ url }} }}
                            }}
                        }}
                    }}
                }}
            }}
        }}"#
    )
}

#[tokio::test]
async fn a_nested_query_costs_the_same_statements_at_any_page_size() {
    let app = TestApp::spawn_seeded().await;
    app.sql(MORE_PEOPLE).await;
    // 30 per page (30 organizations x 30 stints x their nested lists) is about
    // as much as the cost limit lets one query ask for (docs/limits.md).
    let small_page = app.data(&nested_query(3)).await;
    let large_page = app.data(&nested_query(30)).await;
    let stints = |data: &serde_json::Value| -> usize {
        data["organizations"]["nodes"]
            .as_array()
            .map(|orgs| {
                orgs.iter()
                    .map(|o| o["employments"]["nodes"].as_array().map_or(0, Vec::len))
                    .sum()
            })
            .unwrap_or(0)
    };
    assert!(
        stints(&large_page) > 10 * stints(&small_page),
        "the large page returns many more rows"
    );

    let small = app.statements_for(&nested_query(3)).await;
    let large = app.statements_for(&nested_query(30)).await;
    assert_eq!(
        small, large,
        "statements grew with the page size: {small} at 3 per page, {large} at 30"
    );
    // organizations (with their units) + count, founders, stint page (with
    // its people and their stints' sources) + count, the people's stints
    // (with their organizations), parents, authorships, publications,
    // authorship sources: one statement each.
    assert_eq!(large, 10);
}

/// The analytic fields nested under lists, each relation at one place.
fn analytics_queries(page: usize, publications: usize) -> [String; 3] {
    [
        format!(
            r#"{{ organizations(first: {page}) {{ nodes {{
                alumni(first: {page}) {{ totalCount nodes {{ name }} }}
                talentFlows {{ count people {{ name }} }}
            }} }} }}"#
        ),
        format!(
            r#"{{ organizations(first: {page}) {{ nodes {{
                inbound: talentFlows(direction: INBOUND) {{ count }}
                leaders {{ title person {{ name }} }}
            }} }} }}"#
        ),
        format!(
            r#"{{ publications(first: {publications}) {{ nodes {{
                retention(organization: "meta") {{ total stayed {{ name }} destinations {{ count }} }}
            }} }} }}"#
        ),
    ]
}

#[tokio::test]
async fn alumni_flows_leaders_and_retention_cost_the_same_statements_at_any_page_size() {
    let app = TestApp::spawn_seeded().await;
    app.sql(MORE_PEOPLE).await;
    // A second publication with a Meta-affiliated cohort, so that page sizes differ in rows.
    app.sql(
        "BEGIN;
         INSERT INTO publications (slug, title) VALUES ('another-paper', 'Another Paper');
         INSERT INTO authorships (publication_id, person_id, position, affiliation_id)
         SELECT (SELECT id FROM publications WHERE slug = 'another-paper'), p.id, row_number() OVER (ORDER BY p.id),
                (SELECT id FROM organizations WHERE slug = 'fair')
         FROM people p WHERE p.slug LIKE 'extra-%';
         INSERT INTO authorships (publication_id, person_id, position, affiliation_id)
         SELECT (SELECT id FROM publications WHERE slug = 'another-paper'), id, 1000,
                (SELECT id FROM organizations WHERE slug = 'meta')
         FROM people WHERE slug = 'hugo-touvron';
         INSERT INTO authorship_sources (authorship_id, source_id)
         SELECT a.id, (SELECT min(id) FROM sources) FROM authorships a
         WHERE a.publication_id = (SELECT id FROM publications WHERE slug = 'another-paper');
         COMMIT;",
    )
    .await;
    // Three organizations (Anthropic, Cohere, FAIR) and one publication
    // already touch every relation; the large pages return every row.
    for (small, large) in analytics_queries(3, 1)
        .iter()
        .zip(analytics_queries(60, 60).iter())
    {
        let small_count = app.statements_for(small).await;
        let large_count = app.statements_for(large).await;
        assert_eq!(
            small_count, large_count,
            "statements grew with the page size in {large}"
        );
        assert!(large_count <= 8, "{large_count} statements for {large}");
    }
}

#[tokio::test]
async fn sibling_lookups_of_one_kind_are_one_statement() {
    let app = TestApp::spawn_seeded().await;
    let one = app
        .statements_for(r#"{ publication(slug: "llama-2023") { authors { person { name } } } }"#)
        .await;
    let with_people_and_orgs = app
        .statements_for(r#"{ publication(slug: "llama-2023") { authors { person { name currentEmployments { organization { name } } } } } }"#)
        .await;
    // The publication with its authorships, their people, and the people's
    // stints with their organizations: one statement.
    assert_eq!(one, 1);
    assert_eq!(with_people_and_orgs, 1);
}

/// An authorship's person and affiliation, a stint's person and
/// organization (of leaders, of a person's own list): to-one relations read
/// by the statement of the list that holds them, whichever way the list is
/// reached, so asking for them costs no statement.
#[tokio::test]
async fn to_one_relations_beside_a_list_cost_no_statement_of_their_own() {
    let app = TestApp::spawn_seeded().await;
    app.sql(MORE_PEOPLE).await;
    // One author without an affiliation: the join still lists them.
    app.sql("UPDATE authorships SET affiliation_id = NULL WHERE position = 2")
        .await;
    let by_publication = |fields: &str| {
        format!(
            r#"{{ publication(slug: "llama-2023") {{ title authors {{ position {fields} }} }} }}"#
        )
    };
    let by_person = |fields: &str| {
        format!(
            r#"{{ person(slug: "hugo-touvron") {{ name authorships {{ position {fields} }} }} }}"#
        )
    };
    // The publication with its authorships (read ahead), or the person and
    // their authorships: with whatever the authorships relate to.
    type Query = fn(&str) -> String;
    let lists: [(Query, u64); 2] = [(by_publication, 1), (by_person, 2)];
    for (list, statements) in lists {
        let alone = app.statements_for(&list("")).await;
        assert_eq!(alone, statements, "{}", list(""));
        for fields in [
            "person { name }",
            "affiliation { name }",
            "person { slug name bio } affiliation { name kind country }",
        ] {
            let joined = list(fields);
            // Each relation used to cost a lookup of its own: one statement
            // more per relation asked for.
            assert_eq!(app.statements_for(&joined).await, alone, "{joined}");
        }
    }
    let authors = app
        .data(&by_publication("person { name } affiliation { name }"))
        .await;
    let authors = authors["publication"]["authors"]
        .as_array()
        .expect("authors")
        .clone();
    assert!(authors.len() > 40, "{authors:?}");
    assert!(authors.iter().any(|a| a["affiliation"].is_null()));
    assert!(authors.iter().all(|a| a["person"]["name"].is_string()));

    let leaders = |fields: &str| {
        format!(
            r#"{{ organizations(first: 50) {{ nodes {{ name leaders {{ title {fields} }} }} }} }}"#
        )
    };
    // The organizations; their leader stints, with their relations.
    assert_eq!(app.statements_for(&leaders("")).await, 2);
    assert_eq!(app.statements_for(&leaders("person { name bio }")).await, 2);
    assert_eq!(
        app.statements_for(&leaders("person { name } organization { kind }"))
            .await,
        2
    );

    // A person's own stints: read with the person, organizations and all;
    // the stints' people (the person again, under the same prefix) in a
    // statement of their own.
    let stints = |fields: &str| {
        format!(
            r#"{{ person(slug: "extra-1") {{ name employments {{ title {fields} }} currentEmployments {{ title {fields} }} }} }}"#
        )
    };
    for (fields, statements) in [
        ("", 1),
        ("organization { name }", 1),
        ("person { name bio }", 2),
        ("organization { name } person { slug }", 2),
    ] {
        assert_eq!(
            app.statements_for(&stints(fields)).await,
            statements,
            "{fields}"
        );
    }
    // Lists that ask for different relations each read their own.
    let different = r#"{ person(slug: "extra-1") { employments { title } currentEmployments { organization { name } } } }"#;
    assert_eq!(app.statements_for(different).await, 3);
}

/// The benchmark's shapes (bench/queries/talentgraph): a relation read
/// with the rows that point to it costs no statement of its own.
#[tokio::test]
async fn the_benchmark_shapes_read_each_level_with_its_relations() {
    let app = TestApp::spawn_seeded().await;
    app.sql(MORE_PEOPLE).await;
    let query = |name: &str| {
        std::fs::read_to_string(format!("bench/queries/talentgraph/{name}.graphql"))
            .expect("a benchmark query")
    };
    let person = app
        .graphql_with(&query("a_person"), serde_json::json!({ "slug": "extra-1" }))
        .await;
    assert_eq!(
        person["data"]["person"]["employments"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{person}"
    );
    let before = app.statements.get();
    app.graphql_with(&query("a_person"), serde_json::json!({ "slug": "extra-1" }))
        .await;
    // The person with their stints and the stints' organizations.
    assert_eq!(app.statements.get() - before, 1);

    let before = app.statements.get();
    let orgs = app.graphql(&query("b_orgs_nested")).await;
    assert!(orgs.get("errors").is_none(), "{orgs}");
    // The organizations; the stint pages with their people.
    assert_eq!(app.statements.get() - before, 2);

    let before = app.statements.get();
    let alumni = app
        .graphql_with(&query("c_alumni"), serde_json::json!({ "org": "fair" }))
        .await;
    assert!(
        alumni["data"]["organization"]["alumni"]["nodes"]
            .as_array()
            .is_some_and(|a| a.len() >= 40),
        "{alumni}"
    );
    // The organization; the alumni page with their stints and the stints'
    // organizations.
    assert_eq!(app.statements.get() - before, 2);

    let before = app.statements.get();
    let authorships = app
        .graphql_with(
            &query("i_authorships"),
            serde_json::json!({ "pub": "llama-2023" }),
        )
        .await;
    let authors = &authorships["data"]["publication"]["authors"];
    // More than 30 authors: resolved by async-graphql's own executor, a
    // list that long split each of its relations' batches into pairs (90
    // statements here before its items were resolved in place).
    assert!(
        authors.as_array().is_some_and(|a| a.len() > 40),
        "{authorships}"
    );
    assert_eq!(authors[0]["affiliation"]["name"], "Meta", "{authorships}");
    // The publication with its authorships, their people and affiliations,
    // their sources, and the people's stints with organizations: one
    // statement (three before the grandchild lists were read ahead).
    assert_eq!(app.statements.get() - before, 1);

    let before = app.statements.get();
    let leaders = app.graphql(&query("f_founders_leaders")).await;
    assert!(leaders.get("errors").is_none(), "{leaders}");
    // The organizations with their founders; their leader stints with
    // people.
    assert_eq!(app.statements.get() - before, 2);
}
