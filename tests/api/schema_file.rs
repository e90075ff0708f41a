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

/// The project rule: every type, field, argument, input field and enum value
/// of the API says what it means, so GraphiQL and generated clients document
/// themselves. Built-in scalars and directives are the spec's, not ours.
#[test]
fn every_schema_element_has_a_description() {
    use async_graphql::parser::types::{InputValueDefinition, TypeKind, TypeSystemDefinition};
    use async_graphql::parser::{Positioned, parse_schema};

    const BUILT_IN_SCALARS: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];
    /// Pushes `label(name)` for every input value without a description.
    fn undescribed_inputs(
        inputs: &[Positioned<InputValueDefinition>],
        label: impl Fn(&str) -> String,
        missing: &mut Vec<String>,
    ) {
        for input in inputs {
            if input.node.description.is_none() {
                missing.push(label(input.node.name.node.as_str()));
            }
        }
    }

    let document = parse_schema(talentgraph::graphql::sdl()).expect("the SDL parses");
    let mut missing = Vec::new();
    for definition in &document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        let ty = &ty.node;
        let name = ty.name.node.as_str();
        if name.starts_with("__") || BUILT_IN_SCALARS.contains(&name) {
            continue;
        }
        if ty.description.is_none() {
            missing.push(format!("type {name}"));
        }
        let fields = match &ty.kind {
            TypeKind::Object(object) => &object.fields,
            TypeKind::Interface(interface) => &interface.fields,
            TypeKind::InputObject(input) => {
                undescribed_inputs(
                    &input.fields,
                    |field| format!("{name}.{field}"),
                    &mut missing,
                );
                continue;
            }
            TypeKind::Enum(enumeration) => {
                for value in &enumeration.values {
                    if value.node.description.is_none() {
                        missing.push(format!("{name}.{}", value.node.value.node));
                    }
                }
                continue;
            }
            TypeKind::Scalar | TypeKind::Union(_) => continue,
        };
        for field in fields {
            let field_name = format!("{name}.{}", field.node.name.node);
            if field.node.description.is_none() {
                missing.push(field_name.clone());
            }
            undescribed_inputs(
                &field.node.arguments,
                |argument| format!("{field_name}({argument})"),
                &mut missing,
            );
        }
    }
    assert!(
        missing.is_empty(),
        "{} schema elements have no description (write a `///` doc comment, \
         or `#[graphql(desc = \"…\")]` on an argument):\n{}",
        missing.len(),
        missing.join("\n")
    );
}
