//! What a code generator reads: scalars that say what they hold
//! (`@specifiedBy`), timestamps typed `DateTime`, and a `certainty:` filter
//! whose type admits only what it can mean.

use serde_json::{Value, json};

use crate::support::{TestApp, error_codes};

#[tokio::test]
async fn date_scalars_are_described_and_specified() {
    let app = TestApp::spawn_seeded().await;
    for name in ["Date", "PartialDate", "DateTime"] {
        let data = app
            .data(&format!(
                r#"{{ __type(name: "{name}") {{ kind description specifiedByURL }} }}"#
            ))
            .await;
        let ty = &data["__type"];
        assert_eq!(ty["kind"], "SCALAR", "{name}");
        assert!(
            ty["description"].as_str().is_some_and(|d| d.len() > 20),
            "{name}: {ty}"
        );
        assert!(
            ty["specifiedByURL"]
                .as_str()
                .is_some_and(|u| u.starts_with("https://www.rfc-editor.org/rfc/rfc3339")),
            "{name}: {ty}"
        );
    }
}

#[tokio::test]
async fn timestamps_come_typed_as_date_time_beside_the_deprecated_strings() {
    let app = TestApp::spawn_seeded().await;
    let admin = app.token("admin").await;
    let answer = app
        .graphql_as(
            &admin,
            "{ apiTokens { createdAt createdTimestamp revokedAt revokedTimestamp } }",
            json!({}),
        )
        .await;
    let token = &answer["data"]["apiTokens"][0];
    let timestamp = token["createdTimestamp"].as_str().expect("a DateTime");
    let parsed = chrono::DateTime::parse_from_rfc3339(timestamp).expect("RFC 3339");
    assert_eq!(
        token["createdAt"].as_str(),
        Some(parsed.to_rfc3339().as_str())
    );
    assert_eq!(token["revokedTimestamp"], Value::Null);

    assert_replaced_by_a_date_time(&app, "ApiToken", "createdAt", "createdTimestamp").await;
}

/// `old` is deprecated on `type_name`, and `new` beside it is a `DateTime!`.
async fn assert_replaced_by_a_date_time(app: &TestApp, type_name: &str, old: &str, new: &str) {
    let fields = app
        .data(&format!(
            r#"{{ __type(name: "{type_name}") {{ fields(includeDeprecated: true) {{
                name isDeprecated type {{ kind ofType {{ name }} }} }} }} }}"#
        ))
        .await;
    let field = |name: &str| {
        fields["__type"]["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .find(|f| f["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{type_name}.{name}"))
    };
    assert_eq!(field(old)["isDeprecated"], true, "{type_name}.{old}");
    assert_eq!(field(new)["type"]["kind"], "NON_NULL", "{type_name}.{new}");
    assert_eq!(field(new)["type"]["ofType"]["name"], "DateTime");
}

#[tokio::test]
async fn the_change_feed_gives_its_time_typed_as_date_time_too() {
    let app = TestApp::spawn_seeded().await;
    let data = app
        .data("{ changes(first: 1) { edges { node { changedAt changedTimestamp } } } }")
        .await;
    let change = &data["changes"]["edges"][0]["node"];
    let typed = chrono::DateTime::parse_from_rfc3339(
        change["changedTimestamp"].as_str().expect("a DateTime"),
    )
    .expect("RFC 3339");
    let text = chrono::DateTime::parse_from_rfc3339(change["changedAt"].as_str().expect("text"))
        .expect("RFC 3339");
    assert_eq!(typed, text, "the same instant: {change:#}");

    assert_replaced_by_a_date_time(&app, "Change", "changedAt", "changedTimestamp").await;
}

#[tokio::test]
async fn at_certainty_takes_only_what_it_can_mean() {
    let app = TestApp::spawn_seeded().await;
    let refused = app
        .graphql(
            r#"{ organization(slug: "meta") { employments(at: "2023-01-01", atCertainty: NO) { totalCount } } }"#,
        )
        .await;
    // Refused before execution as a bad literal, like any value outside its type.
    assert_eq!(error_codes(&refused), ["BAD_USER_INPUT"]);
    assert_eq!(refused.get("data"), None, "nothing ran");
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("RequiredCertainty")),
        "{refused:#}"
    );

    let data = app
        .data(
            r#"{ organization(slug: "meta") {
                new: employments(at: "2023-02-27", atCertainty: CERTAINLY) { totalCount }
                old: employments(at: "2023-02-27", certainty: CERTAINLY) { totalCount }
                possibly: employments(at: "2023-02-27") { totalCount }
                explicit: employments(at: "2023-02-27", atCertainty: POSSIBLY) { totalCount } }
              person(slug: "joelle-pineau") {
                new: employments(at: "2020-01-01", atCertainty: CERTAINLY) { title }
                old: employments(at: "2020-01-01", certainty: CERTAINLY) { title } } }"#,
        )
        .await;
    let meta = &data["organization"];
    assert_eq!(meta["new"], meta["old"]);
    assert_eq!(meta["possibly"], meta["explicit"]);
    assert!(meta["possibly"]["totalCount"].as_i64() >= meta["new"]["totalCount"].as_i64());
    assert_eq!(data["person"]["new"], data["person"]["old"]);

    let both = app
        .graphql(
            r#"{ organization(slug: "meta") { employments(at: "2023-01-01", certainty: CERTAINLY, atCertainty: CERTAINLY) { totalCount } } }"#,
        )
        .await;
    assert_eq!(error_codes(&both), ["BAD_USER_INPUT"]);
}
