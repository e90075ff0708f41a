//! A client's input, checked whole before anything executes, so that a
//! client's mistake is a request error (`BAD_USER_INPUT`,
//! `GRAPHQL_VALIDATION_FAILED`) and never a resolver's `INTERNAL`.
//!
//! async-graphql leaves three things to execution, where a failure lands on
//! a field (with a path, hence `INTERNAL`) after other fields may have run:
//!
//! - **Variables** are looked at only when a resolver reads its argument: a
//!   required variable left out, or a value of the wrong type, fails there.
//!   [`InputTypes::check`] is the spec's CoerceVariableValues (§6.1.2) over
//!   every variable the chosen operation defines, against the schema's own
//!   input types, with graphql-js's messages.
//! - **NUL characters** (U+0000) are valid in a GraphQL string, but
//!   PostgreSQL refuses them in text, so one used to reach SQL and fail
//!   there. Every string a request brings is checked: variables (while
//!   coercing them) and the literals of the operation and its fragments.
//! - **Input object field uniqueness** (§5.6.3): the parser keeps an object
//!   literal's fields in a map, the last of two equal names silently winning.
//!   [`repeated_input_field`] finds them in the document's tokens instead.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;

use async_graphql::parser::types::{
    BaseType, Directive, DocumentOperations, ExecutableDocument, OperationDefinition, Selection,
    SelectionSet, Type, VariableDefinition,
};
use async_graphql::registry::{MetaType, Registry, ScalarValidatorFn};
use async_graphql::{Name, OutputType, Pos, Positioned, ServerError, Value, Variables};

use super::error::code;
use super::lexer::{self, Lexer, TokenKind};

/// Most errors reported for one request, as graphql-js does: enough to fix
/// a request, bounded whatever the request holds.
const MAX_ERRORS: usize = 50;

/// The longest rendering of an invalid value quoted in a message.
const MAX_QUOTED: usize = 80;

/// A request error about the client's input, raised before execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub code: &'static str,
    pub message: String,
    /// The variable or argument at fault, with the path inside it:
    /// `$s`, `$input.aliases.1`, `input.name`.
    pub field: Option<String>,
    pub locations: Vec<Pos>,
}

impl From<InputError> for ServerError {
    fn from(error: InputError) -> Self {
        let mut server_error = ServerError::new(error.message, None);
        server_error.locations = error.locations;
        let extensions = server_error.extensions.get_or_insert_with(Default::default);
        extensions.set("code", error.code);
        if let Some(field) = error.field {
            extensions.set("field", field);
        }
        server_error
    }
}

/// What a named input type accepts.
enum InputKind {
    Int,
    Float,
    String,
    Boolean,
    Id,
    /// A custom scalar, checked by its own `ScalarType::is_valid`.
    Scalar(Option<ScalarValidatorFn>),
    Enum(HashSet<String>),
    Object {
        fields: Vec<InputField>,
        one_of: bool,
    },
}

struct InputField {
    name: String,
    ty: Type,
    has_default: bool,
}

/// The schema's input types: scalars, enums and input objects by name.
pub struct InputTypes {
    types: HashMap<String, InputKind>,
}

impl InputTypes {
    /// The input types of the API's schema, read from the same registry
    /// async-graphql builds the schema from (its `registry` module is
    /// public but undocumented; the crate is pinned and vendored).
    pub fn of_schema() -> Self {
        let mut registry = Registry::default();
        <super::QueryRoot as OutputType>::create_type_info(&mut registry);
        <super::mutation::Mutation as OutputType>::create_type_info(&mut registry);
        <super::live::Subscription as async_graphql::SubscriptionType>::create_type_info(
            &mut registry,
        );
        Self::from_registry(&registry)
    }

