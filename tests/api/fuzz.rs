//! Random and malformed requests: a seeded generator of GraphQL-ish documents
//! (real field names, arguments, fragments, directives, variables), mangled
//! at random, sent over real HTTP. Whatever arrives, the server answers with
//! a JSON error or data, every error carries a code, nothing leaks, and it
//! is still up at the end.
//!
//! Hand-rolled rather than proptest: the property is about the whole server,
//! a failing case is printed whole with its seed (`FUZZ_SEED=… cargo test
//! fuzz` replays it), and it costs no extra compile on a shared machine.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::Value;

use crate::support::TestApp;

const CASES: usize = 300;
/// Only here so that a hang fails the test instead of stalling it.
const PATIENCE: Duration = Duration::from_secs(20);

/// xorshift64*: tiny, seedable, good enough to pick grammar productions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const FIELDS: &[&str] = &[
    "people",
    "person",
    "organization",
    "organizations",
    "publication",
    "publications",
    "search",
    "node",
    "talentFlows",
    "name",
    "slug",
    "id",
    "aliases",
    "bio",
    "employments",
    "currentEmployments",
    "authorships",
    "nodes",
    "edges",
    "node",
    "cursor",
    "totalCount",
    "pageInfo",
    "hasNextPage",
    "endCursor",
    "units",
    "parent",
    "founders",
    "alumni",
    "retention",
    "authors",
    "stayed",
    "left",
    "destinations",
    "to",
    "from",
    "count",
    "title",
    "startedOn",
    "endedOn",
    "isCurrent",
    "sources",
    "url",
    "kind",
    "__typename",
    "__schema",
    "__type",
    "types",
    "fields",
    "ofType",
    "leaders",
    "nope",
];
const ARGUMENTS: &[&str] = &[
    "slug",
    "first",
    "after",
    "query",
    "search",
    "status",
    "at",
    "direction",
    "id",
    "organization",
    "since",
    "until",
    "kind",
    "includeUnits",
    "certainty",
    "name",
    "if",
];
const TYPES: &[&str] = &[
    "Person",
    "Organization",
    "Employment",
    "Publication",
    "Query",
    "Node",
    "SearchResult",
    "Source",
    "Nope",
];
const DIRECTIVES: &[&str] = &[
    "@include(if: true)",
    "@skip(if: $v)",
    "@deprecated",
    "@nope",
];
const JUNK: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "\"",
    "\"\"\"",
    "\\",
    "#",
    "$",
    "@",
    "!",
    ":",
    "...",
    ",",
    "=",
    "|",
    "&",
    "\u{0}",
    "\u{feff}",
    "é",
    "𝔊",
    "\n",
    "query",
    "fragment",
    "on",
    "null",
    "-",
    "1e999",
    "0x1",
    "\\u{D800}",
];

