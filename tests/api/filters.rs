//! `where:`, `orderBy:` and backward paging: the questions the article's
//! readers ask next, each one query.

use async_graphql::InputType;
use serde_json::{Value, json};
use talentgraph::db::filter::{self as sql_filter, Page};
use talentgraph::graphql::filter::{
    self, EmploymentFilter, OrganizationFilter, PageArgs, PersonFilter, PublicationFilter,
};
use talentgraph::graphql::pagination::List;

use crate::support::{TestApp, error_codes, strings};

/// People who were at FAIR around 2020, and where they are now.
const FAIR_2020: &str = "
    BEGIN;
    INSERT INTO people (slug, name) VALUES
        ('fx-ada', 'Fx Ada'), ('fx-bo', 'Fx Bo'), ('fx-cy', 'Fx Cy'), ('fx-di', 'Fx Di');
    INSERT INTO employments (person_id, organization_id, title, started_on, started_on_precision,
                             ended_on, ended_on_precision, is_current)
    SELECT p.id, o.id, v.title, v.started_on::date, v.sp, v.ended_on::date, v.ep, v.is_current
    FROM (VALUES
        ('fx-ada', 'fair', 'Research Scientist', '2018-01-01', 'year', '2021-03-01', 'month', false),
        ('fx-ada', 'mistral', 'Member of Technical Staff', '2021-04-01', 'month', NULL, NULL, true),
        ('fx-bo', 'fair', 'Research Engineer', '2019-01-01', 'year', NULL, NULL, true),
        ('fx-cy', 'fair', 'Intern', '2021-06-01', 'month', '2022-01-01', 'year', false),
        ('fx-cy', 'kyutai', 'Researcher', '2022-09-01', 'month', NULL, NULL, true),
        ('fx-di', 'fair', 'Research Scientist', '2020-01-01', 'year', '2023-01-01', 'year', false),
        ('fx-di', 'cohere', 'Staff', '2023-01-01', 'year', NULL, NULL, true)
    ) AS v(person, org, title, started_on, sp, ended_on, ep, is_current)
    JOIN people p ON p.slug = v.person JOIN organizations o ON o.slug = v.org;
    INSERT INTO employment_sources (employment_id, source_id)
    SELECT e.id, (SELECT min(id) FROM sources) FROM employments e
    JOIN people p ON p.id = e.person_id WHERE p.slug LIKE 'fx-%';
    COMMIT;
";

/// 25 people who joined Mistral on consecutive days of 2025.
const MISTRAL_HIRES: &str = "
    BEGIN;
    INSERT INTO people (slug, name)
    SELECT 'ms-' || lpad(n::text, 2, '0'), 'Hire ' || lpad(n::text, 2, '0') FROM generate_series(1, 25) n;
    INSERT INTO employments (person_id, organization_id, title, started_on, started_on_precision, is_current)
    SELECT p.id, (SELECT id FROM organizations WHERE slug = 'mistral'), 'Engineer',
           DATE '2025-01-01' + substr(p.slug, 4)::int, 'day', true
    FROM people p WHERE p.slug LIKE 'ms-%';
    INSERT INTO employment_sources (employment_id, source_id)
    SELECT e.id, (SELECT min(id) FROM sources) FROM employments e
    JOIN people p ON p.id = e.person_id WHERE p.slug LIKE 'ms-%';
    COMMIT;
";

fn names(list: &Value) -> Vec<String> {
    strings(list, |p| &p["name"])
}

#[tokio::test]
async fn who_left_meta_for_mistral_is_one_query() {
    let app = TestApp::spawn_seeded().await;
    let data = app
        .data(
            r#"{ people(where: {formerlyAt: {slug: "meta"}, currentlyAt: {slug: "mistral"}}) {
                totalCount nodes { name } } }"#,
        )
        .await;
    assert_eq!(data["people"]["totalCount"], 5);
    assert_eq!(
        names(&data["people"]["nodes"]),
        [
            "Baptiste Rozière",
            "Guillaume Lample",
            "Marie-Anne Lachaux",
            "Thibaut Lavril",
            "Timothée Lacroix"
        ]
    );
    // The same organizations by global id give the same people.
    let ids = app
        .data(r#"{ meta: organization(slug: "meta") { id } mistral: organization(slug: "mistral") { id } }"#)
        .await;
    let by_id = app
        .data(&format!(
            r#"{{ people(where: {{formerlyAt: {{id: {}}}, currentlyAt: {{id: {}}}}}) {{ nodes {{ name }} }} }}"#,
            ids["meta"]["id"], ids["mistral"]["id"]
        ))
        .await;
    assert_eq!(by_id["people"]["nodes"], data["people"]["nodes"]);
}

