//! References (`OrganizationRef`, `PersonRef`, `PublicationRef`,
//! `SourceRef`): every argument that names an entity takes its id or its
//! natural key, in reads and writes; the arguments they replaced still work.

use serde_json::{Value, json};

use crate::support::{TestApp, error_codes};

fn errors_free(response: &Value) -> &Value {
    assert!(
        response.get("errors").is_none(),
        "unexpected errors: {response:#}"
    );
    &response["data"]
}

async fn id_of(app: &TestApp, field: &str, slug: &str) -> String {
    let data = app
        .data(&format!(
            r#"{{ x: {field}(ref: {{slug: "{slug}"}}) {{ id }} }}"#
        ))
        .await;
    data["x"]["id"].as_str().expect("an id").to_owned()
}

fn names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| p["name"].as_str().expect("a name").to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn retention_is_callable_with_an_organization_id_and_agrees_with_the_slug() {
    let app = TestApp::spawn_seeded().await;
    let meta = id_of(&app, "organization", "meta").await;
    let by_id = app
        .graphql_with(
            r#"query($meta: ID!) { publication(ref: {slug: "llama-2023"}) {
                retention(of: {id: $meta}) { organization { slug } total stayed { name } left { name } } } }"#,
            json!({ "meta": meta }),
        )
        .await;
    let by_slug = app
        .data(
            r#"{ publication(slug: "llama-2023") {
                retention(organization: "meta") { organization { slug } total stayed { name } left { name } } } }"#,
        )
        .await;
    let retention = &errors_free(&by_id)["publication"]["retention"];
    assert_eq!(retention["organization"]["slug"], "meta");
    assert_eq!(retention["total"], 14);
    assert_eq!(names(&retention["stayed"]).len(), 3);
    assert_eq!(names(&retention["left"]).len(), 11);
    assert_eq!(retention, &by_slug["publication"]["retention"]);
}

#[tokio::test]
async fn root_lookups_take_an_id_or_a_slug_and_answer_null_for_nothing() {
    let app = TestApp::spawn_seeded().await;
    let lample = id_of(&app, "person", "guillaume-lample").await;
    let llama = id_of(&app, "publication", "llama-2023").await;
    let data = errors_free(
        &app.graphql_with(
            r#"query($p: ID!, $pub: ID!) {
                byId: person(ref: {id: $p}) { slug }
                bySlug: person(ref: {slug: "guillaume-lample"}) { id }
                old: person(slug: "guillaume-lample") { id }
                nobody: person(ref: {slug: "no-such-person"}) { id }
                paper: publication(ref: {id: $pub}) { slug }
                unit: organization(ref: {slug: "fair"}) { parent { slug } }
            }"#,
            json!({ "p": lample, "pub": llama }),
        )
        .await,
    )
    .clone();
    assert_eq!(data["byId"]["slug"], "guillaume-lample");
    assert_eq!(data["bySlug"]["id"], lample.as_str());
    assert_eq!(data["old"]["id"], lample.as_str());
    assert_eq!(data["nobody"], Value::Null);
    assert_eq!(data["paper"]["slug"], "llama-2023");
    assert_eq!(data["unit"]["parent"]["slug"], "meta");
}

