//! A client's input, checked whole before anything executes, so that a
//! client's mistake is a request error and never a resolver's `INTERNAL`
//! nor a silent guess.
//!
//! - **Input object field uniqueness** (§5.6.3): the parser keeps an object
//!   literal's fields in a map, the last of two equal names silently winning.
//!   [`repeated_input_field`] finds them in the document's tokens instead.

use std::collections::HashMap;

use async_graphql::{Pos, ServerError};

use super::error::code;
use super::lexer::{self, Lexer, TokenKind};

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
