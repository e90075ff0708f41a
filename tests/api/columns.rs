//! Lists read the columns of a stint, person or organization that a query
//! asks for (`db::columns`), and the always-read ones. Asked for, those
//! fields answer exactly as a lookup of the whole row does, and cost no
//! statement more than a list that asks for none of them.

use serde_json::Value;

use crate::support::TestApp;

/// Values that a default would not match: every person has a bio, and one
/// has aliases.
const DISTINCT_DETAILS: &str = "
    UPDATE people SET bio = 'Bio of ' || name;
    UPDATE people SET aliases = ARRAY['R. Fergus', 'Rob Fergus'] WHERE slug = 'robert-fergus';
";

/// A person, and their stints, as the lookups of whole rows answer them.
async fn person_in_full(app: &TestApp, slug: &str) -> Value {
    app.data(&format!(
        r#"{{ person(slug: "{slug}") {{
            slug aliases bio version
            employments {{ id isFounder isLeader reportedYears version }}
        }} }}"#
    ))
    .await["person"]
        .clone()
}

fn stint_in<'a>(person: &'a Value, id: &Value) -> &'a Value {
    person["employments"]
        .as_array()
        .and_then(|stints| stints.iter().find(|s| &s["id"] == id))
        .unwrap_or_else(|| panic!("stint {id} among the person's stints: {person:#}"))
}

#[tokio::test]
async fn a_stint_listing_answers_detail_fields_as_whole_rows_do_at_the_same_cost() {
    let app = TestApp::spawn_seeded().await;
    app.sql(DISTINCT_DETAILS).await;
    let listing = |fields: &str| {
        format!(
            r#"{{ organization(slug: "fair") {{ employments(first: 50) {{ nodes {{ id {fields} }} }} }} }}"#
        )
    };
    let brief = listing("title person { slug name }");
    let detailed = listing(
        "title isFounder isLeader reportedYears version person { slug name aliases bio version }",
    );

    let data = app.data(&detailed).await;
    let nodes = data["organization"]["employments"]["nodes"]
        .as_array()
        .expect("nodes")
        .clone();
    assert!(nodes.len() >= 3, "FAIR lists several stints: {nodes:#?}");
    assert!(nodes.iter().any(|n| n["isLeader"] == true));
    assert!(nodes.iter().any(|n| n["isFounder"] == true));
    assert!(nodes.iter().any(|n| n["reportedYears"].is_number()));
    for node in &nodes {
        let slug = node["person"]["slug"].as_str().expect("a person slug");
        let full = person_in_full(&app, slug).await;
        for field in ["aliases", "bio", "version"] {
            assert_eq!(node["person"][field], full[field], "{slug}'s {field}");
        }
        let stint = stint_in(&full, &node["id"]);
        for field in ["isFounder", "isLeader", "reportedYears", "version"] {
            assert_eq!(node[field], stint[field], "{slug}'s stint's {field}");
        }
    }

    let (brief_cost, detailed_cost) = (
        app.statements_for(&brief).await,
        app.statements_for(&detailed).await,
    );
    assert_eq!(
        brief_cost, detailed_cost,
        "asking for detail fields read them with the list, not one by one"
    );
}

#[tokio::test]
async fn alumni_answer_detail_fields_as_whole_rows_do_at_the_same_cost() {
    let app = TestApp::spawn_seeded().await;
    app.sql(DISTINCT_DETAILS).await;
    let alumni = |fields: &str| {
        format!(
            r#"{{ organization(slug: "meta") {{ alumni(first: 50) {{ nodes {{ slug {fields} }} }} }} }}"#
        )
    };
    let data = app.data(&alumni("name aliases bio version")).await;
    let nodes = data["organization"]["alumni"]["nodes"]
        .as_array()
        .expect("nodes")
        .clone();
    assert!(nodes.len() >= 5, "Meta has alumni: {nodes:#?}");
    for node in &nodes {
        let slug = node["slug"].as_str().expect("a slug");
        let full = person_in_full(&app, slug).await;
        for field in ["aliases", "bio", "version"] {
            assert_eq!(node[field], full[field], "{slug}'s {field}");
        }
    }

    assert_eq!(
        app.statements_for(&alumni("name")).await,
        app.statements_for(&alumni("name aliases bio version"))
            .await
    );
}

