//! Attestations: a source showing a stint going on (or over) on a date is
//! evidence the point-in-time rule uses, in SQL and in Rust alike.

use serde_json::{Value, json};

use crate::support::{TestApp, error_codes, strings};

/// Stints with unknown or partial bounds, and attestations recorded with
/// plain SQL (so the trigger that sums them up is what is under test).
const FIXTURE: &str = "
    INSERT INTO sources (url, published_on, published_on_precision) VALUES
        ('https://example.org/paper', '2023-02-27', 'day'),
        ('https://example.org/news', NULL, NULL);
    INSERT INTO organizations (slug, name, kind) VALUES ('acme', 'Acme', 'company');
    INSERT INTO people (slug, name) VALUES
        ('attested-once', 'A'), ('attested-twice', 'B'), ('started-2019', 'C'),
        ('left-by', 'D'), ('no-evidence', 'E'), ('contradicted', 'F');
    BEGIN;
    INSERT INTO employments (person_id, organization_id, started_on, started_on_precision, is_current)
    SELECT p.id, (SELECT id FROM organizations WHERE slug = 'acme'), s, sp, c
    FROM (VALUES
        ('attested-once',  NULL::date,         NULL,  false),
        ('attested-twice', NULL::date,         NULL,  true),
        ('started-2019',   '2019-01-01'::date, 'year', false),
        ('left-by',        NULL::date,         NULL,  false),
        ('no-evidence',    NULL::date,         NULL,  false),
        ('contradicted',   '2024-01-01'::date, 'day', true)
    ) AS v(slug, s, sp, c) JOIN people p ON p.slug = v.slug;
    INSERT INTO employment_sources (employment_id, source_id)
        SELECT id, (SELECT id FROM sources WHERE url = 'https://example.org/news') FROM employments;
    COMMIT;
    INSERT INTO employment_attestations (employment_id, source_id, claim, on_date, on_date_precision)
    SELECT e.id, s.id, v.claim, v.on_date, v.p
    FROM (VALUES
        ('attested-once',  'https://example.org/paper', 'in_progress', '2023-02-27'::date, 'day'),
        ('attested-twice', 'https://example.org/news',  'in_progress', '2021-05-01'::date, 'month'),
        ('attested-twice', 'https://example.org/news',  'in_progress', '2022-11-03'::date, 'day'),
        ('started-2019',   'https://example.org/news',  'in_progress', '2023-01-01'::date, 'year'),
        ('left-by',        'https://example.org/news',  'in_progress', '2022-01-10'::date, 'day'),
        ('left-by',        'https://example.org/news',  'ended',       '2024-06-01'::date, 'month'),
        ('contradicted',   'https://example.org/paper', 'in_progress', '2023-02-27'::date, 'day')
    ) AS v(slug, url, claim, on_date, p)
    JOIN people pe ON pe.slug = v.slug JOIN employments e ON e.person_id = pe.id
    JOIN sources s ON s.url = v.url;
";

/// Who was at Acme on `day`: by the organization's listing (SQL), by each
/// person's listing (Rust) and by each stint's `inProgressOn` (Rust); all
/// three must agree.
async fn at_acme(app: &TestApp, day: &str, certainty: &str) -> Vec<String> {
    let data = app
        .data(&format!(
            r#"{{
                organization(slug: "acme") {{ employments(at: "{day}", certainty: {certainty}, first: 100) {{ totalCount nodes {{ person {{ slug }} }} }} }}
                people(first: 100) {{ nodes {{ slug employments(at: "{day}", certainty: {certainty}) {{ id }} all: employments {{ inProgressOn(date: "{day}") }} }} }}
            }}"#
        ))
        .await;
    let listing = &data["organization"]["employments"];
    let mut by_sql = strings(&listing["nodes"], |e| &e["person"]["slug"]);
    by_sql.sort();
    assert_eq!(listing["totalCount"], by_sql.len());
    let people = data["people"]["nodes"].as_array().expect("a list");
    let mut by_rust: Vec<String> = people
        .iter()
        .filter(|p| p["employments"].as_array().is_some_and(|e| !e.is_empty()))
        .map(|p| p["slug"].as_str().unwrap_or_default().to_owned())
        .collect();
    by_rust.sort();
    let admitted: &[&str] = if certainty == "CERTAINLY" {
        &["CERTAINLY"]
    } else {
        &["CERTAINLY", "POSSIBLY"]
    };
    let mut by_stint: Vec<String> = people
        .iter()
        .filter(|p| {
            p["all"].as_array().is_some_and(|stints| {
                stints
                    .iter()
                    .any(|s| admitted.contains(&s["inProgressOn"].as_str().unwrap_or("")))
            })
        })
        .map(|p| p["slug"].as_str().unwrap_or_default().to_owned())
        .collect();
    by_stint.sort();
    assert_eq!(
        by_sql, by_rust,
        "SQL and Rust disagree on {day} {certainty}"
    );
    assert_eq!(
        by_sql, by_stint,
        "the listing and inProgressOn disagree on {day} {certainty}"
    );
    by_sql
}

