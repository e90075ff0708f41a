//! Automatic persisted queries, as Apollo Client's persisted-queries link
//! speaks them (`extensions.persistedQuery: {version: 1, sha256Hash}`), over
//! POST and GET, and the `ETag` of anonymous GET reads.
//!
//! A client first sends only the hash. A hash the server does not hold is
//! answered `PersistedQueryNotFound` (code `PERSISTED_QUERY_NOT_FOUND`, HTTP
//! 200, as Apollo Server answers it and the link retries on), and the client
//! sends the query with its hash; the server checks that the hash is the
//! query's SHA-256 and keeps the text once the guard has admitted it. A held
//! query goes through the guard (limits, input checks, rate limit) every time
//! it runs, exactly as if its text had been sent.
//!
//! The store is bounded in bytes and entries; when full, the oldest queries
//! go first (a client that needs one again registers it again).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use sha2::{Digest, Sha256};

use super::guard::refusal;

/// The only version of the protocol.
const VERSION: u64 = 1;
/// Most bytes of query text held (the request body limit bounds each query).
const MAX_BYTES: usize = 4 * 1024 * 1024;
/// Most queries held.
const MAX_ENTRIES: usize = 10_000;

pub const NOT_FOUND_CODE: &str = "PERSISTED_QUERY_NOT_FOUND";
/// Apollo's message, which older links match on instead of the code.
pub const NOT_FOUND_MESSAGE: &str = "PersistedQueryNotFound";

/// Query texts by the hex SHA-256 of their text.
#[derive(Default)]
pub struct PersistedQueries {
    store: Mutex<Store>,
}

#[derive(Default)]
struct Store {
    texts: HashMap<String, Arc<str>>,
    /// Hashes in the order they were stored, oldest first.
    order: VecDeque<String>,
    bytes: usize,
}

impl PersistedQueries {
    pub fn get(&self, hash: &str) -> Option<Arc<str>> {
        self.lock().texts.get(hash).cloned()
    }

    /// Keeps `query` under `hash`, which the caller has checked is its hash.
    pub fn insert(&self, hash: &str, query: &str) {
        if query.len() > MAX_BYTES {
            return;
        }
        let mut store = self.lock();
        if store.texts.contains_key(hash) {
            return;
        }
        while store.bytes + query.len() > MAX_BYTES || store.texts.len() >= MAX_ENTRIES {
            let Some(oldest) = store.order.pop_front() else {
                break;
            };
            if let Some(text) = store.texts.remove(&oldest) {
                store.bytes -= text.len();
            }
        }
        store.bytes += query.len();
        store.order.push_back(hash.to_owned());
        store.texts.insert(hash.to_owned(), Arc::from(query));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        // Every change keeps the map, the order and the byte count in step
        // before it can panic, so a poisoned lock holds a consistent store.
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().texts.len()
    }
}

/// The lowercase hex SHA-256 of `text`, as Apollo Client computes it.
pub fn sha256_hex(text: &[u8]) -> String {
    Sha256::digest(text)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The hash a request's `extensions` asks for, if it uses persisted queries.
pub fn requested_hash(
    extensions: Option<&serde_json::Map<String, serde_json::Value>>,
) -> Result<Option<String>, &'static str> {
    let Some(persisted) = extensions.and_then(|e| e.get("persistedQuery")) else {
        return Ok(None);
    };
    let malformed =
        "`extensions.persistedQuery` must be {\"version\": 1, \"sha256Hash\": \"<64 hex digits>\"}";
    let persisted = persisted.as_object().ok_or(malformed)?;
    if persisted.get("version").and_then(|v| v.as_u64()) != Some(VERSION) {
        return Err("Unsupported persisted query version");
    }
    let hash = persisted
        .get("sha256Hash")
        .and_then(|h| h.as_str())
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or(malformed)?;
    Ok(Some(hash.to_ascii_lowercase()))
}

/// What a request carrying a persisted-query hash runs.
pub enum Resolved {
    /// The query sent with its hash: run it, and keep it once admitted.
    Register { query: String, hash: String },
    /// A query held under the hash.
    Held(String),
}