    fn from_registry(registry: &Registry) -> Self {
        let mut types = HashMap::new();
        for (name, ty) in &registry.types {
            let kind = match ty {
                MetaType::Scalar { is_valid, .. } => match name.as_str() {
                    "Int" => InputKind::Int,
                    "Float" => InputKind::Float,
                    "String" => InputKind::String,
                    "Boolean" => InputKind::Boolean,
                    "ID" => InputKind::Id,
                    _ => InputKind::Scalar(is_valid.clone()),
                },
                MetaType::Enum { enum_values, .. } => {
                    InputKind::Enum(enum_values.keys().cloned().collect())
                }
                MetaType::InputObject {
                    input_fields,
                    oneof,
                    ..
                } => InputKind::Object {
                    fields: input_fields
                        .values()
                        .filter_map(|field| {
                            Some(InputField {
                                name: field.name.clone(),
                                ty: Type::new(&field.ty)?,
                                has_default: field.default_value.is_some(),
                            })
                        })
                        .collect(),
                    one_of: *oneof,
                },
                _ => continue,
            };
            types.insert(name.clone(), kind);
        }
        // The built-in scalars, even those no field of the schema takes: a
        // variable may still be declared with one (`@include(if: $b)`).
        for (name, kind) in [
            ("Int", InputKind::Int),
            ("Float", InputKind::Float),
            ("String", InputKind::String),
            ("Boolean", InputKind::Boolean),
            ("ID", InputKind::Id),
        ] {
            types.entry(name.to_owned()).or_insert(kind);
        }
        InputTypes { types }
    }

    /// Coerces the variables of the operation `operation_name` picks and
    /// checks the strings of its literals. A document whose operation cannot
    /// be picked, or whose variables have types the schema lacks, passes:
    /// validation and the choice of operation report those.
    pub fn check(
        &self,
        source: &str,
        document: &ExecutableDocument,
        operation_name: Option<&str>,
        variables: &Variables,
    ) -> Result<(), Vec<InputError>> {
        let Some(operation) = chosen_operation(document, operation_name) else {
            return Ok(());
        };
        let mut errors = Vec::new();
        for definition in &operation.variable_definitions {
            self.coerce_variable(definition, variables, &mut errors);
        }
        // Only an escape (`\u0000`, `\u{0}`) or the character itself puts a
        // NUL in a literal; most documents have neither, and skip the walk.
        if source.contains('\0') || source.contains("\\u") {
            Literals::check(document, operation, &mut errors);
        }
        errors.truncate(MAX_ERRORS);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// CoerceVariableValues for one variable definition.
    fn coerce_variable(
        &self,
        definition: &Positioned<VariableDefinition>,
        variables: &Variables,
        errors: &mut Vec<InputError>,
    ) {
        let name = definition.node.name.node.as_str();
        let ty = &definition.node.var_type.node;
        if !self.types.contains_key(named_type(ty)) {
            return;
        }
        let error = |message: String| InputError {
            code: code::BAD_USER_INPUT,
            message,
            field: Some(format!("${name}")),
            locations: vec![definition.pos],
        };
        match variables.get(name) {
            None if definition.node.default_value.is_some() => {}
            None if !ty.nullable => errors.push(error(format!(
                "Variable \"${name}\" of required type \"{ty}\" was not provided."
            ))),
            Some(Value::Null) if !ty.nullable => errors.push(error(format!(
                "Variable \"${name}\" of non-null type \"{ty}\" must not be null."
            ))),
            None | Some(Value::Null) => {}
            Some(value) => {
                let mut coercion = Coercion {
                    types: self,
                    variable: name,
                    location: definition.pos,
                    path: Vec::new(),
                    errors,
                };
                coercion.value(value, ty);
            }
        }
    }
}

/// The operation a request runs: the one named, or the only one.
fn chosen_operation<'a>(
    document: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'a OperationDefinition> {
    let operation = match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), None) => operation,
        (DocumentOperations::Single(_), Some(_)) => return None,
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name)?,
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next()?
        }
        (DocumentOperations::Multiple(_), None) => return None,
    };
    Some(&operation.node)
}

fn named_type(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(item) => named_type(item),
    }
}

/// A step into a variable's value.
#[derive(Clone, Copy)]
enum Step<'a> {
    Field(&'a str),
    Item(usize),
}

/// The spec's input coercion rules (§3.5, §3.9, §3.10) over one variable's
/// value, recording every error rather than stopping at the first.
struct Coercion<'a, 'e> {
    types: &'a InputTypes,
    variable: &'a str,
    location: Pos,
    path: Vec<Step<'a>>,
    errors: &'e mut Vec<InputError>,
}

