//! People, organizations and stints on the hot paths answer their plain fields
//! in place (`graphql::eager`) instead of through async-graphql's executor.
//! Clients must not be able to tell: the same fields, values, order, errors.

use serde_json::{Value, json};

use crate::support::TestApp;

const PERSON_FIELDS: &str = "__typename id version slug name aliases bio";
const ORGANIZATION_FIELDS: &str = "__typename id version slug name kind country website foundedOn";
const EMPLOYMENT_FIELDS: &str = "__typename id version title isFounder isLeader startedOn \
     endedOn isCurrent careerPosition reportedYears";

/// One object as async-graphql's own executor answers it: `node` returns the
/// `Node` interface, whose members are resolved field by field.
async fn through_node(app: &TestApp, id: &Value, type_name: &str, fields: &str) -> Value {
    let data = app
        .data(&format!(
            r#"{{ node(id: {id}) {{ ... on {type_name} {{ {fields} }} }} }}"#
        ))
        .await;
    data["node"].clone()
}

#[tokio::test]
async fn every_plain_field_has_the_value_the_generic_executor_gives() {
    let app = TestApp::spawn_seeded().await;
    let data = app
        .data(&format!(
            "{{ people(first: 100) {{ nodes {{ {PERSON_FIELDS}
                 employments {{ {EMPLOYMENT_FIELDS} organization {{ {ORGANIZATION_FIELDS} }} }} }} }} }}"
        ))
        .await;
    let people = data["people"]["nodes"].as_array().expect("people");
    assert_eq!(people.len(), 17);
    let (mut stints, mut organizations) = (0, 0);
    for person in people {
        let mut eager = person.clone();
        let employments = eager
            .as_object_mut()
            .and_then(|p| p.remove("employments"))
            .expect("employments");
        assert_eq!(
            eager,
            through_node(&app, &person["id"], "Person", PERSON_FIELDS).await
        );
        for stint in employments.as_array().expect("a list") {
            let mut eager = stint.clone();
            let organization = eager
                .as_object_mut()
                .and_then(|s| s.remove("organization"))
                .expect("organization");
            assert_eq!(
                eager,
                through_node(&app, &stint["id"], "Employment", EMPLOYMENT_FIELDS).await
            );
            assert_eq!(
                organization,
                through_node(
                    &app,
                    &organization["id"],
                    "Organization",
                    ORGANIZATION_FIELDS
                )
                .await
            );
            stints += 1;
            organizations += 1;
        }
    }
    // Every stint of the data set, with dates, titles and founders among them.
    assert_eq!((stints, organizations), (30, 30));
    let dated = app
        .data(r#"{ person(slug: "guillaume-lample") { employments { isFounder title } } }"#)
        .await;
    assert!(
        dated["person"]["employments"]
            .as_array()
            .expect("a list")
            .iter()
            .any(|s| s["isFounder"] == true && s["title"].is_string())
    );
}

