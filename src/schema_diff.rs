//! `talentgraph schema --check-breaking OLD.graphql`: what a client written
//! against OLD would find broken in this build's schema. A frontend's CI runs
//! it against a new image before deploying it.
//!
//! Breaking: a type removed or changed in kind; a field, argument, input
//! field, enum value or union member removed; a type changed in a way that
//! an old query or old input no longer fits (an output may become non-null,
//! an input may become nullable: both are safe); a new required argument or
//! input field (non-null without a default). Additions are not listed.

use std::collections::HashMap;

use async_graphql::parser::types::{
    BaseType, FieldDefinition, InputValueDefinition, ServiceDocument, Type, TypeKind,
    TypeSystemDefinition,
};
use async_graphql::parser::{Positioned, parse_schema};

/// The breaking changes from `old` to `new` (SDL texts), one sentence each.
pub fn breaking_changes(old: &str, new: &str) -> Result<Vec<String>, String> {
    let old = Types::of(&parse_schema(old).map_err(|e| format!("the old schema: {e}"))?);
    let new = Types::of(&parse_schema(new).map_err(|e| format!("the new schema: {e}"))?);
    let mut changes = Vec::new();
    let mut names: Vec<&String> = old.0.keys().collect();
    names.sort();
    for name in names {
        let before = &old.0[name];
        let Some(after) = new.0.get(name) else {
            changes.push(format!("type {name} was removed"));
            continue;
        };
        compare(name, before, after, &mut changes);
    }
    Ok(changes)
}

/// Every type of a document by name, its extensions merged in.
struct Types(HashMap<String, TypeKind>);

impl Types {
    fn of(document: &ServiceDocument) -> Self {
        let mut types: HashMap<String, TypeKind> = HashMap::new();
        for definition in &document.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let name = ty.node.name.node.to_string();
            match (types.get_mut(&name), &ty.node.kind) {
                (Some(TypeKind::Object(into)), TypeKind::Object(more)) => {
                    into.fields.extend(more.fields.iter().cloned());
                }
                (Some(TypeKind::Interface(into)), TypeKind::Interface(more)) => {
                    into.fields.extend(more.fields.iter().cloned());
                }
                (Some(TypeKind::InputObject(into)), TypeKind::InputObject(more)) => {
                    into.fields.extend(more.fields.iter().cloned());
                }
                (Some(TypeKind::Enum(into)), TypeKind::Enum(more)) => {
                    into.values.extend(more.values.iter().cloned());
                }
                (Some(TypeKind::Union(into)), TypeKind::Union(more)) => {
                    into.members.extend(more.members.iter().cloned());
                }
                (Some(_), _) => {}
                (None, kind) => {
                    types.insert(name, kind.clone());
                }
            }
        }
        Types(types)
    }
}

fn kind_name(kind: &TypeKind) -> &'static str {
    match kind {
        TypeKind::Scalar => "a scalar",
        TypeKind::Object(_) => "an object type",
        TypeKind::Interface(_) => "an interface",
        TypeKind::Union(_) => "a union",
        TypeKind::Enum(_) => "an enum",
        TypeKind::InputObject(_) => "an input type",
    }
}

fn compare(name: &str, before: &TypeKind, after: &TypeKind, changes: &mut Vec<String>) {
    match (before, after) {
        (TypeKind::Scalar, TypeKind::Scalar) => {}
        (TypeKind::Object(old), TypeKind::Object(new)) => {
            fields(name, &old.fields, &new.fields, changes);
        }
        (TypeKind::Interface(old), TypeKind::Interface(new)) => {
            fields(name, &old.fields, &new.fields, changes);
        }
        (TypeKind::Union(old), TypeKind::Union(new)) => {
            for member in &old.members {
                if !new.members.iter().any(|m| m.node == member.node) {
                    changes.push(format!("union {name} no longer includes {}", member.node));
                }
            }
        }
        (TypeKind::Enum(old), TypeKind::Enum(new)) => {
            for value in &old.values {
                if !new
                    .values
                    .iter()
                    .any(|v| v.node.value.node == value.node.value.node)
                {
                    changes.push(format!(
                        "enum value {name}.{} was removed",
                        value.node.value.node
                    ));
                }
            }
        }
        (TypeKind::InputObject(old), TypeKind::InputObject(new)) => {
            inputs(name, "input field", &old.fields, &new.fields, changes);
        }
        (before, after) => changes.push(format!(
            "type {name} changed from {} to {}",
            kind_name(before),
            kind_name(after)
        )),
    }
}

