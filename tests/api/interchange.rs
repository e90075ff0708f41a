//! `talentgraph import`, `export` and `token`: the binary against real databases.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::json;

use crate::support::{TestApp, error_codes};

fn talentgraph(database_url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_talentgraph"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("the binary finishes")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn export_then_import_into_an_empty_database_gives_the_same_data_back() {
    let seeded = TestApp::spawn_seeded().await;
    // An edit made through the API, so the file is more than the seed file.
    let editor = seeded.token("editor").await;
    let stint = seeded
        .data(r#"{ person(slug: "hugo-touvron") { currentEmployments { id version } } }"#)
        .await;
    let stint = &stint["person"]["currentEmployments"][0];
    let ended = seeded
        .graphql_as(
            &editor,
            "mutation($input: EndEmploymentInput!) { endEmployment(input: $input) { employment { endedOn } } }",
            json!({ "input": { "id": stint["id"], "version": stint["version"], "endedOn": "2026-10-14" } }),
        )
        .await;
    assert!(ended.get("errors").is_none(), "{ended:#}");

    let exported = stdout(&talentgraph(&seeded.database_url, &["export"], None));
    assert_eq!(exported.lines().count(), 75);
    assert!(exported.contains(r#""endedOn":"2026-10-14""#));

    let empty = TestApp::spawn().await;
    let imported = talentgraph(&empty.database_url, &["import", "-"], Some(&exported));
    stdout(&imported);
    let again = stdout(&talentgraph(&empty.database_url, &["export"], None));
    assert_eq!(again, exported);

    // The same answers through the API, e.g. the article's first claim.
    let query = r#"{ publication(slug: "llama-2023") { retention(organization: "meta") { total stayed { slug } left { slug } } } }"#;
    assert_eq!(empty.data(query).await, seeded.data(query).await);

    // Importing the file again changes nothing.
    stdout(&talentgraph(
        &empty.database_url,
        &["import", "-"],
        Some(&exported),
    ));
    assert_eq!(
        stdout(&talentgraph(&empty.database_url, &["export"], None)),
        exported
    );
}

#[tokio::test]
async fn a_bad_file_is_refused_with_line_numbers_and_nothing_is_imported() {
    let app = TestApp::spawn().await;
    let file = [
        r#"{"type":"source","url":"https://example.org/a"}"#,
        r#"{"type":"organization","slug":"acme","name":"Acme","kind":"COMPANY"}"#,
        r#"{"type":"person","slug":"ada","name":"Ada"}"#,
        r#"{"type":"employment","person":"ada","organization":"acme","isCurrent":true,"sources":["https://example.org/a"]}"#,
        r#"{"type":"employment","person":"ada","organization":"nowhere","isCurrent":true,"sources":["https://example.org/a"]}"#,
        r#"{"type":"employment","person":"ada","organization":"acme","isCurrent":false,"startedOn":"2024-02-30","sources":["https://example.org/a"]}"#,
    ]
    .join("\n");

    // Line 6 fails validation before anything touches the database.
    let refused = talentgraph(&app.database_url, &["import", "-"], Some(&file));
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("line 6: startedOn"), "{stderr}");

    // Without it, line 5 refers to an organization nobody has: all or nothing.
    let file: String = file.lines().take(5).collect::<Vec<_>>().join("\n");
    let refused = talentgraph(&app.database_url, &["import", "-"], Some(&file));
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("line 5: organization"), "{stderr}");
    assert!(stderr.contains("\"nowhere\""), "{stderr}");
    let data = app
        .data(r#"{ people { totalCount } organizations { totalCount } }"#)
        .await;
    assert_eq!(
        data,
        json!({ "people": { "totalCount": 0 }, "organizations": { "totalCount": 0 } })
    );

    // Fixed, it goes in whole, attributed to the command line in the audit log.
    let file: String = file.lines().take(4).collect::<Vec<_>>().join("\n");
    stdout(&talentgraph(
        &app.database_url,
        &["import", "-"],
        Some(&file),
    ));
    let data = app
        .data(r#"{ person(slug: "ada") { currentEmployments { organization { slug } sources { url } } } }"#)
        .await;
    assert_eq!(
        data["person"]["currentEmployments"],
        json!([{ "organization": { "slug": "acme" }, "sources": [{ "url": "https://example.org/a" }] }])
    );
    let admin = app.token("admin").await;
    let log = app
        .graphql_as(
            &admin,
            "{ auditLog(entityType: PERSON) { nodes { actor action } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        log["data"]["auditLog"]["nodes"],
        json!([{ "actor": "cli:import", "action": "CREATE" }])
    );
}

#[tokio::test]
async fn a_token_from_the_command_line_writes_until_it_is_revoked() {
    let app = TestApp::spawn().await;
    let created = talentgraph(
        &app.database_url,
        &["token", "create", "--role", "editor", "--name", "ci"],
        None,
    );
    let secret = stdout(&created).trim().to_owned();
    assert!(secret.starts_with("tg_"), "{secret}");
    let create =
        "mutation { createPerson(input: { slug: \"ada\", name: \"Ada\" }) { person { slug } } }";
    let response = app.graphql_as(&secret, create, json!({})).await;
    assert_eq!(response["data"]["createPerson"]["person"]["slug"], "ada");

    let listed = stdout(&talentgraph(&app.database_url, &["token", "list"], None));
    assert!(listed.contains("editor\tci\tvalid"), "{listed}");
    assert!(!listed.contains(&secret), "secrets are never listed");
    let id = listed.split('\t').next().expect("an id").to_owned();
    stdout(&talentgraph(
        &app.database_url,
        &["token", "revoke", &id],
        None,
    ));
    let response = app
        .graphql_as(&secret, &create.replace("ada", "bob"), json!({}))
        .await;
    assert_eq!(error_codes(&response), ["UNAUTHENTICATED"]);

    let wrong_role = talentgraph(
        &app.database_url,
        &["token", "create", "--role", "owner"],
        None,
    );
    assert!(!wrong_role.status.success());
}
