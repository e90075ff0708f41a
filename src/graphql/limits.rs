//! Bounded work before any SQL runs: every document is measured here before
//! async-graphql parses, validates or executes it.
//!
//! Two passes, both linear in the size of the request:
//!
//! 1. [`check_nesting`] scans the raw query text for bracket nesting. The
//!    parser async-graphql uses recurses once per `[`, `{` or `(`, and a few
//!    thousand of them abort the whole process with a stack overflow, so
//!    nothing may reach the parser before this scan.
//! 2. [`CostModel::measure`] walks the parsed document and sums, per
//!    operation, its depth, field count, cost, aliases, directives and root
//!    fields. Each fragment is measured once and its figures reused wherever
//!    it is spread, so a document of doubling fragments is refused in
//!    microseconds instead of being expanded (async-graphql's own validators
//!    expand spreads recursively: ~12 s of CPU for 1 KB).
//!
//! The cost follows GitHub's model: every field costs 1, times the number of
//! times it can run. A field taking `first` runs its children `first` times
//! (the default page size when omitted); another list field runs them
//! [`LIST_ESTIMATE`] times, except the `nodes`/`edges` of a connection, whose
//! size its `first` already counted.
//!
//! Each refusal has its own stable `extensions.code` (see [`LimitError`]);
//! `docs/limits.md` lists them for clients.

use std::collections::HashMap;

use async_graphql::parser::types::{
    BaseType, Directive, DocumentOperations, ExecutableDocument, OperationType, Selection,
    SelectionSet, TypeKind, TypeSystemDefinition,
};
use async_graphql::parser::{Positioned, parse_schema};
use async_graphql::{Name, Value, Variables};

use super::pagination::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

/// Deepest nesting of `{`, `[` and `(` in the query text.
pub const MAX_TEXT_NESTING: usize = 64;
/// Deepest nesting of arrays and objects in the variables.
pub const MAX_VARIABLE_NESTING: usize = 32;
/// Deepest field nesting (`{ a { b } }` is 2).
pub const MAX_DEPTH: usize = 16;
/// Deepest nesting of fields, fragment spreads and inline fragments together;
/// also async-graphql's own recursion limit, which must never be the one hit.
pub const MAX_SELECTION_NESTING: usize = 2 * MAX_DEPTH;
/// Most fields in a document, each fragment counted once per spread.
pub const MAX_FIELDS: u64 = 1_000;
/// Most cost points a document may ask for (see the module documentation).
pub const MAX_COST: u64 = 250_000;
/// Most aliased fields.
pub const MAX_ALIASES: u64 = 50;
/// Most directives.
pub const MAX_DIRECTIVES: u64 = 50;
/// Most fields at the root of one operation.
pub const MAX_ROOT_FIELDS: u64 = 20;
/// Most arguments given to fields and directives (async-graphql's argument
/// rules slow down quadratically with thousands of them).
pub const MAX_ARGUMENTS: u64 = 500;
/// Most variables declared, over all operations.
pub const MAX_VARIABLES: u64 = 100;
/// How many items a list without `first` is assumed to hold.
pub const LIST_ESTIMATE: u64 = 10;
/// What each field of a `where:` or `orderBy:` argument adds to the cost of
/// the field it filters: each test is a subquery or a sort key of the
/// statement that reads the list.
pub const FILTER_TEST_COST: u64 = 10;

/// A document or its variables refused before execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitError {
    /// Brackets in the query text, or arrays and objects in the variables,
    /// nested too deeply (`NESTING_TOO_DEEP`).
    NestingTooDeep { limit: usize, what: &'static str },
    /// Fields nested too deeply (`QUERY_TOO_DEEP`).
    TooDeep { depth: usize },
    /// Too many fields once fragments are expanded (`TOO_MANY_FIELDS`).
    TooManyFields { fields: u64 },
    /// Too expensive (`QUERY_TOO_COMPLEX`).
    TooComplex { cost: u64 },
    /// Too many aliases (`TOO_MANY_ALIASES`).
    TooManyAliases { aliases: u64 },
    /// Too many directives (`TOO_MANY_DIRECTIVES`).
    TooManyDirectives { directives: u64 },
    /// Too many fields at an operation's root (`TOO_MANY_ROOT_FIELDS`).
    TooManyRootFields { fields: u64 },
    /// Too many arguments (`TOO_MANY_ARGUMENTS`).
    TooManyArguments { arguments: u64 },
    /// Too many variables declared (`TOO_MANY_VARIABLES`).
    TooManyVariables { variables: u64 },
    /// A fragment that spreads itself, directly or not (`GRAPHQL_VALIDATION_FAILED`).
    FragmentCycle { name: String },
}

