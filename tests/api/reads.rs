//! Every read field of the contract, on the article's data set.

use serde_json::{Value, json};

use crate::support::{TestApp, error_codes, strings};

const ARTICLE: &str = "https://www.listmystartup.app/article/metas-ai-exodus-how-mistral-and-others-are-winning-the-talent-war";
const ARXIV: &str = "https://arxiv.org/abs/2302.13971";

#[tokio::test]
async fn a_person_is_found_by_slug_with_names_aliases_stints_and_authorships() {
    let app = TestApp::spawn_seeded().await;
    let data = app
        .data(
            r#"{ person(slug: "aurelien-rodriguez") {
                slug name aliases bio
                employments { organization { slug } title isCurrent isFounder startedOn endedOn sources { url } }
                currentEmployments { organization { name } title }
                authorships { position publication { slug } affiliation { slug } sources { url publisher publishedOn } }
            } }"#,
        )
        .await;
    let person = &data["person"];
    assert_eq!(person["name"], "Aurélien Rodriguez");
    assert_eq!(person["aliases"], json!(["Aurelien Rodriguez"]));
    assert_eq!(person["bio"], Value::Null);
    assert_eq!(
        person["employments"],
        json!([
            { "organization": { "slug": "meta" }, "title": null, "isCurrent": false, "isFounder": false,
              "startedOn": null, "endedOn": null, "sources": [{ "url": ARXIV }, { "url": ARTICLE }] },
            { "organization": { "slug": "cohere" }, "title": "Director, Foundation Model Training",
              "isCurrent": true, "isFounder": false, "startedOn": null, "endedOn": null,
              "sources": [{ "url": ARTICLE }] }
        ])
    );
    assert_eq!(
        person["currentEmployments"],
        json!([{ "organization": { "name": "Cohere" }, "title": "Director, Foundation Model Training" }])
    );
    assert_eq!(
        person["authorships"],
        json!([{ "position": 11, "publication": { "slug": "llama-2023" }, "affiliation": { "slug": "meta" },
                 "sources": [{ "url": ARXIV, "publisher": "arXiv", "publishedOn": "2023-02-27" }] }])
    );
}

#[tokio::test]
async fn employment_status_separates_current_from_former_stints() {
    let app = TestApp::spawn_seeded().await;
    let data = app
        .data(
            r#"{ person(slug: "robert-fergus") {
                all: employments { organization { slug } }
                current: employments(status: CURRENT) { organization { slug } title }
                former: employments(status: FORMER) { organization { slug } reportedYears careerPosition }
            } }"#,
        )
        .await;
    let person = &data["person"];
    // Chronological by the stated career order: FAIR, DeepMind, back to FAIR.
    assert_eq!(
        strings(&person["all"], |e| &e["organization"]["slug"]),
        ["fair", "google-deepmind", "fair"]
    );
    assert_eq!(
        person["current"],
        json!([{ "organization": { "slug": "fair" }, "title": "Head of FAIR" }])
    );
    assert_eq!(
        person["former"],
        json!([
            { "organization": { "slug": "fair" }, "reportedYears": null, "careerPosition": 1 },
            { "organization": { "slug": "google-deepmind" }, "reportedYears": 5, "careerPosition": 2 }
        ])
    );
}

#[tokio::test]
async fn an_organization_has_its_parent_units_founders_and_details() {
    let app = TestApp::spawn_seeded().await;
    let data = app
        .data(
            r#"{
                fair: organization(slug: "fair") { name kind parent { slug } units { slug } founders { name } }
                meta: organization(slug: "meta") { kind parent { slug } units { slug name } }
                mistral: organization(slug: "mistral") { name kind country website foundedOn founders { slug name } }
                missing: organization(slug: "no-such-org") { name }
            }"#,
        )
        .await;
    assert_eq!(
        data["fair"],
        json!({ "name": "FAIR", "kind": "RESEARCH_LAB", "parent": { "slug": "meta" }, "units": [],
                "founders": [{ "name": "Robert Fergus" }] })
    );
    assert_eq!(
        data["meta"],
        json!({ "kind": "COMPANY", "parent": null, "units": [{ "slug": "fair", "name": "FAIR" }] })
    );
    assert_eq!(data["mistral"]["kind"], "STARTUP");
    assert_eq!(data["mistral"]["country"], "FR");
    assert_eq!(data["mistral"]["website"], "https://mistral.ai");
    assert_eq!(data["mistral"]["foundedOn"], Value::Null);
    assert_eq!(
        strings(&data["mistral"]["founders"], |p| &p["name"]),
        ["Arthur Mensch", "Guillaume Lample", "Timothée Lacroix"]
    );
    assert_eq!(data["missing"], Value::Null);
}