#[tokio::test]
async fn sql_and_rust_agree_on_attested_stints_on_every_day_that_matters() {
    let app = TestApp::spawn().await;
    app.sql(FIXTURE).await;
    for day in [
        "2018-12-31",
        "2019-12-31",
        "2020-01-01",
        "2021-05-01",
        "2021-05-31",
        "2021-06-01",
        "2022-01-10",
        "2022-01-11",
        "2022-11-03",
        "2022-11-04",
        "2023-01-01",
        "2023-02-26",
        "2023-02-27",
        "2023-02-28",
        "2023-12-31",
        "2024-01-01",
        "2024-06-30",
        "2024-07-01",
        "2030-01-01",
    ] {
        at_acme(&app, day, "CERTAINLY").await;
        at_acme(&app, day, "POSSIBLY").await;
    }
}

#[tokio::test]
async fn an_attested_day_is_certain_and_bounds_the_unknown_start_and_end() {
    let app = TestApp::spawn().await;
    app.sql(FIXTURE).await;
    // Seen going on that day, whatever the unknown (or contradicting) bounds.
    assert_eq!(
        at_acme(&app, "2023-02-27", "CERTAINLY").await,
        ["attested-once", "attested-twice", "contradicted"]
    );
    // Between two attestations a stint was certainly going on; before the
    // first month's end it was not yet proven.
    assert_eq!(
        at_acme(&app, "2022-01-01", "CERTAINLY").await,
        ["attested-twice", "started-2019"]
    );
    assert_eq!(
        at_acme(&app, "2021-05-30", "CERTAINLY").await,
        ["started-2019"]
    );
    // A coarse attestation (2023) proves the stint had not ended before 2023 began.
    assert!(
        at_acme(&app, "2023-01-01", "CERTAINLY")
            .await
            .contains(&"started-2019".to_owned())
    );
    assert!(
        !at_acme(&app, "2023-01-02", "CERTAINLY")
            .await
            .contains(&"started-2019".to_owned())
    );
    // A source saying the stint had ended by June 2024 rules out July.
    assert!(
        at_acme(&app, "2024-06-30", "POSSIBLY")
            .await
            .contains(&"left-by".to_owned())
    );
    assert_eq!(
        at_acme(&app, "2024-07-01", "POSSIBLY").await,
        [
            "attested-once",
            "attested-twice",
            "contradicted",
            "no-evidence",
            "started-2019"
        ]
    );
}