impl LimitError {
    pub fn code(&self) -> &'static str {
        match self {
            LimitError::NestingTooDeep { .. } => "NESTING_TOO_DEEP",
            LimitError::TooDeep { .. } => "QUERY_TOO_DEEP",
            LimitError::TooManyFields { .. } => "TOO_MANY_FIELDS",
            LimitError::TooComplex { .. } => "QUERY_TOO_COMPLEX",
            LimitError::TooManyAliases { .. } => "TOO_MANY_ALIASES",
            LimitError::TooManyDirectives { .. } => "TOO_MANY_DIRECTIVES",
            LimitError::TooManyRootFields { .. } => "TOO_MANY_ROOT_FIELDS",
            LimitError::TooManyArguments { .. } => "TOO_MANY_ARGUMENTS",
            LimitError::TooManyVariables { .. } => "TOO_MANY_VARIABLES",
            LimitError::FragmentCycle { .. } => super::error::code::GRAPHQL_VALIDATION_FAILED,
        }
    }

    pub fn message(&self) -> String {
        match self {
            LimitError::NestingTooDeep { limit, what } => {
                format!("{what} nest deeper than {limit} levels")
            }
            LimitError::TooDeep { depth } => {
                format!("the query nests fields {depth} deep; at most {MAX_DEPTH} are allowed")
            }
            LimitError::TooManyFields { fields } => format!(
                "the query selects {fields} fields with its fragments expanded; at most {MAX_FIELDS} are allowed"
            ),
            LimitError::TooComplex { cost } => format!(
                "the query could cost {cost} points; at most {MAX_COST} are allowed (lower `first` or select less)"
            ),
            LimitError::TooManyAliases { aliases } => {
                format!("the query uses {aliases} aliases; at most {MAX_ALIASES} are allowed")
            }
            LimitError::TooManyDirectives { directives } => format!(
                "the query uses {directives} directives; at most {MAX_DIRECTIVES} are allowed"
            ),
            LimitError::TooManyRootFields { fields } => format!(
                "an operation selects {fields} root fields; at most {MAX_ROOT_FIELDS} are allowed"
            ),
            LimitError::TooManyArguments { arguments } => format!(
                "the query passes {arguments} arguments; at most {MAX_ARGUMENTS} are allowed"
            ),
            LimitError::TooManyVariables { variables } => format!(
                "the document declares {variables} variables; at most {MAX_VARIABLES} are allowed"
            ),
            LimitError::FragmentCycle { name } => {
                format!("fragment `{name}` spreads itself")
            }
        }
    }
}

