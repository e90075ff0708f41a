//! The HTTP adapter: `/graphql` (POST, and GET for queries), the playground,
//! `/healthz` and `/readyz`. Everything GraphQL happens in `graphql`; this
//! module only turns HTTP into `async_graphql::Request` and back.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::{BatchRequest, Request, Variables};
use diesel_async::RunQueryDsl;
use serde::Deserialize;

use crate::db::DbPool;
use crate::graphql::AppSchema;
use crate::graphql::auth::Credentials;
use crate::graphql::loaders::request_loader;

/// The largest request body accepted: a generous query with variables fits.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
        .route("/graphql", web::post().to(graphql_post))
        .route("/graphql", web::get().to(graphql_get))
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/", web::get().to(playground_page))
        .route("/playground/{file}", web::get().to(playground_asset));
}

/// A request error in the GraphQL-over-HTTP shape, without executing anything.
fn request_error(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(JSON)
        .json(serde_json::json!({
            "errors": [{ "message": message, "extensions": { "code": "BAD_REQUEST" } }]
        }))
}

/// `application/graphql-response+json` unless the client only accepts plain JSON.
fn response_media_type(req: &HttpRequest) -> &'static str {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.is_empty() || accept.contains(GRAPHQL_RESPONSE) || accept.contains("*/*") {
        GRAPHQL_RESPONSE
    } else {
        JSON
    }
}

async fn execute(
    req: &HttpRequest,
    schema: &AppSchema,
    pool: &DbPool,
    request: Request,
) -> HttpResponse {
    let media_type = response_media_type(req);
    let credentials = Credentials(
        req.headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    );
    let response = schema
        .execute(request.data(request_loader(pool.clone())).data(credentials))
        .await;
    // With the newer media type, a request that never executed (syntax or
    // validation errors: no `data`) is a 400, as GraphQL-over-HTTP asks.
    let status = if media_type == GRAPHQL_RESPONSE
        && response.data == async_graphql::Value::Null
        && response.is_err()
    {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    HttpResponse::build(status)
        .content_type(media_type)
        .json(response)
}

async fn graphql_post(
    req: HttpRequest,
    body: web::Bytes,
    schema: web::Data<AppSchema>,
    pool: web::Data<DbPool>,
) -> HttpResponse {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // Only JSON: the content types a browser form can send without a CORS
    // preflight (text/plain, form encodings) must never execute.
    let is_json = content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case(JSON));
    if !is_json {
        return request_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the request as application/json",
        );
    }
    let request = match serde_json::from_slice::<BatchRequest>(&body) {
        Ok(BatchRequest::Single(request)) => request,
        Ok(BatchRequest::Batch(_)) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                "batched requests are not supported: send one operation per request",
            );
        }
        Err(e) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                &format!("the body is not a GraphQL request: {e}"),
            );
        }
    };
    execute(&req, &schema, &pool, request).await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetParams {
    query: String,
    operation_name: Option<String>,
    variables: Option<String>,
}

async fn graphql_get(
    req: HttpRequest,
    schema: web::Data<AppSchema>,
    pool: web::Data<DbPool>,
) -> HttpResponse {
    let params = match web::Query::<GetParams>::from_query(req.query_string()) {
        Ok(params) => params.into_inner(),
        Err(e) => return request_error(StatusCode::BAD_REQUEST, &format!("bad query string: {e}")),
    };
    let mut request = Request::new(params.query);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(variables) = params.variables {
        match serde_json::from_str::<serde_json::Value>(&variables) {
            Ok(value) => request = request.variables(Variables::from_json(value)),
            Err(e) => {
                return request_error(
                    StatusCode::BAD_REQUEST,
                    &format!("`variables` is not JSON: {e}"),
                );
            }
        }
    }
    execute(&req, &schema, &pool, request).await
}

/// The process is up.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// The database answers.
async fn readyz(pool: web::Data<DbPool>) -> HttpResponse {
    let ready = match pool.get().await {
        Ok(mut conn) => diesel::sql_query("SELECT 1")
            .execute(&mut *conn)
            .await
            .is_ok(),
        Err(_) => false,
    };
    if ready {
        HttpResponse::Ok().content_type("text/plain").body("ready")
    } else {
        HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("database unavailable")
    }
}

/// The playground's files, served from the binary so that it works offline
/// (see `assets/playground/README.md` for where they come from).
const PLAYGROUND_FILES: &[(&str, &str, &[u8])] = &[
    (
        "yoga-graphiql.umd.js",
        "text/javascript",
        include_bytes!("../assets/playground/yoga-graphiql.umd.js"),
    ),
    (
        "graphiql.css",
        "text/css",
        include_bytes!("../assets/playground/graphiql.css"),
    ),
    (
        "editor.worker.js",
        "text/javascript",
        include_bytes!("../assets/playground/editor.worker.js"),
    ),
    (
        "json.worker.js",
        "text/javascript",
        include_bytes!("../assets/playground/json.worker.js"),
    ),
    (
        "graphql.worker.js",
        "text/javascript",
        include_bytes!("../assets/playground/graphql.worker.js"),
    ),
    (
        "LICENSE-graphql-yoga-graphiql.txt",
        "text/plain; charset=utf-8",
        include_bytes!("../assets/playground/LICENSE-graphql-yoga-graphiql.txt"),
    ),
];

async fn playground_page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(&include_bytes!("../assets/playground/index.html")[..])
}

async fn playground_asset(file: web::Path<String>) -> HttpResponse {
    match PLAYGROUND_FILES
        .iter()
        .find(|(name, _, _)| *name == file.as_str())
    {
        Some((_, content_type, bytes)) => HttpResponse::Ok()
            .content_type(*content_type)
            .insert_header((
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ))
            .body(*bytes),
        None => HttpResponse::NotFound()
            .content_type("text/plain")
            .body("not found"),
    }
}