impl<'a> Coercion<'a, '_> {
    fn value(&mut self, value: &'a Value, ty: &'a Type) {
        if self.errors.len() >= MAX_ERRORS {
            return;
        }
        if let Value::Null = value {
            if !ty.nullable {
                self.error(
                    value,
                    format!("Expected non-nullable type \"{ty}\" not to be null."),
                );
            }
            return;
        }
        match &ty.base {
            BaseType::List(item) => match value {
                Value::List(items) => {
                    for (index, element) in items.iter().enumerate() {
                        self.path.push(Step::Item(index));
                        self.value(element, item);
                        self.path.pop();
                    }
                }
                // A single value where a list is expected is a list of one.
                _ => self.value(value, item),
            },
            BaseType::Named(name) => self.named(value, name),
        }
    }

    fn named(&mut self, value: &'a Value, name: &'a Name) {
        let Some(kind) = self.types.types.get(name.as_str()) else {
            return;
        };
        let quoted = || quote(value);
        let problem = match (kind, value) {
            (InputKind::Int, Value::Number(n)) => match n.as_i64() {
                Some(n) if i32::try_from(n).is_ok() => None,
                Some(_) => Some(format!(
                    "Int cannot represent non 32-bit signed integer value: {}",
                    quoted()
                )),
                None => Some(format!(
                    "Int cannot represent non-integer value: {}",
                    quoted()
                )),
            },
            (InputKind::Int, _) => Some(format!(
                "Int cannot represent non-integer value: {}",
                quoted()
            )),
            (InputKind::Float, Value::Number(_)) => None,
            (InputKind::Float, _) => Some(format!(
                "Float cannot represent non numeric value: {}",
                quoted()
            )),
            (InputKind::String, Value::String(_)) => None,
            (InputKind::String, _) => Some(format!(
                "String cannot represent a non string value: {}",
                quoted()
            )),
            (InputKind::Boolean, Value::Boolean(_)) => None,
            (InputKind::Boolean, _) => Some(format!(
                "Boolean cannot represent a non boolean value: {}",
                quoted()
            )),
            (InputKind::Id, Value::String(_)) => None,
            (InputKind::Id, Value::Number(n)) if n.is_i64() => None,
            (InputKind::Id, _) => Some(format!("ID cannot represent value: {}", quoted())),
            (InputKind::Scalar(is_valid), _) => is_valid
                .as_ref()
                .is_some_and(|is_valid| !is_valid(value))
                .then(|| format!("Expected type \"{name}\".")),
            (InputKind::Enum(values), Value::String(s)) if values.contains(s.as_str()) => None,
            (InputKind::Enum(values), Value::Enum(s)) if values.contains(s.as_str()) => None,
            (InputKind::Enum(_), Value::String(s)) => Some(format!(
                "Value {} does not exist in \"{name}\" enum.",
                quote(&Value::String(s.clone()))
            )),
            (InputKind::Enum(_), _) => Some(format!(
                "Enum \"{name}\" cannot represent non-string value: {}",
                quoted()
            )),
            (InputKind::Object { fields, one_of }, Value::Object(_)) => {
                self.object(value, name, fields, *one_of);
                return;
            }
            (InputKind::Object { .. }, _) => {
                Some(format!("Expected type \"{name}\" to be an object."))
            }
        };
        match problem {
            Some(message) => self.error(value, message),
            // The leaf is valid; a NUL in any of its strings is not.
            None if contains_nul(value) => self.error(
                value,
                "Strings cannot contain the NUL character (U+0000).".to_owned(),
            ),
            None => {}
        }
    }

    fn object(&mut self, value: &'a Value, name: &'a Name, fields: &'a [InputField], one_of: bool) {
        let Value::Object(object) = value else {
            return;
        };
        for key in object.keys() {
            if !fields.iter().any(|field| field.name == key.as_str()) {
                let message = format!("Field \"{key}\" is not defined by type \"{name}\".");
                self.error(value, message);
            }
        }
        for field in fields {
            match object.get(field.name.as_str()) {
                None if !field.ty.nullable && !field.has_default => self.error(
                    value,
                    format!(
                        "Field \"{}\" of required type \"{}\" was not provided.",
                        field.name, field.ty
                    ),
                ),
                None => {}
                Some(field_value) => {
                    self.path.push(Step::Field(&field.name));
                    self.value(field_value, &field.ty);
                    self.path.pop();
                }
            }
        }
        if one_of {
            if object.len() != 1 {
                self.error(
                    value,
                    format!("Exactly one key must be specified for OneOf type \"{name}\"."),
                );
            } else if let Some((key, Value::Null)) = object.iter().next() {
                self.error(value, format!("Field \"{key}\" must be non-null."));
            }
        }
    }

    /// Records an error at the current path, as graphql-js words it.
    fn error(&mut self, invalid: &Value, reason: String) {
        if self.errors.len() >= MAX_ERRORS {
            return;
        }
        let variable = self.variable;
        // `field` in this API's convention (`$input.aliases.1`), the
        // message's path in graphql-js's (`input.aliases[1]`).
        let mut field = format!("${variable}");
        let mut at = variable.to_owned();
        for step in &self.path {
            match step {
                Step::Field(name) => {
                    field.push('.');
                    field.push_str(name);
                    at.push('.');
                    at.push_str(name);
                }
                Step::Item(index) => {
                    field.push_str(&format!(".{index}"));
                    at.push_str(&format!("[{index}]"));
                }
            }
        }
        let at = if self.path.is_empty() {
            String::new()
        } else {
            format!(" at \"{at}\"")
        };
        let message = format!(
            "Variable \"${variable}\" got invalid value {}{at}; {reason}",
            quote(invalid)
        );
        self.errors.push(InputError {
            code: code::BAD_USER_INPUT,
            message,
            field: Some(field),
            locations: vec![self.location],
        });
    }
}

