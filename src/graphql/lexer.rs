//! GraphQL's lexical tokens (spec §2.1) over a document's text, for the
//! checks that need the text itself rather than async-graphql's parse: its
//! parser keeps an input object literal's fields in a map, so a field named
//! twice is gone from the parsed document and only its tokens still show it.
//!
//! Tokens borrow the text; nothing is decoded or allocated. Whatever no token
//! starts with becomes an [`TokenKind::Unknown`] token rather than an error:
//! the parser decides what is a syntax error, the lexer only has to agree
//! with it on where strings, block strings and comments begin and end.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// One of `! $ & ( ) : = @ [ ] { } |`.
    Punctuator(u8),
    /// `...`
    Spread,
    Name,
    /// An IntValue or a FloatValue.
    Number,
    /// A quoted string, escapes left as written.
    String,
    BlockString,
    /// A character no token starts with.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    pub kind: TokenKind,
    pub text: &'a str,
    /// Byte offset of the token in the document.
    pub offset: usize,
}

impl Token<'_> {
    pub fn is(&self, punctuator: u8) -> bool {
        self.kind == TokenKind::Punctuator(punctuator)
    }
}

/// The tokens of a document, ignored tokens (white space, line terminators,
/// commas, comments, a byte order mark) skipped.
pub struct Lexer<'a> {
    source: &'a str,
    position: usize,
}

impl<'a> Lexer<'a> {
    pub fn new(source: &'a str) -> Self {
        Lexer {
            source,
            position: 0,
        }
    }

    fn bytes(&self) -> &'a [u8] {
        self.source.as_bytes()
    }

    fn skip_ignored(&mut self) {
        let bytes = self.bytes();
        while let Some(&byte) = bytes.get(self.position) {
            match byte {
                b' ' | b'\t' | b'\n' | b'\r' | b',' => self.position += 1,
                b'#' => {
                    while bytes
                        .get(self.position)
                        .is_some_and(|&b| b != b'\n' && b != b'\r')
                    {
                        self.position += 1;
                    }
                }
                _ if bytes[self.position..].starts_with("\u{feff}".as_bytes()) => {
                    self.position += 3;
                }
                _ => return,
            }
        }
    }

    /// The end of a quoted string starting at `start`: past its closing
    /// quote, or at the line terminator or end of text that leaves it
    /// unterminated. Only ASCII bytes are looked at, and those never occur
    /// inside a multi-byte UTF-8 character, so every end is a char boundary.
    fn string_end(&self, start: usize) -> usize {
        let bytes = self.bytes();
        let mut i = start + 1;
        while let Some(&byte) = bytes.get(i) {
            match byte {
                b'"' => return i + 1,
                b'\n' | b'\r' => return i,
                // The escaped character is never the end, whatever it is.
                b'\\' if bytes.get(i + 1).is_some_and(|&b| b == b'"' || b == b'\\') => i += 2,
                _ => i += 1,
            }
        }
        i
    }

    /// The end of a block string starting at `start`: past its closing `"""`
    /// (`\"""` does not close it), or the end of the text.
    fn block_string_end(&self, start: usize) -> usize {
        let bytes = self.bytes();
        let mut i = start + 3;
        while i < bytes.len() {
            if bytes[i..].starts_with(b"\\\"\"\"") {
                i += 4;
            } else if bytes[i..].starts_with(b"\"\"\"") {
                return i + 3;
            } else {
                i += 1;
            }
        }
        bytes.len()
    }

    fn number_end(&self, start: usize) -> usize {
        let bytes = self.bytes();
        let digits = |mut i: usize| {
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            i
        };
        let mut i = start;
        if bytes.get(i) == Some(&b'-') {
            i += 1;
        }
        i = digits(i);
        if bytes.get(i) == Some(&b'.') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i = digits(i + 1);
        }
        if matches!(bytes.get(i), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(bytes.get(i + 1), Some(b'+' | b'-')));
            if bytes.get(i + 1 + sign).is_some_and(u8::is_ascii_digit) {
                i = digits(i + 1 + sign);
            }
        }
        i
    }
}