#[tokio::test]
async fn headcount_is_a_band_between_what_the_dates_prove_and_allow() {
    let app = TestApp::spawn().await;
    app.sql(FIXTURE).await;
    let data = app
        .data(
            r#"{ organization(slug: "acme") {
                yearly: headcount(from: "2023-02-27", to: "2024-07-01") { on certainly possibly }
                monthly: headcount(from: "2024-05-15", to: "2024-07-15", interval: MONTH) { on certainly possibly }
            } }"#,
        )
        .await;
    assert_eq!(
        data["organization"]["yearly"],
        json!([
            { "on": "2023-02-27", "certainly": 3, "possibly": 6 },
            { "on": "2024-02-27", "certainly": 2, "possibly": 6 },
        ])
    );
    assert_eq!(
        data["organization"]["monthly"],
        json!([
            { "on": "2024-05-15", "certainly": 2, "possibly": 6 },
            { "on": "2024-06-15", "certainly": 2, "possibly": 6 },
            { "on": "2024-07-15", "certainly": 2, "possibly": 5 },
        ])
    );
    let backwards = app
        .graphql(r#"{ organization(slug: "acme") { headcount(from: "2024-01-01", to: "2023-01-01") { on } } }"#)
        .await;
    assert_eq!(error_codes(&backwards), ["BAD_USER_INPUT"]);
    let too_many = app
        .graphql(r#"{ organization(slug: "acme") { headcount(from: "1900-01-01", to: "2024-01-01", interval: MONTH) { on } } }"#)
        .await;
    assert_eq!(error_codes(&too_many), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn meta_on_the_llama_papers_day_is_certainly_its_fourteen_authors() {
    let app = TestApp::spawn_seeded().await;
    let data = app
        .data(
            r#"{
                organization(slug: "meta") {
                    employments(at: "2023-02-27", certainty: CERTAINLY, first: 100) {
                        totalCount nodes { person { name } attestations { claim on source { url publishedOn } } }
                    }
                    headcount(from: "2023-02-27", to: "2024-02-27") { on certainly possibly }
                }
                publication(slug: "llama-2023") { authors { person { name } } }
            }"#,
        )
        .await;
    let listing = &data["organization"]["employments"];
    assert_eq!(listing["totalCount"], 14);
    let mut at_meta = strings(&listing["nodes"], |e| &e["person"]["name"]);
    at_meta.sort();
    let mut authors = strings(&data["publication"]["authors"], |a| &a["person"]["name"]);
    authors.sort();
    assert_eq!(at_meta, authors);
    for node in listing["nodes"].as_array().expect("a list") {
        assert_eq!(
            node["attestations"],
            json!([{ "claim": "IN_PROGRESS", "on": "2023-02-27", "source": {
                "url": "https://arxiv.org/abs/2302.13971", "publishedOn": "2023-02-27" } }])
        );
    }
    let headcount = &data["organization"]["headcount"];
    assert_eq!(headcount[0]["on"], "2023-02-27");
    assert_eq!(headcount[0]["certainly"], 14);
    // FAIR's people are inside Meta too, on dates nobody gave: possible only.
    assert_eq!(headcount[0]["possibly"], 16);
    // A year on, nothing proves anyone there: the article gives no dates.
    assert_eq!(headcount[1]["certainly"], 3);
}

#[tokio::test]
async fn headcount_costs_the_same_statements_for_one_organization_or_all() {
    let app = TestApp::spawn_seeded().await;
    let one = app
        .statements_for(r#"{ organization(slug: "meta") { headcount(from: "2020-01-01", to: "2025-01-01", interval: QUARTER) { on certainly possibly } } }"#)
        .await;
    let all = app
        .statements_for(r#"{ organizations(first: 100) { nodes { headcount(from: "2020-01-01", to: "2025-01-01", interval: QUARTER) { on certainly possibly } employments(first: 5) { nodes { attestations { on source { url } } } } } } }"#)
        .await;
    let all_without_attestations = app
        .statements_for(r#"{ organizations(first: 100) { nodes { headcount(from: "2020-01-01", to: "2025-01-01", interval: QUARTER) { on certainly possibly } } } }"#)
        .await;
    assert!(one <= 2, "{one} statements for one organization");
    assert!(
        all <= all_without_attestations + 2,
        "attestations load in one batch: {all} vs {all_without_attestations}"
    );
    assert!(
        all_without_attestations <= 3,
        "{all_without_attestations} statements"
    );
}

async fn stint_of(app: &TestApp, person: &str, organization: &str) -> Value {
    let data = app
        .data(&format!(
            r#"{{ person(slug: "{person}") {{ employments {{ id version organization {{ slug }} }} }} }}"#
        ))
        .await;
    data["person"]["employments"]
        .as_array()
        .expect("a list")
        .iter()
        .find(|e| e["organization"]["slug"] == organization)
        .cloned()
        .expect("the stint")
}

async fn source_id(app: &TestApp, url_part: &str) -> Value {
    let data = app
        .data(r#"{ person(slug: "guillaume-lample") { employments { sources { id url } } } }"#)
        .await;
    data["person"]["employments"]
        .as_array()
        .expect("a list")
        .iter()
        .flat_map(|e| e["sources"].as_array().cloned().unwrap_or_default())
        .find(|s| s["url"].as_str().is_some_and(|u| u.contains(url_part)))
        .map(|s| s["id"].clone())
        .expect("the source")
}

const ADD: &str = "mutation($input: AttestationInput!) { addAttestation(input: $input) { employment { version attestations { claim on source { url } } inProgressOn(date: \"2025-06-01\") } } }";
const REMOVE: &str = "mutation($input: AttestationInput!) { removeAttestation(input: $input) { employment { attestations { claim on } inProgressOn(date: \"2025-06-01\") } } }";

#[tokio::test]
async fn attestations_are_added_and_removed_by_editors_and_change_the_answer() {
    let app = TestApp::spawn_seeded().await;
    let editor = app.token("editor").await;
    let stint = stint_of(&app, "guillaume-lample", "meta").await;
    let article = source_id(&app, "listmystartup").await;
    let paper = source_id(&app, "arxiv").await;

    // The article has no date of its own: an "ended" claim citing it needs one.
    let undated = app
        .graphql_as(
            &editor,
            ADD,
            json!({ "input": { "employmentId": stint["id"], "sourceId": article, "claim": "ENDED" } }),
        )
        .await;
    assert_eq!(error_codes(&undated), ["BAD_USER_INPUT"]);
    assert_eq!(undated["errors"][0]["extensions"]["field"], "input.on");

    // The paper's date is its own: recording it again keeps one.
    let same = app
        .graphql_as(
            &editor,
            ADD,
            json!({ "input": { "employmentId": stint["id"], "sourceId": paper } }),
        )
        .await;
    assert!(same.get("errors").is_none(), "{same:#}");
    assert_eq!(
        same["data"]["addAttestation"]["employment"]["attestations"],
        json!([{ "claim": "IN_PROGRESS", "on": "2023-02-27", "source": { "url": "https://arxiv.org/abs/2302.13971" } }])
    );

    let ended = app
        .graphql_as(
            &editor,
            ADD,
            json!({ "input": { "employmentId": stint["id"], "sourceId": article, "claim": "ENDED", "on": "2025" } }),
        )
        .await;
    assert!(ended.get("errors").is_none(), "{ended:#}");
    let employment = &ended["data"]["addAttestation"]["employment"];
    // Ended by the end of 2025 rules out nothing in 2025 itself.
    assert_eq!(employment["inProgressOn"], "POSSIBLY");
    assert!(employment["version"].as_i64() > stint["version"].as_i64());
    let later = app
        .data(&format!(
            r#"{{ node(id: {}) {{ ... on Employment {{ inProgressOn(date: "2026-01-01") }} }} }}"#,
            stint["id"]
        ))
        .await;
    assert_eq!(later["node"]["inProgressOn"], "NO");

    let removed = app
        .graphql_as(
            &editor,
            REMOVE,
            json!({ "input": { "employmentId": stint["id"], "sourceId": article, "claim": "ENDED", "on": "2025" } }),
        )
        .await;
    assert!(removed.get("errors").is_none(), "{removed:#}");
    assert_eq!(
        removed["data"]["removeAttestation"]["employment"]["attestations"],
        json!([{ "claim": "IN_PROGRESS", "on": "2023-02-27" }])
    );
    let again = app
        .graphql_as(
            &editor,
            REMOVE,
            json!({ "input": { "employmentId": stint["id"], "sourceId": article, "claim": "ENDED", "on": "2025" } }),
        )
        .await;
    assert_eq!(error_codes(&again), ["NOT_FOUND"]);

    let anonymous = app
        .graphql_with(
            ADD,
            json!({ "input": { "employmentId": stint["id"], "sourceId": paper } }),
        )
        .await;
    assert_eq!(error_codes(&anonymous), ["UNAUTHENTICATED"]);
    let wrong_kind = app
        .graphql_as(
            &editor,
            ADD,
            json!({ "input": { "employmentId": paper, "sourceId": paper } }),
        )
        .await;
    assert_eq!(error_codes(&wrong_kind), ["BAD_USER_INPUT"]);
    let bad_date = app
        .graphql_as(
            &editor,
            ADD,
            json!({ "input": { "employmentId": stint["id"], "sourceId": paper, "on": "2023-02-30" } }),
        )
        .await;
    assert_eq!(error_codes(&bad_date), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn attestations_survive_an_export_and_import_exactly() {
    let seeded = TestApp::spawn_seeded().await;
    let editor = seeded.token("editor").await;
    let stint = stint_of(&seeded, "thibaut-lavril", "meta").await;
    let article = source_id(&seeded, "listmystartup").await;
    let added = seeded
        .graphql_as(
            &editor,
            ADD,
            json!({ "input": { "employmentId": stint["id"], "sourceId": article, "claim": "ENDED", "on": "2025-04" } }),
        )
        .await;
    assert!(added.get("errors").is_none(), "{added:#}");
    let exported = talentgraph::interchange::to_jsonl(
        &talentgraph::interchange::export(&mut seeded.conn().await)
            .await
            .expect("export"),
    )
    .expect("serializable");
    assert_eq!(exported.matches(r#""attestations":"#).count(), 14);
    assert!(exported.contains(
        r#""attestations":[{"on":"2023-02-27","source":"https://arxiv.org/abs/2302.13971"},{"on":"2025-04","claim":"ENDED","source":"https://www.listmystartup.app/article/metas-ai-exodus-how-mistral-and-others-are-winning-the-talent-war"}]"#
    ), "{exported}");

    let empty = TestApp::spawn().await;
    let report = talentgraph::interchange::import(
        &mut empty.conn().await,
        &exported,
        &talentgraph::db::writes::Author::cli("test"),
    )
    .await
    .expect("import");
    assert_eq!(report.attestations, 15);
    let again = talentgraph::interchange::to_jsonl(
        &talentgraph::interchange::export(&mut empty.conn().await)
            .await
            .expect("export"),
    )
    .expect("serializable");
    assert_eq!(again, exported);
}

#[tokio::test]
async fn a_source_an_attestation_cites_is_not_deleted_from_under_it() {
    let app = TestApp::spawn_seeded().await;
    let editor = app.token("editor").await;
    let created = app
        .graphql_as(
            &editor,
            "mutation { createSource(input: { url: \"https://example.org/all-hands\", publishedOn: \"2024-05\" }) { source { id version } } }",
            json!({}),
        )
        .await;
    let source = created["data"]["createSource"]["source"].clone();
    assert!(source["id"].is_string(), "{created:#}");
    let stint = stint_of(&app, "hugo-touvron", "meta").await;
    let added = app
        .graphql_as(
            &editor,
            ADD,
            json!({ "input": { "employmentId": stint["id"], "sourceId": source["id"] } }),
        )
        .await;
    // The source's own date, at its own precision.
    assert_eq!(
        added["data"]["addAttestation"]["employment"]["attestations"][1],
        json!({ "claim": "IN_PROGRESS", "on": "2024-05", "source": { "url": "https://example.org/all-hands" } }),
        "{added:#}"
    );
    let deleted = app
        .graphql_as(
            &editor,
            "mutation($input: DeleteInput!) { deleteSource(input: $input) { deletedId } }",
            json!({ "input": { "id": source["id"], "version": source["version"] } }),
        )
        .await;
    assert_eq!(error_codes(&deleted), ["CONFLICT"], "{deleted:#}");
}
