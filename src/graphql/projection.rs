//! Which columns a list reads, from what the query selects (see
//! [`Columns`]): the brief ones unless the selection asks for a field that
//! only the full row answers.
//!
//! A field the selection hides from this look (none is known) still
//! answers: the objects load their detail by id when it is missing.

use async_graphql::SelectionField;

use crate::db::Columns;

/// `Full` when one of `objects` selects one of `detail_fields`.
pub fn columns_for(objects: &[SelectionField<'_>], detail_fields: &[&str]) -> Columns {
    let asks_detail = objects.iter().any(|object| {
        object
            .selection_set()
            .any(|field| detail_fields.contains(&field.name()))
    });
    if asks_detail {
        Columns::Full
    } else {
        Columns::Brief
    }
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