#[tokio::test]
async fn organization_employments_include_units_unless_told_otherwise() {
    let app = TestApp::spawn_seeded().await;
    let data = app
        .data(
            r#"{ organization(slug: "meta") {
                withUnits: employments { totalCount }
                withoutUnits: employments(includeUnits: false) { totalCount }
                current: employments(status: CURRENT, first: 100) { totalCount nodes { person { slug } organization { slug } isCurrent } }
                former: employments(status: FORMER) { totalCount }
            } }"#,
        )
        .await;
    let meta = &data["organization"];
    // 14 LLaMA authors at Meta; at its unit FAIR, Pineau's stint and Fergus's two.
    assert_eq!(meta["withUnits"]["totalCount"], 17);
    assert_eq!(meta["withoutUnits"]["totalCount"], 14);
    assert_eq!(meta["former"]["totalCount"], 13);
    assert_eq!(meta["current"]["totalCount"], 4);
    let mut current: Vec<String> = strings(&meta["current"]["nodes"], |e| &e["person"]["slug"]);
    current.sort();
    assert_eq!(
        current,
        [
            "faisal-azhar",
            "hugo-touvron",
            "robert-fergus",
            "xavier-martinet"
        ]
    );
    assert!(
        meta["current"]["nodes"]
            .as_array()
            .is_some_and(|n| n.iter().all(|e| e["isCurrent"] == true))
    );
}

#[tokio::test]
async fn organizations_can_be_listed_by_kind() {
    let app = TestApp::spawn_seeded().await;
    let data = app
        .data(
            r#"{
                all: organizations(first: 100) { totalCount nodes { slug } }
                startups: organizations(kind: STARTUP) { totalCount nodes { name } }
                labs: organizations(kind: RESEARCH_LAB) { nodes { slug parent { slug } } }
            }"#,
        )
        .await;
    assert_eq!(data["all"]["totalCount"], 11);
    assert_eq!(data["startups"]["totalCount"], 2);
    assert_eq!(
        strings(&data["startups"]["nodes"], |o| &o["name"]),
        ["Mistral AI", "Thinking Machines Lab"]
    );
    assert_eq!(
        data["labs"]["nodes"],
        json!([{ "slug": "fair", "parent": { "slug": "meta" } }, { "slug": "google-deepmind", "parent": { "slug": "google" } }])
    );
}

#[tokio::test]
async fn the_llama_paper_lists_its_fourteen_authors_in_order_with_their_affiliation() {
    let app = TestApp::spawn_seeded().await;
    let data = app
        .data(
            r#"{
                publication(slug: "llama-2023") {
                    title publishedOn venue url
                    authors { position person { name } affiliation { name } publication { slug } sources { url } }
                }
                publications { totalCount nodes { slug } }
            }"#,
        )
        .await;
    let paper = &data["publication"];
    assert_eq!(
        paper["title"],
        "LLaMA: Open and Efficient Foundation Language Models"
    );
    assert_eq!(paper["publishedOn"], "2023-02-27");
    assert_eq!(paper["venue"], "arXiv");
    assert_eq!(paper["url"], ARXIV);
    assert_eq!(
        strings(&paper["authors"], |a| &a["person"]["name"]),
        [
            "Hugo Touvron",
            "Thibaut Lavril",
            "Gautier Izacard",
            "Xavier Martinet",
            "Marie-Anne Lachaux",
            "Timothée Lacroix",
            "Baptiste Rozière",
            "Naman Goyal",
            "Eric Hambro",
            "Faisal Azhar",
            "Aurélien Rodriguez",
            "Armand Joulin",
            "Edouard Grave",
            "Guillaume Lample",
        ]
    );
    let authors = paper["authors"].as_array().expect("a list");
    for (index, author) in authors.iter().enumerate() {
        assert_eq!(author["position"], index + 1);
        assert_eq!(author["affiliation"]["name"], "Meta");
        assert_eq!(author["publication"]["slug"], "llama-2023");
        assert_eq!(author["sources"], json!([{ "url": ARXIV }]));
    }
    assert_eq!(
        data["publications"],
        json!({ "totalCount": 1, "nodes": [{ "slug": "llama-2023" }] })
    );
}

