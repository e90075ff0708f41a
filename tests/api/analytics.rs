//! Alumni, talent flows, retention and search beyond the article: units,
//! dates, distinct people, bad input.

use serde_json::json;

use crate::support::{TestApp, error_codes, strings};

/// Careers with dates, around Meta (and its units FAIR and Reality Labs) and
/// Mistral, each stint cited.
const CAREERS: &str = "
    INSERT INTO organizations (slug, name, kind, parent_id)
    SELECT 'reality-labs', 'Reality Labs', 'research_lab', id FROM organizations WHERE slug = 'meta';
    INSERT INTO people (slug, name) VALUES
        ('unit-hopper', 'Una Hopper'), ('boomerang', 'Bo Merang'), ('dated-leaver', 'Dee Leaver'),
        ('early-leaver', 'Earl Leaver');
    BEGIN;
    INSERT INTO employments (person_id, organization_id, is_current, started_on, started_on_precision, ended_on, ended_on_precision)
    SELECT p.id, o.id, v.current, v.s, v.sp, v.e, v.ep
    FROM (VALUES
        ('unit-hopper',  'fair',         false, '2015-01-01'::date, 'year', '2019-06-01'::date, 'month'),
        ('unit-hopper',  'reality-labs', true,  '2019-07-01'::date, 'month', NULL,              NULL),
        ('boomerang',    'meta',         false, '2010-01-01'::date, 'year', '2012-01-01'::date, 'year'),
        ('boomerang',    'mistral',      false, '2013-01-01'::date, 'year', '2014-01-01'::date, 'year'),
        ('boomerang',    'meta',         false, '2015-01-01'::date, 'year', '2016-01-01'::date, 'year'),
        ('boomerang',    'mistral',      true,  '2017-01-01'::date, 'year', NULL,               NULL),
        ('dated-leaver', 'fair',         false, '2018-01-01'::date, 'year', '2024-03-15'::date, 'day'),
        ('dated-leaver', 'anthropic',    true,  '2024-04-01'::date, 'month', NULL,              NULL),
        ('early-leaver', 'meta',         false, '2005-01-01'::date, 'year', '2008-01-01'::date, 'year'),
        ('early-leaver', 'cohere',       true,  '2008-01-01'::date, 'year', NULL,               NULL)
    ) AS v(person, org, current, s, sp, e, ep)
    JOIN people p ON p.slug = v.person JOIN organizations o ON o.slug = v.org;
    INSERT INTO employment_sources (employment_id, source_id)
    SELECT e.id, (SELECT min(id) FROM sources) FROM employments e
    WHERE NOT EXISTS (SELECT 1 FROM employment_sources s WHERE s.employment_id = e.id);
    COMMIT;
";

async fn careers() -> TestApp {
    let app = TestApp::spawn_seeded().await;
    app.sql(CAREERS).await;
    app
}

#[tokio::test]
async fn moving_between_units_does_not_make_an_alumnus_of_the_parent() {
    let app = careers().await;
    let data = app
        .data(
            r#"{
                meta: organization(slug: "meta") { alumni(first: 100) { totalCount nodes { slug } } }
                fair: organization(slug: "fair") { alumni(first: 100) { nodes { slug } } }
            }"#,
        )
        .await;
    let meta_alumni = strings(&data["meta"]["alumni"]["nodes"], |p| &p["slug"]);
    assert!(
        !meta_alumni.contains(&"unit-hopper".to_owned()),
        "still inside Meta, at Reality Labs"
    );
    assert!(
        !meta_alumni.contains(&"robert-fergus".to_owned()),
        "back at FAIR"
    );
    for alumnus in [
        "boomerang",
        "dated-leaver",
        "early-leaver",
        "joelle-pineau",
        "guillaume-lample",
    ] {
        assert!(
            meta_alumni.contains(&alumnus.to_owned()),
            "{alumnus} left Meta"
        );
    }
    assert_eq!(
        data["meta"]["alumni"]["totalCount"], 15,
        "the 11 LLaMA leavers, Pineau and three more"
    );
    let fair_alumni = strings(&data["fair"]["alumni"]["nodes"], |p| &p["slug"]);
    assert_eq!(
        fair_alumni,
        ["dated-leaver", "joelle-pineau", "unit-hopper"],
        "FAIR's own alumni, by name"
    );
}