#[tokio::test]
async fn people_at_fair_in_2020_who_are_now_elsewhere() {
    let app = TestApp::spawn_seeded().await;
    app.sql(FAIR_2020).await;
    let query = |certainty: &str| {
        format!(
            r#"{{ people(where: {{
                employedAt: {{organization: {{slug: "fair"}}, at: "2020-06-01", certainty: {certainty}}},
                formerlyAt: {{slug: "fair"}}
            }}, first: 100) {{ nodes {{ name currentEmployments {{ organization {{ slug }} }} }} }} }}"#
        )
    };
    let certainly = app.data(&query("CERTAINLY")).await;
    assert_eq!(names(&certainly["people"]["nodes"]), ["Fx Ada"]);
    assert_eq!(
        certainly["people"]["nodes"][0]["currentEmployments"][0]["organization"]["slug"],
        "mistral"
    );
    // POSSIBLY adds who the dates do not rule out: a start known only to the
    // year 2020, and the article's people whose FAIR dates are unknown.
    let possibly = names(&app.data(&query("POSSIBLY")).await["people"]["nodes"]);
    assert!(possibly.contains(&"Fx Ada".to_owned()), "{possibly:?}");
    assert!(possibly.contains(&"Fx Di".to_owned()), "{possibly:?}");
    assert!(!possibly.contains(&"Fx Bo".to_owned()), "still at FAIR");
    assert!(!possibly.contains(&"Fx Cy".to_owned()), "joined in 2021");
    // Without units, Meta itself had none of them.
    let meta_only = app
        .data(
            r#"{ people(where: {employedAt: {organization: {slug: "meta"}, at: "2020-06-01", includeUnits: false}, name: {in: ["Fx Ada", "Fx Di"]}}) { nodes { name } } }"#,
        )
        .await;
    assert_eq!(meta_only["people"]["nodes"], json!([]));
}

#[tokio::test]
async fn the_twenty_most_recent_stints_at_mistral() {
    let app = TestApp::spawn_seeded().await;
    app.sql(MISTRAL_HIRES).await;
    let data = app
        .data(
            r#"{ organization(slug: "mistral") { employments(orderBy: [{field: STARTED_ON, direction: DESC}], first: 20) {
                totalCount nodes { startedOn person { name } } pageInfo { hasNextPage hasPreviousPage } } } }"#,
        )
        .await;
    let page = &data["organization"]["employments"];
    let starts = strings(&page["nodes"], |n| &n["startedOn"]);
    let expected: Vec<String> = (6..=25)
        .rev()
        .map(|n| {
            (chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("a day") + chrono::Days::new(n))
                .to_string()
        })
        .collect();
    assert_eq!(starts, expected);
    assert_eq!(page["nodes"][0]["person"]["name"], "Hire 25");
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    assert_eq!(page["pageInfo"]["hasPreviousPage"], false);
    let plain = app
        .data(r#"{ organization(slug: "mistral") { employments { totalCount } } }"#)
        .await;
    assert_eq!(
        page["totalCount"],
        plain["organization"]["employments"]["totalCount"]
    );
}

/// A page of people as (names, pageInfo).
async fn people_page(app: &TestApp, arguments: &str) -> (Vec<String>, Value) {
    let data = app
        .data(&format!(
            "{{ people({arguments}) {{ nodes {{ name }} pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} }} }}"
        ))
        .await;
    (
        names(&data["people"]["nodes"]),
        data["people"]["pageInfo"].clone(),
    )
}

