//! The fast path against async-graphql's own executor: random valid
//! operations over the whole schema (read by introspection), each run both
//! ways on the same database, compared byte for byte, errors and their paths
//! included.
//!
//! CI runs 2,000 operations. A longer run, by hand:
//! `TALENTGRAPH_DIFFERENTIAL_OPERATIONS=50000 TALENTGRAPH_DIFFERENTIAL_SEED=7 cargo test --test api differential -- --nocapture`

use std::fmt::Write as _;

use futures_util::StreamExt;
use serde_json::{Map, Value, json};

use crate::schema_model::{Kind, Rng, Samples, Schema, TypeDef};
use crate::support::TestApp;

/// Nesting of selections, as the issue asks: deep enough to go person ->
/// stint -> organization -> stints -> person.
const MAX_DEPTH: usize = 5;

/// Kept under the service's limit (`graphql::limits::MAX_ALIASES`, 50), so
/// that operations run rather than being refused before execution.
const MAX_ALIASES: usize = 45;

/// Builds one operation: its document and its variables.
struct Generator<'a> {
    schema: &'a Schema,
    samples: &'a Samples,
    rng: Rng,
    variables: Vec<(String, String, Value)>,
    fragments: Vec<String>,
    names: usize,
    /// Set while generating a second selection of a key already selected,
    /// or a fragment on an interface inside an object's set: fields with
    /// arguments get keys of their own, so that merging never meets one key
    /// asked with different arguments.
    own_keys: bool,
    /// Field names that the members of the abstract type being selected
    /// share: in its fragments they get keys of their own, since the same
    /// key must have one shape whichever member a value is.
    shared: std::collections::HashSet<String>,
    aliases: usize,
}

impl<'a> Generator<'a> {
    fn operation(schema: &'a Schema, samples: &'a Samples, seed: u64) -> (String, Value) {
        let mut generator = Generator {
            schema,
            samples,
            rng: Rng::new(seed),
            variables: Vec::new(),
            fragments: Vec::new(),
            names: 0,
            own_keys: false,
            shared: Default::default(),
            aliases: 0,
        };
        let selection = generator.selection_set(schema.ty("Query"), 1);
        let mut document = String::from("query Generated");
        if !generator.variables.is_empty() {
            let definitions: Vec<String> = generator
                .variables
                .iter()
                .map(|(name, ty, _)| format!("${name}: {ty}"))
                .collect();
            let _ = write!(document, "({})", definitions.join(", "));
        }
        let _ = write!(document, " {{ {selection} }}");
        for fragment in &generator.fragments {
            let _ = write!(document, "\n{fragment}");
        }
        let variables: Map<String, Value> = generator
            .variables
            .into_iter()
            .map(|(name, _, value)| (name, value))
            .collect();
        (document, Value::Object(variables))
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.names += 1;
        format!("{prefix}{}", self.names)
    }