#[tokio::test]
async fn stints_answer_their_organizations_detail_fields_as_whole_rows_do_at_the_same_cost() {
    let app = TestApp::spawn_seeded().await;
    let stints = |fields: &str| {
        format!(
            r#"{{ person(slug: "robert-fergus") {{ employments {{ id organization {{ slug {fields} }} }} }} }}"#
        )
    };
    let detail = "name kind country website foundedOn version";
    let data = app
        .data(&stints(&format!("{detail} parent {{ slug }}")))
        .await;
    let nodes = data["person"]["employments"]
        .as_array()
        .expect("stints")
        .clone();
    assert!(
        nodes
            .iter()
            .any(|n| n["organization"]["parent"]["slug"] == "meta"),
        "a stint at FAIR, a unit of Meta: {nodes:#?}"
    );
    for node in &nodes {
        let slug = node["organization"]["slug"].as_str().expect("a slug");
        let full = app
            .data(&format!(
                r#"{{ organization(slug: "{slug}") {{ slug {detail} parent {{ slug }} }} }}"#
            ))
            .await;
        assert_eq!(node["organization"], full["organization"], "{slug}");
    }

    assert_eq!(
        app.statements_for(&stints("name")).await,
        app.statements_for(&stints(detail)).await
    );
}

/// Readers batched together read the union of their columns in one
/// statement (`graphql::loaders`); each still gets its own answer. (Whether two
/// root fields' keys land in one batch depends on scheduling, so no count is
/// asserted here.)
#[tokio::test]
async fn aliased_siblings_asking_different_columns_each_get_theirs() {
    let app = TestApp::spawn_seeded().await;
    let stints = |a: &str, b: &str| {
        format!(
            r#"{{ a: person(slug: "robert-fergus") {{ employments {{ id organization {{ slug {a} }} }} }}
                 b: person(slug: "robert-fergus") {{ employments {{ id organization {{ slug {b} }} }} }} }}"#
        )
    };
    let listing = |a: &str, b: &str| {
        format!(
            r#"{{ a: organization(slug: "fair") {{ employments(first: 5) {{ nodes {{ id {a} }} }} }}
                 b: organization(slug: "fair") {{ employments(first: 5) {{ nodes {{ id {b} }} }} }} }}"#
        )
    };

    let data = app.data(&stints("country", "website")).await;
    let full = app
        .data(&stints("country website", "country website"))
        .await;
    for (alias, field) in [("a", "country"), ("b", "website")] {
        let got = data[alias]["employments"].as_array().expect("stints");
        let want = full[alias]["employments"].as_array().expect("stints");
        assert_eq!(got.len(), want.len());
        for (got, want) in got.iter().zip(want) {
            assert_eq!(
                got["organization"][field], want["organization"][field],
                "{alias}: {field}"
            );
        }
    }
    let data = app
        .data(&listing("isFounder", "version person { bio }"))
        .await;
    let full = app
        .data(&listing(
            "isFounder version person { bio }",
            "isFounder version person { bio }",
        ))
        .await;
    let nodes = |data: &Value, alias: &str| data[alias]["employments"]["nodes"].clone();
    assert_eq!(
        nodes(&data, "a").as_array().map(Vec::len),
        nodes(&full, "a").as_array().map(Vec::len)
    );
    for (got, want) in nodes(&data, "b")
        .as_array()
        .expect("nodes")
        .iter()
        .zip(nodes(&full, "b").as_array().expect("nodes"))
    {
        assert_eq!(got["version"], want["version"]);
        assert_eq!(got["person"]["bio"], want["person"]["bio"]);
    }
}

/// Fields of a person and of an organization that a lookup of the whole row
/// answers; `parent` is a relation of the organization's own.
const PERSON_FIELDS: &str = "slug name aliases bio version";
const ORGANIZATION_FIELDS: &str =
    "slug name kind country website foundedOn version parent { slug }";

/// Each `node(id:)`'s `fields` (on `on`), ten to a request (the root
/// fields' limit is 20): objects read by id, never beside a list.
async fn nodes_by_id(app: &TestApp, ids: &[&Value], on: &str, fields: &str) -> Vec<Value> {
    let mut nodes = Vec::new();
    for chunk in ids.chunks(10) {
        let lookups: String = chunk
            .iter()
            .enumerate()
            .map(|(i, id)| format!("n{i}: node(id: {id}) {{ ... on {on} {{ {fields} }} }}\n"))
            .collect();
        let data = app.data(&format!("{{ {lookups} }}")).await;
        nodes.extend((0..chunk.len()).map(|i| data[format!("n{i}")].clone()));
    }
    nodes
}

/// Authorships of the article's paper with an affiliation at a unit (FAIR,
/// whose parent is Meta) and one with none.
const VARIED_AFFILIATIONS: &str = "
    UPDATE authorships SET affiliation_id = NULL WHERE position = 2;
    UPDATE authorships SET affiliation_id = (SELECT id FROM organizations WHERE slug = 'fair')
    WHERE position = 3;
";