impl<'a> Iterator for Lexer<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        self.skip_ignored();
        let start = self.position;
        let bytes = self.bytes();
        let &first = bytes.get(start)?;
        let (kind, end) = match first {
            b'!' | b'$' | b'&' | b'(' | b')' | b':' | b'=' | b'@' | b'[' | b']' | b'{' | b'}'
            | b'|' => (TokenKind::Punctuator(first), start + 1),
            b'.' if bytes[start..].starts_with(b"...") => (TokenKind::Spread, start + 3),
            b'"' if bytes[start..].starts_with(b"\"\"\"") => {
                (TokenKind::BlockString, self.block_string_end(start))
            }
            b'"' => (TokenKind::String, self.string_end(start)),
            b'-' | b'0'..=b'9' => (TokenKind::Number, self.number_end(start).max(start + 1)),
            b'_' | b'a'..=b'z' | b'A'..=b'Z' => {
                let mut end = start + 1;
                while bytes
                    .get(end)
                    .is_some_and(|&b| b == b'_' || b.is_ascii_alphanumeric())
                {
                    end += 1;
                }
                (TokenKind::Name, end)
            }
            _ => {
                let width = self.source[start..]
                    .chars()
                    .next()
                    .map_or(1, char::len_utf8);
                (TokenKind::Unknown, start + width)
            }
        };
        self.position = end;
        Some(Token {
            kind,
            text: &self.source[start..end],
            offset: start,
        })
    }
}

/// The 1-based line and column (in characters) of byte `offset` of `source`,
/// as GraphQL errors give locations.
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let before = source.get(..offset).unwrap_or(source);
    let mut line = 1;
    let mut line_start = 0;
    let bytes = before.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                i += 1;
                line += 1;
                line_start = i + 1;
            }
            b'\n' | b'\r' => {
                line += 1;
                line_start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(source: &str) -> Vec<(TokenKind, &str)> {
        Lexer::new(source).map(|t| (t.kind, t.text)).collect()
    }

    #[test]
    fn a_document_splits_into_the_specs_tokens() {
        use TokenKind::*;
        assert_eq!(
            tokens("query Q($n: [Int!] = [1, -2.5e3]) { ...F a(x: \"s\") }"),
            [
                (Name, "query"),
                (Name, "Q"),
                (Punctuator(b'('), "("),
                (Punctuator(b'$'), "$"),
                (Name, "n"),
                (Punctuator(b':'), ":"),
                (Punctuator(b'['), "["),
                (Name, "Int"),
                (Punctuator(b'!'), "!"),
                (Punctuator(b']'), "]"),
                (Punctuator(b'='), "="),
                (Punctuator(b'['), "["),
                (Number, "1"),
                (Number, "-2.5e3"),
                (Punctuator(b']'), "]"),
                (Punctuator(b')'), ")"),
                (Punctuator(b'{'), "{"),
                (Spread, "..."),
                (Name, "F"),
                (Name, "a"),
                (Punctuator(b'('), "("),
                (Name, "x"),
                (Punctuator(b':'), ":"),
                (String, "\"s\""),
                (Punctuator(b')'), ")"),
                (Punctuator(b'}'), "}"),
            ]
        );
    }

    #[test]
    fn strings_block_strings_and_comments_hide_what_looks_like_tokens() {
        use TokenKind::*;
        assert_eq!(
            tokens(r#"{ a(x: "b: 1, \"b: 2\" \\", y: """ c: " "" \""" d: """) } # e: {"#),
            [
                (Punctuator(b'{'), "{"),
                (Name, "a"),
                (Punctuator(b'('), "("),
                (Name, "x"),
                (Punctuator(b':'), ":"),
                (String, r#""b: 1, \"b: 2\" \\""#),
                (Name, "y"),
                (Punctuator(b':'), ":"),
                (BlockString, r#"""" c: " "" \""" d: """"#),
                (Punctuator(b')'), ")"),
                (Punctuator(b'}'), "}"),
            ]
        );
    }

    #[test]
    fn unterminated_strings_and_strange_characters_end_without_panicking() {
        use TokenKind::*;
        assert_eq!(
            tokens("\"abc\n}"),
            [(String, "\"abc"), (Punctuator(b'}'), "}")]
        );
        assert_eq!(tokens("\"\"\"abc"), [(BlockString, "\"\"\"abc")]);
        assert_eq!(tokens("\"abc\\"), [(String, "\"abc\\")]);
        assert_eq!(
            tokens("é.\u{feff}-"),
            [(Unknown, "é"), (Unknown, "."), (Number, "-")]
        );
    }

    #[test]
    fn locations_count_lines_and_characters_from_one() {
        let source = "{\n  é(x: 1)\r\n  b\r}";
        assert_eq!(line_column(source, 0), (1, 1));
        assert_eq!(line_column(source, source.find('x').expect("an x")), (2, 5));
        assert_eq!(line_column(source, source.find('b').expect("a b")), (3, 3));
        assert_eq!(line_column(source, source.len() - 1), (4, 1));
    }
}