/// `value` as JSON, cut short when long: a message names the value, it need
/// not repeat a large one.
fn quote(value: &Value) -> String {
    let mut text = value
        .clone()
        .into_json()
        .map(|json| json.to_string())
        .unwrap_or_else(|_| value.to_string());
    if text.len() > MAX_QUOTED {
        let mut end = MAX_QUOTED;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

fn contains_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::List(items) => items.iter().any(contains_nul),
        Value::Object(fields) => fields
            .iter()
            .any(|(key, value)| key.contains('\0') || contains_nul(value)),
        _ => false,
    }
}

fn no_variables(_: Name) -> Result<Value, Infallible> {
    Ok(Value::Null)
}

/// The walk over an operation's literals, each fragment once, refusing
/// strings with a NUL.
struct Literals<'a, 'e> {
    document: &'a ExecutableDocument,
    visited: HashSet<&'a str>,
    errors: &'e mut Vec<InputError>,
}

impl<'a> Literals<'a, '_> {
    fn check(
        document: &'a ExecutableDocument,
        operation: &'a OperationDefinition,
        errors: &mut Vec<InputError>,
    ) {
        let mut walk = Literals {
            document,
            visited: HashSet::new(),
            errors,
        };
        for definition in &operation.variable_definitions {
            if let Some(default) = &definition.node.default_value {
                let field = format!("${}", definition.node.name.node);
                walk.const_value(&default.node, &field, default.pos);
            }
        }
        walk.directives(&operation.directives);
        walk.selection_set(&operation.selection_set);
    }

    fn selection_set(&mut self, set: &'a Positioned<SelectionSet>) {
        for selection in &set.node.items {
            match &selection.node {
                Selection::Field(field) => {
                    for (name, value) in &field.node.arguments {
                        let literal = value.node.clone().into_const_with(no_variables);
                        self.literal(name.node.as_str(), value.pos, literal);
                    }
                    self.directives(&field.node.directives);
                    self.selection_set(&field.node.selection_set);
                }
                Selection::FragmentSpread(spread) => {
                    self.directives(&spread.node.directives);
                    let name = spread.node.fragment_name.node.as_str();
                    if self.visited.insert(name)
                        && let Some(fragment) = self.document.fragments.get(name)
                    {
                        self.directives(&fragment.node.directives);
                        self.selection_set(&fragment.node.selection_set);
                    }
                }
                Selection::InlineFragment(inline) => {
                    self.directives(&inline.node.directives);
                    self.selection_set(&inline.node.selection_set);
                }
            }
        }
    }

    fn directives(&mut self, directives: &'a [Positioned<Directive>]) {
        for directive in directives {
            for (name, value) in &directive.node.arguments {
                let literal = value.node.clone().into_const_with(no_variables);
                self.literal(name.node.as_str(), value.pos, literal);
            }
        }
    }

    /// A literal, with its variables as null: they are coerced on their own.
    fn literal(&mut self, name: &str, pos: Pos, literal: Result<Value, Infallible>) {
        let Ok(literal) = literal;
        self.const_value(&literal, name, pos);
    }

    fn const_value(&mut self, value: &Value, path: &str, pos: Pos) {
        match value {
            Value::String(s) if s.contains('\0') => self.nul(path, pos),
            Value::List(items) => {
                for (index, item) in items.iter().enumerate() {
                    self.const_value(item, &format!("{path}.{index}"), pos);
                }
            }
            Value::Object(fields) => {
                for (name, field) in fields {
                    self.const_value(field, &format!("{path}.{name}"), pos);
                }
            }
            _ => {}
        }
    }

    fn nul(&mut self, path: &str, pos: Pos) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(InputError {
                code: code::BAD_USER_INPUT,
                message: format!("{path}: strings cannot contain the NUL character (U+0000)"),
                field: Some(path.to_owned()),
                locations: vec![pos],
            });
        }
    }
}