    /// A selection set on `ty`, never empty.
    fn selection_set(&mut self, ty: &TypeDef, depth: usize) -> String {
        let mut items = Vec::new();
        if ty.kind == Kind::Object || ty.kind == Kind::Interface {
            let mut fields: Vec<_> = ty.fields.iter().collect();
            self.rng.shuffle(&mut fields);
            let wanted = 1 + self.rng.below(if depth < 3 { 4 } else { 3 });
            for field in fields {
                if items.len() >= wanted {
                    break;
                }
                if let Some(item) = self.field(ty, field, depth) {
                    items.push(item);
                }
            }
        }
        if ty.kind != Kind::Object {
            // Fragments on the types a value of this abstract type can be.
            let mut members = self.schema.concrete_types(&ty.name);
            self.rng.shuffle(&mut members);
            let mut seen = std::collections::HashSet::new();
            let shared: std::collections::HashSet<String> = members
                .iter()
                .flat_map(|m| m.fields.iter().map(|f| f.name.clone()))
                .filter(|name| !seen.insert(name.clone()))
                .collect();
            for member in members.into_iter().take(1 + self.rng.below(2)) {
                let outer = std::mem::replace(&mut self.shared, shared.clone());
                let inner = self.selection_set(member, depth);
                self.shared = outer;
                items.push(format!("... on {} {{ {inner} }}", member.name));
            }
        }
        // A fragment on an interface the object implements, asking the
        // interface's own fields.
        if ty.kind == Kind::Object && !ty.interfaces.is_empty() && self.rng.one_in(4) {
            let name: &String = self.rng.pick(&ty.interfaces);
            let interface = self.schema.ty(name);
            // Its fragments on members may meet this set's own fields.
            let own_keys = std::mem::replace(&mut self.own_keys, true);
            let inner = self.selection_set(interface, depth);
            self.own_keys = own_keys;
            let position = self.rng.below(items.len() + 1);
            items.insert(position, format!("... on {} {{ {inner} }}", interface.name));
        }
        if items.is_empty() || self.rng.one_in(5) {
            let position = self.rng.below(items.len() + 1);
            let typename = match self.aliases < MAX_ALIASES / 2 && self.rng.one_in(3) {
                true => {
                    self.aliases += 1;
                    format!("{}: __typename", self.fresh("t"))
                }
                false => "__typename".to_owned(),
            };
            items.insert(position, typename);
        }
        // Some of the set moves into fragments: inline, with or without a
        // type condition, or named; conditions on the type itself or on an
        // interface it implements.
        if items.len() > 1 && self.rng.one_in(3) {
            let split = self.rng.below(items.len());
            let moved: Vec<String> = items.drain(split..).collect();
            let condition = ty.name.clone();
            let body = moved.join(" ");
            let fragment = match self.rng.below(3) {
                0 => format!("... {{ {body} }}"),
                1 => format!("... on {condition} {{ {body} }}"),
                _ => {
                    let name = self.fresh("F");
                    self.fragments
                        .push(format!("fragment {name} on {condition} {{ {body} }}"));
                    format!("...{name}")
                }
            };
            items.push(fragment);
        }
        items.join(" ")
    }

