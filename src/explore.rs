//! `/explore`: pages for people who would rather look than read, drawn in the
//! browser from the public GraphQL API only. Every file is served from the
//! binary so that the pages work offline (see `assets/explore/README.md`).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};

use crate::config::HttpConfig;

/// The page's queries, exactly as the page sends them (tests count the
/// statements each costs).
pub const QUERIES: &[(&str, &str)] = &[
    (
        "organization",
        include_str!("../assets/explore/organization.graphql"),
    ),
    ("person", include_str!("../assets/explore/person.graphql")),
    (
        "publication",
        include_str!("../assets/explore/publication.graphql"),
    ),
    (
        "retention",
        include_str!("../assets/explore/retention.graphql"),
    ),
    ("search", include_str!("../assets/explore/search.graphql")),
];

const FILES: &[(&str, &str, &[u8])] = &[
    (
        "explore.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/explore/explore.js"),
    ),
    (
        "explore.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/explore/explore.css"),
    ),
    (
        "d3.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/explore/d3.min.js"),
    ),
    (
        "d3-sankey.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/explore/d3-sankey.min.js"),
    ),
    (
        "LICENSE-d3.txt",
        "text/plain; charset=utf-8",
        include_bytes!("../assets/explore/LICENSE-d3.txt"),
    ),
    (
        "LICENSE-d3-sankey.txt",
        "text/plain; charset=utf-8",
        include_bytes!("../assets/explore/LICENSE-d3-sankey.txt"),
    ),
];

/// Nothing but this origin: the browser itself refuses any request off the
/// machine (styles inline in attributes are the page's own swatches).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
    style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; \
    frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/explore", web::get().to(page))
        .route("/explore/assets/{file}", web::get().to(asset))
        .route("/explore/{kind}", web::get().to(page))
        .route("/explore/{kind}/{slug}", web::get().to(page));
}

fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/plain")
        .body("not found")
}

/// The one page: it reads its URL and draws the organization, person,
/// publication or search it names.
async fn page(config: web::Data<HttpConfig>) -> HttpResponse {
    if !config.explore {
        return not_found();
    }
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .body(&include_bytes!("../assets/explore/index.html")[..])
}

async fn asset(file: web::Path<String>, config: web::Data<HttpConfig>) -> HttpResponse {
    if !config.explore {
        return not_found();
    }
    let name = file.as_str();
    let found = FILES
        .iter()
        .find(|(file, _, _)| *file == name)
        .map(|(_, content_type, bytes)| (*content_type, *bytes))
        .or_else(|| {
            let query = name.strip_suffix(".graphql")?;
            QUERIES
                .iter()
                .find(|(q, _)| *q == query)
                .map(|(_, text)| ("application/graphql; charset=utf-8", text.as_bytes()))
        });
    match found {
        Some((content_type, bytes)) => HttpResponse::Ok()
            .content_type(content_type)
            .insert_header((
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ))
            .body(bytes),
        None => not_found(),
    }
}
