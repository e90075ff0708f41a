//! What a CI pipeline that runs the container gets: a data set from a file,
//! an admin token from the environment, and a check of a new schema against
//! the one its frontend was built for.

use std::process::Command;

use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

use crate::binary::Binary;
use crate::support::TestDatabase;

const SECRET: &str = "ci-pipeline-secret-0123456789";

#[derive(diesel::QueryableByName)]
struct Stored {
    #[diesel(sql_type = diesel::sql_types::Text)]
    role: String,
    #[diesel(sql_type = diesel::sql_types::Bytea)]
    token_hash: Vec<u8>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipeline_loads_its_data_set_and_writes_with_the_bootstrap_token() {
    let database = TestDatabase::create().await;
    let file = std::env::temp_dir().join(format!("talentgraph-seed-{}.jsonl", std::process::id()));
    std::fs::write(
        &file,
        "{\"type\":\"organization\",\"slug\":\"acme\",\"name\":\"Acme Research\",\"kind\":\"COMPANY\"}\n",
    )
    .expect("write the data set");
    let binary = Binary::serve(&[
        ("DATABASE_URL", &database.url()),
        ("TALENTGRAPH_SEED_FILE", file.to_str().expect("UTF-8")),
        ("TALENTGRAPH_BOOTSTRAP_TOKEN", SECRET),
    ]);
    let client = reqwest::Client::new();
    binary.wait_until_ready(&client).await;
    let ask = |query: &str, token: Option<&str>| {
        let mut request = client
            .post(binary.url("/graphql"))
            .json(&json!({ "query": query }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move {
            request
                .send()
                .await
                .expect("answered")
                .json::<Value>()
                .await
                .expect("JSON")
        }
    };

    let acme = ask(r#"{ organization(slug: "acme") { name } }"#, None).await;
    assert_eq!(
        acme["data"]["organization"]["name"], "Acme Research",
        "{acme}"
    );
    // Only the data set's: the article's was not asked for.
    let meta = ask(r#"{ organization(slug: "meta") { name } }"#, None).await;
    assert_eq!(meta["data"]["organization"], Value::Null, "{meta}");

    const CREATE: &str = r#"mutation { createPerson(input: { slug: "ci-person", name: "CI Person" }) { person { name } } }"#;
    let refused = ask(CREATE, None).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    let created = ask(CREATE, Some(SECRET)).await;
    assert_eq!(
        created["data"]["createPerson"]["person"]["name"], "CI Person",
        "{created}"
    );
    // An admin token: it may list tokens.
    let tokens = ask("{ apiTokens { name } }", Some(SECRET)).await;
    assert!(tokens.get("errors").is_none(), "{tokens}");

    // Stored hashed, once, however often the process starts.
    drop(binary);
    let again = Binary::serve(&[
        ("DATABASE_URL", &database.url()),
        ("TALENTGRAPH_BOOTSTRAP_TOKEN", SECRET),
    ]);
    again.wait_until_ready(&client).await;
    let stored: Vec<Stored> = diesel::sql_query("SELECT role, token_hash FROM api_tokens")
        .load(
            &mut crate::support::establish(&database.url())
                .await
                .expect("connect"),
        )
        .await
        .expect("tokens");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].role, "admin");
    assert_eq!(stored[0].token_hash, talentgraph::auth::hash(SECRET));
    let _ = std::fs::remove_file(&file);
}

#[test]
fn a_short_bootstrap_token_or_a_missing_seed_file_stops_the_process_at_start() {
    for (name, value, said) in [
        (
            "TALENTGRAPH_BOOTSTRAP_TOKEN",
            "too-short",
            "at least 20 characters",
        ),
        (
            "TALENTGRAPH_SEED_FILE",
            "/nonexistent/data.jsonl",
            "cannot read TALENTGRAPH_SEED_FILE",
        ),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_talentgraph"))
            .arg("serve")
            .env("TALENTGRAPH_LISTEN", "127.0.0.1:0")
            .env(name, value)
            .output()
            .expect("the binary runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{stderr}");
        assert!(stderr.contains(name) && stderr.contains(said), "{stderr}");
        assert!(
            name.ends_with("FILE") || !stderr.contains(value),
            "{stderr}"
        );
    }
}

fn check_breaking(old: &str) -> (bool, String) {
    let path = std::env::temp_dir().join(format!(
        "talentgraph-old-{}-{}.graphql",
        std::process::id(),
        old.len()
    ));
    std::fs::write(&path, old).expect("write the old schema");
    let output = Command::new(env!("CARGO_BIN_EXE_talentgraph"))
        .args(["schema", "--check-breaking"])
        .arg(&path)
        .output()
        .expect("the binary runs");
    let _ = std::fs::remove_file(&path);
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn check_breaking_passes_the_current_schema_and_lists_what_an_old_client_would_miss() {
    let current = include_str!("../../schema.graphql");
    let (ok, out) = check_breaking(current);
    assert!(ok, "{out}");
    assert_eq!(out.trim(), "no breaking changes");

    // A schema the frontend was built against, with a field, an argument and
    // an enum value this build does not have.
    let old = format!(
        "{current}\nextend type Query {{ retiredField: String }}\n\
         extend type Person {{ name2(style: String): String }}\n"
    )
    // The field's definition, not a description that quotes it.
    .replacen("\n\tperson(", "\n\tperson(\n\t\tlegacyId: Int,\n\t\t", 1);
    let (ok, out) = check_breaking(&old);
    assert!(!ok, "{out}");
    for expected in [
        "BREAKING: field Query.retiredField was removed",
        "BREAKING: field Person.name2 was removed",
        "BREAKING: argument Query.person(legacyId) was removed",
    ] {
        assert!(out.contains(expected), "{expected} not in\n{out}");
    }
}