/// Refuses query text whose brackets nest deeper than [`MAX_TEXT_NESTING`],
/// skipping strings, block strings and comments, without parsing anything.
pub fn check_nesting(query: &str) -> Result<(), LimitError> {
    let too_deep = LimitError::NestingTooDeep {
        limit: MAX_TEXT_NESTING,
        what: "brackets in the query",
    };
    let bytes = query.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                // A block string ends at the first unescaped `"""`.
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > MAX_TEXT_NESTING {
                    return Err(too_deep);
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Refuses variables whose arrays and objects nest deeper than
/// [`MAX_VARIABLE_NESTING`]. Iterative, so it cannot overflow the stack.
pub fn check_variables(variables: &serde_json::Value) -> Result<(), LimitError> {
    let mut stack = vec![(variables, 0usize)];
    while let Some((value, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &serde_json::Value>> = match value {
            serde_json::Value::Array(items) => Box::new(items.iter()),
            serde_json::Value::Object(fields) => Box::new(fields.values()),
            _ => continue,
        };
        if depth >= MAX_VARIABLE_NESTING {
            return Err(LimitError::NestingTooDeep {
                limit: MAX_VARIABLE_NESTING,
                what: "arrays and objects in the variables",
            });
        }
        stack.extend(children.map(|child| (child, depth + 1)));
    }
    Ok(())
}

/// What a document costs, summed over its operations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Measure {
    /// Deepest field nesting.
    pub depth: usize,
    /// Deepest nesting of fields, spreads and inline fragments.
    pub nesting: usize,
    pub fields: u64,
    pub cost: u64,
    pub aliases: u64,
    pub directives: u64,
    /// Most fields at the root of one operation.
    pub root_fields: u64,
    pub arguments: u64,
    pub variables: u64,
}

impl Measure {
    fn check(&self) -> Result<(), LimitError> {
        if self.nesting > MAX_SELECTION_NESTING {
            return Err(LimitError::NestingTooDeep {
                limit: MAX_SELECTION_NESTING,
                what: "fields and fragments",
            });
        }
        if self.depth > MAX_DEPTH {
            return Err(LimitError::TooDeep { depth: self.depth });
        }
        if self.root_fields > MAX_ROOT_FIELDS {
            return Err(LimitError::TooManyRootFields {
                fields: self.root_fields,
            });
        }
        if self.aliases > MAX_ALIASES {
            return Err(LimitError::TooManyAliases {
                aliases: self.aliases,
            });
        }
        if self.variables > MAX_VARIABLES {
            return Err(LimitError::TooManyVariables {
                variables: self.variables,
            });
        }
        if self.arguments > MAX_ARGUMENTS {
            return Err(LimitError::TooManyArguments {
                arguments: self.arguments,
            });
        }
        if self.directives > MAX_DIRECTIVES {
            return Err(LimitError::TooManyDirectives {
                directives: self.directives,
            });
        }
        if self.fields > MAX_FIELDS {
            return Err(LimitError::TooManyFields {
                fields: self.fields,
            });
        }
        if self.cost > MAX_COST {
            return Err(LimitError::TooComplex { cost: self.cost });
        }
        Ok(())
    }
}

/// Figures of one selection set; linear, so a fragment's can be reused.
#[derive(Debug, Clone, Copy, Default)]
struct Figures {
    depth: usize,
    nesting: usize,
    fields: u64,
    cost: u64,
    aliases: u64,
    directives: u64,
    /// Arguments of fields and directives.
    arguments: u64,
    /// Fields at this set's own level (spreads and inline fragments merged).
    top_fields: u64,
}

impl Figures {
    fn add(&mut self, other: &Figures) {
        self.depth = self.depth.max(other.depth);
        self.nesting = self.nesting.max(other.nesting);
        self.fields = self.fields.saturating_add(other.fields);
        self.cost = self.cost.saturating_add(other.cost);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.directives = self.directives.saturating_add(other.directives);
        self.arguments = self.arguments.saturating_add(other.arguments);
        self.top_fields = self.top_fields.saturating_add(other.top_fields);
    }
}

/// What the cost model needs to know about a field of the schema.
#[derive(Debug, Clone)]
struct FieldInfo {
    /// The named type it returns, lists unwrapped.
    type_name: String,
    /// How many times its children run when it takes no `first`.
    multiplier: u64,
    takes_first: bool,
    /// Answers one item per id it is given (`nodes(ids:)`).
    takes_ids: bool,
}

/// The schema's types, as far as costs go; built once from the SDL.
#[derive(Debug, Clone, Default)]
pub struct CostModel {
    fields: HashMap<String, HashMap<String, FieldInfo>>,
}

/// Why no cost model could be built. Without one every field would cost 1
/// and `first: 100` would multiply nothing: the limits would hold in name
/// only, so the server refuses to start instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CostModelError {
    #[error("the schema's SDL does not parse, so queries cannot be priced: {0}")]
    Unparsable(String),
    #[error("the schema's SDL has no `Query` type, so queries cannot be priced")]
    NoQueryType,
}

impl CostModel {
    /// Reads field types from the schema's SDL. Types it does not know (e.g.
    /// introspection's) make their fields cost 1 each, children included.
    pub fn try_from_sdl(sdl: &str) -> Result<Self, CostModelError> {
        let mut fields: HashMap<String, HashMap<String, FieldInfo>> = HashMap::new();
        let document =
            parse_schema(sdl).map_err(|error| CostModelError::Unparsable(error.to_string()))?;
        for definition in document.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let ty = ty.node;
            let definitions = match ty.kind {
                TypeKind::Object(object) => object.fields,
                TypeKind::Interface(interface) => interface.fields,
                _ => continue,
            };
            // A connection's own lists hold the page its `first` already paid for.
            let is_connection = ty.name.node.ends_with("Connection");
            let type_fields = fields.entry(ty.name.node.to_string()).or_default();
            for field in definitions {
                let field = field.node;
                let mut base = &field.ty.node.base;
                let mut is_list = false;
                while let BaseType::List(inner) = base {
                    is_list = true;
                    base = &inner.base;
                }
                let BaseType::Named(type_name) = base else {
                    continue;
                };
                let takes_first = field.arguments.iter().any(|a| a.node.name.node == "first");
                let takes_ids =
                    is_list && field.arguments.iter().any(|a| a.node.name.node == "ids");
                let multiplier = if is_list && !is_connection {
                    LIST_ESTIMATE
                } else {
                    1
                };
                type_fields.insert(
                    field.name.node.to_string(),
                    FieldInfo {
                        type_name: type_name.to_string(),
                        multiplier,
                        takes_first,
                        takes_ids,
                    },
                );
            }
        }
        if !fields.contains_key("Query") {
            return Err(CostModelError::NoQueryType);
        }
        Ok(CostModel { fields })
    }

    /// Measures every operation of `document` (and any fragment no operation
    /// uses, since async-graphql validates those too) and checks the limits.
    pub fn measure(
        &self,
        document: &ExecutableDocument,
        variables: &Variables,
    ) -> Result<Measure, LimitError> {
        let mut walker = Walker {
            model: self,
            document,
            variables,
            default_variables: HashMap::new(),
            fragments: HashMap::new(),
        };
        let mut measure = Measure::default();
        let mut total = Figures::default();
        for (_, operation) in document.operations.iter() {
            let operation = &operation.node;
            let root = match operation.ty {
                OperationType::Query => "Query",
                OperationType::Mutation => "Mutation",
                OperationType::Subscription => "Subscription",
            };
            walker.default_variables = operation
                .variable_definitions
                .iter()
                .filter_map(|v| {
                    v.node
                        .default_value()
                        .map(|d| (v.node.name.node.clone(), d.clone()))
                })
                .collect();
            let mut figures = walker.selection_set(&operation.selection_set, Some(root), 0)?;
            figures.directives = figures
                .directives
                .saturating_add(operation.directives.len() as u64);
            measure.root_fields = measure.root_fields.max(figures.top_fields);
            measure.variables = measure
                .variables
                .saturating_add(operation.variable_definitions.len() as u64);
            total.add(&figures);
        }
        for (name, fragment) in &document.fragments {
            if !walker.fragments.contains_key(name) {
                let figures = walker.fragment(name, fragment, 0)?;
                total.add(&figures);
            }
        }
        measure.depth = total.depth;
        measure.nesting = total.nesting;
        measure.fields = total.fields;
        measure.cost = total.cost;
        measure.aliases = total.aliases;
        measure.directives = total.directives;
        measure.arguments = total.arguments;
        measure.check()?;
        Ok(measure)
    }
}