#[tokio::test]
async fn keys_come_in_the_order_of_the_selection_around_loaded_fields() {
    let app = TestApp::spawn_seeded().await;
    let body = reqwest::Client::new()
        .post(app.url("/graphql"))
        .json(&json!({ "query": r#"{ person(slug: "guillaume-lample") {
            name employments { isCurrent title } __typename first: slug id } }"# }))
        .send()
        .await
        .expect("a response")
        .text()
        .await
        .expect("a body");
    let at = |key: &str| {
        body.find(&format!("\"{key}\""))
            .unwrap_or_else(|| panic!("{key} in {body}"))
    };
    assert!(at("name") < at("employments"), "{body}");
    assert!(at("employments") < at("isCurrent"), "{body}");
    assert!(at("isCurrent") < at("title"), "{body}");
    assert!(at("title") < at("__typename"), "{body}");
    assert!(at("__typename") < at("first"), "{body}");
    assert!(at("first") < at("id"), "{body}");
}

#[tokio::test]
async fn fragments_aliases_and_repeated_keys_resolve_as_graphql_says() {
    let app = TestApp::spawn_seeded().await;
    let data = app
        .data(
            r#"
            query {
              person(slug: "guillaume-lample") {
                ...Named
                ... on Node { nodeId: id }
                ... { bio }
                employments { title }
                employments { isCurrent organization { slug } }
                employments { organization { name } }
              }
            }
            fragment Named on Person { name handle: slug }
            "#,
        )
        .await;
    let person = &data["person"];
    assert_eq!(person["name"], "Guillaume Lample");
    assert_eq!(person["handle"], "guillaume-lample");
    assert!(person["nodeId"].is_string());
    assert!(person.get("bio").is_some(), "{person}");
    // The three `employments` selections are merged into one list whose items
    // carry every field asked for, as the spec's field merging requires.
    let stints = person["employments"].as_array().expect("a list");
    assert!(!stints.is_empty());
    for stint in stints {
        assert!(stint.get("title").is_some(), "{stint}");
        assert!(stint["isCurrent"].is_boolean(), "{stint}");
        assert!(stint["organization"]["slug"].is_string(), "{stint}");
        assert!(stint["organization"]["name"].is_string(), "{stint}");
    }
}

#[tokio::test]
async fn a_failing_non_null_field_nulls_its_object_with_the_fields_path_as_the_generic_executor_does()
 {
    let app = TestApp::spawn_seeded().await;
    let selection = r#"name employments(at: "2023-01-01", certainty: NO) { title } slug"#;
    let eager = app
        .graphql(&format!(
            r#"{{ person(slug: "guillaume-lample") {{ {selection} }} }}"#
        ))
        .await;
    let id = app
        .data(r#"{ person(slug: "guillaume-lample") { id } }"#)
        .await["person"]["id"]
        .clone();
    let generic = app
        .graphql(&format!(
            r#"{{ person: node(id: {id}) {{ ... on Person {{ {selection} }} }} }}"#
        ))
        .await;
    assert_eq!(eager["data"], generic["data"]);
    // `employments` is `[Employment!]!`: its error nulls the person, the
    // nearest nullable ancestor.
    assert_eq!(eager["data"], json!({ "person": null }));
    assert_eq!(eager["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(eager["errors"][0]["path"], json!(["person", "employments"]));
    assert_eq!(eager["errors"][0]["path"], generic["errors"][0]["path"]);
}

#[tokio::test]
async fn people_read_with_a_stint_page_are_the_people_loaded_by_id() {
    let app = TestApp::spawn_seeded().await;
    let data = app
        .data(&format!(
            "{{ organizations(first: 100) {{ nodes {{
                 employments(first: 100) {{ nodes {{ person {{ {PERSON_FIELDS} }} }}
                   edges {{ node {{ person {{ slug }} }} }} }} }} }} }}"
        ))
        .await;
    let mut seen = 0;
    for organization in data["organizations"]["nodes"].as_array().expect("a list") {
        let stints = &organization["employments"];
        for (node, edge) in stints["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .zip(stints["edges"].as_array().expect("edges"))
        {
            let person = &node["person"];
            assert_eq!(
                *person,
                through_node(&app, &person["id"], "Person", PERSON_FIELDS).await
            );
            assert_eq!(edge["node"]["person"]["slug"], person["slug"]);
            seen += 1;
        }
    }
    // Every stint of the data set is listed under its organization or the
    // organization it is a unit of.
    assert!(seen >= 30, "{seen} stints");
}

#[tokio::test]
async fn a_failing_field_of_a_person_read_with_its_stint_fails_as_in_a_loaded_person() {
    let app = TestApp::spawn_seeded().await;
    let selection = r#"id title person {
        name employments(at: "2023-01-01", certainty: NO) { title } slug }"#;
    // The stint page reads its people in the same statement.
    let preloaded = app
        .graphql(&format!(
            r#"{{ organization(slug: "mistral") {{
                employments(first: 1) {{ nodes {{ {selection} }} }} }} }}"#
        ))
        .await;
    // Every type from the failing field up to `organization` is non-null.
    assert_eq!(preloaded["data"], json!({ "organization": null }));
    let id = app
        .data(r#"{ organization(slug: "mistral") { employments(first: 1) { nodes { id } } } }"#)
        .await["organization"]["employments"]["nodes"][0]["id"]
        .clone();
    assert!(id.is_string());
    // The same stint by id loads its person on its own.
    let loaded = app
        .graphql(&format!(
            r#"{{ node(id: {id}) {{ ... on Employment {{ {selection} }} }} }}"#
        ))
        .await;
    assert_eq!(loaded["data"], json!({ "node": null }));
    assert_eq!(
        preloaded["errors"][0]["message"],
        loaded["errors"][0]["message"]
    );
    assert_eq!(
        preloaded["errors"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
    assert_eq!(
        preloaded["errors"][0]["path"],
        json!([
            "organization",
            "employments",
            "nodes",
            0,
            "person",
            "employments"
        ])
    );
    assert_eq!(
        loaded["errors"][0]["path"],
        json!(["node", "person", "employments"])
    );
}
