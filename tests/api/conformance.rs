//! The GraphQL execution rules, checked for every object type and every
//! field of the schema as introspection shows it, through the fast path and
//! through async-graphql's own executor:
//!
//! - response keys come in selection order, with aliases, inline and named
//!   fragments, `@skip`/`@include` and `__typename`;
//! - a field's error (injected with the `_debugError` alias of armed debug
//!   builds) nulls the nearest nullable ancestor, every instance's error is
//!   reported once with the failing field's path, and nothing else changes;
//! - identical requests give byte-identical answers.
//!
//! Each type is reached by the shortest path from `Query` that finds one on
//! the seeded data set, so a new type or field is covered without editing
//! this file (a required argument of a new kind needs a value in
//! `schema_model::Samples::argument`).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use crate::schema_model::{FieldDef, Kind, Rng, Samples, Schema, TypeDef, TypeRef};
use crate::support::TestApp;
use talentgraph::observability::DEBUG_ERROR_ALIAS;

/// How far from `Query` a type may be for the suite to look for it.
const MAX_PATH: usize = 5;

/// One field on the way from `Query` to a type; `member` is the object type
/// an abstract field's value must be for the path to go on.
#[derive(Clone)]
struct Step {
    field: FieldDef,
    arguments: String,
    member: Option<String>,
}

/// Where a value sits in the response: a field of an object, or an item of a
/// list; and whether that position may be null.
#[derive(Clone, Debug)]
enum Place {
    Field { key: String, member: Option<String> },
    Item,
}

struct Suite<'a> {
    app: &'a TestApp,
    token: String,
    schema: Schema,
    samples: Samples,
}

impl Suite<'_> {
    /// The arguments a step or a selected field is given: its required ones,
    /// and small pages.
    fn arguments(&self, field: &FieldDef) -> String {
        let mut rng = Rng::new(7);
        let mut given = Vec::new();
        for arg in &field.args {
            let value = match arg.name.as_str() {
                "first" => json!(2),
                _ if arg.is_required() || arg.names_the_entity() => self
                    .samples
                    .argument(&self.schema, field, arg, &mut rng)
                    .expect("required arguments get a value"),
                _ => continue,
            };
            given.push(format!(
                "{}: {}",
                arg.name,
                self.schema.literal(&arg.ty, &value)
            ));
        }
        match given.is_empty() {
            true => String::new(),
            false => format!("({})", given.join(", ")),
        }
    }

    /// Paths from `Query` to `target`, shortest first.
    fn paths_to(&self, target: &str) -> Vec<Vec<Step>> {
        let mut found = Vec::new();
        let mut frontier: Vec<(String, Vec<Step>)> = vec![("Query".to_owned(), Vec::new())];
        for _ in 0..MAX_PATH {
            let mut next = Vec::new();
            for (type_name, path) in frontier {
                let ty = self.schema.ty(&type_name);
                for field in &ty.fields {
                    let named = self.schema.ty(field.ty.named());
                    if !named.is_composite() || named.name.starts_with("__") {
                        continue;
                    }
                    for member in self.schema.concrete_types(&named.name) {
                        // A path never passes through a type twice.
                        if path.iter().any(|s| s.field.ty.named() == member.name)
                            && member.name != target
                        {
                            continue;
                        }
                        let mut longer = path.clone();
                        longer.push(Step {
                            field: field.clone(),
                            arguments: self.arguments(field),
                            member: (named.kind != Kind::Object).then(|| member.name.clone()),
                        });
                        if member.name == target {
                            found.push(longer);
                        } else {
                            next.push((member.name.clone(), longer));
                        }
                    }
                }
            }
            if found.len() >= 6 {
                break;
            }
            frontier = next;
        }
        found
    }

    /// The query that follows `path` and selects `selection` on the type at
    /// its end (an abstract level also selects `__typename`, to tell its
    /// members apart).
    fn query(&self, path: &[Step], selection: &str, fragments: &str) -> String {
        let mut inner = selection.to_owned();
        for step in path.iter().rev() {
            let body = match &step.member {
                // After the fragment, so that a selection at the end that
                // asks for `__typename` itself decides where it goes.
                Some(member) => format!("... on {member} {{ {inner} }} __typename"),
                None => inner,
            };
            inner = format!("{}{} {{ {body} }}", step.field.name, step.arguments);
        }
        format!("{{ {inner} }}\n{fragments}")
    }

    /// Where the objects at the end of `path` sit, and how nullable each
    /// place on the way is.
    fn places(path: &[Step]) -> Vec<(Place, bool)> {
        let mut places = Vec::new();
        for step in path {
            let mut ty = &step.field.ty;
            let mut first = true;
            loop {
                let nullable = !ty.is_non_null();
                let place = match first {
                    true => Place::Field {
                        key: step.field.name.clone(),
                        member: None,
                    },
                    false => Place::Item,
                };
                places.push((place, nullable));
                first = false;
                match ty.nullable() {
                    TypeRef::List(inner) => ty = inner,
                    _ => break,
                }
            }
            if let Some(member) = &step.member {
                // The next field applies only to values of this member type.
                places.push((
                    Place::Field {
                        key: String::new(),
                        member: Some(member.clone()),
                    },
                    true,
                ));
            }
        }
        places
    }

    async fn post(&self, query: &str, stock: bool) -> String {
        self.app
            .raw(Some(&self.token), query, &json!({}), stock)
            .await
    }

    /// Both paths, twice each: all four answers must be the same bytes.
    async fn answer(&self, query: &str) -> Value {
        let fast = self.post(query, false).await;
        assert_eq!(
            fast,
            self.post(query, false).await,
            "not repeatable:\n{query}"
        );
        let stock = self.post(query, true).await;
        assert_eq!(
            fast, stock,
            "the fast path and the executor differ on\n{query}"
        );
        serde_json::from_str(&fast).expect("a JSON answer")
    }
}

