//! CORS: which other origins' pages may call the API from a browser.
//! Only the configured ones, and never with credentials: the API
//! authenticates with bearer tokens, not cookies, so a page that may call it
//! has to hold a token itself.

use actix_cors::Cors;
use actix_web::http::header;

pub fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST"])
        .allowed_headers([
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::AUTHORIZATION,
            // A read presents its last write's position (read-your-writes).
            header::HeaderName::from_static(crate::db::replicas::LSN_HEADER),
        ])
        .expose_headers([
            header::RETRY_AFTER,
            header::HeaderName::from_static(crate::db::replicas::LSN_HEADER),
            super::budget::LIMIT,
            super::budget::REMAINING,
            super::budget::RESET,
        ])
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}