#[tokio::test]
async fn alumni_page_through_once_each() {
    let app = careers().await;
    let mut seen = Vec::new();
    let mut after = "null".to_owned();
    loop {
        let data = app
            .data(&format!(
                r#"{{ organization(slug: "meta") {{ alumni(first: 4, after: {after}) {{ nodes {{ slug }} pageInfo {{ hasNextPage endCursor }} }} }} }}"#
            ))
            .await;
        let page = &data["organization"]["alumni"];
        seen.extend(strings(&page["nodes"], |p| &p["slug"]));
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].to_string();
    }
    let total = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!((total, seen.len()), (15, 15));
}

#[tokio::test]
async fn a_person_counts_once_per_flow_however_often_they_made_the_move() {
    let app = careers().await;
    let data = app
        .data(r#"{ talentFlows(from: "meta", to: "mistral") { count people { slug } } }"#)
        .await;
    let flow = &data["talentFlows"][0];
    assert_eq!(
        flow["count"], 6,
        "the five LLaMA authors and Bo Merang, who went twice"
    );
    assert_eq!(
        strings(&flow["people"], |p| &p["slug"])
            .iter()
            .filter(|s| *s == "boomerang")
            .count(),
        1
    );
}

#[tokio::test]
async fn units_roll_up_into_the_organization_a_query_names() {
    let app = careers().await;
    let data = app
        .data(
            r#"{
                toGoogle: talentFlows(from: "meta", to: "google") { from { slug } to { slug } count people { slug } }
                fromFair: talentFlows(from: "fair") { from { slug } to { slug } count }
                intoAnthropic: organization(slug: "anthropic") { talentFlows(direction: INBOUND) { from { slug } to { slug } count } }
            }"#,
        )
        .await;
    // Joulin (Meta -> Google DeepMind) and Fergus (FAIR -> Google DeepMind), both under the names asked for.
    assert_eq!(
        data["toGoogle"],
        json!([{ "from": { "slug": "meta" }, "to": { "slug": "google" }, "count": 2,
                 "people": [{ "slug": "armand-joulin" }, { "slug": "robert-fergus" }] }])
    );
    // From FAIR alone: Fergus to DeepMind and Dee Leaver to Anthropic; Una Hopper's move to
    // Reality Labs leaves FAIR's tree too.
    assert_eq!(
        data["fromFair"],
        json!([
            { "from": { "slug": "fair" }, "to": { "slug": "anthropic" }, "count": 1 },
            { "from": { "slug": "fair" }, "to": { "slug": "google-deepmind" }, "count": 1 },
            { "from": { "slug": "fair" }, "to": { "slug": "reality-labs" }, "count": 1 }
        ])
    );
    assert_eq!(
        data["intoAnthropic"]["talentFlows"],
        json!([
            { "from": { "slug": "fair" }, "to": { "slug": "anthropic" }, "count": 1 },
            { "from": { "slug": "meta" }, "to": { "slug": "anthropic" }, "count": 1 }
        ])
    );
}

