//! Parsed GraphQL documents, kept by their text.
//!
//! Clients send the same few documents over and over with different
//! variables, and async-graphql's parser (pest) cost a fifth of the server's
//! CPU on a lookup by slug. A document parsed once is cloned from here after.
//! The cache is bounded in entries and in the size of what it keeps; when
//! full it starts over, which keeps it simple and its memory fixed.
//!
//! Beside each document it keeps async-graphql's verdicts of validating it
//! (`ValidationVerdicts`, per operation name), so that a document found
//! valid is not validated again: a fifth of the server's work on a lookup
//! by slug. What validation concludes depends on the document, the schema
//! and the variables' values; the guard checks those values against their
//! definitions on every request before execution (`graphql::input`), so a
//! verdict about the document holds for every request that gets that far.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::ValidationVerdicts;
use async_graphql::parser::parse_query;
use async_graphql::parser::types::ExecutableDocument;

use crate::graphql::input::{self, InputError};

/// How many documents are kept.
const ENTRIES: usize = 256;
/// Longer documents are parsed every time: they are rare, and keeping them
/// would let a client fill the cache with big one-offs.
const LONGEST: usize = 8 * 1024;

/// Why a document text gives no document to run.
#[derive(Debug)]
pub enum Unusable {
    /// A syntax error, left for async-graphql to report in its own words.
    Syntax,
    /// It parsed, but an input object literal names a field twice, which
    /// the parsed document no longer shows (`graphql::input`).
    RepeatedInputField(InputError),
}

/// A parsed document, with where its validation verdicts are kept.
pub type Parsed = (ExecutableDocument, Arc<ValidationVerdicts>);

#[derive(Default)]
pub struct DocumentCache {
    parsed: Mutex<HashMap<Arc<str>, Parsed>>,
}

impl DocumentCache {
    /// `query`, parsed; from the cache when it was parsed before. Only
    /// usable documents are kept, so their text is scanned only once.
    pub fn parse(&self, query: &str) -> Result<Parsed, Unusable> {
        if query.len() > LONGEST {
            return Ok((parse_afresh(query)?, Arc::default()));
        }
        if let Some((document, verdicts)) = self.lock().get(query) {
            return Ok((document.clone(), Arc::clone(verdicts)));
        }
        // Parsed outside the lock: another request may parse the same text
        // at the same time, which costs only the time saved here.
        let document = parse_afresh(query)?;
        let verdicts = Arc::<ValidationVerdicts>::default();
        let mut parsed = self.lock();
        if parsed.len() >= ENTRIES {
            parsed.clear();
        }
        parsed.insert(Arc::from(query), (document.clone(), Arc::clone(&verdicts)));
        Ok((document, verdicts))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Arc<str>, Parsed>> {
        // A panic while holding the lock cannot leave the map inconsistent:
        // every change is a single insert or clear.
        self.parsed.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn parse_afresh(query: &str) -> Result<ExecutableDocument, Unusable> {
    let document = parse_query(query).map_err(|_| Unusable::Syntax)?;
    input::repeated_input_field(query).map_err(Unusable::RepeatedInputField)?;
    Ok(document)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cached_document_is_the_document_parsed_afresh() {
        let cache = DocumentCache::default();
        let query = "query Q($slug: String!) { person(slug: $slug) { name ...F } } \
                     fragment F on Person { id }";
        let (first, kept) = cache.parse(query).expect("parses");
        let (second, kept_again) = cache.parse(query).expect("parses");
        assert!(
            Arc::ptr_eq(&kept, &kept_again),
            "one document, one place for its verdicts"
        );
        let fresh = parse_query(query).expect("parses");
        assert_eq!(format!("{second:?}"), format!("{fresh:?}"));
        assert_eq!(format!("{first:?}"), format!("{fresh:?}"));
        assert_eq!(cache.lock().len(), 1);
    }

    #[test]
    fn syntax_errors_are_not_kept_and_the_cache_stays_bounded() {
        let cache = DocumentCache::default();
        assert!(matches!(
            cache.parse("{ person(slug: "),
            Err(Unusable::Syntax)
        ));
        assert!(matches!(
            cache.parse(r#"{ people(where: {a: 1, a: 2}) { totalCount } }"#),
            Err(Unusable::RepeatedInputField(_))
        ));
        assert!(cache.lock().is_empty());
        for n in 0..ENTRIES + 10 {
            cache
                .parse(&format!("{{ a{n}: __typename }}"))
                .expect("parses");
        }
        assert!(cache.lock().len() <= ENTRIES);
        let long = format!("{{ {} }}", "__typename ".repeat(LONGEST / 10));
        cache.parse(&long).expect("parses");
        assert!(!cache.lock().contains_key(long.as_str()));
    }
}