/// The memo of fragment figures: `None` while a fragment is being measured,
/// so that a cycle is noticed instead of followed.
struct Walker<'a> {
    model: &'a CostModel,
    document: &'a ExecutableDocument,
    variables: &'a Variables,
    default_variables: HashMap<Name, Value>,
    fragments: HashMap<Name, Option<Figures>>,
}

impl Walker<'_> {
    fn too_deep() -> LimitError {
        LimitError::NestingTooDeep {
            limit: MAX_SELECTION_NESTING,
            what: "fields and fragments",
        }
    }

    fn fragment(
        &mut self,
        name: &Name,
        fragment: &Positioned<async_graphql::parser::types::FragmentDefinition>,
        nesting: usize,
    ) -> Result<Figures, LimitError> {
        match self.fragments.get(name) {
            Some(Some(figures)) => return Ok(*figures),
            Some(None) => {
                return Err(LimitError::FragmentCycle {
                    name: name.to_string(),
                });
            }
            None => {}
        }
        self.fragments.insert(name.clone(), None);
        let on = fragment.node.type_condition.node.on.node.clone();
        let mut figures = self.selection_set(&fragment.node.selection_set, Some(&on), nesting)?;
        figures.directives = figures
            .directives
            .saturating_add(fragment.node.directives.len() as u64);
        self.fragments.insert(name.clone(), Some(figures));
        Ok(figures)
    }

    /// Figures of a selection set on type `ty` (`None`: unknown), relative to
    /// the set itself; `nesting` only bounds this walk's own recursion.
    fn selection_set(
        &mut self,
        set: &Positioned<SelectionSet>,
        ty: Option<&str>,
        nesting: usize,
    ) -> Result<Figures, LimitError> {
        if nesting > MAX_SELECTION_NESTING {
            return Err(Self::too_deep());
        }
        let mut figures = Figures::default();
        for selection in &set.node.items {
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let info = ty.and_then(|ty| {
                        self.model
                            .fields
                            .get(ty)
                            .and_then(|fields| fields.get(field.name.node.as_str()))
                    });
                    let multiplier = match info {
                        Some(info) if info.takes_first => self.first(field),
                        Some(info) if info.takes_ids => self.ids(field),
                        Some(info) => info.multiplier,
                        None => 1,
                    };
                    let child_type = info.map(|info| info.type_name.clone());
                    let children = self.selection_set(
                        &field.selection_set,
                        child_type.as_deref(),
                        nesting + 1,
                    )?;
                    let own = Figures {
                        depth: 1 + children.depth,
                        nesting: 1 + children.nesting,
                        fields: children.fields.saturating_add(1),
                        cost: multiplier
                            .saturating_mul(children.cost)
                            .saturating_add(1)
                            .saturating_add(self.filter_cost(field)),
                        aliases: children
                            .aliases
                            .saturating_add(u64::from(field.alias.is_some())),
                        directives: children
                            .directives
                            .saturating_add(field.directives.len() as u64),
                        arguments: children
                            .arguments
                            .saturating_add(field.arguments.len() as u64)
                            .saturating_add(directive_arguments(&field.directives)),
                        top_fields: 1,
                    };
                    figures.add(&own);
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    let mut own = match self.document.fragments.get(name) {
                        Some(fragment) => self.fragment(name, fragment, nesting + 1)?,
                        // Unknown: validation reports it.
                        None => Figures::default(),
                    };
                    own.nesting += 1;
                    own.directives = own
                        .directives
                        .saturating_add(spread.node.directives.len() as u64);
                    own.arguments = own
                        .arguments
                        .saturating_add(directive_arguments(&spread.node.directives));
                    figures.add(&own);
                }
                Selection::InlineFragment(inline) => {
                    let inline = &inline.node;
                    let on = inline
                        .type_condition
                        .as_ref()
                        .map(|c| c.node.on.node.to_string());
                    let on = on.as_deref().or(ty);
                    let mut own = self.selection_set(&inline.selection_set, on, nesting + 1)?;
                    own.nesting += 1;
                    own.directives = own
                        .directives
                        .saturating_add(inline.directives.len() as u64);
                    own.arguments = own
                        .arguments
                        .saturating_add(directive_arguments(&inline.directives));
                    figures.add(&own);
                }
            }
        }
        if figures.nesting > MAX_SELECTION_NESTING {
            return Err(Self::too_deep());
        }
        Ok(figures)
    }

    /// An argument's value with the request's variables in place, when known.
    fn argument(&self, field: &async_graphql::parser::types::Field, name: &str) -> Option<Value> {
        field.get_argument(name).and_then(|v| {
            v.node
                .clone()
                .into_const_with(|name| {
                    self.variables
                        .get(&name)
                        .or_else(|| self.default_variables.get(&name))
                        .cloned()
                        .ok_or(())
                })
                .ok()
        })
    }

    /// What a field's `where:` and `orderBy:` add: [`FILTER_TEST_COST`] for
    /// every field of their input objects, at any depth.
    fn filter_cost(&self, field: &async_graphql::parser::types::Field) -> u64 {
        fn fields(value: &Value) -> u64 {
            match value {
                Value::Object(object) => object
                    .values()
                    .map(|v| 1 + fields(v))
                    .fold(0, u64::saturating_add),
                Value::List(items) => items.iter().map(fields).fold(0, u64::saturating_add),
                _ => 0,
            }
        }
        ["where", "orderBy"]
            .iter()
            .filter_map(|name| self.argument(field, name))
            .map(|value| fields(&value))
            .fold(0, u64::saturating_add)
            .saturating_mul(FILTER_TEST_COST)
    }

    /// The page size a field's `first` (or `last`) asks for, as far as it is
    /// known before execution: out-of-range values are refused later, so
    /// cost them at the bounds.
    fn first(&self, field: &async_graphql::parser::types::Field) -> u64 {
        let argument = if field.get_argument("first").is_some() {
            "first"
        } else {
            "last"
        };
        let number = match self.argument(field, argument) {
            Some(Value::Number(n)) => n.as_i64(),
            _ => None,
        };
        let first = number.unwrap_or(i64::from(DEFAULT_PAGE_SIZE));
        u64::try_from(first.clamp(0, i64::from(MAX_PAGE_SIZE))).unwrap_or(0)
    }
}

