//! Which columns a list reads, from what the query selects: the columns
//! each entity's declaration ([`crate::db::columns`]) maps the selected
//! fields to, and the always-read ones.
//!
//! A field the selection hides from this look (none is known) still
//! answers: the objects load their whole row by id when a column is missing.

use async_graphql::SelectionField;

use crate::db::columns::{ColumnSet, Entity};

/// The columns of `E` that `objects`' selections need: the always-read ones,
/// and those of every field selected (see [`crate::db::columns`]).
pub fn column_set<E: Entity>(objects: &[SelectionField<'_>]) -> ColumnSet<E> {
    ColumnSet::for_fields(
        objects
            .iter()
            .flat_map(|object| object.selection_set().map(|field| field.name())),
    )
}

/// The selections of a connection's nodes: `nodes`, and `edges { node }`.
pub fn connection_nodes(connection: SelectionField<'_>) -> Vec<SelectionField<'_>> {
    let mut nodes = Vec::new();
    for field in connection.selection_set() {
        match field.name() {
            "nodes" => nodes.push(field),
            "edges" => nodes.extend(field.selection_set().filter(|f| f.name() == "node")),
            _ => {}
        }
    }
    nodes
}

/// The selections of the field `name` of `objects` (each stint's `person`).
pub fn fields_named<'a>(objects: &[SelectionField<'a>], name: &str) -> Vec<SelectionField<'a>> {
    objects
        .iter()
        .flat_map(|object| object.selection_set().filter(|field| field.name() == name))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use crate::db::authorships::AuthorshipRead;
    use crate::db::columns::Entity;
    use crate::db::employments::EmploymentRead;
    use crate::db::organizations::OrganizationRead;
    use crate::db::people::PersonRead;
    use crate::db::publications::PublicationRead;
    use crate::db::sources::SourceRead;
    use crate::graphql::authorship::Authorship;
    use crate::graphql::eager::PlainFields;
    use crate::graphql::employment::Employment;
    use crate::graphql::organization::Organization;
    use crate::graphql::person::Person;

    /// The fields of the object type `name`, as the schema serves them,
    /// each with its number of arguments.
    async fn api_fields(name: &str) -> BTreeMap<String, usize> {
        let query = format!(
            r#"{{ __type(name: "{name}") {{ fields(includeDeprecated: true) {{ name args {{ name }} }} }} }}"#
        );
        let response = super::super::build_schema(None).execute(query).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let data = response.data.into_json().expect("JSON data");
        data["__type"]["fields"]
            .as_array()
            .unwrap_or_else(|| panic!("type {name} in the schema: {data}"))
            .iter()
            .map(|field| {
                let name = field["name"].as_str().expect("a field name").to_owned();
                (name, field["args"].as_array().map_or(0, Vec::len))
            })
            .collect()
    }

    /// Every field of `type_name` is declared, by a column or as a relation
    /// or computed field, and every declared field exists.
    async fn declaration_agrees_with_the_api<E: Entity>(type_name: &str) {
        let api: BTreeSet<String> = api_fields(type_name).await.into_keys().collect();
        let declared: BTreeSet<String> = E::column_fields()
            .chain(E::OTHER_FIELDS.iter().copied())
            .map(str::to_owned)
            .collect();
        let undeclared: Vec<_> = api.difference(&declared).collect();
        let unknown: Vec<_> = declared.difference(&api).collect();
        assert!(
            undeclared.is_empty() && unknown.is_empty(),
            "{type_name}: fields the API has but the declaration lacks: {undeclared:?}; \
             declared but not in the API: {unknown:?}"
        );
    }

    /// Every field a type answers in place exists and takes no argument
    /// (what it answers is the differential suite's to compare).
    async fn plain_fields_are_fields_without_arguments<T: PlainFields>(type_name: &str) {
        let api = api_fields(type_name).await;
        for field in T::FIELDS {
            assert_eq!(
                api.get(*field).copied(),
                Some(0),
                "{type_name}.{field} is listed as plain: it must exist and take no argument"
            );
        }
    }

    #[tokio::test]
    async fn every_plain_field_is_a_field_without_arguments() {
        plain_fields_are_fields_without_arguments::<Organization>("Organization").await;
        plain_fields_are_fields_without_arguments::<Person>("Person").await;
        plain_fields_are_fields_without_arguments::<Employment>("Employment").await;
        plain_fields_are_fields_without_arguments::<Authorship>("Authorship").await;
    }

    #[tokio::test]
    async fn each_entity_declares_exactly_the_fields_of_its_api_type() {
        declaration_agrees_with_the_api::<OrganizationRead>("Organization").await;
        declaration_agrees_with_the_api::<PersonRead>("Person").await;
        declaration_agrees_with_the_api::<EmploymentRead>("Employment").await;
        declaration_agrees_with_the_api::<PublicationRead>("Publication").await;
        declaration_agrees_with_the_api::<AuthorshipRead>("Authorship").await;
        declaration_agrees_with_the_api::<SourceRead>("Source").await;
    }
}