#[tokio::test]
async fn authorships_answer_their_person_and_affiliation_as_lookups_by_id_do() {
    let app = TestApp::spawn_seeded().await;
    app.sql(DISTINCT_DETAILS).await;
    app.sql(VARIED_AFFILIATIONS).await;
    let relations =
        format!("id person {{ {PERSON_FIELDS} }} affiliation {{ {ORGANIZATION_FIELDS} }}");
    let data = app
        .data(&format!(
            r#"{{ publication(slug: "llama-2023") {{ authors {{ {relations} }} }} }}"#
        ))
        .await;
    let authors = data["publication"]["authors"]
        .as_array()
        .expect("authors")
        .clone();
    assert!(authors.len() >= 14, "{authors:#?}");
    assert!(authors.iter().any(|a| a["affiliation"].is_null()));
    assert!(
        authors
            .iter()
            .any(|a| a["affiliation"]["parent"]["slug"] == "meta")
    );
    let ids: Vec<&Value> = authors.iter().map(|a| &a["id"]).collect();
    let looked_up = nodes_by_id(&app, &ids, "Authorship", &relations).await;
    assert_eq!(authors, looked_up);

    // The same through each author's own list.
    for author in &authors {
        let slug = author["person"]["slug"].as_str().expect("a slug");
        let data = app
            .data(&format!(
                r#"{{ person(slug: "{slug}") {{ authorships {{ {relations} }} }} }}"#
            ))
            .await;
        let authorships = data["person"]["authorships"]
            .as_array()
            .expect("authorships")
            .clone();
        assert!(authorships.contains(author), "{slug}: {authorships:#?}");
        let ids: Vec<&Value> = authorships.iter().map(|a| &a["id"]).collect();
        assert_eq!(
            authorships,
            nodes_by_id(&app, &ids, "Authorship", &relations).await,
            "{slug}"
        );
    }
}

#[tokio::test]
async fn leader_stints_answer_their_person_and_organization_as_lookups_by_id_do() {
    let app = TestApp::spawn_seeded().await;
    app.sql(DISTINCT_DETAILS).await;
    let relations =
        format!("id title person {{ {PERSON_FIELDS} }} organization {{ {ORGANIZATION_FIELDS} }}");
    let data = app
        .data(&format!(
            "{{ organizations(first: 50) {{ nodes {{ leaders {{ {relations} }} }} }} }}"
        ))
        .await;
    let leaders: Vec<Value> = data["organizations"]["nodes"]
        .as_array()
        .expect("organizations")
        .iter()
        .flat_map(|o| o["leaders"].as_array().cloned().unwrap_or_default())
        .collect();
    assert!(!leaders.is_empty(), "the article names leaders: {data:#}");
    let ids: Vec<&Value> = leaders.iter().map(|l| &l["id"]).collect();
    assert_eq!(
        leaders,
        nodes_by_id(&app, &ids, "Employment", &relations).await
    );
}

/// Readers of one batch asking different relations and columns each get
/// theirs (the statement reads the union).
#[tokio::test]
async fn aliased_author_lists_asking_different_relations_each_get_theirs() {
    let app = TestApp::spawn_seeded().await;
    app.sql(DISTINCT_DETAILS).await;
    app.sql(VARIED_AFFILIATIONS).await;
    let pair = |a: &str, b: &str| {
        format!(
            r#"{{ a: publication(slug: "llama-2023") {{ authors {{ id {a} }} }}
                 b: publication(slug: "llama-2023") {{ authors {{ id {b} }} }} }}"#
        )
    };
    let (a, b) = (
        "person { bio }",
        "person { aliases } affiliation { country parent { slug } }",
    );
    let data = app.data(&pair(a, b)).await;
    let alone_a = app.data(&pair(a, "")).await;
    let alone_b = app.data(&pair("", b)).await;
    assert_eq!(data["a"], alone_a["a"]);
    assert_eq!(data["b"], alone_b["b"]);
    assert!(
        data["a"]["authors"][0]["person"]["bio"]
            .as_str()
            .is_some_and(|bio| bio.starts_with("Bio of")),
        "{data:#}"
    );
}

#[tokio::test]
async fn a_persons_stints_answer_their_person_and_organization_as_lookups_by_id_do() {
    let app = TestApp::spawn_seeded().await;
    app.sql(DISTINCT_DETAILS).await;
    let relations =
        format!("id title person {{ {PERSON_FIELDS} }} organization {{ {ORGANIZATION_FIELDS} }}");
    for slug in ["robert-fergus", "hugo-touvron"] {
        let data = app
            .data(&format!(
                r#"{{ person(slug: "{slug}") {{ employments {{ {relations} }} currentEmployments {{ {relations} }} }} }}"#
            ))
            .await;
        for list in ["employments", "currentEmployments"] {
            let stints = data["person"][list].as_array().expect("stints").clone();
            assert!(!stints.is_empty(), "{slug}'s {list}");
            let ids: Vec<&Value> = stints.iter().map(|s| &s["id"]).collect();
            assert_eq!(
                stints,
                nodes_by_id(&app, &ids, "Employment", &relations).await,
                "{slug}'s {list}"
            );
        }
    }
}

