//! Mutations: tokens and roles, validation with field paths, versions,
//! transactions, the audit trail, and the race for a slug.

use serde_json::{Value, json};

use crate::support::{TestApp, error_codes};

fn data(response: &Value) -> &Value {
    assert!(
        response.get("errors").is_none(),
        "unexpected errors: {response:#}"
    );
    &response["data"]
}

/// The `extensions.field` of each error.
fn error_fields(response: &Value) -> Vec<String> {
    response["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["extensions"]["field"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn count(app: &TestApp, table: &str) -> i64 {
    app.rows_in(table).await
}

const CREATE_PERSON: &str = "mutation($input: CreatePersonInput!) {
    createPerson(input: $input) { person { id slug name aliases bio version } } }";
const UPDATE_PERSON: &str = "mutation($input: UpdatePersonInput!) {
    updatePerson(input: $input) { person { id name bio version } } }";
const CREATE_ORG: &str = "mutation($input: CreateOrganizationInput!) {
    createOrganization(input: $input) { organization { id slug version parent { slug } } } }";
const CREATE_SOURCE: &str = "mutation($input: CreateSourceInput!) {
    createSource(input: $input) { source { id url } } }";
const ADD_EMPLOYMENT: &str = "mutation($input: AddEmploymentInput!) {
    addEmployment(input: $input) { employment { id version isCurrent startedOn endedOn } } }";

async fn id_of(app: &TestApp, query: &str) -> String {
    let data = app.data(query).await;
    data.as_object()
        .and_then(|o| o.values().next())
        .and_then(|v| v["id"].as_str())
        .expect("an id")
        .to_owned()
}

