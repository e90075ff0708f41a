//! The HTTP adapter: `/graphql` (POST, and GET for queries), the playground,
//! `/healthz` and `/readyz`. Everything GraphQL happens in `graphql`; this
//! module only turns HTTP into `async_graphql::Request` and back.

mod budget;
mod cors;
mod documents;
mod guard;
mod json;
mod negotiate;
mod persisted;
mod rate_limit;

pub use cors::cors;
pub use guard::Guard;
pub use rate_limit::SharedBuckets;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::{Request, Variables};
use diesel_async::RunQueryDsl;
use futures_util::StreamExt as _;
use serde::Deserialize;

use crate::config::HttpConfig;
use crate::db::DbPool;
use crate::db::replicas::{LSN_HEADER, Lsn, Route, WorkerReplicas, current_lsn};
use crate::graphql::AppSchema;
use crate::graphql::auth::Credentials;
use crate::graphql::limits;
use crate::graphql::loaders::request_loader;
use crate::observability::ExecutionGuard;
use crate::shutdown::Draining;
use async_graphql::parser::types::OperationType;
use guard::code;
pub use guard::refusal;
use negotiate::{GRAPHQL_RESPONSE, JSON};

/// The largest request body accepted: a generous query with variables fits.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/graphql")
            .route(web::post().to(graphql_post))
            .route(
                web::get()
                    .guard(actix_web::guard::fn_guard(|ctx| {
                        crate::live::socket::is_upgrade(ctx.head())
                    }))
                    .to(crate::live::socket::upgrade),
            )
            .route(web::get().to(graphql_get))
            .default_service(web::to(graphql_other_method)),
    )
    .route("/healthz", web::get().to(healthz))
    .route("/readyz", web::get().to(readyz))
    .route("/", web::get().to(playground_page))
    .route("/playground/{file}", web::get().to(playground_asset))
    .configure(crate::explore::configure);
}

/// The media type to answer in, or the 406 that says none is acceptable.
fn negotiate(req: &HttpRequest) -> Result<&'static str, HttpResponse> {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    negotiate::response_media_type(accept).ok_or_else(|| {
        refusal(
            StatusCode::NOT_ACCEPTABLE,
            JSON,
            code::NOT_ACCEPTABLE,
            "accept application/graphql-response+json or application/json",
        )
    })
}

/// A malformed request (not a GraphQL one): always a 400.
fn bad_request(media_type: &str, code: &str, message: &str) -> HttpResponse {
    refusal(StatusCode::BAD_REQUEST, media_type, code, message)
}

/// Each worker's limit on requests executing at once: no more than its
/// connections can serve (see `server.rs`). A request waits for a slot as
/// long as it would for a connection, then is told the service is busy.
pub struct WorkerExecutions {
    pub slots: std::sync::Arc<tokio::sync::Semaphore>,
    pub wait: std::time::Duration,
}

/// The database handles of one worker: the primary's pool (app data of its
/// own, as `/readyz` and tests take it) and, with read replicas, theirs.
struct Databases<'a> {
    primary: &'a DbPool,
    replicas: Option<&'a WorkerReplicas>,
}