impl Walker<'_> {
    /// How many ids a field's `ids` holds, as far as it is known before
    /// execution; unknown, the most it may hold.
    fn ids(&self, field: &async_graphql::parser::types::Field) -> u64 {
        let most = crate::graphql::roots::MAX_NODE_IDS as u64;
        match self.argument(field, "ids") {
            Some(Value::List(items)) => (items.len() as u64).min(most),
            _ => most,
        }
    }
}

fn directive_arguments(directives: &[Positioned<Directive>]) -> u64 {
    directives
        .iter()
        .map(|d| d.node.arguments.len() as u64)
        .fold(0, u64::saturating_add)
}

/// The type of the operation a request runs: the one named, or the only one.
/// `None` when that is ambiguous or missing, which execution reports.
pub fn operation_type(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<OperationType> {
    match (&document.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| op.node.ty)
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    fn model() -> CostModel {
        CostModel::try_from_sdl(&super::super::sdl()).expect("the schema's SDL gives a model")
    }

    fn measure(query: &str) -> Result<Measure, LimitError> {
        check_nesting(query)?;
        let document = parse_query(query).expect("valid syntax");
        model().measure(&document, &Variables::default())
    }

    #[test]
    fn an_sdl_that_does_not_parse_is_an_error_not_a_plain_field_count() {
        let refused = CostModel::try_from_sdl("type Query { people(first: Int): [Person!]! ")
            .expect_err("unparsable SDL");
        assert!(
            matches!(refused, CostModelError::Unparsable(_)),
            "{refused}"
        );
        let refused =
            CostModel::try_from_sdl("type Person { name: String }").expect_err("no root type");
        assert!(matches!(refused, CostModelError::NoQueryType), "{refused}");
        assert!(CostModel::try_from_sdl(&super::super::sdl()).is_ok());
    }

    #[test]
    fn brackets_in_strings_and_comments_do_not_count() {
        let deep = "[".repeat(MAX_TEXT_NESTING + 1);
        assert!(check_nesting(&format!("{{ a(x: {deep}) }}")).is_err());
        assert!(check_nesting(&format!("{{ a(x: \"{deep}\") }}")).is_ok());
        assert!(check_nesting(&format!("{{ a(x: \"\"\"{deep}\"\"\") }}")).is_ok());
        assert!(check_nesting(&format!("{{ a(x: \"\"\"\\\"\"\"{deep}\"\"\") }}")).is_ok());
        assert!(check_nesting(&format!("# {deep}\n{{ a }}")).is_ok());
        assert!(check_nesting(&format!("{{ a(x: \"\\\"{deep}\") }}")).is_ok());
    }

    #[test]
    fn a_hundred_thousand_brackets_are_refused_without_recursion() {
        let query = format!("{{ a(x: {}) }}", "[".repeat(100_000));
        assert_eq!(
            check_nesting(&query).map_err(|e| e.code()),
            Err("NESTING_TOO_DEEP")
        );
        let mut value = serde_json::json!(1);
        for _ in 0..10_000 {
            value = serde_json::Value::Array(vec![value]);
        }
        assert_eq!(
            check_variables(&value).map_err(|e| e.code()),
            Err("NESTING_TOO_DEEP")
        );
        std::mem::forget(value); // dropping it recursively is not under test
    }

    #[test]
    fn page_sizes_multiply_down_the_tree() {
        let m = measure("{ people(first: 50) { nodes { name } } }").expect("within limits");
        // people 1 + 50 x (nodes 1 + name 1)
        assert_eq!(m.cost, 101);
        let m = measure("{ people { nodes { name } } }").expect("within limits");
        assert_eq!(m.cost, 1 + 20 * 2);
        let m =
            measure(r#"{ person(slug: "x") { employments { title } } }"#).expect("within limits");
        assert_eq!(m.cost, 1 + 1 + LIST_ESTIMATE);
    }

    #[test]
    fn filters_and_backward_pages_count_in_the_cost() {
        let plain = measure("{ people(first: 5) { nodes { name } } }").expect("within limits");
        assert_eq!(plain.cost, 1 + 5 * 2);
        let last = measure("{ people(last: 5) { nodes { name } } }").expect("within limits");
        assert_eq!(last.cost, plain.cost);
        let filtered = measure(
            r#"{ people(first: 5, where: {or: [{currentlyAt: {slug: "a"}}, {formerlyAt: {slug: "b"}}]}, orderBy: [{field: NAME}]) { nodes { name } } }"#,
        )
        .expect("within limits");
        // `or`, two tests with a slug each, and an order key's `field`.
        assert_eq!(
            filtered.cost,
            plain.cost + (1 + 2 * 2 + 1) * FILTER_TEST_COST
        );
    }

    #[test]
    fn the_figures_in_docs_limits_md_hold() {
        let stints =
            "nodes { title sources { url } person { name employments { organization { name } } } }";
        let m = measure(&format!(
            "{{ organizations(first: 30) {{ nodes {{ employments(first: 30) {{ {stints} }} }} }} }}"
        ))
        .expect("within limits");
        assert_eq!(m.cost, 32_461);
        let introspection =
            "query { __schema { types { ...T } directives { name args { ...V } } } }
            fragment T on __Type { kind name description
              fields(includeDeprecated: true) { name args { ...V } type { ...R } isDeprecated }
              inputFields { ...V } interfaces { ...R } possibleTypes { ...R }
              enumValues(includeDeprecated: true) { name } }
            fragment V on __InputValue { name type { ...R } defaultValue }
            fragment R on __Type { kind name ofType { kind name ofType { kind name ofType {
              kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }";
        assert!(measure(introspection).expect("within limits").cost < 1_000);
    }

    #[test]
    fn doubling_fragments_are_measured_once_each() {
        let mut query = String::from(
            "{ organization(slug: \"meta\") { ...F0 } }\nfragment F25 on Organization { name }\n",
        );
        for i in 0..25 {
            query.push_str(&format!(
                "fragment F{i} on Organization {{ ...F{n} ...F{n} }}\n",
                n = i + 1
            ));
        }
        let started = std::time::Instant::now();
        let refused = measure(&query).expect_err("2^25 fields");
        assert_eq!(
            refused,
            LimitError::TooManyFields {
                fields: (1 << 25) + 1
            }
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        // A longer chain of spreads is too deep before it is too big.
        let chain: String = (0..40)
            .map(|i| format!("fragment F{i} on Query {{ ...F{n} }}\n", n = i + 1))
            .collect();
        let refused = measure(&format!(
            "{{ ...F0 }}\n{chain}fragment F40 on Query {{ __typename }}"
        ))
        .expect_err("41 levels");
        assert_eq!(refused.code(), "NESTING_TOO_DEEP");
    }

    #[test]
    fn fragment_cycles_are_refused_not_followed() {
        let refused = measure("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }")
            .expect_err("a cycle");
        assert_eq!(refused.code(), "GRAPHQL_VALIDATION_FAILED");
    }
}
