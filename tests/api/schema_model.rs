//! The schema as a client sees it, read by introspection, and the argument
//! values that make sense on the seeded data set: what the conformance suite
//! and the differential generator build their operations from, so that a
//! field added to the schema is covered without editing either.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::support::TestApp;

/// A field's or argument's type: `[Employment!]!` is
/// `NonNull(List(NonNull(Named("Employment"))))`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeRef {
    Named(String),
    List(Box<TypeRef>),
    NonNull(Box<TypeRef>),
}

impl TypeRef {
    fn from_introspection(value: &Value) -> TypeRef {
        match value["kind"].as_str() {
            Some("NON_NULL") => {
                TypeRef::NonNull(Box::new(Self::from_introspection(&value["ofType"])))
            }
            Some("LIST") => TypeRef::List(Box::new(Self::from_introspection(&value["ofType"]))),
            _ => TypeRef::Named(value["name"].as_str().unwrap_or_default().to_owned()),
        }
    }

    /// The named type at the bottom of the wrappers.
    pub fn named(&self) -> &str {
        match self {
            TypeRef::Named(name) => name,
            TypeRef::List(inner) | TypeRef::NonNull(inner) => inner.named(),
        }
    }

    pub fn is_non_null(&self) -> bool {
        matches!(self, TypeRef::NonNull(_))
    }

    /// The type without its outer `!`.
    pub fn nullable(&self) -> &TypeRef {
        match self {
            TypeRef::NonNull(inner) => inner,
            other => other,
        }
    }