#[allow(clippy::too_many_arguments)]
async fn execute(
    req: &HttpRequest,
    schema: &AppSchema,
    databases: Databases<'_>,
    guard: &Guard,
    media_type: &'static str,
    mut request: Request,
    read_only: bool,
    register: Option<String>,
) -> HttpResponse {
    let pool = databases.primary;
    let credentials = Credentials(
        req.headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    );
    let charge = match guard
        .admit(req, &mut request, media_type, read_only, &credentials, pool)
        .await
    {
        Ok(charge) => charge,
        Err(refused) => return refused,
    };
    // Kept only once admitted: the store holds nothing the guard refuses.
    if let Some(hash) = register {
        guard.persisted().insert(&hash, &request.query);
    }
    // Held until the answer is serialized: a request waiting here holds
    // neither a database connection nor an answer in memory.
    let _executing = match req.app_data::<web::Data<WorkerExecutions>>() {
        Some(worker) => match tokio::time::timeout(worker.wait, worker.slots.acquire()).await {
            Ok(permit) => permit.ok(),
            Err(_) => {
                let mut busy = refusal(
                    StatusCode::SERVICE_UNAVAILABLE,
                    media_type,
                    crate::graphql::error::code::SERVICE_BUSY,
                    "every execution slot stayed busy: try again shortly",
                );
                busy.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                budget::insert_headers(busy.headers_mut(), &charge);
                return busy;
            }
        },
        None => match req.app_data::<web::Data<ExecutionGuard>>() {
            Some(guard) => guard.executions.acquire().await.ok(),
            None => None,
        },
    };
    let operation_name = request.operation_name.clone();
    let operation = request
        .parsed_query()
        .ok()
        .and_then(|document| limits::operation_type(document, operation_name.as_deref()));
    let replicas = databases.replicas.filter(|r| !r.set().is_empty());
    let route = match (operation, replicas) {
        (Some(OperationType::Query), Some(replicas)) => {
            let at_least = req
                .headers()
                .get(LSN_HEADER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<Lsn>().ok());
            let route = replicas.route(at_least).await;
            replicas.set().count_read(&route);
            route
        }
        _ => Route::Primary,
    };
    let mut response = match &route {
        Route::Primary => run(req, schema, pool, &credentials, request).await,
        Route::Replica {
            index,
            pool: replica,
        } => {
            // A query changes nothing: one that found its replica gone is
            // run again on the primary, and the client never sees the outage.
            let retry = Request::new(request.query.clone()).variables(request.variables.clone());
            let retry = match &request.operation_name {
                Some(name) => retry.operation_name(name.clone()),
                None => retry,
            };
            let response = run(req, schema, replica, &credentials, request).await;
            if response.errors.iter().any(unavailable) {
                if let Some(replicas) = replicas {
                    replicas.set().mark_down(*index);
                    replicas.set().count_read(&Route::Primary);
                }
                run(req, schema, pool, &credentials, retry).await
            } else {
                response
            }
        }
    };
    // The position of this write, for the client's next reads to present.
    let written_at = match (operation, replicas) {
        (Some(OperationType::Mutation), Some(_)) => current_lsn(pool).await,
        _ => None,
    };
    if let Some(lsn) = written_at {
        response.extensions.insert(
            "lsn".to_owned(),
            async_graphql::Value::String(lsn.to_string()),
        );
    }
    let cost = budget::cost_extension(&charge);
    // With the newer media type, a request that never executed (syntax or
    // validation errors) is a 400 without a `data` entry, as GraphQL-over-HTTP asks.
    // A field error always has a path: when one nulled the whole `data` (a
    // non-null root field failed), the request did execute, and the answer
    // is a 200 with `"data": null`.
    // With plain JSON such a request is a 200, still without `data` (the
    // spec: an error raised before execution begins leaves it out).
    let never_executed = response.data == async_graphql::Value::Null
        && response.is_err()
        && response.errors.iter().all(|error| error.path.is_empty());
    let mut answer = if never_executed {
        let status = match media_type == GRAPHQL_RESPONSE {
            true => actix_web::http::StatusCode::BAD_REQUEST,
            false => actix_web::http::StatusCode::OK,
        };
        HttpResponse::build(status)
            .content_type(media_type)
            .json(serde_json::json!({ "errors": response.errors, "extensions": { "cost": cost } }))
    } else {
        response.extensions.insert(
            "cost".to_owned(),
            async_graphql::Value::from_json(cost).unwrap_or_default(),
        );
        HttpResponse::Ok().content_type(media_type).json(response)
    };
    budget::insert_headers(answer.headers_mut(), &charge);
    if let Some(lsn) = written_at
        && let Ok(value) = HeaderValue::from_str(&lsn.to_string())
    {
        answer
            .headers_mut()
            .insert(header::HeaderName::from_static(LSN_HEADER), value);
    }
    answer
}

/// Executes `request` with `pool` for every statement it sends.
async fn run(
    req: &HttpRequest,
    schema: &AppSchema,
    pool: &DbPool,
    credentials: &Credentials,
    request: Request,
) -> async_graphql::Response {
    crate::observability::execute_graphql(
        req,
        schema,
        request
            .data(request_loader(pool.clone()))
            .data(pool.clone())
            .data(credentials.clone()),
    )
    .await
}

/// Whether an error says the database could not be reached.
fn unavailable(error: &async_graphql::ServerError) -> bool {
    matches!(
        error.extensions.as_ref().and_then(|e| e.get("code")),
        Some(async_graphql::Value::String(code)) if code == crate::graphql::error::code::DATABASE_UNAVAILABLE
    )
}

/// Reads the body up to [`MAX_BODY_BYTES`], refusing more with a 413 before
/// buffering it.
async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    media_type: &str,
) -> Result<web::Bytes, HttpResponse> {
    let too_large = || {
        refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            media_type,
            code::REQUEST_TOO_LARGE,
            &format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES) {
        return Err(too_large());
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            bad_request(
                media_type,
                code::BAD_REQUEST,
                "the request body could not be read",
            )
        })?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Variables as async-graphql takes them, once their nesting is checked.
fn variables(value: serde_json::Value, media_type: &str) -> Result<Variables, HttpResponse> {
    limits::check_variables(&value).map_err(|e| bad_request(media_type, e.code(), &e.message()))?;
    Ok(Variables::from_json(value))
}