fn fields(
    owner: &str,
    old: &[Positioned<FieldDefinition>],
    new: &[Positioned<FieldDefinition>],
    changes: &mut Vec<String>,
) {
    for field in old {
        let field = &field.node;
        let path = format!("{owner}.{}", field.name.node);
        let Some(now) = new.iter().find(|f| f.node.name.node == field.name.node) else {
            changes.push(format!("field {path} was removed"));
            continue;
        };
        let now = &now.node;
        if !output_still_fits(&field.ty.node, &now.ty.node) {
            changes.push(format!(
                "field {path} changed type from {} to {}",
                field.ty.node, now.ty.node
            ));
        }
        inputs(&path, "argument", &field.arguments, &now.arguments, changes);
    }
}

/// Arguments of a field, or fields of an input type.
fn inputs(
    owner: &str,
    what: &str,
    old: &[Positioned<InputValueDefinition>],
    new: &[Positioned<InputValueDefinition>],
    changes: &mut Vec<String>,
) {
    for input in old {
        let input = &input.node;
        match new.iter().find(|i| i.node.name.node == input.name.node) {
            None => changes.push(format!("{what} {owner}({}) was removed", input.name.node)),
            Some(now) if !input_still_fits(&input.ty.node, &now.node.ty.node) => {
                changes.push(format!(
                    "{what} {owner}({}) changed type from {} to {}",
                    input.name.node, input.ty.node, now.node.ty.node
                ));
            }
            Some(_) => {}
        }
    }
    for input in new {
        let input = &input.node;
        let required = !input.ty.node.nullable && input.default_value.is_none();
        if required && !old.iter().any(|i| i.node.name.node == input.name.node) {
            changes.push(format!(
                "new required {what} {owner}({}: {})",
                input.name.node, input.ty.node
            ));
        }
    }
}

/// An old query still reads a field of type `new` where it read `old`:
/// the same type, or a non-null one where nulls were allowed (at any depth).
fn output_still_fits(old: &Type, new: &Type) -> bool {
    if !old.nullable && new.nullable {
        return false;
    }
    match (&old.base, &new.base) {
        (BaseType::Named(a), BaseType::Named(b)) => a == b,
        (BaseType::List(a), BaseType::List(b)) => output_still_fits(a, b),
        _ => false,
    }
}

/// An old client's value for an input still fits `new` where it fitted
/// `old`: the same type, or a nullable one where a value was required.
fn input_still_fits(old: &Type, new: &Type) -> bool {
    if old.nullable && !new.nullable {
        return false;
    }
    match (&old.base, &new.base) {
        (BaseType::Named(a), BaseType::Named(b)) => a == b,
        (BaseType::List(a), BaseType::List(b)) => input_still_fits(a, b),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = r#"
        type Query { person(slug: String!): Person, people(first: Int): [Person!]! }
        type Person { name: String!, bio: String, age: Int, kind: Kind }
        enum Kind { A B }
        input New { name: String!, bio: String }
        union Thing = Person | Other
        type Other { x: Int }
    "#;

    #[test]
    fn an_unchanged_schema_and_additions_break_nothing() {
        assert_eq!(breaking_changes(OLD, OLD), Ok(vec![]));
        let added =
            format!("{OLD}\nextend type Person {{ aliases: [String!]! }}\ntype More {{ y: Int }}");
        assert_eq!(breaking_changes(OLD, &added), Ok(vec![]));
    }

    #[test]
    fn removals_type_changes_and_new_required_inputs_are_listed() {
        let new = r#"
            type Query { person(slug: ID!, at: String!): Person!, people(first: Int, after: String): [Person]! }
            type Person { name: String, bio: String!, kind: Kind }
            enum Kind { A }
            input New { name: String, bio: String, title: String! }
            union Thing = Person
            scalar Other
        "#;
        let changes = breaking_changes(OLD, new).expect("both parse");
        assert_eq!(
            changes,
            [
                "enum value Kind.B was removed",
                "new required input field New(title: String!)",
                "type Other changed from an object type to a scalar",
                "field Person.name changed type from String! to String",
                "field Person.age was removed",
                "argument Query.person(slug) changed type from String! to ID!",
                "new required argument Query.person(at: String!)",
                "field Query.people changed type from [Person!]! to [Person]!",
                "union Thing no longer includes Other",
            ]
        );
    }
}