    fn field(
        &mut self,
        parent: &TypeDef,
        field: &crate::schema_model::FieldDef,
        depth: usize,
    ) -> Option<String> {
        let target = self.schema.ty(field.ty.named());
        if target.is_composite() && depth >= MAX_DEPTH {
            return None;
        }
        let forced = (self.own_keys && !field.args.is_empty()) || self.shared.contains(&field.name);
        // Within the service's limit of 50 aliases a document.
        if forced && self.aliases >= MAX_ALIASES {
            return None;
        }
        let mut arguments = Vec::new();
        for arg in &field.args {
            let Some(value) = self
                .samples
                .argument(self.schema, field, arg, &mut self.rng)
            else {
                continue;
            };
            if self.rng.one_in(3) {
                let name = self.fresh("v");
                arguments.push(format!("{}: ${name}", arg.name));
                self.variables.push((name, arg.ty.render(), value));
            } else {
                arguments.push(format!(
                    "{}: {}",
                    arg.name,
                    self.schema.literal(&arg.ty, &value)
                ));
            }
        }
        // A set never selects a field twice under one key with other
        // arguments (an invalid document): fields are picked without
        // repeats, and only argument-free ones are repeated on purpose.
        let alias = if forced || (self.aliases < MAX_ALIASES / 2 && self.rng.one_in(4)) {
            self.aliases += 1;
            format!("{}: ", self.fresh("a"))
        } else {
            String::new()
        };
        let mut text = format!("{alias}{}", field.name);
        if !arguments.is_empty() {
            let _ = write!(text, "({})", arguments.join(", "));
        }
        match self.rng.below(16) {
            0 => text.push_str(" @include(if: true)"),
            1 => text.push_str(" @skip(if: false)"),
            2 => {
                let name = self.fresh("b");
                let _ = write!(text, " @skip(if: ${name})");
                let skip = self.rng.one_in(2);
                self.variables
                    .push((name, "Boolean!".to_owned(), json!(skip)));
            }
            3 => text.push_str(" @include(if: false)"),
            _ => {}
        }
        if target.is_composite() {
            let shared = std::mem::take(&mut self.shared);
            let _ = write!(text, " {{ {} }}", self.selection_set(target, depth + 1));
            // Now and then the same field again under the same key, with
            // another selection: the executor merges the two.
            if alias.is_empty() && field.args.is_empty() && self.rng.one_in(6) {
                let own_keys = std::mem::replace(&mut self.own_keys, true);
                let again = self.selection_set(target, depth + 1);
                self.own_keys = own_keys;
                let _ = write!(text, " {} {{ {again} }}", field.name);
            }
            self.shared = shared;
        }
        let _ = parent;
        Some(text)
    }
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test]
async fn generated_operations_answer_the_same_through_the_fast_path_and_the_stock_executor() {
    let operations = setting("TALENTGRAPH_DIFFERENTIAL_OPERATIONS", 2_000);
    let first_seed = setting("TALENTGRAPH_DIFFERENTIAL_SEED", 1);
    let app = TestApp::spawn_with(|config| {
        config.debug_faults = true;
        config.db_pool_size = 8;
        config.http.rate_limit_capacity = 0;
    })
    .await;
    talentgraph::seed::seed(&mut app.conn().await)
        .await
        .expect("the article's data set loads");
    let admin = app.token("admin").await;
    let schema = Schema::introspect(&app).await;
    let samples = Samples::load(&app).await;

    let outcomes: Vec<(u64, String, Value, String, String)> =
        futures_util::stream::iter(first_seed..first_seed + operations)
            .map(|seed| {
                let (document, variables) = Generator::operation(&schema, &samples, seed);
                let (app, admin) = (&app, &admin);
                async move {
                    let fast = app.raw(Some(admin), &document, &variables, false).await;
                    let stock = app.raw(Some(admin), &document, &variables, true).await;
                    (seed, document, variables, fast, stock)
                }
            })
            .buffer_unordered(4)
            .collect()
            .await;

    let mut with_data = 0;
    let mut with_errors = 0;
    let mut codes = std::collections::BTreeMap::<String, usize>::new();
    let mut mismatches = Vec::new();
    for (seed, document, variables, fast, stock) in &outcomes {
        let answer: Value = serde_json::from_str(fast).expect("a JSON answer");
        if answer["data"].is_object() {
            with_data += 1;
        }
        if let Some(errors) = answer["errors"].as_array() {
            with_errors += 1;
            for error in errors {
                let code = error["extensions"]["code"].as_str().unwrap_or("NONE");
                *codes.entry(code.to_owned()).or_default() += 1;
            }
        }
        if fast != stock {
            mismatches.push(format!(
                "seed {seed}\n{document}\nvariables: {variables}\nfast:  {fast}\nstock: {stock}\n"
            ));
        }
    }
    println!(
        "differential: {} operations (seeds {first_seed}..{}), {with_data} with data, {with_errors} with errors {codes:?}, {} mismatches",
        outcomes.len(),
        first_seed + operations,
        mismatches.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} of {} operations answered differently:\n{}",
        mismatches.len(),
        outcomes.len(),
        mismatches
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    if std::env::var("TALENTGRAPH_DIFFERENTIAL_SHOW").is_ok() {
        for (seed, document, variables, fast, _) in outcomes.iter().take(5) {
            println!("seed {seed}\n{document}\nvariables: {variables}\n{fast}\n");
        }
    }
    // A generator whose operations all fail would prove nothing.
    assert!(
        with_data * 2 > outcomes.len(),
        "only {with_data} of {} operations returned data",
        outcomes.len()
    );
}