#[tokio::test]
async fn a_reference_of_the_wrong_kind_or_to_nothing_is_a_typed_error() {
    let app = TestApp::spawn_seeded().await;
    let lample = id_of(&app, "person", "guillaume-lample").await;
    let wrong_kind = app
        .graphql_with(
            r#"query($p: ID!) { organization(ref: {id: $p}) { slug } }"#,
            json!({ "p": lample }),
        )
        .await;
    assert_eq!(error_codes(&wrong_kind), ["BAD_USER_INPUT"]);
    assert!(
        wrong_kind["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("is the id of a Person, not of an Organization")),
        "{wrong_kind:#}"
    );

    let missing = app
        .graphql(
            r#"{ publication(ref: {slug: "llama-2023"}) { retention(of: {slug: "no-such-org"}) { total } } }"#,
        )
        .await;
    assert_eq!(error_codes(&missing), ["NOT_FOUND"]);
    assert!(
        missing["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains(r#"no Organization has the slug "no-such-org""#)),
        "{missing:#}"
    );

    let both = app
        .graphql(r#"{ person(slug: "guillaume-lample", ref: {slug: "guillaume-lample"}) { id } }"#)
        .await;
    assert_eq!(error_codes(&both), ["BAD_USER_INPUT"]);
    let neither = app.graphql(r#"{ person { id } }"#).await;
    assert_eq!(error_codes(&neither), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn a_reference_names_exactly_one_key() {
    let app = TestApp::spawn_seeded().await;
    let two = app
        .graphql(r#"{ person(ref: {id: "x", slug: "guillaume-lample"}) { id } }"#)
        .await;
    assert_eq!(two["data"], Value::Null, "{two:#}");
    assert!(!error_codes(&two).is_empty());
    let none = app
        .graphql_with(
            r#"query($r: PersonRef!) { person(ref: $r) { id } }"#,
            json!({ "r": {} }),
        )
        .await;
    assert_eq!(none.get("data"), None, "{none:#}");
    assert!(!error_codes(&none).is_empty());
}

#[tokio::test]
async fn talent_flows_take_references_for_both_ends() {
    let app = TestApp::spawn_seeded().await;
    let meta = id_of(&app, "organization", "meta").await;
    let data = errors_free(
        &app.graphql_with(
            r#"query($meta: ID!) {
                new: talentFlows(leaving: {id: $meta}, joining: {slug: "mistral"}) { count people { name } }
                old: talentFlows(from: "meta", to: "mistral") { count people { name } }
            }"#,
            json!({ "meta": meta }),
        )
        .await,
    )
    .clone();
    assert_eq!(data["new"][0]["count"], 5);
    assert_eq!(data["new"], data["old"]);
}

#[tokio::test]
async fn references_at_one_level_are_looked_up_in_one_statement() {
    let app = TestApp::spawn_seeded().await;
    let meta = id_of(&app, "organization", "meta").await;
    let one = app
        .statements_for(
            r#"{ publication(slug: "llama-2023") { a: retention(of: {slug: "meta"}) { total } } }"#,
        )
        .await;
    let three = app
        .statements_for(&format!(
            r#"{{ publication(slug: "llama-2023") {{
                a: retention(of: {{slug: "meta"}}) {{ total }}
                b: retention(of: {{id: "{meta}"}}) {{ total }}
                c: retention(of: {{slug: "fair"}}) {{ total }}
            }} }}"#
        ))
        .await;
    assert_eq!(one, three, "three references cost what one does");
}

const ADD_EMPLOYMENT: &str = "mutation($input: AddEmploymentInput!) {
    addEmployment(input: $input) { employment { person { slug } organization { slug } sources { url } } } }";

#[tokio::test]
async fn writes_take_references_and_the_deprecated_ids_still_work() {
    let app = TestApp::spawn_seeded().await;
    let editor = app.token("editor").await;
    let mistral = id_of(&app, "organization", "mistral").await;
    let arxiv = "https://arxiv.org/abs/2302.13971";
    let by_ref = app
        .graphql_as(
            &editor,
            ADD_EMPLOYMENT,
            json!({ "input": {
                "person": { "slug": "hugo-touvron" },
                "organization": { "id": mistral },
                "title": "Advisor",
                "sources": [{ "url": arxiv }],
            } }),
        )
        .await;
    let employment = &errors_free(&by_ref)["addEmployment"]["employment"];
    assert_eq!(
        employment,
        &json!({ "person": { "slug": "hugo-touvron" }, "organization": { "slug": "mistral" },
                 "sources": [{ "url": arxiv }] })
    );

    let person = id_of(&app, "person", "hugo-touvron").await;
    let source = app
        .data(r#"{ publication(slug: "llama-2023") { authors { sources { id } } } }"#)
        .await["publication"]["authors"][0]["sources"][0]["id"]
        .clone();
    let by_ids = app
        .graphql_as(
            &editor,
            ADD_EMPLOYMENT,
            json!({ "input": { "personId": person, "organizationId": mistral, "sourceIds": [source] } }),
        )
        .await;
    assert_eq!(
        errors_free(&by_ids)["addEmployment"]["employment"]["organization"]["slug"],
        "mistral"
    );
}

#[tokio::test]
async fn a_write_naming_nothing_or_naming_twice_is_refused_with_its_field() {
    let app = TestApp::spawn_seeded().await;
    let editor = app.token("editor").await;
    let mistral = id_of(&app, "organization", "mistral").await;
    let arxiv = json!([{ "url": "https://arxiv.org/abs/2302.13971" }]);
    let nobody = app
        .graphql_as(
            &editor,
            ADD_EMPLOYMENT,
            json!({ "input": { "person": { "slug": "nobody" }, "organization": { "id": mistral }, "sources": arxiv } }),
        )
        .await;
    assert_eq!(error_codes(&nobody), ["NOT_FOUND"]);
    assert!(
        nobody["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains(r#"input.person: no Person has the slug "nobody""#)),
        "{nobody:#}"
    );
    let unknown_source = app
        .graphql_as(
            &editor,
            ADD_EMPLOYMENT,
            json!({ "input": { "person": { "slug": "hugo-touvron" }, "organization": { "slug": "mistral" },
                               "sources": [{ "url": "https://arxiv.org/abs/2302.13971" }, { "url": "https://nowhere.example" }] } }),
        )
        .await;
    assert_eq!(error_codes(&unknown_source), ["NOT_FOUND"]);
    assert!(
        unknown_source["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("input.sources.1:")),
        "{unknown_source:#}"
    );
    let twice = app
        .graphql_as(
            &editor,
            ADD_EMPLOYMENT,
            json!({ "input": { "person": { "slug": "hugo-touvron" }, "personId": mistral,
                               "organization": { "slug": "mistral" }, "sources": arxiv } }),
        )
        .await;
    assert_eq!(error_codes(&twice), ["BAD_USER_INPUT"]);
    assert_eq!(twice["errors"][0]["extensions"]["field"], "input.person");
    let neither = app
        .graphql_as(
            &editor,
            ADD_EMPLOYMENT,
            json!({ "input": { "organization": { "slug": "mistral" }, "sources": arxiv } }),
        )
        .await;
    assert_eq!(error_codes(&neither), ["BAD_USER_INPUT"]);
    assert_eq!(neither["errors"][0]["extensions"]["field"], "input.person");
}

#[tokio::test]
async fn units_and_authorships_are_written_by_reference() {
    let app = TestApp::spawn_seeded().await;
    let editor = app.token("editor").await;
    let unit = app
        .graphql_as(
            &editor,
            "mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) {
                organization { slug parent { slug } } } }",
            json!({ "input": { "slug": "mistral-research", "name": "Mistral Research", "kind": "RESEARCH_LAB",
                               "parent": { "slug": "mistral" } } }),
        )
        .await;
    assert_eq!(
        errors_free(&unit)["createOrganization"]["organization"]["parent"]["slug"],
        "mistral"
    );
    let added = app
        .graphql_as(
            &editor,
            "mutation($input: AddAuthorshipInput!) { addAuthorship(input: $input) {
                authorship { position person { slug } publication { slug } affiliation { slug } } } }",
            json!({ "input": { "publication": { "slug": "llama-2023" }, "person": { "slug": "arthur-mensch" },
                               "position": 15, "affiliation": { "slug": "mistral-research" },
                               "sources": [{ "url": "https://arxiv.org/abs/2302.13971" }] } }),
        )
        .await;
    assert_eq!(
        errors_free(&added)["addAuthorship"]["authorship"],
        json!({ "position": 15, "person": { "slug": "arthur-mensch" },
                "publication": { "slug": "llama-2023" }, "affiliation": { "slug": "mistral-research" } })
    );
}

#[tokio::test]
async fn replaced_arguments_are_deprecated_with_a_reason() {
    let app = TestApp::spawn_seeded().await;
    let data = app
        .data(
            r#"{ __type(name: "Publication") { fields { name args(includeDeprecated: true) {
                name isDeprecated deprecationReason } } } }"#,
        )
        .await;
    let retention = data["__type"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|f| f["name"] == "retention")
        .expect("retention")
        .clone();
    assert_eq!(
        retention["args"],
        json!([
            { "name": "organization", "isDeprecated": true,
              "deprecationReason": "Use `of: {slug: …}`, which also takes an id." },
            { "name": "of", "isDeprecated": false, "deprecationReason": null }
        ])
    );
}
