//! The article, claim by claim: each is one GraphQL query against the seeded
//! service (the same queries are in the README).

use serde_json::json;

use crate::support::{TestApp, strings};

#[tokio::test]
async fn of_the_llama_papers_14_authors_3_are_still_inside_meta_and_11_have_left() {
    let app = TestApp::spawn_seeded().await;
    let data = app
        .data(
            r#"{ publication(slug: "llama-2023") {
                retention(organization: "meta") { organization { name } total stayed { name } left { name } }
            } }"#,
        )
        .await;
    let retention = &data["publication"]["retention"];
    assert_eq!(retention["organization"]["name"], "Meta");
    assert_eq!(retention["total"], 14);
    assert_eq!(
        strings(&retention["stayed"], |p| &p["name"]),
        ["Faisal Azhar", "Hugo Touvron", "Xavier Martinet"]
    );
    assert_eq!(
        strings(&retention["left"], |p| &p["name"]),
        [
            "Armand Joulin",
            "Aurélien Rodriguez",
            "Baptiste Rozière",
            "Edouard Grave",
            "Eric Hambro",
            "Gautier Izacard",
            "Guillaume Lample",
            "Marie-Anne Lachaux",
            "Naman Goyal",
            "Thibaut Lavril",
            "Timothée Lacroix",
        ]
    );
}

#[tokio::test]
async fn five_went_to_mistral_and_the_rest_to_six_other_organizations_with_their_titles() {
    let app = TestApp::spawn_seeded().await;
    let data = app
        .data(
            r#"{ publication(slug: "llama-2023") { retention(organization: "meta") {
                destinations { to { name } count people { name currentEmployments { title organization { name } } } }
            } } }"#,
        )
        .await;
    let destinations = &data["publication"]["retention"]["destinations"];
    assert_eq!(
        destinations.as_array().map(|d| d
            .iter()
            .map(|f| (f["to"]["name"].clone(), f["count"].clone()))
            .collect::<Vec<_>>()),
        Some(vec![
            (json!("Mistral AI"), json!(5)),
            (json!("Anthropic"), json!(1)),
            (json!("Cohere"), json!(1)),
            (json!("Google DeepMind"), json!(1)),
            (json!("Kyutai"), json!(1)),
            (json!("Microsoft AI"), json!(1)),
            (json!("Thinking Machines Lab"), json!(1)),
        ])
    );
    // The article's "Where did they go?" table, row by row.
    let mut table: Vec<(String, String, String)> = Vec::new();
    for flow in destinations.as_array().expect("a list") {
        for person in flow["people"].as_array().expect("a list") {
            let now = &person["currentEmployments"][0];
            assert_eq!(now["organization"]["name"], flow["to"]["name"]);
            table.push((
                person["name"].as_str().unwrap_or_default().to_owned(),
                now["title"].as_str().unwrap_or_default().to_owned(),
                now["organization"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            ));
        }
    }
    table.sort();
    let expected = [
        (
            "Armand Joulin",
            "Distinguished Scientist",
            "Google DeepMind",
        ),
        (
            "Aurélien Rodriguez",
            "Director, Foundation Model Training",
            "Cohere",
        ),
        ("Baptiste Rozière", "AI Scientist", "Mistral AI"),
        ("Edouard Grave", "Research Scientist", "Kyutai"),
        ("Eric Hambro", "Member of Technical Staff", "Anthropic"),
        ("Gautier Izacard", "Technical Staff", "Microsoft AI"),
        (
            "Guillaume Lample",
            "Co-founder and Chief Scientist",
            "Mistral AI",
        ),
        (
            "Marie-Anne Lachaux",
            "Founding Member and AI Research Engineer",
            "Mistral AI",
        ),
        (
            "Naman Goyal",
            "Member of Technical Staff",
            "Thinking Machines Lab",
        ),
        ("Thibaut Lavril", "AI Research Engineer", "Mistral AI"),
        ("Timothée Lacroix", "Co-founder and CTO", "Mistral AI"),
    ];
    let expected: Vec<(String, String, String)> = expected
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(table, expected);
}

#[tokio::test]
async fn mistrals_co_founders_are_arthur_mensch_guillaume_lample_and_timothee_lacroix() {
    let app = TestApp::spawn_seeded().await;
    let data = app
        .data(r#"{ organization(slug: "mistral") { name founders { name } } }"#)
        .await;
    assert_eq!(
        data["organization"],
        json!({ "name": "Mistral AI", "founders": [
            { "name": "Arthur Mensch" }, { "name": "Guillaume Lample" }, { "name": "Timothée Lacroix" }
        ] })
    );
}

#[tokio::test]
async fn pineau_led_fair_for_eight_years_and_fergus_a_fair_co_founder_replaced_her_after_five_years_at_deepmind()
 {
    let app = TestApp::spawn_seeded().await;
    let data = app
        .data(
            r#"{ organization(slug: "fair") {
                parent { name }
                founders { name }
                leaders {
                    title isCurrent reportedYears
                    person { name employments { organization { name } isFounder isCurrent reportedYears } }
                }
            } }"#,
        )
        .await;
    let fair = &data["organization"];
    assert_eq!(fair["parent"]["name"], "Meta");
    assert_eq!(fair["founders"], json!([{ "name": "Robert Fergus" }]));
    let leaders = &fair["leaders"];
    assert_eq!(
        strings(leaders, |l| &l["person"]["name"]),
        ["Joelle Pineau", "Robert Fergus"]
    );
    assert_eq!(leaders[0]["isCurrent"], false, "Pineau stepped down");
    assert_eq!(leaders[0]["reportedYears"], 8);
    assert_eq!(leaders[1]["isCurrent"], true, "Fergus leads FAIR now");
    assert_eq!(
        leaders[1]["person"]["employments"],
        json!([
            { "organization": { "name": "FAIR" }, "isFounder": true, "isCurrent": false, "reportedYears": null },
            { "organization": { "name": "Google DeepMind" }, "isFounder": false, "isCurrent": false, "reportedYears": 5 },
            { "organization": { "name": "FAIR" }, "isFounder": false, "isCurrent": true, "reportedYears": null }
        ])
    );
}

#[tokio::test]
async fn metas_outbound_talent_flow_lists_mistral_first_with_five_people() {
    let app = TestApp::spawn_seeded().await;
    let data = app
        .data(r#"{ organization(slug: "meta") { talentFlows(direction: OUTBOUND) { from { name } to { name } count people { name } } } }"#)
        .await;
    let flows = &data["organization"]["talentFlows"];
    assert_eq!(flows[0]["from"]["name"], "Meta");
    assert_eq!(flows[0]["to"]["name"], "Mistral AI");
    assert_eq!(flows[0]["count"], 5);
    assert_eq!(
        strings(&flows[0]["people"], |p| &p["name"]),
        [
            "Baptiste Rozière",
            "Guillaume Lample",
            "Marie-Anne Lachaux",
            "Thibaut Lavril",
            "Timothée Lacroix"
        ]
    );
    let counts: Vec<i64> = flows
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|f| f["count"].as_i64())
        .collect();
    assert!(
        counts.windows(2).all(|w| w[0] >= w[1]),
        "sorted by count: {counts:?}"
    );
}