/// Finds an input object literal that names a field twice (§5.6.3, Input
/// Object Field Uniqueness), in a document that parsed.
///
/// Inside parentheses (arguments, variable definitions) every `{` opens an
/// object value, and so does one inside a list or object value; anywhere
/// else it opens a selection set. A name followed by `:` directly inside an
/// object value is one of its fields.
pub fn repeated_input_field(document: &str) -> Result<(), InputError> {
    #[derive(Clone, Copy, PartialEq)]
    enum Frame {
        SelectionSet,
        Parentheses,
        List,
        Object(u32),
    }
    let mut frames: Vec<Frame> = Vec::new();
    let mut objects = 0u32;
    // Keyed by object: one map for the whole document, and none at all for
    // a document without object literals.
    let mut fields: HashMap<(u32, &str), usize> = HashMap::new();
    let mut tokens = Lexer::new(document).peekable();
    while let Some(token) = tokens.next() {
        match token.kind {
            TokenKind::Punctuator(b'(') => frames.push(Frame::Parentheses),
            TokenKind::Punctuator(b'[') => frames.push(Frame::List),
            TokenKind::Punctuator(b'{') => match frames.last() {
                Some(Frame::Parentheses | Frame::List | Frame::Object(_)) => {
                    objects += 1;
                    frames.push(Frame::Object(objects));
                }
                _ => frames.push(Frame::SelectionSet),
            },
            TokenKind::Punctuator(b')' | b']' | b'}') => {
                frames.pop();
            }
            TokenKind::Name => {
                let Some(&Frame::Object(object)) = frames.last() else {
                    continue;
                };
                if !tokens.peek().is_some_and(|next| next.is(b':')) {
                    continue;
                }
                if let Some(&first) = fields.get(&(object, token.text)) {
                    let location = |offset| {
                        let (line, column) = lexer::line_column(document, offset);
                        Pos { line, column }
                    };
                    return Err(InputError {
                        code: code::GRAPHQL_VALIDATION_FAILED,
                        message: format!(
                            "There can be only one input field named \"{}\".",
                            token.text
                        ),
                        field: None,
                        locations: vec![location(first), location(token.offset)],
                    });
                }
                fields.insert((object, token.text), token.offset);
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    fn check(query: &str, variables: serde_json::Value) -> Vec<(String, Option<String>)> {
        let document = parse_query(query).expect("valid syntax");
        InputTypes::of_schema()
            .check(query, &document, None, &Variables::from_json(variables))
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.message, e.field))
            .collect()
    }

    fn fields(query: &str, variables: serde_json::Value) -> Vec<String> {
        check(query, variables)
            .into_iter()
            .filter_map(|(_, field)| field)
            .collect()
    }

    #[test]
    fn a_required_variable_left_out_or_null_is_named() {
        let query = "query($s: String!) { person(slug: $s) { name } }";
        assert_eq!(
            check(query, serde_json::json!({})),
            [(
                "Variable \"$s\" of required type \"String!\" was not provided.".to_owned(),
                Some("$s".to_owned())
            )]
        );
        assert_eq!(
            check(query, serde_json::json!({ "s": null })),
            [(
                "Variable \"$s\" of non-null type \"String!\" must not be null.".to_owned(),
                Some("$s".to_owned())
            )]
        );
        assert!(check(query, serde_json::json!({ "s": "meta" })).is_empty());
        let defaulted = "query($s: String! = \"meta\") { person(slug: $s) { name } }";
        assert!(check(defaulted, serde_json::json!({})).is_empty());
        let optional = "query($s: String) { people(search: $s) { totalCount } }";
        assert!(check(optional, serde_json::json!({})).is_empty());
        assert!(check(optional, serde_json::json!({ "s": null })).is_empty());
    }

    #[test]
    fn scalars_are_coerced_as_the_spec_says() {
        let first = "query($n: Int) { people(first: $n) { totalCount } }";
        for ok in [serde_json::json!(5), serde_json::json!(-2147483648)] {
            assert!(
                check(first, serde_json::json!({ "n": ok })).is_empty(),
                "{ok}"
            );
        }
        for bad in [
            serde_json::json!(2147483648_i64),
            serde_json::json!(1.5),
            serde_json::json!("5"),
            serde_json::json!(true),
            serde_json::json!([1, 2]),
        ] {
            assert_eq!(
                fields(first, serde_json::json!({ "n": bad })),
                ["$n"],
                "{bad}"
            );
        }
        let date = "query($d: Date!) { organization(slug: \"meta\") { employments(at: $d) { totalCount } } }";
        assert_eq!(
            check(date, serde_json::json!({ "d": 5 })),
            [(
                "Variable \"$d\" got invalid value 5; Expected type \"Date\".".to_owned(),
                Some("$d".to_owned())
            )]
        );
        assert_eq!(
            fields(date, serde_json::json!({ "d": "2023-02-30" })),
            ["$d"]
        );
        assert!(check(date, serde_json::json!({ "d": "2023-02-28" })).is_empty());
        let id = "query($id: ID!) { node(id: $id) { id } }";
        assert!(check(id, serde_json::json!({ "id": 7 })).is_empty());
        assert_eq!(fields(id, serde_json::json!({ "id": 7.5 })), ["$id"]);
        let kind = "query($k: OrganizationKind) { organizations(kind: $k) { totalCount } }";
        assert!(check(kind, serde_json::json!({ "k": "STARTUP" })).is_empty());
        assert_eq!(
            check(kind, serde_json::json!({ "k": "NOPE" })),
            [(
                "Variable \"$k\" got invalid value \"NOPE\"; Value \"NOPE\" does not exist in \"OrganizationKind\" enum.".to_owned(),
                Some("$k".to_owned())
            )]
        );
    }

    #[test]
    fn input_objects_are_checked_field_by_field() {
        let create = "mutation($input: CreatePersonInput!) { createPerson(input: $input) { person { slug } } }";
        assert!(
            check(
                create,
                serde_json::json!({ "input": { "slug": "a", "name": "A", "aliases": "B" } })
            )
            .is_empty(),
            "a single alias is a list of one"
        );
        assert_eq!(
            check(
                create,
                serde_json::json!({ "input": { "slug": "a", "nmae": "A" } })
            ),
            [
                (
                    "Variable \"$input\" got invalid value {\"slug\":\"a\",\"nmae\":\"A\"}; Field \"nmae\" is not defined by type \"CreatePersonInput\".".to_owned(),
                    Some("$input".to_owned())
                ),
                (
                    "Variable \"$input\" got invalid value {\"slug\":\"a\",\"nmae\":\"A\"}; Field \"name\" of required type \"String!\" was not provided.".to_owned(),
                    Some("$input".to_owned())
                ),
            ]
        );
        assert_eq!(
            check(
                create,
                serde_json::json!({ "input": { "slug": "a", "name": "A", "aliases": ["B", 1] } })
            ),
            [(
                "Variable \"$input\" got invalid value 1 at \"input.aliases[1]\"; String cannot represent a non string value: 1".to_owned(),
                Some("$input.aliases.1".to_owned())
            )]
        );
        assert_eq!(
            fields(create, serde_json::json!({ "input": "a" })),
            ["$input"]
        );
    }

    #[test]
    fn a_nul_anywhere_in_a_string_is_refused_with_where_it_was() {
        let create = "mutation($input: CreatePersonInput!) { createPerson(input: $input) { person { slug } } }";
        assert_eq!(
            fields(
                create,
                serde_json::json!({ "input": { "slug": "a", "name": "A\u{0}", "aliases": ["ok", "\u{0}"] } })
            ),
            ["$input.name", "$input.aliases.1"]
        );
        assert_eq!(
            fields(
                r#"mutation { createPerson(input: {slug: "a", name: "A\u0000", aliases: ["\u0000"]}) { person { slug } } }"#,
                serde_json::json!({})
            ),
            ["input.name", "input.aliases.0"]
        );
        assert_eq!(
            fields(
                r#"query($s: String = "a\u0000") { people(search: $s) { totalCount } ...F }
                   fragment F on Query { search(query: "\u0000") { __typename } }"#,
                serde_json::json!({})
            ),
            ["$s", "query"]
        );
        assert_eq!(
            fields(
                "query($id: ID!) { node(id: $id) { id } }",
                serde_json::json!({ "id": "x\u{0}" })
            ),
            ["$id"]
        );
    }

    #[test]
    fn one_of_inputs_take_exactly_one_non_null_field() {
        let registry = {
            #[derive(async_graphql::OneofObject)]
            enum Ref {
                Id(async_graphql::ID),
                Slug(String),
            }
            struct Root;
            #[async_graphql::Object]
            impl Root {
                async fn find(&self, by: Ref) -> bool {
                    matches!(by, Ref::Id(_) | Ref::Slug(_))
                }
            }
            let mut registry = Registry::default();
            <Root as OutputType>::create_type_info(&mut registry);
            registry
        };
        let types = InputTypes::from_registry(&registry);
        let query = "query($r: Ref!) { find(by: $r) }";
        let document = parse_query(query).expect("valid syntax");
        let errors = |variables| {
            types
                .check(query, &document, None, &Variables::from_json(variables))
                .err()
                .unwrap_or_default()
                .into_iter()
                .map(|e| e.message)
                .collect::<Vec<_>>()
        };
        assert!(errors(serde_json::json!({ "r": { "slug": "meta" } })).is_empty());
        assert_eq!(
            errors(serde_json::json!({ "r": { "slug": "meta", "id": "1" } })),
            [
                "Variable \"$r\" got invalid value {\"slug\":\"meta\",\"id\":\"1\"}; Exactly one key must be specified for OneOf type \"Ref\"."
            ]
        );
        assert_eq!(
            errors(serde_json::json!({ "r": { "slug": null } })),
            ["Variable \"$r\" got invalid value {\"slug\":null}; Field \"slug\" must be non-null."]
        );
    }

    #[test]
    fn variables_of_unknown_types_and_unpicked_operations_are_left_to_validation() {
        assert!(check("query($x: Nope!) { __typename }", serde_json::json!({})).is_empty());
        assert!(check("query($x: Person!) { __typename }", serde_json::json!({})).is_empty());
        let query = "query A($s: String!) { __typename } query B { __typename }";
        let two = parse_query(query).expect("valid syntax");
        let types = InputTypes::of_schema();
        let none = Variables::default();
        assert!(types.check(query, &two, None, &none).is_ok());
        assert!(types.check(query, &two, Some("B"), &none).is_ok());
        assert!(types.check(query, &two, Some("A"), &none).is_err());
    }

    #[test]
    fn an_input_object_literal_naming_a_field_twice_is_found() {
        let refused = repeated_input_field(
            "mutation {\n  createPerson(input: {slug: \"a\", name: \"A\", slug: \"b\"}) { person { slug } }\n}",
        )
        .expect_err("slug twice");
        assert_eq!(refused.code, "GRAPHQL_VALIDATION_FAILED");
        assert_eq!(
            refused.message,
            "There can be only one input field named \"slug\"."
        );
        assert_eq!(
            refused.locations,
            [
                Pos {
                    line: 2,
                    column: 24
                },
                Pos {
                    line: 2,
                    column: 46
                }
            ]
        );
        for duplicated in [
            "query($v: In = {a: 1, a: 2}) { f }",
            "{ f(x: [{a: 1}, {b: {c: 1, c: 2}}]) }",
            "{ f @d(x: {a: 1 a: 2}) }",
        ] {
            assert!(repeated_input_field(duplicated).is_err(), "{duplicated}");
        }
        for unique in [
            "{ a: f(x: {a: 1, b: {a: 1}}) a: f(x: {a: 1}) }",
            "{ f(x: [{a: 1}, {a: 1}]) { a: b a: b } }",
            "{ f(x: {a: ENUM b: $a, c: \"a: 1, a: 2\", d: \"\"\"a: 1 a: 2\"\"\"}) } # {a: 1, a: 2}",
            "query($a: In, $b: In) { f(a: $a, b: $b) }",
        ] {
            assert!(repeated_input_field(unique).is_ok(), "{unique}");
        }
    }
}