#[tokio::test]
async fn a_previous_button_pages_back_to_the_same_rows() {
    let app = TestApp::spawn_seeded().await;
    for order in ["", r#"orderBy: [{field: NAME, direction: DESC}], "#] {
        let (first, info1) = people_page(&app, &format!("{order}first: 5")).await;
        let (second, info2) = people_page(
            &app,
            &format!("{order}first: 5, after: {}", info1["endCursor"]),
        )
        .await;
        let (third, info3) = people_page(
            &app,
            &format!("{order}first: 5, after: {}", info2["endCursor"]),
        )
        .await;
        assert_eq!(third.len(), 5);
        // Previous from the third page is the second, then the first.
        let (back, back_info) = people_page(
            &app,
            &format!("{order}last: 5, before: {}", info3["startCursor"]),
        )
        .await;
        assert_eq!(back, second, "{order}");
        assert_eq!(back_info["hasPreviousPage"], true);
        assert_eq!(back_info["hasNextPage"], true);
        assert_eq!(back_info["startCursor"], info2["startCursor"]);
        let (front, front_info) = people_page(
            &app,
            &format!("{order}last: 5, before: {}", back_info["startCursor"]),
        )
        .await;
        assert_eq!(front, first, "{order}");
        assert_eq!(
            front_info["hasPreviousPage"], false,
            "nothing before the first page"
        );
        // The end of the list, read backward.
        let (tail, tail_info) = people_page(&app, &format!("{order}last: 2")).await;
        let (all, _) = people_page(&app, &format!("{order}first: 100")).await;
        assert_eq!(tail, all[all.len() - 2..].to_vec());
        assert_eq!(tail_info["hasNextPage"], false);
        assert_eq!(tail_info["hasPreviousPage"], true);
    }
}