#[tokio::test]
async fn since_and_until_keep_moves_whose_date_may_fall_in_the_range() {
    let app = careers().await;
    let flows = |since: &str, until: &str| {
        let app = &app;
        let query = format!(
            r#"{{ organization(slug: "meta") {{ talentFlows(since: {since}, until: {until}) {{ to {{ slug }} people {{ slug }} }} }} }}"#
        );
        async move {
            let data = app.data(&query).await;
            let mut moves: Vec<String> = data["organization"]["talentFlows"]
                .as_array()
                .expect("a list")
                .iter()
                .flat_map(|f| {
                    let to = f["to"]["slug"].as_str().unwrap_or_default().to_owned();
                    strings(&f["people"], |p| &p["slug"])
                        .into_iter()
                        .map(move |p| format!("{p}->{to}"))
                })
                .collect();
            moves.sort();
            moves
        }
    };
    // Dee Leaver left FAIR on 2024-03-15 (day precision).
    assert_eq!(
        flows(r#""2024-03-15""#, r#""2024-03-15""#).await,
        ["dated-leaver->anthropic"]
    );
    assert!(flows(r#""2024-03-16""#, "null").await.is_empty());
    // Bo Merang's moves are dated by years (2012, 2016); Earl Leaver's by 2008.
    assert_eq!(
        flows(r#""2012-06-01""#, r#""2012-06-30""#).await,
        ["boomerang->mistral"]
    );
    assert_eq!(
        flows("null", r#""2009-12-31""#).await,
        ["early-leaver->cohere"]
    );
    // Undated moves (the LLaMA authors') are left out once a range is asked for.
    assert_eq!(
        flows(r#""2000-01-01""#, "null").await,
        [
            "boomerang->mistral",
            "dated-leaver->anthropic",
            "early-leaver->cohere",
            "unit-hopper->reality-labs"
        ]
        .iter()
        .filter(|m| !m.starts_with("unit-hopper"))
        .map(|m| m.to_string())
        .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn bad_flow_and_retention_arguments_are_refused_with_codes() {
    let app = TestApp::spawn_seeded().await;
    let backwards = app
        .graphql(
            r#"{ talentFlows(from: "meta", since: "2024-01-01", until: "2023-01-01") { count } }"#,
        )
        .await;
    assert_eq!(error_codes(&backwards), ["BAD_USER_INPUT"]);
    let unknown = app
        .graphql(r#"{ talentFlows(from: "no-such-org") { count } }"#)
        .await;
    assert_eq!(error_codes(&unknown), ["NOT_FOUND"]);
    let retention = app
        .graphql(
            r#"{ publication(slug: "llama-2023") { retention(organization: "nope") { total } } }"#,
        )
        .await;
    assert_eq!(error_codes(&retention), ["NOT_FOUND"]);
}

#[tokio::test]
async fn a_cohort_of_a_unit_counts_only_authors_affiliated_inside_it() {
    let app = TestApp::spawn_seeded().await;
    let data = app
        .data(r#"{ publication(slug: "llama-2023") { retention(organization: "mistral") { total stayed { name } left { name } destinations { count } } } }"#)
        .await;
    assert_eq!(
        data["publication"]["retention"],
        json!({ "total": 0, "stayed": [], "left": [], "destinations": [] })
    );
}

#[tokio::test]
async fn search_ignores_accents_case_and_small_typos() {
    let app = TestApp::spawn_seeded().await;
    for (query, expected) in [
        ("rodriguez", "Aurélien Rodriguez"),
        ("Aurelien", "Aurélien Rodriguez"),
        ("AURÉLIEN", "Aurélien Rodriguez"),
        ("rodriges", "Aurélien Rodriguez"),
        ("lachau", "Marie-Anne Lachaux"),
        ("timothee", "Timothée Lacroix"),
        ("Rob Fergus", "Robert Fergus"),
    ] {
        let data = app
            .data(&format!(r#"{{ search(query: "{query}") {{ ... on Person {{ name }} }} people(search: "{query}") {{ nodes {{ name }} }} }}"#))
            .await;
        assert_eq!(data["search"][0]["name"], expected, "search {query:?}");
        assert_eq!(
            data["people"]["nodes"][0]["name"], expected,
            "people(search: {query:?})"
        );
    }
}

#[tokio::test]
async fn search_ranks_and_spans_people_organizations_and_publications() {
    let app = TestApp::spawn_seeded().await;
    let data = app
        .data(
            r#"{
                llama: search(query: "llama") { __typename ... on Publication { slug } }
                deepmind: search(query: "deepmind") { __typename ... on Organization { slug } }
                orgs: organizations(search: "micro") { totalCount nodes { slug } }
                labs: organizations(search: "google", kind: RESEARCH_LAB) { nodes { slug } }
                grave: people(search: "grave") { totalCount nodes { name } }
            }"#,
        )
        .await;
    assert_eq!(
        data["llama"],
        json!([{ "__typename": "Publication", "slug": "llama-2023" }])
    );
    assert_eq!(
        data["deepmind"][0],
        json!({ "__typename": "Organization", "slug": "google-deepmind" })
    );
    assert_eq!(data["orgs"]["totalCount"], 2);
    assert_eq!(
        strings(&data["orgs"]["nodes"], |o| &o["slug"]),
        ["microsoft", "microsoft-ai"]
    );
    assert_eq!(
        data["labs"]["nodes"],
        json!([{ "slug": "google-deepmind" }])
    );
    assert_eq!(
        data["grave"]["nodes"][0]["name"], "Edouard Grave",
        "an exact match ranks first"
    );

    let empty = app
        .graphql(r#"{ search(query: "  ") { __typename } }"#)
        .await;
    assert_eq!(error_codes(&empty), ["BAD_USER_INPUT"]);
    let too_many = app
        .graphql(r#"{ search(query: "meta", first: 51) { __typename } }"#)
        .await;
    assert_eq!(error_codes(&too_many), ["BAD_USER_INPUT"]);
    let literal = app.data(r#"{ people(search: "%") { totalCount } }"#).await;
    assert_eq!(
        literal["people"]["totalCount"], 0,
        "LIKE wildcards are matched literally"
    );
}

#[tokio::test]
async fn flows_follow_edits_to_stints_and_to_the_organization_tree() {
    let app = TestApp::spawn_seeded().await;
    let flows = || async {
        let data = app
            .data(r#"{ organization(slug: "meta") { talentFlows { to { slug } count } } }"#)
            .await;
        data["organization"]["talentFlows"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|f| {
                format!(
                    "{}:{}",
                    f["to"]["slug"].as_str().unwrap_or_default(),
                    f["count"]
                )
            })
            .collect::<Vec<_>>()
    };
    assert!(flows().await.contains(&"cohere:1".to_owned()));
    // Cohere becomes a unit of Meta: Aurélien Rodriguez's move stays inside Meta.
    app.sql("UPDATE organizations SET parent_id = (SELECT id FROM organizations WHERE slug = 'meta') WHERE slug = 'cohere'")
        .await;
    assert!(!flows().await.iter().any(|f| f.starts_with("cohere:")));
    // Guillaume Lample's Mistral stint is deleted: four people went to Mistral.
    app.sql(
        "DELETE FROM employments WHERE organization_id = (SELECT id FROM organizations WHERE slug = 'mistral')
           AND person_id = (SELECT id FROM people WHERE slug = 'guillaume-lample')",
    )
    .await;
    assert_eq!(flows().await.first().map(String::as_str), Some("mistral:4"));
    // Hugo Touvron leaves Meta for Kyutai: a new move appears.
    app.sql(
        "BEGIN;
         UPDATE employments SET is_current = false
          WHERE person_id = (SELECT id FROM people WHERE slug = 'hugo-touvron');
         INSERT INTO employments (person_id, organization_id, is_current, career_position)
         SELECT p.id, o.id, true, 2 FROM people p, organizations o WHERE p.slug = 'hugo-touvron' AND o.slug = 'kyutai';
         INSERT INTO employment_sources SELECT max(id), (SELECT min(id) FROM sources) FROM employments;
         COMMIT;",
    )
    .await;
    assert!(flows().await.contains(&"kyutai:2".to_owned()));
}

#[tokio::test]
async fn the_largest_flows_can_be_asked_for_alone() {
    let app = TestApp::spawn_seeded().await;
    let data = app
        .data(
            r#"{
                organization(slug: "meta") { talentFlows(first: 2) { to { slug } count } }
                talentFlows(from: "meta", first: 1) { to { slug } count }
            }"#,
        )
        .await;
    assert_eq!(
        data["organization"]["talentFlows"],
        json!([{ "to": { "slug": "mistral" }, "count": 5 }, { "to": { "slug": "google-deepmind" }, "count": 2 }])
    );
    assert_eq!(
        data["talentFlows"],
        json!([{ "to": { "slug": "mistral" }, "count": 5 }])
    );
    let zero = app
        .graphql(r#"{ talentFlows(from: "meta", first: 0) { count } }"#)
        .await;
    assert_eq!(error_codes(&zero), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn alumni_stay_in_name_order_after_a_rename() {
    let app = TestApp::spawn_seeded().await;
    app.sql("UPDATE people SET name = 'Zed Joulin' WHERE slug = 'armand-joulin'")
        .await;
    let data = app
        .data(r#"{ organization(slug: "meta") { alumni(first: 100) { nodes { name } } } }"#)
        .await;
    let names = strings(&data["organization"]["alumni"]["nodes"], |p| &p["name"]);
    assert_eq!(
        names.first().map(String::as_str),
        Some("Aurélien Rodriguez")
    );
    assert_eq!(names.last().map(String::as_str), Some("Zed Joulin"));
}