    /// As written in SDL and in variable definitions.
    pub fn render(&self) -> String {
        match self {
            TypeRef::Named(name) => name.clone(),
            TypeRef::List(inner) => format!("[{}]", inner.render()),
            TypeRef::NonNull(inner) => format!("{}!", inner.render()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ArgDef {
    pub name: String,
    pub ty: TypeRef,
    pub has_default: bool,
}

impl ArgDef {
    pub fn is_required(&self) -> bool {
        self.ty.is_non_null() && !self.has_default
    }

    /// The reference a lookup needs (`person(ref:)`, `retention(of:)`):
    /// optional in the schema only because the deprecated argument it
    /// replaced may stand in for it, so it is given as if required.
    pub fn names_the_entity(&self) -> bool {
        matches!(self.name.as_str(), "ref" | "of")
    }
}

#[derive(Debug, Clone)]
pub struct FieldDef {
    pub name: String,
    pub args: Vec<ArgDef>,
    pub ty: TypeRef,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Object,
    Interface,
    Union,
    Enum,
    Scalar,
    InputObject,
}

#[derive(Debug, Clone)]
pub struct TypeDef {
    pub name: String,
    pub kind: Kind,
    pub fields: Vec<FieldDef>,
    pub interfaces: Vec<String>,
    pub possible_types: Vec<String>,
    pub enum_values: Vec<String>,
}

impl TypeDef {
    pub fn is_composite(&self) -> bool {
        matches!(self.kind, Kind::Object | Kind::Interface | Kind::Union)
    }
}

pub struct Schema {
    pub types: HashMap<String, TypeDef>,
}

const INTROSPECTION: &str = r#"
query {
  __schema {
    types {
      kind name
      fields(includeDeprecated: true) {
        name
        args { name defaultValue type { ...TypeRef } }
        type { ...TypeRef }
      }
      interfaces { name }
      possibleTypes { name }
      enumValues(includeDeprecated: true) { name }
    }
  }
}
fragment TypeRef on __Type {
  kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }
}"#;

impl Schema {
    pub async fn introspect(app: &TestApp) -> Schema {
        let data = app.data(INTROSPECTION).await;
        let names = |list: &Value| -> Vec<String> {
            list.as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v["name"].as_str().map(str::to_owned))
                .collect()
        };
        let mut types = HashMap::new();
        for ty in data["__schema"]["types"].as_array().expect("types") {
            let name = ty["name"].as_str().expect("a name").to_owned();
            let kind = match ty["kind"].as_str() {
                Some("OBJECT") => Kind::Object,
                Some("INTERFACE") => Kind::Interface,
                Some("UNION") => Kind::Union,
                Some("ENUM") => Kind::Enum,
                Some("INPUT_OBJECT") => Kind::InputObject,
                _ => Kind::Scalar,
            };
            let fields = ty["fields"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| FieldDef {
                    name: f["name"].as_str().expect("a field name").to_owned(),
                    ty: TypeRef::from_introspection(&f["type"]),
                    args: f["args"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|a| ArgDef {
                            name: a["name"].as_str().expect("an argument name").to_owned(),
                            ty: TypeRef::from_introspection(&a["type"]),
                            has_default: !a["defaultValue"].is_null(),
                        })
                        .collect(),
                })
                .collect();
            types.insert(
                name.clone(),
                TypeDef {
                    name,
                    kind,
                    fields,
                    interfaces: names(&ty["interfaces"]),
                    possible_types: names(&ty["possibleTypes"]),
                    enum_values: names(&ty["enumValues"]),
                },
            );
        }
        Schema { types }
    }

    pub fn ty(&self, name: &str) -> &TypeDef {
        self.types
            .get(name)
            .unwrap_or_else(|| panic!("the schema has no type {name}"))
    }

    /// The object types a value of `name` can be.
    pub fn concrete_types(&self, name: &str) -> Vec<&TypeDef> {
        let ty = self.ty(name);
        match ty.kind {
            Kind::Object => vec![ty],
            _ => ty.possible_types.iter().map(|t| self.ty(t)).collect(),
        }
    }

    /// Every object type a user can read (not the introspection types).
    pub fn object_types(&self) -> Vec<&TypeDef> {
        let mut types: Vec<_> = self
            .types
            .values()
            .filter(|t| t.kind == Kind::Object && !t.name.starts_with("__"))
            .collect();
        types.sort_by(|a, b| a.name.cmp(&b.name));
        types
    }

    /// `value` as a GraphQL literal of type `ty`.
    pub fn literal(&self, ty: &TypeRef, value: &Value) -> String {
        match (ty, value) {
            (_, Value::Null) => "null".to_owned(),
            (TypeRef::NonNull(inner), _) => self.literal(inner, value),
            (TypeRef::List(inner), Value::Array(items)) => format!(
                "[{}]",
                items
                    .iter()
                    .map(|item| self.literal(inner, item))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            (TypeRef::Named(name), Value::String(s)) if self.ty(name).kind == Kind::Enum => {
                s.clone()
            }
            // Input objects of scalars, such as the `@oneOf` references.
            (TypeRef::Named(_), Value::Object(fields)) => format!(
                "{{{}}}",
                fields
                    .iter()
                    .map(|(name, value)| format!("{name}: {value}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => value.to_string(),
        }
    }
}

/// A small seeded generator (SplitMix64): the same seed, the same operations.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// True one time in `n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// Real slugs and ids of the seeded data set, to give arguments values that
/// find something.
pub struct Samples {
    people: Vec<String>,
    organizations: Vec<String>,
    publications: Vec<String>,
    ids: Vec<String>,
}

impl Samples {
    pub async fn load(app: &TestApp) -> Samples {
        let data = app
            .data(
                "{ people(first: 100) { nodes { id slug employments { id sources { id } } } }
                   organizations(first: 100) { nodes { id slug } }
                   publications(first: 100) { nodes { id slug } } }",
            )
            .await;
        let strings = |list: &Value, field: &str| -> Vec<String> {
            list["nodes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|n| n[field].as_str().map(str::to_owned))
                .collect()
        };
        let mut ids = Vec::new();
        for list in ["people", "organizations", "publications"] {
            ids.extend(strings(&data[list], "id"));
        }
        for person in data["people"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .take(3)
        {
            for stint in person["employments"].as_array().into_iter().flatten() {
                ids.extend(stint["id"].as_str().map(str::to_owned));
                for source in stint["sources"].as_array().into_iter().flatten() {
                    ids.extend(source["id"].as_str().map(str::to_owned));
                }
            }
        }
        ids.sort();
        ids.dedup();
        Samples {
            people: strings(&data["people"], "slug"),
            organizations: strings(&data["organizations"], "slug"),
            publications: strings(&data["publications"], "slug"),
            ids,
        }
    }

    /// A value for argument `arg` of `parent.field`, or `None` to leave an
    /// optional argument out. Required arguments always get one that the
    /// field accepts; optional ones, now and then, one that it may refuse
    /// (so that errors are exercised too).
    pub fn argument(
        &self,
        schema: &Schema,
        field: &FieldDef,
        arg: &ArgDef,
        rng: &mut Rng,
    ) -> Option<Value> {
        let needed = arg.is_required() || arg.names_the_entity();
        if !needed && !rng.one_in(3) {
            return None;
        }
        let named = arg.ty.named();
        let slug_of = |kind: &str, rng: &mut Rng| -> Value {
            let list = match kind {
                "person" => &self.people,
                "publication" => &self.publications,
                _ => &self.organizations,
            };
            Value::String(rng.pick(list).clone())
        };
        let value = match (field.name.as_str(), arg.name.as_str(), named) {
            (_, "after" | "before", _) => return None,
            ("person", "slug", _) => slug_of("person", rng),
            ("publication", "slug", _) => slug_of("publication", rng),
            (_, "slug" | "organization" | "from" | "to", "String") => slug_of("organization", rng),
            (_, "search" | "query", "String") => {
                json!(rng.pick(&["meta", "mistral", "lample", "rodriguez", "fair", "llama"]))
            }
            (_, _, "ID") => Value::String(rng.pick(&self.ids).clone()),
            (_, "first" | "last", "Int") => json!(1 + rng.below(3)),
            (_, _, "Int") => json!(rng.below(5)),
            (_, _, "Boolean") => json!(rng.one_in(2)),
            (_, _, "Date") => json!(rng.pick(&["2019-06-01", "2023-02-27", "2024-12-31"])),
            (_, _, "PartialDate") => json!(rng.pick(&["2020", "2023-04", "2023-04-28"])),
            (_, _, "PersonRef") => json!({ "slug": slug_of("person", rng) }),
            (_, _, "PublicationRef") => json!({ "slug": slug_of("publication", rng) }),
            (_, _, "OrganizationRef") => json!({ "slug": slug_of("organization", rng) }),
            (_, _, "SourceRef") => json!({ "url": rng.pick(&[
                "https://arxiv.org/abs/2302.13971",
                "https://www.listmystartup.app/article/metas-ai-exodus-how-mistral-and-others-are-winning-the-talent-war",
            ]) }),
            (_, _, "String") => json!(rng.pick(&["meta", "mistral"])),
            (_, _, name) if schema.ty(name).kind == Kind::Enum => {
                json!(rng.pick(&schema.ty(name).enum_values))
            }
            _ if needed => panic!(
                "no value for the required argument {}({}: {}): teach Samples::argument one",
                field.name,
                arg.name,
                arg.ty.render()
            ),
            _ => return None,
        };
        Some(match &arg.ty.nullable() {
            TypeRef::List(_) => Value::Array(vec![value]),
            _ => value,
        })
    }
}
