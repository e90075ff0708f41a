//! `schema.graphql` is exactly what `talentgraph schema` prints.

use std::process::Command;

#[test]
fn schema_graphql_is_what_the_binary_prints() {
    let output = Command::new(env!("CARGO_BIN_EXE_talentgraph"))
        .arg("schema")
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "talentgraph schema failed: {output:?}"
    );
    let printed = String::from_utf8(output.stdout).expect("UTF-8 SDL");
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
            .unwrap_or_default();
    assert!(
        printed == checked_in,
        "schema.graphql is stale: run `cargo run -- schema > schema.graphql` and commit it"
    );
    for name in [
        "scalar PartialDate",
        "scalar Date",
        "interface Node",
        "type EmploymentConnection",
    ] {
        assert!(printed.contains(name), "the SDL lacks {name}");
    }
}