#[tokio::test]
async fn every_connection_pages_backward() {
    let app = TestApp::spawn_seeded().await;
    app.sql(MISTRAL_HIRES).await;
    app.sql(
        "INSERT INTO publications (slug, title) VALUES ('p-a', 'A Paper'), ('p-b', 'B Paper'), ('p-c', 'C Paper');",
    )
    .await;
    for (list, path) in [
        ("organizations", vec!["organizations"]),
        ("publications", vec!["publications"]),
        (
            r#"organization(slug: "mistral") { employments"#,
            vec!["organization", "employments"],
        ),
        (
            r#"organization(slug: "meta") { alumni"#,
            vec!["organization", "alumni"],
        ),
        (r#"people(search: "a", "#, vec!["people"]),
        (r#"organizations(search: "a", "#, vec!["organizations"]),
    ] {
        let close = if list.contains('{') { "} }" } else { "}" };
        // A list whose arguments have begun (`search: "a", `) takes the
        // paging ones after them.
        let head = if list.ends_with(", ") {
            list.to_owned()
        } else {
            format!("{list}(")
        };
        let (app, head) = (&app, &head);
        let read = |arguments: String| async move {
            app.data(&format!(
                "{{ {head}{arguments}) {{ nodes {{ id }} pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} }} {close}"
            ))
            .await
        };
        let at =
            |data: &Value| -> Value { path.iter().fold(data.clone(), |v, key| v[key].clone()) };
        let all = at(&read("first: 100".to_owned()).await);
        let all = strings(&all["nodes"], |n| &n["id"]);
        assert!(all.len() >= 3, "{list}: {all:?}");
        let last_two = at(&read("last: 2".to_owned()).await);
        assert_eq!(
            strings(&last_two["nodes"], |n| &n["id"]),
            all[all.len() - 2..].to_vec(),
            "{list}"
        );
        let before = at(&read(format!(
            "last: 100, before: {}",
            last_two["pageInfo"]["startCursor"]
        ))
        .await);
        assert_eq!(
            strings(&before["nodes"], |n| &n["id"]),
            all[..all.len() - 2].to_vec(),
            "{list}"
        );
        assert_eq!(before["pageInfo"]["hasPreviousPage"], false);
        assert_eq!(before["pageInfo"]["hasNextPage"], true);
    }
}

#[tokio::test]
async fn a_cursor_is_refused_under_another_order() {
    let app = TestApp::spawn_seeded().await;
    let (_, info) = people_page(
        &app,
        r#"orderBy: [{field: NAME, direction: DESC}], first: 2"#,
    )
    .await;
    for arguments in [
        format!("first: 2, after: {}", info["endCursor"]),
        format!(
            r#"orderBy: [{{field: SLUG}}], first: 2, after: {}"#,
            info["endCursor"]
        ),
        format!("last: 2, before: {}", info["endCursor"]),
    ] {
        let response = app
            .graphql(&format!("{{ people({arguments}) {{ nodes {{ name }} }} }}"))
            .await;
        assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{arguments}");
    }
    // The default order's cursors are those the list always gave out, and a
    // filter does not change the order.
    let (_, plain) = people_page(&app, "first: 2").await;
    let (filtered, _) = people_page(
        &app,
        &format!(
            r#"where: {{authorOf: {{slug: "llama-2023"}}}}, first: 2, after: {}"#,
            plain["endCursor"]
        ),
    )
    .await;
    assert_eq!(filtered.len(), 2);
}

#[tokio::test]
async fn and_or_not_compose() {
    let app = TestApp::spawn_seeded().await;
    let count = |filter: &'static str| {
        let app = &app;
        async move {
            let data = app
                .data(&format!(
                    "{{ people(where: {filter}) {{ totalCount nodes {{ slug }} }} }}"
                ))
                .await;
            data["people"]["totalCount"].as_i64().expect("a count")
        }
    };
    assert_eq!(count(r#"{authorOf: {slug: "llama-2023"}}"#).await, 14);
    assert_eq!(
        count(r#"{authorOf: {slug: "llama-2023"}, not: {currentlyAt: {slug: "meta"}}}"#).await,
        11,
        "11 of the 14 authors have left Meta"
    );
    let cohere = count(r#"{currentlyAt: {slug: "cohere"}}"#).await;
    let kyutai = count(r#"{currentlyAt: {slug: "kyutai"}}"#).await;
    assert!(cohere > 0 && kyutai > 0);
    assert_eq!(
        count(r#"{or: [{currentlyAt: {slug: "cohere"}}, {currentlyAt: {slug: "kyutai"}}]}"#).await,
        cohere + kyutai
    );
    assert_eq!(
        count(r#"{and: [{currentlyAt: {slug: "cohere"}}, {currentlyAt: {slug: "kyutai"}}]}"#).await,
        0
    );
    assert_eq!(
        count(r#"{slug: {in: ["guillaume-lample", "nobody"]}}"#).await,
        1
    );
    assert_eq!(
        count(r#"{currentlyAt: {slug: "no-such-organization"}}"#).await,
        0
    );
}

#[tokio::test]
async fn organizations_and_publications_filter_and_order() {
    let app = TestApp::spawn_seeded().await;
    app.sql(FAIR_2020).await;
    app.sql(
        "INSERT INTO publications (slug, title, published_on, published_on_precision) VALUES
            ('p-2019', 'P 2019', '2019-01-01', 'year'),
            ('p-2021-05', 'P 2021-05', '2021-05-01', 'month'),
            ('p-undated', 'P Undated', NULL, NULL);",
    )
    .await;
    let data = app
        .data(
            r#"{
            within: organizations(where: {within: {slug: "meta"}}) { nodes { slug } }
            units: organization(slug: "meta") { units { slug } }
            staffed: organizations(where: {hasStaffAt: "2020-06-01", slug: {eq: "fair"}}) { nodes { slug } }
            unstaffed: organizations(where: {hasStaffAt: "1990-06-01", slug: {eq: "fair"}}) { nodes { slug } }
            startups: organizations(where: {kind: [STARTUP]}, first: 100) { nodes { kind } }
            founded: organizations(orderBy: [{field: FOUNDED_ON, direction: DESC}], first: 100) { nodes { foundedOn } }
            certain: publications(where: {publishedOn: {from: "2021-01-01", to: "2021-12-31", certainty: CERTAINLY}}) { nodes { slug } }
            possible: publications(where: {publishedOn: {from: "2021-01-01", to: "2021-12-31"}}) { nodes { slug } }
            recent: publications(orderBy: [{field: PUBLISHED_ON, direction: DESC}]) { nodes { slug } }
        }"#,
        )
        .await;
    let mut within = strings(&data["within"]["nodes"], |n| &n["slug"]);
    within.sort();
    let mut expected = strings(&data["units"]["units"], |n| &n["slug"]);
    expected.push("meta".to_owned());
    expected.sort();
    assert_eq!(within, expected);
    assert_eq!(data["staffed"]["nodes"], json!([{"slug": "fair"}]));
    // The article's undated FAIR stints are possible on any day: only a day
    // before every dated start and with no undated stint rules FAIR out.
    let startups = &data["startups"]["nodes"];
    assert!(!startups.as_array().expect("a list").is_empty());
    assert!(
        startups
            .as_array()
            .into_iter()
            .flatten()
            .all(|n| n["kind"] == "STARTUP")
    );
    let founded: Vec<Value> = data["founded"]["nodes"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|n| n["foundedOn"].clone())
        .collect();
    let known = founded.iter().take_while(|d| !d.is_null()).count();
    assert!(founded[known..].iter().all(Value::is_null), "unknown last");
    let firsts: Vec<String> = founded[..known]
        .iter()
        .map(|d| format!("{:0<10}", d.as_str().unwrap_or_default()))
        .collect();
    let mut sorted = firsts.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(firsts, sorted, "latest first");
    assert_eq!(data["certain"]["nodes"], json!([{"slug": "p-2021-05"}]));
    let mut possible = strings(&data["possible"]["nodes"], |n| &n["slug"]);
    possible.sort();
    assert_eq!(possible, ["p-2021-05", "p-undated"]);
    let recent = strings(&data["recent"]["nodes"], |n| &n["slug"]);
    assert_eq!(recent, ["llama-2023", "p-2021-05", "p-2019", "p-undated"]);
}

#[tokio::test]
async fn stint_filters_agree_for_an_organization_and_its_people() {
    let app = TestApp::spawn_seeded().await;
    app.sql(FAIR_2020).await;
    for filter in [
        r#"{inProgressOn: {date: "2020-06-01", certainty: CERTAINLY}}"#,
        r#"{inProgressOn: {date: "2020-06-01"}}"#,
        r#"{startedBetween: {from: "2019-06-01", to: "2021-12-31"}}"#,
        r#"{startedBetween: {from: "2019-06-01", to: "2021-12-31", certainty: CERTAINLY}}"#,
        r#"{endedBetween: {from: "2021-01-01", certainty: CERTAINLY}}"#,
        r#"{endedBetween: {to: "2022-06-30"}}"#,
        r#"{or: [{title: {eq: "Intern"}}, {isCurrent: true}], not: {isFounder: true}}"#,
    ] {
        let data = app
            .data(&format!(
                r#"{{ organization(slug: "fair") {{ employments(where: {filter}, includeUnits: false, first: 100) {{ nodes {{ id person {{ slug }} }} }} }}
                    people(where: {{slug: {{in: ["fx-ada", "fx-bo", "fx-cy", "fx-di"]}}}}) {{ nodes {{ employments(where: {filter}) {{ id organization {{ slug }} }} }} }} }}"#
            ))
            .await;
        let mut listed: Vec<String> = data["organization"]["employments"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|n| {
                n["person"]["slug"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("fx-"))
            })
            .map(|n| n["id"].as_str().unwrap_or_default().to_owned())
            .collect();
        let mut careers: Vec<String> = data["people"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|p| p["employments"].as_array().cloned().unwrap_or_default())
            .filter(|e| e["organization"]["slug"] == "fair")
            .map(|e| e["id"].as_str().unwrap_or_default().to_owned())
            .collect();
        listed.sort();
        careers.sort();
        assert_eq!(listed, careers, "{filter}");
    }
    let ada = app
        .data(
            r#"{ person(slug: "fx-ada") {
                latest: employments(orderBy: [{field: STARTED_ON, direction: DESC}]) { organization { slug } }
                in2021: employments(where: {startedBetween: {from: "2021-01-01", to: "2021-12-31"}}) { organization { slug } }
            } }"#,
        )
        .await;
    assert_eq!(
        ada["person"]["latest"],
        json!([{"organization": {"slug": "mistral"}}, {"organization": {"slug": "fair"}}])
    );
    assert_eq!(
        ada["person"]["in2021"],
        json!([{"organization": {"slug": "mistral"}}])
    );
}

#[tokio::test]
async fn filters_keep_statements_per_request_constant() {
    let app = TestApp::spawn_seeded().await;
    // Each stint's person too: a plain page would otherwise read its
    // people's stints ahead, in its own statement, which filtered pages do
    // not (yet).
    let nested = "nodes { name employments { organization { name } person { name } } }";
    let plain = app
        .statements_for(&format!("{{ people(first: 20) {{ {nested} }} }}"))
        .await;
    let filtered = app
        .statements_for(&format!(
            r#"{{ people(where: {{or: [{{formerlyAt: {{slug: "meta"}}}}, {{currentlyAt: {{slug: "mistral"}}}}]}}, orderBy: [{{field: SLUG, direction: DESC}}], first: 20) {{ {nested} }} }}"#
        ))
        .await;
    assert_eq!(filtered, plain);
    let stints = |where_: &str| {
        format!(
            "{{ organizations(first: 50) {{ nodes {{ employments({where_}first: 5) {{ totalCount nodes {{ person {{ name }} }} }} }} }} }}"
        )
    };
    let few = app
        .statements_for(&stints(r#"where: {isCurrent: true}, "#))
        .await;
    let ordered = app
        .statements_for(&stints(
            r#"where: {isCurrent: true}, orderBy: [{field: TITLE}], "#,
        ))
        .await;
    assert_eq!(few, ordered);
    assert!(few <= 4, "{few} statements");
}

#[tokio::test]
async fn mistakes_in_filters_are_bad_user_input() {
    let app = TestApp::spawn_seeded().await;
    let person = app
        .data(r#"{ person(slug: "guillaume-lample") { id } }"#)
        .await;
    for query in [
        r#"{ people(where: {employedAt: {organization: {slug: "meta"}, at: "2020-01-01", certainty: NO}}) { totalCount } }"#.to_owned(),
        format!(r#"{{ people(where: {{currentlyAt: {{id: {}}}}}) {{ totalCount }} }}"#, person["person"]["id"]),
        r#"{ people(first: 2, last: 2) { totalCount } }"#.to_owned(),
        r#"{ people(last: 101) { totalCount } }"#.to_owned(),
        r#"{ people(search: "lample", where: {slug: {eq: "x"}}) { totalCount } }"#.to_owned(),
        r#"{ people(where: {name: {}}) { totalCount } }"#.to_owned(),
        r#"{ publications(where: {publishedOn: {from: "2022-01-01", to: "2021-01-01"}}) { totalCount } }"#.to_owned(),
        r#"{ people(where: {not: {not: {not: {not: {not: {not: {not: {not: {not: {slug: {eq: "x"}}}}}}}}}}}) { totalCount } }"#.to_owned(),
    ] {
        let response = app.graphql(&query).await;
        assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{query}: {response:#}");
    }
    // Both members of a @oneOf reference at once is refused too.
    let response = app
        .graphql(r#"{ people(where: {currentlyAt: {slug: "meta", id: "x"}}) { totalCount } }"#)
        .await;
    assert_eq!(error_codes(&response), ["BAD_USER_INPUT"]);
}

fn input<T: InputType>(value: Value) -> T {
    T::parse(Some(
        async_graphql::Value::from_json(value).expect("a GraphQL value"),
    ))
    .unwrap_or_else(|e| {
        panic!(
            "a valid filter: {:?}",
            e.into_server_error(Default::default())
        )
    })
}

fn first_page(
    list: List,
    order: Vec<sql_filter::OrderKey>,
    default: Vec<sql_filter::OrderKey>,
) -> Page {
    let args = PageArgs {
        first: Some(20),
        ..PageArgs::default()
    };
    filter::paged(list, order, &default, &args)
        .expect("a page")
        .page
}

/// Every documented filter at 100,000 people: PostgreSQL must answer it from
/// indexes, never by reading all of `people` or `employments`.
#[tokio::test]
async fn every_documented_filter_is_index_backed_at_a_hundred_thousand_people() {
    let app = TestApp::spawn().await;
    let loaded = std::process::Command::new("psql")
        .arg(&app.database_url)
        .args(["-q", "-v", "people=100000", "-v", "orgs=5000", "-f"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/bench/synthetic.sql"))
        .output()
        .expect("psql runs");
    assert!(
        loaded.status.success(),
        "{}",
        String::from_utf8_lossy(&loaded.stderr)
    );
    let mut conn = app.conn().await;
    let org = |slug: &str| json!({"slug": slug});
    // org-00001 is the largest organization; org-04999 one of the smallest.
    let people_filters = [
        json!({"name": {"eq": "Ana Babaka"}}),
        json!({"slug": {"in": ["person-1", "person-2"]}}),
        json!({"employedAt": {"organization": org("org-00001")}}),
        json!({"employedAt": {"organization": org("org-00001"), "at": "2010-06-01"}}),
        json!({"employedAt": {"organization": org("org-00001"), "at": "2010-06-01", "certainty": "CERTAINLY", "includeUnits": false}}),
        json!({"employedAt": {"organization": org("org-04999"), "at": "2010-06-01"}}),
        json!({"currentlyAt": org("org-00001")}),
        json!({"formerlyAt": org("org-00001")}),
        json!({"formerlyAt": org("org-00001"), "currentlyAt": org("org-00006")}),
        json!({"authorOf": {"slug": "paper-5"}}),
        json!({"or": [{"currentlyAt": org("org-00011")}, {"formerlyAt": org("org-00016")}]}),
        json!({"employedAt": {"organization": org("org-00001"), "at": "2010-06-01"}, "not": {"currentlyAt": org("org-00001")}}),
    ];
    let mut plans = Vec::new();
    for people_filter in &people_filters {
        let pred = filter::person_filter(Some(&input::<PersonFilter>(people_filter.clone())))
            .expect("a filter");
        for order in [
            None,
            Some(vec![input(json!({"field": "SLUG", "direction": "DESC"}))]),
        ] {
            let page = first_page(
                List::People,
                filter::person_order(order).expect("an order"),
                filter::person_order(None).expect("an order"),
            );
            let statement = sql_filter::people_statement(&pred, &page);
            plans.push((
                people_filter.to_string(),
                sql_filter::explain(&mut conn, statement).await,
            ));
        }
    }
    for organization_filter in [
        json!({"within": org("org-00001")}),
        json!({"hasStaffAt": "2010-06-01"}),
        json!({"kind": ["STARTUP"], "country": {"eq": "FR"}}),
    ] {
        let pred = filter::organization_filter(Some(&input::<OrganizationFilter>(
            organization_filter.clone(),
        )))
        .expect("a filter");
        let page = first_page(
            List::Organizations,
            filter::organization_order(None).expect("an order"),
            filter::organization_order(None).expect("an order"),
        );
        let statement = sql_filter::organizations_statement(&pred, &page);
        plans.push((
            organization_filter.to_string(),
            sql_filter::explain(&mut conn, statement).await,
        ));
    }
    let publication = input::<PublicationFilter>(
        json!({"publishedOn": {"from": "2010-01-01", "to": "2010-12-31"}}),
    );
    let pred = filter::publication_filter(Some(&publication)).expect("a filter");
    let page = first_page(
        List::Publications,
        filter::publication_order(None).expect("an order"),
        filter::publication_order(None).expect("an order"),
    );
    plans.push((
        "publishedOn".to_owned(),
        sql_filter::explain(&mut conn, sql_filter::publications_statement(&pred, &page)).await,
    ));
    let roots: Vec<i64> = {
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        use talentgraph::db::schema::organizations;
        organizations::table
            .filter(organizations::slug.eq_any(["org-00001", "org-00002", "org-04999"]))
            .select(organizations::id)
            .load(&mut conn)
            .await
            .expect("organizations")
    };
    for stint_filter in [
        json!({"inProgressOn": {"date": "2010-06-01"}}),
        json!({"inProgressOn": {"date": "2010-06-01", "certainty": "CERTAINLY"}}),
        json!({"startedBetween": {"from": "2005-01-01", "to": "2006-12-31"}}),
        json!({"endedBetween": {"from": "2010-01-01", "certainty": "CERTAINLY"}}),
        json!({"title": {"eq": "Engineer"}, "isFounder": false, "isLeader": false, "isCurrent": true}),
    ] {
        let pred = filter::stint_filter(Some(&input::<EmploymentFilter>(stint_filter.clone())))
            .expect("a filter");
        for order in [
            None,
            Some(vec![input(
                json!({"field": "STARTED_ON", "direction": "DESC"}),
            )]),
        ] {
            let page = first_page(
                List::Employments { organization: 0 },
                filter::employment_order(order).expect("an order"),
                filter::employment_order(None).expect("an order"),
            );
            let statement = sql_filter::stint_pages_statement(&roots, true, &pred, &page);
            plans.push((
                stint_filter.to_string(),
                sql_filter::explain(&mut conn, statement).await,
            ));
        }
    }
    for (what, plan) in plans {
        let plan = plan.unwrap_or_else(|e| panic!("{what}: EXPLAIN failed: {e}"));
        for table in ["people", "employments"] {
            assert!(
                !plan.contains(&format!("Seq Scan on {table}")),
                "{what} reads all of {table}:\n{plan}"
            );
        }
    }
}

#[tokio::test]
async fn lists_that_grow_with_the_data_take_first() {
    let app = TestApp::spawn_seeded().await;
    let data = app
        .data(
            r#"{
            publication(slug: "llama-2023") { retention(organization: "meta") {
                left { name } leftFew: left(first: 3) { name }
                stayed { name } stayedOne: stayed(first: 1) { name }
                destinations { people { name } few: people(first: 2) { name } } } }
            meta: organization(slug: "meta") { units { slug } one: units(first: 1) { slug } }
            mistral: organization(slug: "mistral") { founders { name } two: founders(first: 2) { name } }
            fair: organization(slug: "fair") { leaders { id } one: leaders(first: 1) { id } }
        }"#,
        )
        .await;
    let prefix = |all: &Value, few: &Value, n: usize| {
        let all = all.as_array().expect("a list");
        let few = few.as_array().expect("a list");
        assert_eq!(few.len(), n.min(all.len()));
        assert_eq!(few[..], all[..few.len()]);
    };
    let retention = &data["publication"]["retention"];
    prefix(&retention["left"], &retention["leftFew"], 3);
    prefix(&retention["stayed"], &retention["stayedOne"], 1);
    let mistral = &retention["destinations"][0];
    prefix(&mistral["people"], &mistral["few"], 2);
    prefix(&data["meta"]["units"], &data["meta"]["one"], 1);
    prefix(&data["mistral"]["founders"], &data["mistral"]["two"], 2);
    prefix(&data["fair"]["leaders"], &data["fair"]["one"], 1);
    let response = app
        .graphql(r#"{ organization(slug: "meta") { units(first: 0) { slug } } }"#)
        .await;
    assert_eq!(error_codes(&response), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn the_audit_log_pages_backward() {
    let app = TestApp::spawn_seeded().await;
    let admin = app.token("admin").await;
    let read = |arguments: &str| {
        let (app, admin) = (&app, &admin);
        let query = format!(
            "{{ auditLog(entityType: ORGANIZATION, {arguments}) {{ nodes {{ id }} pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} }} }}"
        );
        async move {
            let response = app.graphql_as(admin, &query, json!({})).await;
            assert!(response.get("errors").is_none(), "{response:#}");
            response["data"]["auditLog"].clone()
        }
    };
    let all = read("first: 100").await;
    let all = strings(&all["nodes"], |n| &n["id"]);
    assert!((3..100).contains(&all.len()), "{all:?}");
    let oldest = read("last: 2").await;
    assert_eq!(
        strings(&oldest["nodes"], |n| &n["id"]),
        all[all.len() - 2..].to_vec()
    );
    assert_eq!(oldest["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(oldest["pageInfo"]["hasNextPage"], false);
    let newer = read(&format!(
        "last: 100, before: {}",
        oldest["pageInfo"]["startCursor"]
    ))
    .await;
    assert_eq!(
        strings(&newer["nodes"], |n| &n["id"]),
        all[..all.len() - 2].to_vec()
    );
    assert_eq!(newer["pageInfo"]["hasPreviousPage"], false);
    assert_eq!(newer["pageInfo"]["hasNextPage"], true);
}