#[tokio::test]
async fn writes_need_a_valid_token_and_reads_do_not() {
    let app = TestApp::spawn_seeded().await;
    let input = json!({ "input": { "slug": "ada-lovelace", "name": "Ada Lovelace" } });

    let anonymous = app.graphql_with(CREATE_PERSON, input.clone()).await;
    assert_eq!(error_codes(&anonymous), ["UNAUTHENTICATED"]);
    let forged = app
        .graphql_as("tg_not-a-token", CREATE_PERSON, input.clone())
        .await;
    assert_eq!(error_codes(&forged), ["UNAUTHENTICATED"]);
    assert_eq!(count(&app, "people").await, 17, "nothing was written");

    let editor = app.token("editor").await;
    let created = app.graphql_as(&editor, CREATE_PERSON, input.clone()).await;
    assert_eq!(
        data(&created)["createPerson"]["person"]["slug"],
        "ada-lovelace"
    );

    // Editors write data but do not manage tokens or read the audit log.
    let forbidden = app
        .graphql_as(
            &editor,
            "mutation { createToken(input: { name: \"x\", role: EDITOR }) { secret } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&forbidden), ["FORBIDDEN"]);
    let forbidden = app
        .graphql_as(&editor, "{ auditLog { totalCount } }", json!({}))
        .await;
    assert_eq!(error_codes(&forbidden), ["FORBIDDEN"]);

    // An admin makes a token, which works until it is revoked.
    let admin = app.token("admin").await;
    let made = app
        .graphql_as(
            &admin,
            "mutation { createToken(input: { name: \"ci\", role: EDITOR }) { secret token { id role revokedAt } } }",
            json!({}),
        )
        .await;
    let made = &data(&made)["createToken"];
    let secret = made["secret"].as_str().expect("a secret").to_owned();
    assert_eq!(made["token"]["role"], "EDITOR");
    let second = json!({ "input": { "slug": "grace-hopper", "name": "Grace Hopper" } });
    assert!(
        app.graphql_as(&secret, CREATE_PERSON, second.clone())
            .await
            .get("errors")
            .is_none()
    );
    let revoked = app
        .graphql_as(
            &admin,
            "mutation($id: Int!) { revokeToken(input: { id: $id }) { token { revokedAt } } }",
            json!({ "id": made["token"]["id"] }),
        )
        .await;
    assert!(data(&revoked)["revokeToken"]["token"]["revokedAt"].is_string());
    let third = json!({ "input": { "slug": "alan-turing", "name": "Alan Turing" } });
    assert_eq!(
        error_codes(&app.graphql_as(&secret, CREATE_PERSON, third).await),
        ["UNAUTHENTICATED"]
    );

    // Only the hash is stored.
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use talentgraph::db::schema::api_tokens;
    let hashes: Vec<Vec<u8>> = api_tokens::table
        .select(api_tokens::token_hash)
        .load(&mut app.conn().await)
        .await
        .expect("hashes");
    // Two test tokens and the one created through the API: all SHA-256
    // digests, the API's the digest of the secret it showed.
    assert_eq!(hashes.len(), 3);
    assert!(hashes.iter().all(|h| h.len() == 32));
    assert!(hashes.contains(&talentgraph::auth::hash(&secret)));
}

#[tokio::test]
async fn invalid_input_is_refused_with_the_field_and_nothing_is_written() {
    let app = TestApp::spawn_seeded().await;
    let editor = app.token("editor").await;
    let meta = id_of(&app, r#"{ organization(slug: "meta") { id } }"#).await;
    let fair = id_of(&app, r#"{ organization(slug: "fair") { id } }"#).await;
    let hugo = id_of(&app, r#"{ person(slug: "hugo-touvron") { id } }"#).await;
    let source = app
        .graphql_as(
            &editor,
            CREATE_SOURCE,
            json!({ "input": { "url": "https://example.org/news" } }),
        )
        .await;
    let source = data(&source)["createSource"]["source"]["id"].clone();
    let before: Vec<i64> = futures_counts(&app).await;

    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            CREATE_PERSON,
            json!({ "slug": "ok-slug", "name": "   " }),
            "BAD_USER_INPUT",
            "input.name",
        ),
        (
            CREATE_PERSON,
            json!({ "slug": "ok-slug", "name": "x".repeat(201) }),
            "BAD_USER_INPUT",
            "input.name",
        ),
        (
            CREATE_PERSON,
            json!({ "slug": "Not URL safe", "name": "Ada" }),
            "BAD_USER_INPUT",
            "input.slug",
        ),
        (
            CREATE_PERSON,
            json!({ "slug": "hugo-touvron", "name": "Hugo Again" }),
            "CONFLICT",
            "",
        ),
        (
            CREATE_ORG,
            json!({ "slug": "x-lab", "name": "X", "kind": "STARTUP", "parentId": hugo }),
            "BAD_USER_INPUT",
            "input.parentId",
        ),
        (
            CREATE_ORG,
            json!({ "slug": "x-lab", "name": "X", "kind": "STARTUP", "country": "France" }),
            "BAD_USER_INPUT",
            "input.country",
        ),
        (
            CREATE_ORG,
            json!({ "slug": "x-lab", "name": "X", "kind": "STARTUP", "parentId": "T3JnYW5pemF0aW9uOjk5OTk5" }),
            "NOT_FOUND",
            "",
        ),
        (
            ADD_EMPLOYMENT,
            json!({ "personId": hugo, "organizationId": meta, "startedOn": "2024", "endedOn": "2023-12", "sourceIds": [source] }),
            "BAD_USER_INPUT",
            "input.endedOn",
        ),
        (
            ADD_EMPLOYMENT,
            json!({ "personId": hugo, "organizationId": meta, "sourceIds": [] }),
            "BAD_USER_INPUT",
            "input.sourceIds",
        ),
        (
            ADD_EMPLOYMENT,
            json!({ "personId": hugo, "organizationId": meta, "endedOn": "2024", "isCurrent": true, "sourceIds": [source] }),
            "BAD_USER_INPUT",
            "input.isCurrent",
        ),
    ];
    for (mutation, input, code, field) in cases {
        let response = app
            .graphql_as(&editor, mutation, json!({ "input": input }))
            .await;
        assert_eq!(error_codes(&response), [code], "{input}: {response:#}");
        if !field.is_empty() {
            assert_eq!(error_fields(&response), [field], "{input}");
        }
        assert!(
            !response.to_string().contains("violates"),
            "no SQL text: {response}"
        );
    }

    // A date that does not exist is refused where the input is read.
    let response = app
        .graphql_as(
            &editor,
            ADD_EMPLOYMENT,
            json!({ "input": { "personId": hugo, "organizationId": meta, "startedOn": "2024-02-30", "sourceIds": [source] } }),
        )
        .await;
    assert_eq!(error_codes(&response), ["BAD_USER_INPUT"]);
    assert_eq!(error_fields(&response), ["input.startedOn"], "{response}");

    // A parent inside the organization's own units would make a cycle.
    let meta_version = app
        .data(r#"{ organization(slug: "meta") { version } }"#)
        .await["organization"]["version"]
        .clone();
    let response = app
        .graphql_as(
            &editor,
            "mutation($input: UpdateOrganizationInput!) { updateOrganization(input: $input) { organization { slug } } }",
            json!({ "input": { "id": meta, "version": meta_version, "parentId": fair } }),
        )
        .await;
    assert_eq!(error_codes(&response), ["BAD_USER_INPUT"]);
    assert_eq!(error_fields(&response), ["input.parentId"]);

    assert_eq!(futures_counts(&app).await, before, "nothing was written");
}

async fn futures_counts(app: &TestApp) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "organizations",
        "people",
        "employments",
        "employment_sources",
        "audit_log",
    ] {
        counts.push(count(app, table).await);
    }
    counts
}

#[tokio::test]
async fn updates_need_the_current_version_and_tell_unset_from_null() {
    let app = TestApp::spawn().await;
    let editor = app.token("editor").await;
    let created = app
        .graphql_as(
            &editor,
            CREATE_PERSON,
            json!({ "input": { "slug": "ada", "name": "Ada", "bio": "Analyst." } }),
        )
        .await;
    let person = data(&created)["createPerson"]["person"].clone();
    assert_eq!(person["version"], 1);

    // Leaving bio out keeps it.
    let renamed = app
        .graphql_as(
            &editor,
            UPDATE_PERSON,
            json!({ "input": { "id": person["id"], "version": 1, "name": "Ada Lovelace" } }),
        )
        .await;
    let renamed = &data(&renamed)["updatePerson"]["person"];
    assert_eq!(renamed["bio"], "Analyst.");
    assert_eq!(renamed["version"], 2);

    // Someone who read version 1 cannot overwrite version 2.
    let stale = app
        .graphql_as(
            &editor,
            UPDATE_PERSON,
            json!({ "input": { "id": person["id"], "version": 1, "name": "Ada L." } }),
        )
        .await;
    assert_eq!(error_codes(&stale), ["CONFLICT"]);

    // Null clears a nullable field, and is refused for a required one.
    let cleared = app
        .graphql_as(
            &editor,
            UPDATE_PERSON,
            json!({ "input": { "id": person["id"], "version": 2, "bio": null } }),
        )
        .await;
    assert_eq!(data(&cleared)["updatePerson"]["person"]["bio"], Value::Null);
    let refused = app
        .graphql_as(
            &editor,
            UPDATE_PERSON,
            json!({ "input": { "id": person["id"], "version": 3, "name": null } }),
        )
        .await;
    assert_eq!(error_codes(&refused), ["BAD_USER_INPUT"]);
    assert_eq!(error_fields(&refused), ["input.name"]);

    // An id nobody has is NOT_FOUND, an id of another type BAD_USER_INPUT.
    let missing = app
        .graphql_as(
            &editor,
            UPDATE_PERSON,
            json!({ "input": { "id": "UGVyc29uOjk5OTk5", "version": 1, "name": "X" } }),
        )
        .await;
    assert_eq!(error_codes(&missing), ["NOT_FOUND"]);
    let wrong_kind = app
        .graphql_as(
            &editor,
            "mutation { deletePerson(input: { id: \"U291cmNlOjE\", version: 1 }) { deletedId } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&wrong_kind), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn a_move_ends_one_stint_and_starts_the_next_or_does_nothing() {
    let app = TestApp::spawn_seeded().await;
    let editor = app.token("editor").await;
    let person = app
        .data(r#"{ person(slug: "guillaume-lample") { id currentEmployments { id version organization { slug } } } }"#)
        .await;
    let current = person["person"]["currentEmployments"][0].clone();
    assert_eq!(current["organization"]["slug"], "mistral");
    let kyutai = id_of(&app, r#"{ organization(slug: "kyutai") { id } }"#).await;
    let source = app
        .graphql_as(
            &editor,
            CREATE_SOURCE,
            json!({ "input": { "url": "https://example.org/move" } }),
        )
        .await;
    let source = data(&source)["createSource"]["source"]["id"].clone();
    const MOVE: &str = "mutation($input: RecordMoveInput!) { recordMove(input: $input) {
        ended { isCurrent endedOn organization { slug } sources { url } }
        started { isCurrent startedOn title organization { slug } sources { url } } } }";

    // The next organization does not exist: the end is rolled back too.
    let failed = app
        .graphql_as(
            &editor,
            MOVE,
            json!({ "input": { "employmentId": current["id"], "version": current["version"], "endedOn": "2026-11",
                               "organizationId": "T3JnYW5pemF0aW9uOjk5OTk5", "sourceIds": [source] } }),
        )
        .await;
    assert_eq!(error_codes(&failed), ["NOT_FOUND"], "{failed:#}");
    let still = app
        .data(r#"{ person(slug: "guillaume-lample") { currentEmployments { organization { slug } endedOn } } }"#)
        .await;
    assert_eq!(
        still["person"]["currentEmployments"],
        json!([{ "organization": { "slug": "mistral" }, "endedOn": null }])
    );

    let moved = app
        .graphql_as(
            &editor,
            MOVE,
            json!({ "input": { "employmentId": current["id"], "version": current["version"], "endedOn": "2026-11",
                               "organizationId": kyutai, "title": "Researcher", "sourceIds": [source] } }),
        )
        .await;
    let moved = &data(&moved)["recordMove"];
    assert_eq!(moved["ended"]["isCurrent"], false);
    assert_eq!(moved["ended"]["endedOn"], "2026-11");
    assert_eq!(moved["started"]["organization"]["slug"], "kyutai");
    assert_eq!(moved["started"]["startedOn"], "2026-11");
    assert!(
        moved["ended"]["sources"]
            .to_string()
            .contains("https://example.org/move")
    );
    assert_eq!(
        moved["started"]["sources"],
        json!([{ "url": "https://example.org/move" }])
    );

    // The analytics follow: Mistral's alumni now include him.
    let alumni = app
        .data(r#"{ organization(slug: "mistral") { alumni { nodes { slug } } } }"#)
        .await;
    assert_eq!(
        alumni["organization"]["alumni"]["nodes"],
        json!([{ "slug": "guillaume-lample" }])
    );

    // endEmployment: the Kyutai stint ends at an unknown date.
    let started = app
        .data(r#"{ person(slug: "guillaume-lample") { currentEmployments { id version } } }"#)
        .await;
    let stint = &started["person"]["currentEmployments"][0];
    let ended = app
        .graphql_as(
            &editor,
            "mutation($input: EndEmploymentInput!) { endEmployment(input: $input) { employment { isCurrent endedOn } } }",
            json!({ "input": { "id": stint["id"], "version": stint["version"] } }),
        )
        .await;
    assert_eq!(
        data(&ended)["endEmployment"]["employment"],
        json!({ "isCurrent": false, "endedOn": null })
    );
}

#[tokio::test]
async fn the_audit_log_records_who_changed_what_and_keeps_deletes() {
    let app = TestApp::spawn().await;
    let editor = app.token("editor").await;
    let admin = app.token("admin").await;
    let created = app
        .graphql_as(
            &editor,
            CREATE_PERSON,
            json!({ "input": { "slug": "ada", "name": "Ada" } }),
        )
        .await;
    let id = data(&created)["createPerson"]["person"]["id"].clone();
    app.graphql_as(
        &editor,
        UPDATE_PERSON,
        json!({ "input": { "id": id, "version": 1, "name": "Ada Lovelace" } }),
    )
    .await;
    let deleted = app
        .graphql_as(
            &editor,
            "mutation($id: ID!) { deletePerson(input: { id: $id, version: 2 }) { deletedId } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data(&deleted)["deletePerson"]["deletedId"], id);
    assert_eq!(
        app.data(r#"{ person(slug: "ada") { id } }"#).await["person"],
        Value::Null
    );

    let log = app
        .graphql_as(
            &admin,
            "query($id: ID!) { auditLog(entityId: $id) { totalCount nodes {
                action entityType entityId actor tokenName before after } } }",
            json!({ "id": id }),
        )
        .await;
    let log = &data(&log)["auditLog"];
    assert_eq!(log["totalCount"], 3);
    let entries = log["nodes"].as_array().expect("entries");
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(actions, ["DELETE", "UPDATE", "CREATE"], "newest first");
    assert!(
        entries
            .iter()
            .all(|e| e["entityId"] == id && e["entityType"] == "PERSON")
    );
    assert!(entries.iter().all(|e| e["tokenName"] == "test editor"));
    assert!(
        entries[0]["actor"]
            .as_str()
            .is_some_and(|a| a.starts_with("token:"))
    );
    assert_eq!(entries[1]["before"]["name"], "Ada");
    assert_eq!(entries[1]["after"]["name"], "Ada Lovelace");
    assert_eq!(
        entries[0]["before"]["name"], "Ada Lovelace",
        "the deleted row is kept"
    );
    assert_eq!(entries[0]["after"], Value::Null);

    let people = app
        .graphql_as(
            &admin,
            "{ auditLog(entityType: PERSON, first: 1) { totalCount nodes { action } } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&people)["auditLog"]["totalCount"], 3);
    assert_eq!(
        data(&people)["auditLog"]["nodes"].as_array().map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn many_concurrent_creates_of_one_slug_give_one_success_and_conflicts() {
    let app = TestApp::spawn().await;
    let editor = app.token("editor").await;
    let attempts = (0..24).map(|i| {
        app.graphql_as(
            &editor,
            CREATE_ORG,
            json!({ "input": { "slug": "contested", "name": format!("Contender {i}"), "kind": "STARTUP" } }),
        )
    });
    let responses = futures_util::future::join_all(attempts).await;
    let successes = responses
        .iter()
        .filter(|r| r.get("errors").is_none())
        .count();
    let mut codes: Vec<String> = responses.iter().flat_map(error_codes).collect();
    codes.dedup();
    assert_eq!(successes, 1, "{responses:#?}");
    assert_eq!(codes, ["CONFLICT"]);
    assert_eq!(count(&app, "organizations").await, 1);
}

#[tokio::test]
async fn deleting_what_is_still_used_is_a_conflict() {
    let app = TestApp::spawn_seeded().await;
    let editor = app.token("editor").await;
    let meta = app
        .data(r#"{ organization(slug: "meta") { id version } }"#)
        .await;
    let response = app
        .graphql_as(
            &editor,
            "mutation($input: DeleteInput!) { deleteOrganization(input: $input) { deletedId } }",
            json!({ "input": { "id": meta["organization"]["id"], "version": meta["organization"]["version"] } }),
        )
        .await;
    assert_eq!(error_codes(&response), ["CONFLICT"], "{response:#}");
    assert!(app.data(r#"{ organization(slug: "meta") { id } }"#).await["organization"].is_object());
}

#[tokio::test]
async fn a_client_that_disconnects_mid_move_leaves_nothing_half_written() {
    use diesel_async::RunQueryDsl;

    let app = TestApp::spawn_seeded().await;
    let editor = app.token("editor").await;
    let current = app
        .data(r#"{ person(slug: "timothee-lacroix") { currentEmployments { id version } } }"#)
        .await;
    let current = current["person"]["currentEmployments"][0].clone();
    let kyutai = id_of(&app, r#"{ organization(slug: "kyutai") { id } }"#).await;
    let source = app
        .graphql_as(
            &editor,
            CREATE_SOURCE,
            json!({ "input": { "url": "https://example.org/gone" } }),
        )
        .await;
    let source = data(&source)["createSource"]["source"]["id"].clone();
    let stints_before = count(&app, "employments").await;

    // Hold the move at its first write, so the client can leave mid-transaction.
    let mut blocker = app.conn().await;
    diesel::sql_query("BEGIN")
        .execute(&mut blocker)
        .await
        .expect("begin");
    diesel::sql_query("LOCK TABLE employments IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut blocker)
        .await
        .expect("lock");

    let body = json!({
        "query": "mutation($input: RecordMoveInput!) { recordMove(input: $input) { started { id } } }",
        "variables": { "input": { "employmentId": current["id"], "version": current["version"],
                                  "organizationId": kyutai, "sourceIds": [source] } }
    })
    .to_string();
    let socket = app.post_on_own_socket(&editor, &body).await;

    let mut watcher = crate::support::establish(&app.database_url)
        .await
        .expect("connect");
    // The move reached the database and waits for the lock.
    crate::support::wait_for_a_lock_wait(&mut watcher).await;

    // The client goes away mid-transaction; then the lock is released.
    drop(socket);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    diesel::sql_query("COMMIT")
        .execute(&mut blocker)
        .await
        .expect("unlock");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    let after = app
        .data(r#"{ person(slug: "timothee-lacroix") { currentEmployments { organization { slug } } employments { isCurrent } } }"#)
        .await;
    let current_orgs: Vec<String> = after["person"]["currentEmployments"]
        .as_array()
        .expect("list")
        .iter()
        .map(|e| e["organization"]["slug"].as_str().unwrap_or("").to_owned())
        .collect();
    let stints_after = count(&app, "employments").await;
    // All or nothing: either both halves of the move landed or neither did.
    let nothing = current_orgs == ["mistral"] && stints_after == stints_before;
    let everything = current_orgs == ["kyutai"] && stints_after == stints_before + 1;
    assert!(
        nothing || everything,
        "half a move: {after:#} with {stints_after} stints"
    );

    // And the app is fine afterwards.
    assert!(
        app.graphql(r#"{ person(slug: "timothee-lacroix") { slug } }"#)
            .await
            .get("errors")
            .is_none()
    );
}

#[tokio::test]
async fn citations_are_replaced_whole_and_a_cited_source_cannot_be_deleted() {
    let app = TestApp::spawn_seeded().await;
    let editor = app.token("editor").await;
    let stint = app
        .data(r#"{ person(slug: "arthur-mensch") { currentEmployments { id version sources { id url version } } } }"#)
        .await;
    let stint = stint["person"]["currentEmployments"][0].clone();
    let old_source = stint["sources"][0].clone();
    let new_source = app
        .graphql_as(
            &editor,
            CREATE_SOURCE,
            json!({ "input": { "url": "https://example.org/profile" } }),
        )
        .await;
    let new_source = data(&new_source)["createSource"]["source"]["id"].clone();

    const UPDATE: &str = "mutation($input: UpdateEmploymentInput!) {
        updateEmployment(input: $input) { employment { version title sources { url } } } }";
    let emptied = app
        .graphql_as(
            &editor,
            UPDATE,
            json!({ "input": { "id": stint["id"], "version": stint["version"], "sourceIds": [] } }),
        )
        .await;
    assert_eq!(error_codes(&emptied), ["BAD_USER_INPUT"]);
    assert_eq!(error_fields(&emptied), ["input.sourceIds"]);

    let replaced = app
        .graphql_as(
            &editor,
            UPDATE,
            json!({ "input": { "id": stint["id"], "version": stint["version"], "title": "CEO", "sourceIds": [new_source] } }),
        )
        .await;
    let employment = &data(&replaced)["updateEmployment"]["employment"];
    assert_eq!(employment["title"], "CEO");
    assert_eq!(
        employment["sources"],
        json!([{ "url": "https://example.org/profile" }])
    );

    // The article is still cited by other stints: it cannot go.
    let refused = app
        .graphql_as(
            &editor,
            "mutation($input: DeleteInput!) { deleteSource(input: $input) { deletedId } }",
            json!({ "input": { "id": old_source["id"], "version": old_source["version"] } }),
        )
        .await;
    assert_eq!(error_codes(&refused), ["CONFLICT"], "{refused:#}");
}

#[tokio::test]
async fn concurrent_updates_from_the_same_version_give_one_success_and_conflicts() {
    let app = TestApp::spawn().await;
    let editor = app.token("editor").await;
    let created = app
        .graphql_as(
            &editor,
            CREATE_PERSON,
            json!({ "input": { "slug": "ada", "name": "Ada" } }),
        )
        .await;
    let id = data(&created)["createPerson"]["person"]["id"].clone();
    let attempts = (0..12).map(|i| {
        app.graphql_as(
            &editor,
            UPDATE_PERSON,
            json!({ "input": { "id": id, "version": 1, "name": format!("Ada {i}") } }),
        )
    });
    let responses = futures_util::future::join_all(attempts).await;
    let winners: Vec<&Value> = responses
        .iter()
        .filter(|r| r.get("errors").is_none())
        .collect();
    let mut codes: Vec<String> = responses.iter().flat_map(error_codes).collect();
    codes.dedup();
    assert_eq!(winners.len(), 1, "{responses:#?}");
    assert_eq!(codes, ["CONFLICT"]);
    let winner = &winners[0]["data"]["updatePerson"]["person"];
    assert_eq!(winner["version"], 2);
    let stored = app
        .data(r#"{ person(slug: "ada") { name version } }"#)
        .await;
    assert_eq!(
        stored["person"]["name"], winner["name"],
        "the one accepted change is the one stored"
    );
}