/// The objects at the end of `places` in `value` (the `data` object).
fn objects_at<'v>(value: &'v Value, places: &[(Place, bool)], out: &mut Vec<&'v Value>) {
    let Some(((place, _), rest)) = places.split_first() else {
        if value.is_object() {
            out.push(value);
        }
        return;
    };
    match place {
        Place::Field {
            member: Some(member),
            ..
        } => {
            if value["__typename"] == **member {
                objects_at(value, rest, out);
            }
        }
        Place::Field { key, member: None } => {
            if let Some(child) = value.get(key) {
                objects_at(child, rest, out);
            }
        }
        Place::Item => {
            for item in value.as_array().into_iter().flatten() {
                objects_at(item, rest, out);
            }
        }
    }
}

/// What `value` (found at the place before `places`) becomes when the field
/// `failing` of every object at the end fails: `Err` when the failure
/// reaches this place and it cannot be null. `failures` counts the objects
/// whose field failed.
fn with_failure(
    value: &Value,
    nullable: bool,
    places: &[(Place, bool)],
    failing: (&str, bool),
    failures: &mut usize,
) -> Result<Value, ()> {
    let fail = |nullable: bool| if nullable { Ok(Value::Null) } else { Err(()) };
    if value.is_null() {
        return Ok(Value::Null);
    }
    let Some(((place, child_nullable), rest)) = places.split_first() else {
        // An object at the end: its failing field.
        *failures += 1;
        let (key, field_nullable) = failing;
        if field_nullable {
            let mut object = value.as_object().cloned().unwrap_or_default();
            object.insert(key.to_owned(), Value::Null);
            return Ok(Value::Object(object));
        }
        return fail(nullable);
    };
    match place {
        Place::Field {
            member: Some(member),
            ..
        } => {
            if value["__typename"] != **member {
                return Ok(value.clone());
            }
            // The same object, seen as its member type.
            with_failure(value, nullable, rest, failing, failures)
        }
        Place::Field { key, member: None } => {
            let Some(child) = value.get(key) else {
                return Ok(value.clone());
            };
            match with_failure(child, *child_nullable, rest, failing, failures) {
                Ok(child) => {
                    let mut object: Map<String, Value> =
                        value.as_object().cloned().unwrap_or_default();
                    object.insert(key.clone(), child);
                    Ok(Value::Object(object))
                }
                Err(()) => fail(nullable),
            }
        }
        Place::Item => {
            let mut items = Vec::new();
            let mut failed = false;
            for item in value.as_array().into_iter().flatten() {
                match with_failure(item, *child_nullable, rest, failing, failures) {
                    Ok(item) => items.push(item),
                    Err(()) => failed = true,
                }
            }
            match failed {
                true => fail(nullable),
                false => Ok(Value::Array(items)),
            }
        }
    }
}

/// The selection that asks for every field of `ty` in a shuffled order,
/// some aliased, some in inline or named fragments, one skipped and one
/// included by directive; and the response keys it must give, in order.
fn every_field(suite: &Suite<'_>, ty: &TypeDef, rng: &mut Rng) -> (String, String, Vec<String>) {
    let mut fields: Vec<&FieldDef> = ty.fields.iter().collect();
    rng.shuffle(&mut fields);
    // (field and arguments, sub-selection, response key)
    let mut items: Vec<(String, &str, Option<String>)> = Vec::new();
    for (n, field) in fields.into_iter().enumerate() {
        let key = match rng.one_in(3) {
            true => format!("k{n}"),
            false => field.name.clone(),
        };
        let alias = match key == field.name {
            true => String::new(),
            false => format!("{key}: "),
        };
        let text = format!("{alias}{}{}", field.name, suite.arguments(field));
        let selection = match suite.schema.ty(field.ty.named()).is_composite() {
            true => " { __typename }",
            false => "",
        };
        items.push((text, selection, Some(key)));
    }
    let at = rng.below(items.len() + 1);
    items.insert(
        at,
        ("__typename".to_owned(), "", Some("__typename".to_owned())),
    );
    let at = rng.below(items.len() + 1);
    items.insert(
        at,
        ("skipped: __typename @skip(if: true)".to_owned(), "", None),
    );
    let at = rng.below(items.len());
    items[at].0.push_str(" @include(if: true)");

    let keys = items.iter().filter_map(|(_, _, key)| key.clone()).collect();
    let third = items.len() / 3;
    let texts: Vec<String> = items
        .into_iter()
        .map(|(text, selection, _)| format!("{text}{selection}"))
        .collect();
    let selection = format!(
        "{} ... on {} {{ {} }} ...Every{}",
        texts[..third].join(" "),
        ty.name,
        texts[third..2 * third].join(" "),
        ty.name
    );
    let fragment = format!(
        "fragment Every{0} on {0} {{ {1} }}",
        ty.name,
        texts[2 * third..].join(" ")
    );
    (selection, fragment, keys)
}

