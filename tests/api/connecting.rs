//! What the binary says when it cannot use `DATABASE_URL`: never the password.

use std::process::{Command, Output};

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