#[tokio::test]
async fn every_global_id_finds_its_node_again() {
    let app = TestApp::spawn_seeded().await;
    let data = app
        .data(
            r#"{ person(slug: "guillaume-lample") {
                id
                employments { id organization { id } sources { id } }
                authorships { publication { id } }
            } }"#,
        )
        .await;
    let person = &data["person"];
    let stint = &person["employments"][1];
    let ids = [
        (&person["id"], "Person"),
        (&stint["id"], "Employment"),
        (&stint["organization"]["id"], "Organization"),
        (&stint["sources"][0]["id"], "Source"),
        (
            &person["authorships"][0]["publication"]["id"],
            "Publication",
        ),
    ];
    let mut seen = Vec::new();
    for (id, typename) in ids {
        let id = id.as_str().expect("an id");
        let found = app
            .data(&format!(r#"{{ node(id: "{id}") {{ __typename id }} }}"#))
            .await;
        assert_eq!(found["node"], json!({ "__typename": typename, "id": id }));
        seen.push(id.to_owned());
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5, "ids are unique across types");

    let details = app
        .data(&format!(
            r#"{{ node(id: "{}") {{ ... on Employment {{ title isFounder person {{ slug }} organization {{ slug }} }} }} }}"#,
            stint["id"].as_str().expect("an id")
        ))
        .await;
    assert_eq!(
        details["node"],
        json!({ "title": "Co-founder and Chief Scientist", "isFounder": true,
                "person": { "slug": "guillaume-lample" }, "organization": { "slug": "mistral" } })
    );
}

#[tokio::test]
async fn an_unknown_id_is_null_and_a_malformed_one_is_bad_input() {
    let app = TestApp::spawn_seeded().await;
    // "Person:999999" in the id encoding, a well-formed id nobody has.
    let unknown = app
        .data(r#"{ node(id: "UGVyc29uOjk5OTk5OQ") { id } }"#)
        .await;
    assert_eq!(unknown["node"], Value::Null);

    let malformed = app.graphql(r#"{ node(id: "42") { id } }"#).await;
    assert_eq!(error_codes(&malformed), ["BAD_USER_INPUT"]);
    assert_eq!(malformed["data"]["node"], Value::Null);
}

#[tokio::test]
async fn every_stint_and_authorship_cites_a_source() {
    let app = TestApp::spawn_seeded().await;
    let data = app
        .data(
            r#"{ people(first: 100) { nodes { slug employments { sources { url title } } authorships { sources { url } } } } }"#,
        )
        .await;
    let people = data["people"]["nodes"].as_array().expect("a list");
    assert_eq!(people.len(), 17);
    for person in people {
        for stint in person["employments"].as_array().expect("a list") {
            let sources = stint["sources"].as_array().expect("a list");
            assert!(
                !sources.is_empty(),
                "{} has an uncited stint",
                person["slug"]
            );
            assert!(sources.iter().all(|s| s["title"].is_string()));
        }
        for authorship in person["authorships"].as_array().expect("a list") {
            assert!(!authorship["sources"].as_array().expect("a list").is_empty());
        }
    }
}

/// `organization(slug:)` reads the organization's units in its own
/// statement when the selection asks for them, and hands them to `units`;
/// by id it leaves them to `units`' own statement. Every organization, with
/// units out of id order, units of units, or none, gets the same answer
/// either way, at any `first:`.
#[tokio::test]
async fn an_organization_looked_up_by_slug_answers_as_by_id() {
    let app = TestApp::spawn_seeded().await;
    app.sql(
        "INSERT INTO organizations (slug, name, kind) VALUES ('holding', 'Holding', 'company');
         INSERT INTO organizations (slug, name, kind, parent_id)
         SELECT slug, name, 'research_lab', (SELECT id FROM organizations WHERE slug = 'holding')
         FROM (VALUES ('zeta-lab', 'Zeta Lab'), ('alpha-lab', 'Alpha Lab'), ('mid-lab', 'Mid Lab')) AS u(slug, name);
         INSERT INTO organizations (slug, name, kind, parent_id)
         SELECT 'alpha-team', 'Alpha Team', 'research_lab', id FROM organizations WHERE slug = 'alpha-lab';",
    )
    .await;
    let fields = "id slug name kind country website foundedOn version \
                  units { id slug name kind version parent { slug } units { slug } } \
                  firstUnit: units(first: 1) { slug name }";
    let listed = app
        .data("{ organizations(first: 100) { nodes { id slug } } }")
        .await;
    let listed = listed["organizations"]["nodes"]
        .as_array()
        .expect("organizations")
        .clone();
    assert!(listed.len() > 10, "{listed:?}");
    let mut with_units = 0;
    for organization in &listed {
        let by_slug = format!(
            "{{ o: organization(slug: {}) {{ {fields} }} }}",
            organization["slug"]
        );
        let by_id = format!(
            "{{ o: organization(ref: {{id: {}}}) {{ {fields} }} }}",
            organization["id"]
        );
        let answer = app.data(&by_slug).await;
        assert_eq!(answer, app.data(&by_id).await, "{organization}");
        with_units += usize::from(
            answer["o"]["units"]
                .as_array()
                .is_some_and(|u| !u.is_empty()),
        );
        // The organization with its units in one statement where by id they
        // take two (each then reads the units' units and parents).
        let counted = |lookup: String| lookup.replace(fields, "name units { slug }");
        assert_eq!(
            app.statements_for(&counted(by_slug.clone())).await,
            1,
            "{organization}"
        );
        assert_eq!(
            app.statements_for(&counted(by_id)).await,
            2,
            "{organization}"
        );
    }
    assert!(with_units >= 3, "{with_units}");
    let holding = app
        .data(r#"{ organization(slug: "holding") { units { slug units { slug } } } }"#)
        .await;
    assert_eq!(
        holding,
        json!({"organization": {"units": [
            {"slug": "alpha-lab", "units": [{"slug": "alpha-team"}]},
            {"slug": "mid-lab", "units": []},
            {"slug": "zeta-lab", "units": []},
        ]}})
    );
}

/// `publication(slug:)` reads the publication's authorships in its own
/// statement when its author lists all ask for the same relations, and
/// hands them to `authors`; by id it leaves them to `authors`' own
/// statement. Every publication gets the same answer either way.
#[tokio::test]
async fn a_publication_looked_up_by_slug_answers_as_by_id() {
    let app = TestApp::spawn_seeded().await;
    // Authors inserted last to first, some without an affiliation, and a
    // publication without authors.
    app.sql(
        "BEGIN;
         INSERT INTO publications (slug, title) VALUES ('reversed', 'Reversed'), ('unsigned', 'Unsigned');
         INSERT INTO authorships (publication_id, person_id, position, affiliation_id)
         SELECT (SELECT id FROM publications WHERE slug = 'reversed'), p.id, 100 - row_number() OVER (ORDER BY p.id),
                CASE WHEN p.id % 2 = 0 THEN (SELECT id FROM organizations WHERE slug = 'meta') END
         FROM people p;
         INSERT INTO authorship_sources (authorship_id, source_id)
         SELECT a.id, (SELECT min(id) FROM sources) FROM authorships a
         WHERE a.publication_id = (SELECT id FROM publications WHERE slug = 'reversed');
         COMMIT;",
    )
    .await;
    let fields = "id slug title publishedOn venue \
                  authors { id position person { id slug name } affiliation { id slug name kind } \
                            sources { url } } \
                  again: authors { position person { id slug name } affiliation { id slug name kind } }";
    let listed = app
        .data("{ publications(first: 100) { nodes { id slug } } }")
        .await;
    let listed = listed["publications"]["nodes"]
        .as_array()
        .expect("publications")
        .clone();
    assert!(!listed.is_empty(), "{listed:?}");
    let mut authors = 0;
    for publication in &listed {
        let by_slug = format!(
            "{{ p: publication(slug: {}) {{ {fields} }} }}",
            publication["slug"]
        );
        let by_id = format!(
            "{{ p: publication(ref: {{id: {}}}) {{ {fields} }} }}",
            publication["id"]
        );
        let answer = app.data(&by_slug).await;
        assert_eq!(answer, app.data(&by_id).await, "{publication}");
        authors += answer["p"]["authors"].as_array().map_or(0, Vec::len);
        // The publication with its authorships, their people and
        // affiliations in one statement where by id they take two.
        let counted = |lookup: String| {
            lookup.replace(
                fields,
                "title authors { position person { name } affiliation { name } }",
            )
        };
        assert_eq!(
            app.statements_for(&counted(by_slug.clone())).await,
            1,
            "{publication}"
        );
        assert_eq!(
            app.statements_for(&counted(by_id)).await,
            2,
            "{publication}"
        );
    }
    assert!(authors > 20, "{authors}");
}

/// A page of organizations, forward, filtered or backward, reads its
/// organizations' first child list asked for (units or founders) in its own
/// statement and hands it to the list; every organization listed gets the
/// answer it gets by id, which reads its lists on their own.
#[tokio::test]
async fn organizations_listed_with_their_units_or_founders_answer_as_by_id() {
    let app = TestApp::spawn_seeded().await;
    // Units inserted in reverse name order, and a unit of a unit.
    app.sql(
        "BEGIN;
         INSERT INTO organizations (slug, name, kind, parent_id)
         SELECT 'unit-' || n, 'Unit ' || (10 - n), 'research_lab', (SELECT id FROM organizations WHERE slug = 'mistral')
         FROM generate_series(1, 5) n;
         INSERT INTO organizations (slug, name, kind, parent_id)
         VALUES ('sub-unit', 'Sub Unit', 'other', (SELECT id FROM organizations WHERE slug = 'unit-1'));
         -- A founder twice over (two founding stints), and founders
         -- inserted against name order.
         INSERT INTO employments (person_id, organization_id, is_founder, is_current, career_position)
         SELECT e.person_id, e.organization_id, true, false, 99 FROM employments e
         WHERE e.is_founder LIMIT 1;
         INSERT INTO employments (person_id, organization_id, is_founder, is_current, career_position)
         SELECT p.id, (SELECT id FROM organizations WHERE slug = 'unit-2'), true, false, 98
         FROM people p ORDER BY p.name DESC LIMIT 4;
         INSERT INTO employment_sources (employment_id, source_id)
         SELECT e.id, (SELECT min(id) FROM sources) FROM employments e
         WHERE e.career_position IN (98, 99);
         COMMIT;",
    )
    .await;
    let units_first = "id slug name units { id slug name kind foundedOn units { slug } } \
                       few: units(first: 2) { slug } founders { slug }";
    let founders_only = "id name founders { id slug name bio } one: founders(first: 1) { name }";
    let pages = [
        "organizations(first: 100)",
        "organizations(first: 3, after: CURSOR)",
        r#"organizations(first: 100, where: {not: {slug: {eq: "nothing"}}})"#,
        "organizations(last: 4)",
        "organizations(first: 5, orderBy: [{field: SLUG, direction: DESC}])",
    ];
    let first = app
        .data("{ organizations(first: 2) { pageInfo { endCursor } } }")
        .await;
    let cursor = first["organizations"]["pageInfo"]["endCursor"].to_string();
    let (mut units, mut founders) = (0, 0);
    for (page, fields) in pages
        .iter()
        .flat_map(|page| [(page, units_first), (page, founders_only)])
    {
        let page = page.replace("CURSOR", &cursor);
        let listed = app
            .data(&format!("{{ {page} {{ nodes {{ {fields} }} }} }}"))
            .await;
        let listed = listed["organizations"]["nodes"]
            .as_array()
            .expect("organizations")
            .clone();
        assert!(!listed.is_empty(), "{page}");
        for organization in &listed {
            let by_id = app
                .data(&format!(
                    "{{ o: organization(ref: {{id: {}}}) {{ {fields} }} }}",
                    organization["id"]
                ))
                .await;
            assert_eq!(by_id["o"], *organization, "{page}");
            units += organization["units"].as_array().map_or(0, Vec::len);
            founders += organization["founders"].as_array().map_or(0, Vec::len);
        }
        // The page and its units or founders in one statement.
        for list in ["units", "founders"] {
            let counted = format!("{{ {page} {{ nodes {{ name {list} {{ name }} }} }} }}");
            assert_eq!(app.statements_for(&counted).await, 1, "{page}");
        }
    }
    assert!(units > 5, "{units}");
    assert!(founders > 5, "{founders}");
}

/// A page of an organization's stints reads each stint's sources in its own
/// statement when asked for them; every stint gets the sources it gets by
/// id, which loads them on their own: forward, after a cursor, by status,
/// on a day, with or without units, and for many organizations at once.
#[tokio::test]
async fn stints_listed_with_their_sources_answer_as_by_id() {
    let app = TestApp::spawn_seeded().await;
    // A stint citing three sources, added against id order.
    app.sql(
        "INSERT INTO employment_sources (employment_id, source_id)
         SELECT e.id, s.id FROM (SELECT min(id) AS id FROM employments) e
         CROSS JOIN (SELECT id FROM sources ORDER BY id DESC LIMIT 3) s
         ON CONFLICT DO NOTHING;",
    )
    .await;
    let fields = "id title sources { id url title publisher publishedOn } again: sources { url }";
    let first = app
        .data(r#"{ organization(slug: "meta") { employments(first: 2) { pageInfo { endCursor } } } }"#)
        .await;
    let cursor = first["organization"]["employments"]["pageInfo"]["endCursor"].to_string();
    let pages = [
        r#"organization(slug: "meta") { employments(first: 100) { nodes { FIELDS } } }"#,
        r#"organization(slug: "meta") { employments(first: 3, after: CURSOR) { nodes { FIELDS } } }"#,
        r#"organization(slug: "meta") { employments(first: 100, includeUnits: false, status: CURRENT) { nodes { FIELDS } } }"#,
        r#"organization(slug: "meta") { employments(first: 100, at: "2022-06-01") { nodes { FIELDS } } }"#,
        r#"organizations(first: 50) { nodes { employments(first: 5) { nodes { FIELDS } } } }"#,
    ];
    let mut stints = 0;
    let mut sources = 0;
    for page in pages {
        let page = page.replace("CURSOR", &cursor);
        let answer = app
            .data(&format!("{{ {} }}", page.replace("FIELDS", fields)))
            .await;
        let mut listed = Vec::new();
        collect_objects_with(&answer, "sources", &mut listed);
        assert!(!listed.is_empty(), "{page}: {answer}");
        for stint in listed {
            let by_id = app
                .data(&format!(
                    "{{ s: node(id: {}) {{ ... on Employment {{ {fields} }} }} }}",
                    stint["id"]
                ))
                .await;
            assert_eq!(by_id["s"], stint, "{page}");
            stints += 1;
            sources += stint["sources"].as_array().map_or(0, Vec::len);
        }
        // The page and its stints' sources in one statement, after the
        // organization's.
        let counted = format!("{{ {} }}", page.replace("FIELDS", "title sources { url }"));
        let without = format!("{{ {} }}", page.replace("FIELDS", "title"));
        assert_eq!(
            app.statements_for(&counted).await,
            app.statements_for(&without).await,
            "{page}"
        );
    }
    assert!(sources > stints, "{sources} sources for {stints} stints");
}

/// Every object in `value`, at any depth, that has the key `key`.
fn collect_objects_with(value: &Value, key: &str, found: &mut Vec<Value>) {
    match value {
        Value::Object(map) => {
            if map.contains_key(key) {
                found.push(value.clone());
            }
            map.values()
                .for_each(|v| collect_objects_with(v, key, found));
        }
        Value::Array(items) => items
            .iter()
            .for_each(|v| collect_objects_with(v, key, found)),
        _ => {}
    }
}

/// A page of publications reads its publications' authorships in its own
/// statement when every `authors` list asks for the same relations, and
/// hands them to the lists; a second list asking for other relations
/// leaves every list to its own statement. Walked page by page, in pages of
/// one, two and all, both ways get the same answers.
#[tokio::test]
async fn publications_read_with_their_authors_answer_as_publications_read_alone() {
    let app = TestApp::spawn_seeded().await;
    // Authors inserted last to first, some without an affiliation, and
    // publications without authors between those with them.
    app.sql(
        "BEGIN;
         INSERT INTO publications (slug, title) VALUES
           ('reversed', 'Reversed'), ('unsigned', 'Unsigned'), ('aaa-unsigned', 'AAA');
         INSERT INTO authorships (publication_id, person_id, position, affiliation_id)
         SELECT (SELECT id FROM publications WHERE slug = 'reversed'), p.id, 100 - row_number() OVER (ORDER BY p.id),
                CASE WHEN p.id % 2 = 0 THEN (SELECT id FROM organizations WHERE slug = 'meta') END
         FROM people p;
         INSERT INTO authorship_sources (authorship_id, source_id)
         SELECT a.id, (SELECT min(id) FROM sources) FROM authorships a
         WHERE a.publication_id = (SELECT id FROM publications WHERE slug = 'reversed');
         COMMIT;",
    )
    .await;
    let authors = "authors { position person { id slug name } affiliation { id slug name kind } }";
    let fields = format!("id slug title publishedOn venue {authors} again: {authors}");
    let mut publications = 0;
    let walks = [
        ("", 1),
        ("", 2),
        ("", 100),
        (r#"where: {not: {slug: {eq: "nothing"}}}, "#, 2),
        (r#"orderBy: [{field: TITLE, direction: DESC}], "#, 3),
    ];
    for (filter, size) in walks {
        let mut after = "null".to_owned();
        loop {
            let page = |extra: &str| {
                format!(
                    "{{ publications({filter}first: {size}, after: {after}) {{ \
                       pageInfo {{ hasNextPage endCursor }} nodes {{ {fields} {extra} }} }} }}"
                )
            };
            let ahead = app.data(&page("")).await;
            let mut alone = app
                .data(&page("other: authors { position person { name } }"))
                .await;
            let nodes = alone["publications"]["nodes"]
                .as_array_mut()
                .expect("nodes");
            for node in nodes.iter_mut() {
                node.as_object_mut().expect("node").remove("other");
            }
            publications += nodes.len();
            assert_eq!(ahead, alone, "page of {size} after {after}");
            // The page with its authorships in one statement where alone
            // it takes two.
            assert_eq!(app.statements_for(&page("")).await, 1, "{after}");
            let info = &ahead["publications"]["pageInfo"];
            if info["hasNextPage"] != true {
                break;
            }
            after = info["endCursor"].to_string();
        }
    }
    let total = app.data("{ publications { totalCount } }").await;
    assert_eq!(
        publications as i64,
        walks.len() as i64 * total["publications"]["totalCount"].as_i64().expect("count"),
    );
    // Backward, the same.
    let page =
        |extra: &str| format!("{{ publications(last: 3) {{ nodes {{ {fields} {extra} }} }} }}");
    let mut alone = app.data(&page("other: authors { position }")).await;
    strip(&mut alone, "other");
    assert_eq!(app.data(&page("")).await, alone);
}

/// A page of people or of alumni reads its people's stints in its own
/// statement when their stint lists all ask for the same relations, and
/// hands them to the lists. A list that also asks for each stint's person
/// leaves every list to its own statement: the same page asked both ways,
/// whole or in small pages, for one organization or for every organization
/// at once (people repeat across them), gets the same answers.
#[tokio::test]
async fn people_read_with_their_stints_answer_as_people_read_alone() {
    let app = TestApp::spawn_seeded().await;
    let lists = r#"
        id slug name
        employments { ...Stint }
        currentEmployments { ...Stint }
        former: employments(status: FORMER) { ...Stint }
        in2022: employments(at: "2022-06-01") { ...Stint }
        latestFirst: employments(orderBy: [{field: STARTED_ON, direction: DESC}]) { ...Stint }
    "#;
    let fragment = "fragment Stint on Employment { id title startedOn endedOn isCurrent \
                    organization { id slug name parent { slug } } }";
    // The same lists, and one more that asks for each stint's person.
    let alone = format!("{lists} withPerson: employments {{ id person {{ slug }} }}");
    let without_person = |mut data: Value| {
        strip(&mut data, "withPerson");
        data
    };
    let pages = [
        r#"organization(slug: "meta") { alumni(first: 100) { totalCount nodes { LISTS } } }"#,
        r#"organization(slug: "meta") { alumni(first: 3, after: "CURSOR") { nodes { LISTS } } }"#,
        r#"organizations(first: 30) { nodes { slug alumni(first: 3) { nodes { LISTS } } } }"#,
        r#"people(first: 100) { totalCount nodes { LISTS } }"#,
        r#"people(first: 3) { pageInfo { hasNextPage } nodes { LISTS } }"#,
        r#"people(first: 100, where: {not: {slug: {eq: "nobody"}}}) { totalCount nodes { LISTS } }"#,
        r#"people(last: 4) { nodes { LISTS } }"#,
        r#"people(first: 5, orderBy: [{field: NAME, direction: DESC}]) { nodes { LISTS } }"#,
        r#"people(search: "a", first: 100) { totalCount nodes { LISTS } }"#,
        r#"people(search: "e", first: 3) { pageInfo { hasNextPage } nodes { LISTS } }"#,
    ];
    let first_page = app
        .data(r#"{ organization(slug: "meta") { alumni(first: 2) { pageInfo { endCursor } } } }"#)
        .await;
    let cursor = first_page["organization"]["alumni"]["pageInfo"]["endCursor"]
        .as_str()
        .expect("a cursor")
        .to_owned();
    for page in pages {
        let page = page.replace("CURSOR", &cursor);
        let ask = |fields: &str| format!("{{ {} }} {fragment}", page.replace("LISTS", fields));
        let ahead = app.data(&ask(lists)).await;
        let expected = without_person(app.data(&ask(&alone)).await);
        assert_eq!(ahead, expected, "{page}");
        let stints = ahead.to_string().matches("\"startedOn\"").count();
        assert!(stints > 10, "{page}: {ahead}");
        // One statement fewer: the people's stints came with them. (Counted
        // without `at:`, whose attestations a page reads in one statement or
        // two depending on when its lists are polled.)
        let counted = "id employments { ...Stint } currentEmployments { ...Stint }";
        assert_eq!(
            app.statements_for(&ask(counted)).await + 1,
            app.statements_for(&ask(&format!(
                "{counted} withPerson: employments {{ id person {{ slug }} }}"
            )))
            .await,
            "{page}"
        );
    }
}

/// `value` without the object key `key`, at any depth.
/// A page of publications (and the lookup by slug) also reads each
/// author's stints and each authorship's sources in its one statement when
/// every author list asks for them alike; with both, each authorship's
/// rows are its author's stints plus its sources, not their product. The
/// answers are those of the same publications read without looking ahead
/// (a second author list asking for other relations), whichever lists are
/// asked, for authors with no current stint or several, citing one source
/// or two.
#[tokio::test]
async fn authors_stints_and_sources_read_with_the_publications_answer_as_read_alone() {
    let app = TestApp::spawn_seeded().await;
    app.sql(
        "BEGIN;
         INSERT INTO people (slug, name) VALUES ('no-stints', 'No Stints');
         INSERT INTO employments (person_id, organization_id, title, is_current)
         SELECT p.id, o.id, 'Advisor', true FROM people p, organizations o
         WHERE o.slug IN ('meta', 'mistral') AND p.id % 3 = 0;
         INSERT INTO employment_sources (employment_id, source_id)
         SELECT e.id, (SELECT min(id) FROM sources) FROM employments e WHERE e.title = 'Advisor';
         INSERT INTO publications (slug, title) VALUES ('mixed', 'Mixed'), ('unsigned', 'Unsigned');
         INSERT INTO authorships (publication_id, person_id, position, affiliation_id)
         SELECT (SELECT id FROM publications WHERE slug = 'mixed'), p.id, 100 - row_number() OVER (ORDER BY p.id),
                CASE WHEN p.id % 2 = 0 THEN (SELECT id FROM organizations WHERE slug = 'meta') END
         FROM people p;
         INSERT INTO authorship_sources (authorship_id, source_id)
         SELECT a.id, s.id FROM authorships a
         JOIN publications pub ON pub.id = a.publication_id AND pub.slug = 'mixed'
         JOIN LATERAL (SELECT id FROM sources ORDER BY id DESC LIMIT 1 + a.position % 2) s ON true;
         COMMIT;",
    )
    .await;
    let stints = "currentEmployments { id title organization { id slug name } }";
    let sources = "sources { id url title }";
    let lists = [
        format!("position person {{ id name {stints} }} affiliation {{ id name kind }} {sources}"),
        format!("position person {{ id name {stints} }}"),
        format!("position {sources} person {{ slug }}"),
        format!("position person {{ employments {{ id startedOn }} }} {sources}"),
    ];
    for authors in &lists {
        let shapes = [
            |fields: &str| {
                format!("{{ publications(first: 50) {{ nodes {{ id slug {fields} }} }} }}")
            },
            |fields: &str| format!(r#"{{ publication(slug: "mixed") {{ id {fields} }} }}"#),
            |fields: &str| format!(r#"{{ publication(slug: "llama-2023") {{ id {fields} }} }}"#),
        ];
        for shape in shapes {
            let ahead = shape(&format!("authors {{ {authors} }}"));
            let mut alone = app
                .data(&shape(&format!(
                    "authors {{ {authors} }} other: authors {{ position }}"
                )))
                .await;
            strip(&mut alone, "other");
            assert_eq!(app.data(&ahead).await, alone, "{ahead}");
            assert_eq!(app.statements_for(&ahead).await, 1, "{ahead}");
        }
    }
    // The data has what the walk is meant to cover.
    let mixed = app
        .data(&format!(
            r#"{{ publication(slug: "mixed") {{ authors {{ {} }} }} }}"#,
            lists[0]
        ))
        .await;
    let authors = mixed["publication"]["authors"].as_array().expect("authors");
    let count = |test: &dyn Fn(&Value) -> bool| authors.iter().filter(|a| test(a)).count();
    assert!(count(&|a| a["sources"].as_array().is_some_and(|s| s.len() == 2)) > 0);
    assert!(count(&|a| a["sources"].as_array().is_some_and(|s| s.len() == 1)) > 0);
    assert!(
        count(&|a| a["person"]["currentEmployments"]
            .as_array()
            .is_some_and(|s| s.len() > 1))
            > 0
    );
    assert!(
        count(&|a| a["person"]["currentEmployments"]
            .as_array()
            .is_some_and(Vec::is_empty))
            > 0
    );
    assert!(count(&|a| a["affiliation"].is_null()) > 0);
}

fn strip(value: &mut Value, key: &str) {
    match value {
        Value::Object(map) => {
            map.remove(key);
            map.values_mut().for_each(|v| strip(v, key));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| strip(v, key)),
        _ => {}
    }
}

/// `person(slug:)`, `person(ref:)` and `node(id:)` read the person's stints
/// in their own statement and hand them to the stint lists; a page of
/// `people` in an explicit order leaves them to the lists' own statement.
/// Every person of the article, asked the same questions each way, gets the
/// same answer: lists, filters, days, orders and the organizations beside
/// them.
#[tokio::test]
async fn a_person_looked_up_answers_as_the_same_person_in_a_list() {
    let app = TestApp::spawn_seeded().await;
    let lists = r#"
        id slug name aliases bio
        employments { ...Stint }
        currentEmployments { ...Stint }
        former: employments(status: FORMER) { ...Stint }
        founded: employments(where: {isFounder: true}) { ...Stint }
        latestFirst: employments(orderBy: [{field: STARTED_ON, direction: DESC}]) { ...Stint }
        in2022: employments(at: "2022-06-01") { ...Stint }
        surely: employments(at: "2022-06-01", atCertainty: CERTAINLY) { ...Stint }
    "#;
    let fragment = "fragment Stint on Employment { id title startedOn endedOn isCurrent \
                    organization { id slug name kind parent { slug } } }";
    // A page whose one list also asks for each stint's person reads no
    // stints ahead.
    let mut listed = app
        .data(&format!(
            "{{ people(first: 100) {{ nodes {{ {lists} withPerson: employments {{ person {{ id }} }} }} }} }} {fragment}"
        ))
        .await;
    strip(&mut listed, "withPerson");
    let listed = listed["people"]["nodes"]
        .as_array()
        .expect("people")
        .clone();
    assert!(listed.len() > 10, "{listed:?}");
    let stints: usize = listed
        .iter()
        .map(|person| person["employments"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(stints > 20, "{stints}");
    let counted = "name employments { title organization { name } } \
                   former: employments(status: FORMER) { title organization { name } }";
    for person in &listed {
        let lookups = [
            format!("person(slug: {})", person["slug"]),
            format!("person(ref: {{id: {}}})", person["id"]),
            format!("node(id: {})", person["id"]),
        ];
        for lookup in &lookups {
            let ask =
                |fields: &str| format!("{{ found: {lookup} {{ ... on Person {{ {fields} }} }} }}");
            let answer = app.data(&format!("{} {fragment}", ask(lists))).await;
            assert_eq!(answer["found"], *person, "{lookup}");
            // The person and their lists, organizations included, in one
            // statement.
            assert_eq!(app.statements_for(&ask(counted)).await, 1, "{lookup}");
        }
    }
    // Someone unknown is null, and reads nothing more.
    let unknown = app
        .data(&format!(
            r#"{{ person(slug: "nobody-at-all") {{ {lists} }} }} {fragment}"#
        ))
        .await;
    assert_eq!(unknown, json!({"person": null}));
}