/// A JSON error: nesting past serde_json's own limit gets the nesting code.
fn json_error(media_type: &str, what: &str, error: &json::JsonError) -> HttpResponse {
    let error = match error {
        json::JsonError::Syntax(error) => error,
        json::JsonError::RepeatedKey { key, path } => {
            let place = if path.is_empty() {
                String::new()
            } else {
                format!(" at `{path}`")
            };
            return bad_request(
                media_type,
                code::BAD_REQUEST,
                &format!("{what} names the key {key:?} twice{place}: each key may appear once"),
            );
        }
    };
    if error.to_string().starts_with("recursion limit exceeded") {
        let error = limits::LimitError::NestingTooDeep {
            limit: limits::MAX_VARIABLE_NESTING,
            what: "arrays and objects in the request",
        };
        return bad_request(media_type, error.code(), &error.message());
    }
    bad_request(
        media_type,
        code::BAD_REQUEST,
        &format!(
            "{what} is not valid JSON (line {}, column {})",
            error.line(),
            error.column()
        ),
    )
}

/// The body of a POST, as GraphQL-over-HTTP defines it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostBody {
    /// Absent only when `extensions.persistedQuery` names a held query.
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    operation_name: Option<String>,
    #[serde(default)]
    variables: Option<serde_json::Value>,
    /// Must be an object if given; only `persistedQuery` is read.
    #[serde(default)]
    extensions: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The query a request runs, and the hash to keep it under once admitted:
/// its own text, or a persisted query's (see `persisted`).
fn query_of(
    guard: &Guard,
    query: Option<String>,
    extensions: Option<&serde_json::Map<String, serde_json::Value>>,
    media_type: &'static str,
) -> Result<(String, Option<String>), HttpResponse> {
    let hash = persisted::requested_hash(extensions)
        .map_err(|message| bad_request(media_type, code::BAD_REQUEST, message))?;
    match hash {
        None => query.map(|q| (q, None)).ok_or_else(|| {
            bad_request(
                media_type,
                code::BAD_REQUEST,
                "a `query` is required (or `extensions.persistedQuery` naming a query sent before)",
            )
        }),
        Some(hash) => match persisted::resolve(guard.persisted(), hash, query, media_type)? {
            persisted::Resolved::Register { query, hash } => Ok((query, Some(hash))),
            persisted::Resolved::Held(query) => Ok((query, None)),
        },
    }
}

async fn graphql_post(
    req: HttpRequest,
    payload: web::Payload,
    schema: web::Data<AppSchema>,
    pool: web::Data<DbPool>,
    replicas: Option<web::Data<WorkerReplicas>>,
    guard: web::Data<Guard>,
) -> HttpResponse {
    let media_type = match negotiate(&req) {
        Ok(media_type) => media_type,
        Err(response) => return response,
    };
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
        return refusal(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media_type,
            code::UNSUPPORTED_MEDIA_TYPE,
            "send the request as application/json",
        );
    }
    let body = match read_body(&req, payload, media_type).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let value = match json::from_slice(&body) {
        Ok(value) => value,
        Err(e) => return json_error(media_type, "the body", &e),
    };
    if value.is_array() {
        return bad_request(
            media_type,
            code::BATCH_NOT_SUPPORTED,
            "batched requests are not supported: send one operation per request",
        );
    }
    let body = match serde_json::from_value::<PostBody>(value) {
        Ok(body) => body,
        Err(_) => {
            return bad_request(
                media_type,
                code::BAD_REQUEST,
                "the body must be an object with a string `query`, and optionally \
                 `operationName` (a string), `variables` and `extensions` (objects)",
            );
        }
    };
    let (query, register) = match query_of(&guard, body.query, body.extensions.as_ref(), media_type)
    {
        Ok(found) => found,
        Err(response) => return response,
    };
    let mut request = Request::new(query);
    if let Some(name) = body.operation_name {
        request = request.operation_name(name);
    }
    match body.variables {
        None | Some(serde_json::Value::Null) => {}
        Some(value @ serde_json::Value::Object(_)) => match variables(value, media_type) {
            Ok(variables) => request = request.variables(variables),
            Err(response) => return response,
        },
        Some(_) => {
            return bad_request(
                media_type,
                code::BAD_REQUEST,
                "`variables` must be an object",
            );
        }
    }
    let databases = Databases {
        primary: &pool,
        replicas: replicas.as_ref().map(|r| r.get_ref()),
    };
    execute(
        &req, &schema, databases, &guard, media_type, request, false, register,
    )
    .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetParams {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<String>,
    /// JSON, as Apollo Client sends `extensions.persistedQuery` over GET.
    extensions: Option<String>,
}