fn value(rng: &mut Rng, depth: usize) -> String {
    match rng.below(if depth > 4 { 8 } else { 11 }) {
        0 => format!("{}", rng.next() as i64 >> rng.below(64)),
        1 => "-1".to_owned(),
        2 => format!(
            "\"{}\"",
            rng.pick(&[
                "meta",
                "llama-2023",
                "guillaume-lample",
                "",
                "é\\n\\\"",
                "2023-04",
                "WyJ4Il0"
            ])
        ),
        3 => rng
            .pick(&[
                "true", "false", "null", "ALL", "CURRENT", "OUTBOUND", "POSSIBLY",
            ])
            .to_owned(),
        4 => format!("${}", rng.pick(&["v", "n", "undefined"])),
        5 => "\"\"\"block \"\" string\"\"\"".to_owned(),
        6 => "1.5".to_owned(),
        7 => "101".to_owned(),
        8 | 9 => format!(
            "[{}]",
            (0..rng.below(4))
                .map(|_| value(rng, depth + 1))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => format!(
            "{{{}}}",
            (0..rng.below(3))
                .map(|_| format!("{}: {}", rng.pick(ARGUMENTS), value(rng, depth + 1)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

fn selection_set(rng: &mut Rng, depth: usize, fragments: usize) -> String {
    let mut items = Vec::new();
    for _ in 0..1 + rng.below(if depth > 3 { 2 } else { 5 }) {
        let item = match rng.below(10) {
            0 if fragments > 0 => format!("...F{}", rng.below(fragments)),
            1 => format!(
                "... on {} {}",
                rng.pick(TYPES),
                selection_set(rng, depth + 1, fragments)
            ),
            _ => {
                let mut field = String::new();
                if rng.chance(15) {
                    field.push_str(&format!("a{}: ", rng.below(5)));
                }
                field.push_str(rng.pick(FIELDS));
                if rng.chance(40) {
                    let arguments: Vec<String> = (0..1 + rng.below(3))
                        .map(|_| format!("{}: {}", rng.pick(ARGUMENTS), value(rng, 0)))
                        .collect();
                    field.push_str(&format!("({})", arguments.join(", ")));
                }
                if rng.chance(10) {
                    field.push(' ');
                    field.push_str(rng.pick(DIRECTIVES));
                }
                if depth < 12 && rng.chance(55) {
                    field.push(' ');
                    field.push_str(&selection_set(rng, depth + 1, fragments));
                }
                field
            }
        };
        items.push(item);
    }
    format!("{{ {} }}", items.join(" "))
}

/// A field's name, the type of its children and its arguments.
type FieldSpec = (&'static str, Option<&'static str>, &'static str);

/// Fields by type, with the type of their children (`None`: a leaf) and
/// arguments, for documents that are valid more often than not.
const SCHEMA: &[(&str, &[FieldSpec])] = &[
    (
        "Query",
        &[
            ("person", Some("Person"), "(slug: \"guillaume-lample\")"),
            ("organization", Some("Organization"), "(slug: \"meta\")"),
            ("people", Some("PersonConnection"), "(first: $n)"),
            (
                "organizations",
                Some("OrganizationConnection"),
                "(first: 5)",
            ),
            ("publication", Some("Publication"), "(slug: \"llama-2023\")"),
            ("talentFlows", Some("TalentFlow"), "(from: \"meta\")"),
            ("__typename", None, ""),
        ],
    ),
    (
        "Person",
        &[
            ("name", None, ""),
            ("slug", None, ""),
            ("aliases", None, ""),
            ("bio", None, ""),
            ("employments", Some("Employment"), ""),
            ("currentEmployments", Some("Employment"), ""),
            ("authorships", Some("Authorship"), ""),
        ],
    ),
    (
        "Organization",
        &[
            ("name", None, ""),
            ("kind", None, ""),
            ("foundedOn", None, ""),
            ("parent", Some("Organization"), ""),
            ("units", Some("Organization"), ""),
            ("founders", Some("Person"), ""),
            (
                "employments",
                Some("EmploymentConnection"),
                "(first: 3, status: CURRENT)",
            ),
            ("alumni", Some("PersonConnection"), "(first: 2)"),
            ("talentFlows", Some("TalentFlow"), ""),
        ],
    ),
    (
        "Employment",
        &[
            ("title", None, ""),
            ("isFounder", None, ""),
            ("startedOn", None, ""),
            ("endedOn", None, ""),
            ("isCurrent", None, ""),
            ("person", Some("Person"), ""),
            ("organization", Some("Organization"), ""),
            ("sources", Some("Source"), ""),
        ],
    ),
    ("Source", &[("url", None, ""), ("title", None, "")]),
    (
        "Authorship",
        &[
            ("position", None, ""),
            ("person", Some("Person"), ""),
            ("publication", Some("Publication"), ""),
            ("affiliation", Some("Organization"), ""),
        ],
    ),
    (
        "Publication",
        &[
            ("title", None, ""),
            ("publishedOn", None, ""),
            ("authors", Some("Authorship"), ""),
            (
                "retention",
                Some("CohortRetention"),
                "(organization: \"meta\")",
            ),
        ],
    ),
    (
        "CohortRetention",
        &[
            ("total", None, ""),
            ("stayed", Some("Person"), ""),
            ("left", Some("Person"), ""),
            ("destinations", Some("TalentFlow"), ""),
        ],
    ),
    (
        "TalentFlow",
        &[
            ("count", None, ""),
            ("from", Some("Organization"), ""),
            ("to", Some("Organization"), ""),
            ("people", Some("Person"), ""),
        ],
    ),
    (
        "PersonConnection",
        &[("totalCount", None, ""), ("nodes", Some("Person"), "")],
    ),
    (
        "OrganizationConnection",
        &[
            ("totalCount", None, ""),
            ("nodes", Some("Organization"), ""),
        ],
    ),
    (
        "EmploymentConnection",
        &[("totalCount", None, ""), ("nodes", Some("Employment"), "")],
    ),
];

/// A selection on `ty` that the schema accepts (until mangled).
fn typed_selection(rng: &mut Rng, ty: &str, depth: usize) -> String {
    let fields = SCHEMA
        .iter()
        .find(|(name, _)| *name == ty)
        .map_or(&[][..], |(_, fields)| *fields);
    let mut items = vec!["__typename".to_owned()];
    for _ in 0..1 + rng.below(3) {
        let Some((field, child, arguments)) = fields.get(rng.below(fields.len())) else {
            continue;
        };
        let alias = if rng.chance(20) {
            format!("a{}: ", rng.below(1000))
        } else {
            String::new()
        };
        match child {
            Some(child) if depth < 6 => items.push(format!(
                "{alias}{field}{arguments} {}",
                typed_selection(rng, child, depth + 1)
            )),
            Some(_) => {}
            None => items.push(format!("{alias}{field}")),
        }
    }
    format!("{{ {} }}", items.join(" "))
}

fn document(rng: &mut Rng) -> String {
    if rng.chance(50) {
        let selection = typed_selection(rng, "Query", 0);
        // An unused variable is a validation error: declare it only if used.
        return if selection.contains("$n") {
            format!("query Q($n: Int = 3) {selection}")
        } else {
            format!("query Q {selection}")
        };
    }
    let fragments = rng.below(4);
    let mut text = match rng.below(6) {
        0 => String::new(),
        1 => "query Q($v: Boolean = true, $n: Int) ".to_owned(),
        2 => "mutation ".to_owned(),
        3 => "subscription ".to_owned(),
        _ => "query ".to_owned(),
    };
    text.push_str(&selection_set(rng, 0, fragments));
    for i in 0..fragments {
        text.push_str(&format!(
            "\nfragment F{i} on {} {}",
            rng.pick(TYPES),
            selection_set(rng, 1, fragments)
        ));
    }
    text
}

/// Breaks a document the ways hands and attackers do.
fn mangle(rng: &mut Rng, text: &mut String) {
    for _ in 0..1 + rng.below(4) {
        let at = (0..=rng.below(text.len() + 1))
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        match rng.below(6) {
            0 => text.truncate(at),
            1 => text.insert_str(at, rng.pick(JUNK)),
            2 => {
                let end = char_boundary_after(text, at + rng.below(40));
                let slice = text[at..end].to_owned();
                text.insert_str(at, &slice.repeat(1 + rng.below(20)));
            }
            3 => {
                let open = rng.pick(&["[", "{a:", "(", "{"]);
                text.insert_str(at, &open.repeat(1 + rng.below(8_000)));
            }
            4 => {
                let end = char_boundary_after(text, at + rng.below(20));
                text.replace_range(at..end, "");
            }
            _ => text.insert_str(at, "\"unterminated"),
        }
    }
}

/// The first char boundary at or after `at`, or the end.
fn char_boundary_after(text: &str, at: usize) -> usize {
    (at..text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(text.len())
}

fn json_value(rng: &mut Rng, depth: usize) -> String {
    if depth > 0 && (depth > 200 || rng.chance(30)) {
        return rng
            .pick(&[
                "1",
                "-1",
                "true",
                "null",
                "\"meta\"",
                "101",
                "1e308",
                "\"\\ud800\"",
            ])
            .to_owned();
    }
    match rng.below(3) {
        0 => format!("[{}]", json_value(rng, depth + 1)),
        1 => format!("{{\"k\": {}}}", json_value(rng, depth + 1)),
        _ => "\"x\"".to_owned(),
    }
}

fn variables(rng: &mut Rng) -> String {
    match rng.below(8) {
        0 => "null".to_owned(),
        1 => format!(
            "{{\"v\": {}, \"n\": {}}}",
            json_value(rng, 0),
            rng.below(200) as i64 - 50
        ),
        2 => format!("{{\"v\": {}}}", "[".repeat(rng.below(3_000)) + "1"),
        3 => json_value(rng, 0),
        _ => "{}".to_owned(),
    }
}

/// A raw POST body: usually a GraphQL request, sometimes not even JSON.
fn body(rng: &mut Rng, query: &str) -> String {
    let query = serde_json::to_string(query).unwrap_or_default();
    match rng.below(12) {
        0 => query,
        1 => format!("[{{\"query\": {query}}}]"),
        2 => {
            let mut raw = format!("{{\"query\": {query}}}");
            mangle(rng, &mut raw);
            raw
        }
        _ => format!(
            "{{\"query\": {query}, \"variables\": {}, \"operationName\": {}}}",
            variables(rng),
            rng.pick(&["null", "null", "\"Q\"", "\"Q\"", "\"Nope\"", "1"])
        ),
    }
}

const ACCEPTED_STATUSES: &[StatusCode] = &[
    StatusCode::OK,
    StatusCode::BAD_REQUEST,
    StatusCode::METHOD_NOT_ALLOWED,
    StatusCode::NOT_ACCEPTABLE,
    StatusCode::PAYLOAD_TOO_LARGE,
    StatusCode::URI_TOO_LONG,
    StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
    StatusCode::UNSUPPORTED_MEDIA_TYPE,
];

#[tokio::test]
async fn random_and_malformed_requests_get_coded_answers_and_never_break_the_server() {
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x7a1e_97a9_4c0d_e5ed);
    let app = TestApp::spawn_with(|config| config.http.rate_limit_capacity = 0).await;
    talentgraph::seed::seed(&mut app.conn().await)
        .await
        .expect("the article's data set loads");
    let mut rng = Rng(seed);
    let mut executed = 0;
    for case in 0..CASES {
        let mut query = document(&mut rng);
        if rng.chance(40) {
            mangle(&mut rng, &mut query);
        }
        let accept = rng.pick(&[
            "application/json",
            "application/graphql-response+json",
            "*/*",
            "application/json",
            "application/graphql-response+json",
            "*/*",
            "application/xml",
        ]);
        // Browsers and proxies cap URLs; long documents go by POST.
        let request = if query.len() < 4_000 && rng.chance(20) {
            app.client.get(app.url("/graphql")).query(&[
                ("query", query.as_str()),
                ("variables", &variables(&mut rng)),
            ])
        } else {
            app.client
                .post(app.url("/graphql"))
                .header(CONTENT_TYPE, "application/json")
                .body(body(&mut rng, &query))
        };
        let context = format!("FUZZ_SEED={seed} case {case}: {query:.2000}");
        let response = tokio::time::timeout(PATIENCE, request.header(ACCEPT, accept).send())
            .await
            .unwrap_or_else(|_| panic!("no answer in {PATIENCE:?}: {context}"))
            .unwrap_or_else(|e| panic!("connection failed ({e}): {context}"));
        let status = response.status();
        assert!(
            ACCEPTED_STATUSES.contains(&status),
            "status {status}: {context}"
        );
        let text = response.text().await.unwrap_or_default();
        let Ok(answer) = serde_json::from_str::<Value>(&text) else {
            // actix itself refuses heads too large to read, with no JSON.
            assert!(
                status == StatusCode::URI_TOO_LONG
                    || status == StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "not JSON ({text:.200}): {context}"
            );
            continue;
        };
        if answer.get("data").is_some_and(|d| !d.is_null()) {
            executed += 1;
        }
        for error in answer["errors"].as_array().into_iter().flatten() {
            assert!(
                error["extensions"]["code"].is_string(),
                "an error without a code {error}: {context}"
            );
            let message = error["message"].as_str().unwrap_or_default();
            for leak in ["SELECT", "diesel", "panicked", "postgres", "src/"] {
                assert!(!message.contains(leak), "{message}: {context}");
            }
        }
        assert!(
            answer.get("data").is_some() || answer.get("errors").is_some(),
            "{answer}: {context}"
        );
    }
    eprintln!("{executed} of {CASES} cases executed");
    // Some cases must get through to execution, or the generator tests nothing.
    assert!(executed >= 10, "only {executed} of {CASES} cases executed");
    let alive = app.data("{ people { totalCount } }").await;
    assert_eq!(alive["people"]["totalCount"], 17);
}