/// Rows are read by column name (`QueryableByName`), through an index of
/// the result's names built once (vendor/diesel-async, patch 3): a name
/// finds its column whatever the order, the first of a repeated name wins
/// as a scan from the start would, and a column the statement left out
/// reads as absent, on every row of the result.
#[tokio::test]
async fn rows_read_by_column_name_find_each_column_and_miss_the_left_out_ones() {
    use diesel::QueryableByName;
    use diesel::sql_types::{BigInt, Text};
    use diesel_async::RunQueryDsl;
    use talentgraph::db::columns::Prefixed;
    use talentgraph::db::organizations::OrganizationRead;

    #[derive(QueryableByName)]
    struct Named {
        #[diesel(sql_type = Text)]
        slug: String,
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(embed)]
        organization: Prefixed<OrganizationRead>,
    }

    let app = TestApp::spawn().await;
    let mut conn = app.conn().await;
    let rows: Vec<Named> = diesel::sql_query(
        "SELECT 'org-' || n AS org_slug, n AS id, 'p-' || n AS slug, -n AS id,
                n * 10 AS org_id, 'Org ' || n AS org_name, 'LAB' AS org_kind
         FROM generate_series(1::bigint, 3) AS n",
    )
    .load(&mut conn)
    .await
    .expect("the statement runs and its rows decode by name");

    assert_eq!(rows.len(), 3);
    for (n, row) in (1..).zip(&rows) {
        assert_eq!(row.slug, format!("p-{n}"));
        assert_eq!(row.id, n, "the first column named id");
        let organization = row.organization.0.as_ref().expect("org_id was read");
        assert_eq!(organization.id, n * 10);
        assert_eq!(organization.slug, format!("org-{n}"));
        assert_eq!(organization.name, format!("Org {n}"));
        assert_eq!(organization.kind.as_deref(), Some("LAB"));
        assert_eq!(organization.country, None, "org_country was left out");
        assert_eq!(organization.version, None, "org_version was left out");
    }
}

/// Pages of publications and the lookup by slug read the columns their
/// selection asks for; asked for, the detail fields answer as the whole row
/// (`node(id:)`) does, read beside the author lists or alone, and cost no
/// statement more than a selection without them.
#[tokio::test]
async fn publications_answer_detail_fields_as_whole_rows_do_at_the_same_cost() {
    let app = TestApp::spawn_seeded().await;
    app.sql(
        "INSERT INTO publications (slug, title, venue, url, published_on, published_on_precision)
         VALUES ('second-paper', 'A second paper', 'NeurIPS', 'https://example.org/2', '2024-05-01', 'month'),
                ('third-paper', 'A third paper', NULL, NULL, NULL, NULL);
         UPDATE publications SET version = version + 2 WHERE slug = 'second-paper';",
    )
    .await;
    let detail = "venue url publishedOn version";
    let in_full = |id: &Value| {
        format!(r#"{{ node(id: {id}) {{ ... on Publication {{ slug title {detail} }} }} }}"#)
    };
    let shapes = |fields: &str| {
        [
            format!("{{ publications(first: 10) {{ nodes {{ id slug {fields} }} }} }}"),
            format!(
                "{{ publications(first: 10) {{ nodes {{ id slug {fields} authors {{ position }} }} }} }}"
            ),
            format!(r#"{{ publication(slug: "second-paper") {{ id slug {fields} }} }}"#),
            format!(
                r#"{{ publication(slug: "second-paper") {{ id slug {fields} authors {{ person {{ slug }} }} }} }}"#
            ),
        ]
    };
    let mut seen = 0;
    for (brief, detailed) in shapes("title")
        .into_iter()
        .zip(shapes(&format!("title {detail}")))
    {
        let data = app.data(&detailed).await;
        let publications = match data.get("publications") {
            Some(page) => page["nodes"].as_array().expect("nodes").clone(),
            None => vec![data["publication"].clone()],
        };
        assert!(!publications.is_empty(), "{detailed}: {data:#}");
        for publication in &publications {
            let full = app.data(&in_full(&publication["id"])).await["node"].clone();
            for field in ["title", "venue", "url", "publishedOn", "version"] {
                assert_eq!(publication[field], full[field], "{detailed}: {field}");
            }
            seen += usize::from(publication["slug"] == "second-paper");
        }
        assert_eq!(
            app.statements_for(&brief).await,
            app.statements_for(&detailed).await,
            "{detailed}: the detail fields read with the publications"
        );
    }
    assert_eq!(seen, 4, "every shape answered for the paper with details");
    let second = app
        .data(r#"{ publication(slug: "second-paper") { venue url publishedOn } }"#)
        .await;
    assert_eq!(
        second["publication"],
        serde_json::json!({"venue": "NeurIPS", "url": "https://example.org/2",
                           "publishedOn": "2024-05"})
    );
}