async fn graphql_get(
    req: HttpRequest,
    schema: web::Data<AppSchema>,
    pool: web::Data<DbPool>,
    replicas: Option<web::Data<WorkerReplicas>>,
    guard: web::Data<Guard>,
) -> HttpResponse {
    let media_type = match negotiate(&req) {
        Ok(media_type) => media_type,
        Err(response) => return response,
    };
    let params = match web::Query::<GetParams>::from_query(req.query_string()) {
        Ok(params) => params.into_inner(),
        Err(_) => {
            return bad_request(
                media_type,
                code::BAD_REQUEST,
                "the query string is malformed",
            );
        }
    };
    let extensions = match params
        .extensions
        .as_deref()
        .map(|text| json::from_slice(text.as_bytes()))
    {
        None => None,
        Some(Ok(serde_json::Value::Object(map))) => Some(map),
        Some(Ok(_)) => {
            return bad_request(
                media_type,
                code::BAD_REQUEST,
                "`extensions` must be an object",
            );
        }
        Some(Err(e)) => return json_error(media_type, "`extensions`", &e),
    };
    let (query, register) = match query_of(&guard, params.query, extensions.as_ref(), media_type) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let mut request = Request::new(query);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(text) = params.variables {
        match json::from_slice(text.as_bytes()) {
            Ok(value @ serde_json::Value::Object(_)) => match variables(value, media_type) {
                Ok(variables) => request = request.variables(variables),
                Err(response) => return response,
            },
            Ok(_) => {
                return bad_request(
                    media_type,
                    code::BAD_REQUEST,
                    "`variables` must be an object",
                );
            }
            Err(e) => return json_error(media_type, "`variables`", &e),
        }
    }
    let databases = Databases {
        primary: &pool,
        replicas: replicas.as_ref().map(|r| r.get_ref()),
    };
    let response = execute(
        &req, &schema, databases, &guard, media_type, request, true, register,
    )
    .await;
    with_etag(&req, response).await
}

/// An anonymous read answered 200 carries an `ETag` of its body, and a
/// request whose `If-None-Match` names it is answered `304 Not Modified`
/// without the body. The query still runs: the tag is of the answer, so it
/// changes exactly when the data does. Reads with a token are left alone
/// (a shared cache must never answer one caller with another's).
async fn with_etag(req: &HttpRequest, response: HttpResponse) -> HttpResponse {
    if response.status() != StatusCode::OK || req.headers().contains_key(header::AUTHORIZATION) {
        return response;
    }
    let (head, body) = response.into_parts();
    let Ok(bytes) = actix_web::body::to_bytes(body).await else {
        return head.set_body(web::Bytes::new()).map_into_boxed_body();
    };
    let etag = persisted::etag(&bytes);
    let matched = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| persisted::none_match(tags, &etag));
    let mut response = if matched {
        let mut not_modified = HttpResponse::NotModified().finish();
        // Keep what the answer's head carried (request id, refusals for
        // the metrics) beside the validator.
        for (name, value) in head.headers() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                not_modified
                    .headers_mut()
                    .insert(name.clone(), value.clone());
            }
        }
        not_modified
    } else {
        head.set_body(bytes).map_into_boxed_body()
    };
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    // Stored answers must be checked again before reuse: data changes.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Any method but GET and POST.
async fn graphql_other_method() -> HttpResponse {
    let mut response = refusal(
        StatusCode::METHOD_NOT_ALLOWED,
        JSON,
        code::METHOD_NOT_ALLOWED,
        "use POST, or GET for queries",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
    response
}

/// The process is up.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// The database is migrated and answers, and the process is not shutting down.
async fn readyz(
    pool: web::Data<DbPool>,
    probe: Option<web::Data<crate::db::probe::ReadinessProbe>>,
    readiness: Option<web::Data<crate::server::Readiness>>,
    draining: Option<web::Data<Draining>>,
) -> HttpResponse {
    if draining.is_some_and(|d| d.is_draining()) {
        return HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("shutting down");
    }
    let migrated = readiness.is_none_or(|r| r.is_ready());
    // The probe's own connection when the server gave one: a pool slot
    // may be busy for a while under load, which is no reason to be drained.
    let ready = migrated
        && match probe {
            Some(probe) => probe.database_answers().await,
            None => match pool.get().await {
                Ok(mut conn) => diesel::sql_query("SELECT 1")
                    .execute(&mut *conn)
                    .await
                    .is_ok(),
                Err(_) => false,
            },
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

async fn playground_page(config: web::Data<HttpConfig>) -> HttpResponse {
    if !config.playground {
        return HttpResponse::NotFound()
            .content_type("text/plain")
            .body("not found");
    }
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(&include_bytes!("../assets/playground/index.html")[..])
}

async fn playground_asset(file: web::Path<String>, config: web::Data<HttpConfig>) -> HttpResponse {
    match PLAYGROUND_FILES
        .iter()
        .filter(|_| config.playground)
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