/// The query a request runs, or the response that refuses it: a query sent
/// with a hash that is not its own is refused (400, Apollo's words), a hash
/// sent alone that the server does not hold is `PersistedQueryNotFound`.
pub fn resolve(
    store: &PersistedQueries,
    hash: String,
    query: Option<String>,
    media_type: &'static str,
) -> Result<Resolved, HttpResponse> {
    match query {
        Some(query) => {
            if sha256_hex(query.as_bytes()) != hash {
                return Err(refusal(
                    StatusCode::BAD_REQUEST,
                    media_type,
                    super::guard::code::BAD_REQUEST,
                    "provided sha does not match query",
                ));
            }
            Ok(Resolved::Register { query, hash })
        }
        None => match store.get(&hash) {
            Some(text) => Ok(Resolved::Held(text.to_string())),
            None => {
                let mut response = refusal(
                    StatusCode::OK,
                    media_type,
                    NOT_FOUND_CODE,
                    NOT_FOUND_MESSAGE,
                );
                // A miss must not be cached: the query may be registered next.
                response.headers_mut().insert(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("private, no-store"),
                );
                Err(response)
            }
        },
    }
}

/// A weak validator of the exact answer bytes (weak: a compressed encoding
/// of the same answer is equally good).
pub fn etag(body: &[u8]) -> String {
    format!("W/\"{}\"", &sha256_hex(&answer_of(body))[..32])
}

/// The part of a response body that changes only when the data does: every
/// request spends budget, so `extensions.cost` (what it cost, what is left)
/// differs between two answers to the same read and must not change the tag.
fn answer_of(body: &[u8]) -> Vec<u8> {
    let Ok(serde_json::Value::Object(mut response)) = serde_json::from_slice(body) else {
        return body.to_vec();
    };
    if let Some(serde_json::Value::Object(extensions)) = response.get_mut("extensions") {
        extensions.remove("cost");
        if extensions.is_empty() {
            response.remove("extensions");
        }
    }
    serde_json::to_vec(&response).unwrap_or_else(|_| body.to_vec())
}

/// Whether an `If-None-Match` header names `etag` (weak comparison, RFC 9110
/// §13.1.2: `W/` prefixes are ignored; `*` matches any current answer).
pub fn none_match(if_none_match: &str, etag: &str) -> bool {
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    let ours = opaque(etag);
    if_none_match
        .split(',')
        .any(|tag| tag.trim() == "*" || opaque(tag) == ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_apollos_lowercase_hex_sha256() {
        assert_eq!(
            sha256_hex(b"{ __typename }"),
            "7f56e67dd21ab3f30d1ff8b7bed08893f0a0db86449836189b361dd1e56ddb4b"
        );
    }

    #[test]
    fn the_tag_ignores_what_the_request_cost_but_not_the_answer() {
        let answer = |name: &str, remaining: u32| {
            format!(
                r#"{{"data":{{"person":{{"name":"{name}"}}}},"extensions":{{"cost":{{"requested":3,"remaining":{remaining}}}}}}}"#
            )
        };
        assert_eq!(
            etag(answer("Lample", 10).as_bytes()),
            etag(answer("Lample", 7).as_bytes())
        );
        assert_ne!(
            etag(answer("Lample", 10).as_bytes()),
            etag(answer("Mensch", 10).as_bytes())
        );
    }

    #[test]
    fn the_store_stays_within_its_bounds_dropping_the_oldest() {
        let store = PersistedQueries::default();
        let big = "x".repeat(MAX_BYTES / 4 + 1);
        for n in 0..4 {
            store.insert(&format!("{n:064}"), &big);
        }
        assert_eq!(store.len(), 3);
        assert!(
            store.get(&format!("{:064}", 0)).is_none(),
            "the oldest went"
        );
        assert!(store.get(&format!("{:064}", 3)).is_some());
        assert!(store.lock().bytes <= MAX_BYTES);
    }

    #[test]
    fn extensions_are_read_as_apollo_sends_them() {
        let ext = |v: serde_json::Value| v.as_object().cloned();
        let hash = "A".repeat(64);
        assert_eq!(
            requested_hash(
                ext(serde_json::json!({"persistedQuery": {"version": 1, "sha256Hash": hash}}))
                    .as_ref()
            ),
            Ok(Some("a".repeat(64)))
        );
        assert_eq!(
            requested_hash(ext(serde_json::json!({})).as_ref()),
            Ok(None)
        );
        assert!(
            requested_hash(
                ext(serde_json::json!({"persistedQuery": {"version": 2, "sha256Hash": hash}}))
                    .as_ref()
            )
            .is_err()
        );
        assert!(
            requested_hash(
                ext(serde_json::json!({"persistedQuery": {"version": 1, "sha256Hash": "xyz"}}))
                    .as_ref()
            )
            .is_err()
        );
    }

    #[test]
    fn if_none_match_compares_weakly_and_in_lists() {
        let tag = etag(b"{}");
        assert!(none_match(&tag, &tag));
        assert!(none_match(
            &format!("\"nope\", {}", tag.trim_start_matches("W/")),
            &tag
        ));
        assert!(none_match("*", &tag));
        assert!(!none_match("\"other\"", &tag));
    }
}