#[tokio::test]
async fn every_field_of_every_type_keeps_selection_order_and_nulls_the_right_ancestor() {
    let app = TestApp::spawn_with(|config| {
        config.debug_faults = true;
        config.http.rate_limit_capacity = 0;
    })
    .await;
    talentgraph::seed::seed(&mut app.conn().await)
        .await
        .expect("the article's data set loads");
    let suite = Suite {
        app: &app,
        token: app.token("admin").await,
        schema: Schema::introspect(&app).await,
        samples: Samples::load(&app).await,
    };
    let mut rng = Rng::new(14);
    let mut unreached = Vec::new();
    let (mut types, mut fields, mut objects, mut failures) = (0, 0, 0, 0);

    for ty in suite.schema.object_types() {
        if ty.name == "Query" || ty.name == "Mutation" {
            continue;
        }
        // The shortest path on which the data set has such an object.
        let mut reached = None;
        for path in suite.paths_to(&ty.name) {
            let places = Suite::places(&path);
            let data = suite.answer(&suite.query(&path, "__typename", "")).await;
            let mut found = Vec::new();
            objects_at(&data["data"], &places, &mut found);
            if !found.is_empty() {
                reached = Some((path, places, data));
                break;
            }
        }
        let Some((path, places, baseline)) = reached else {
            unreached.push(ty.name.clone());
            continue;
        };
        types += 1;

        // Key order, every field at once.
        let (selection, fragment, keys) = every_field(&suite, ty, &mut rng);
        let query = suite.query(&path, &selection, &fragment);
        let answer = suite.answer(&query).await;
        let mut found = Vec::new();
        objects_at(&answer["data"], &places, &mut found);
        assert!(!found.is_empty(), "no {} in\n{query}\n{answer}", ty.name);
        for object in &found {
            let got: Vec<&String> = object.as_object().expect("an object").keys().collect();
            assert_eq!(
                got,
                keys.iter().collect::<Vec<_>>(),
                "keys of {} in\n{query}\n{answer}",
                ty.name
            );
        }
        objects += found.len();

        // Each field failing in turn.
        for field in &ty.fields {
            fields += 1;
            let mut selection = format!(
                "__typename {DEBUG_ERROR_ALIAS}: {}{}",
                field.name,
                suite.arguments(field)
            );
            if suite.schema.ty(field.ty.named()).is_composite() {
                selection.push_str(" { __typename }");
            }
            let query = suite.query(&path, &selection, "");
            let answer = suite.answer(&query).await;
            let mut count = 0;
            let expected = match with_failure(
                &baseline["data"],
                true,
                &places,
                (DEBUG_ERROR_ALIAS, !field.ty.is_non_null()),
                &mut count,
            ) {
                Ok(data) => data,
                Err(()) => Value::Null,
            };
            assert_eq!(
                answer["data"].to_string(),
                expected.to_string(),
                "{}.{} failing, in\n{query}",
                ty.name,
                field.name
            );
            let errors = answer["errors"].as_array().cloned().unwrap_or_default();
            assert_eq!(
                errors.len(),
                count,
                "one error per failed field:\n{query}\n{answer}"
            );
            let mut paths = BTreeSet::new();
            for error in &errors {
                assert_eq!(error["extensions"]["code"], "INJECTED_FAULT", "{answer}");
                let path = error["path"].as_array().expect("a path");
                assert_eq!(path.last(), Some(&json!(DEBUG_ERROR_ALIAS)), "{answer}");
                paths.insert(error["path"].to_string());
            }
            assert_eq!(paths.len(), errors.len(), "each failure once: {answer}");
            failures += count;
        }
    }
    let mut report = String::new();
    let _ = write!(
        report,
        "conformance: {types} object types, {fields} fields failed in turn ({failures} field errors checked), {objects} objects' key order checked; not reachable from Query: {unreached:?}"
    );
    println!("{report}");
    // Only the mutations' payloads, and what only subscriptions deliver
    // (their fields are checked over WebSocket in `live.rs`), may be out of
    // a query's reach.
    const SUBSCRIPTION_ONLY: &[&str] = &["Subscription", "EmploymentChange", "AuditEvent"];
    for name in &unreached {
        assert!(
            name.ends_with("Payload") || SUBSCRIPTION_ONLY.contains(&name.as_str()),
            "{name} is not reachable from Query on the seeded data set"
        );
    }
    assert!(types >= 15, "{report}");
}
