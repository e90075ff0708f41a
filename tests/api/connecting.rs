//! What the binary says when it cannot use `DATABASE_URL`: the host, the
//! port and the reason, never the password.

use std::process::{Command, Output};
use std::time::Duration;

use serde_json::json;

use crate::binary::Binary;
use crate::support::error_codes;

const PASSWORD: &str = "s3cr3t-pw";

fn talentgraph(command: &str, database_url: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_talentgraph"))
        .arg(command)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "debug")
        .output()
        .expect("the binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn migrate_names_host_port_and_reason_when_postgres_refuses_the_connection() {
    let output = talentgraph(
        "migrate",
        &format!("postgres://postgres:{PASSWORD}@127.0.0.1:1/talentgraph"),
    );
    let said = stderr(&output);
    assert!(!output.status.success(), "{said}");
    assert!(
        said.contains("cannot connect to PostgreSQL at 127.0.0.1:1: connection refused"),
        "{said}"
    );
    assert!(!said.contains(PASSWORD), "the password leaked: {said}");
}

#[test]
fn a_database_url_that_is_refused_is_quoted_without_its_password() {
    // No database name: refused before any connection is tried.
    let output = talentgraph(
        "migrate",
        &format!("postgres://postgres:{PASSWORD}@127.0.0.1:1"),
    );
    let said = stderr(&output);
    assert!(!output.status.success(), "{said}");
    assert!(
        said.contains("postgres://postgres:***@127.0.0.1:1"),
        "{said}"
    );
    assert!(!said.contains(PASSWORD), "the password leaked: {said}");
}

#[tokio::test]
async fn serve_keeps_the_database_password_out_of_its_log_while_it_cannot_connect() {
    let url = format!("postgres://postgres:{PASSWORD}@127.0.0.1:1/talentgraph");
    let binary = Binary::serve(&[("DATABASE_URL", &url), ("RUST_LOG", "debug")]);
    let client = reqwest::Client::new();
    binary.wait_until_serving(&client).await;
    let response: serde_json::Value = client
        .post(binary.url("/graphql"))
        .json(&json!({ "query": "{ organizations(first: 1) { totalCount } }" }))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        error_codes(&response),
        ["DATABASE_UNAVAILABLE"],
        "{response:#}"
    );
    // The background setup retries and logs each failure; wait for one.
    for _ in 0..100 {
        if binary.log().contains("database not ready") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = binary.log();
    assert!(!log.contains(PASSWORD), "the password leaked:\n{log}");
    let not_ready: Vec<String> = binary
        .log_lines()
        .into_iter()
        .filter(|line| line.contains("database not ready"))
        .collect();
    assert!(!not_ready.is_empty(), "{log}");
    for line in not_ready {
        assert!(
            line.contains("127.0.0.1:1") && line.contains("connection refused"),
            "a connection error without host, port and reason: {line}"
        );
    }
}
