//! What an operator sees and what bounds a request: a request id on every
//! request (the `X-Request-Id` header, every log line, `extensions.requestId`
//! of an `INTERNAL` error), one log line per request, Prometheus metrics at
//! `/metrics`, and the guard around GraphQL execution (time limit, panics,
//! readiness).
//!
//! The HTTP adapter stays thin: [`track_requests`] wraps every route, and
//! `http.rs` hands each GraphQL request to [`execute_graphql`].

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo,
};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument};
use async_graphql::{Response, ServerError, ServerResult};
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};
use tracing::Instrument;

use crate::config::LogFormat;
use crate::db::WorkerPools;
use crate::graphql::AppSchema;
use crate::graphql::error::{ApiError, Stage, code, with_stage_code};
use crate::server::Readiness;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest incoming request id kept; longer or odd ones are replaced.
const MAX_REQUEST_ID_LEN: usize = 128;

tokio::task_local! {
    static REQUEST_ID: Arc<str>;
}

/// The id of the request being served by this task, if any.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(|id| id.to_string()).ok()
}

/// `tokio::spawn` that keeps the request's id and log span, for the batch
/// loader's tasks: an error logged there still names its request.
pub fn spawn_in_request(future: BoxFuture<'static, ()>) -> tokio::task::JoinHandle<()> {
    let future = future.instrument(tracing::Span::current());
    match REQUEST_ID.try_with(Arc::clone) {
        Ok(id) => tokio::spawn(REQUEST_ID.scope(id, future)),
        Err(_) => tokio::spawn(future),
    }
}

/// The caller's id when it is a sane token (a proxy's or a client's, so logs
/// can be joined across services); otherwise a fresh random one.
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(&REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= MAX_REQUEST_ID_LEN
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
        })
        .map_or_else(new_request_id, str::to_owned)
}

/// 128 random bits in hex. `RandomState` is seeded from the OS once per thread
/// and perturbed per instance: unguessable enough for a correlation id, and no
/// new dependency.
fn new_request_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let half = || {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        hasher.finish()
    };
    format!("{:016x}{:016x}", half(), half())
}

/// The Prometheus metrics of one running app (tests run several apps in one
/// process, so each has its own registry rather than the global one).
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
    graphql_errors: IntCounterVec,
    pool_max_size: IntGauge,
    pool_size: IntGauge,
    pool_available: IntGauge,
    pool_waiting: IntGauge,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("talentgraph".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered"),
            &["route", "status"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from receiving a request to answering it",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["route"],
        )?;
        let graphql_errors = IntCounterVec::new(
            Opts::new(
                "graphql_errors_total",
                "GraphQL errors returned, by extensions.code",
            ),
            &["code"],
        )?;
        let gauge = |name: &str, help: &str| IntGauge::new(name, help);
        let pool_max_size = gauge("db_pool_max_size", "Most connections the pool may hold")?;
        let pool_size = gauge("db_pool_size", "Connections the pool holds now")?;
        let pool_available = gauge("db_pool_available", "Idle connections in the pool")?;
        let pool_waiting = gauge(
            "db_pool_waiting",
            "Requests waiting for a database connection",
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        registry.register(Box::new(graphql_errors.clone()))?;
        for gauge in [&pool_max_size, &pool_size, &pool_available, &pool_waiting] {
            registry.register(Box::new(gauge.clone()))?;
        }
        Ok(Metrics {
            registry,
            requests,
            duration,
            graphql_errors,
            pool_max_size,
            pool_size,
            pool_available,
            pool_waiting,
        })
    }

    /// Where other parts of the service register their own metrics.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    fn observe(&self, route: &str, status: u16, elapsed: Duration) {
        self.requests
            .with_label_values(&[route, &status.to_string()])
            .inc();
        self.duration
            .with_label_values(&[route])
            .observe(elapsed.as_secs_f64());
    }

    fn count_errors(&self, response: &Response) {
        for error in &response.errors {
            self.graphql_errors
                .with_label_values(&[error_code(error)])
                .inc();
        }
    }

    /// The text exposition format, with the pool's gauges read now.
    fn render(&self, pools: Option<&WorkerPools>) -> Result<String, prometheus::Error> {
        if let Some(pools) = pools {
            let status = pools.status();
            let as_i64 = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
            self.pool_max_size.set(as_i64(status.max_size));
            self.pool_size.set(as_i64(status.size));
            self.pool_available.set(as_i64(status.available));
            self.pool_waiting.set(as_i64(status.waiting));
        }
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        String::from_utf8(buffer).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(metrics_endpoint));
}

async fn metrics_endpoint(
    metrics: web::Data<Metrics>,
    pools: Option<web::Data<WorkerPools>>,
) -> HttpResponse {
    match metrics.render(pools.as_ref().map(|p| p.get_ref())) {
        Ok(text) => HttpResponse::Ok()
            .content_type(prometheus::TEXT_FORMAT)
            .body(text),
        Err(error) => {
            tracing::error!(%error, "cannot render metrics");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// Middleware for every route: gives the request an id (task-local, in the
/// log span and the `X-Request-Id` response header), logs one line when it
/// is answered, and counts it.
pub async fn track_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id(req.headers());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.path(),
        operation = tracing::field::Empty,
        errors = tracing::field::Empty,
    );
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let result = REQUEST_ID
        .scope(Arc::from(id.as_str()), next.call(req))
        .instrument(span.clone())
        .await;
    // Handlers turn their extractors' refusals into responses; an error here
    // comes from an inner middleware, and actix answers it after us.
    let mut response = match result {
        Ok(response) => response,
        Err(error) => {
            span.in_scope(|| tracing::warn!(%error, "request failed"));
            return Err(error);
        }
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let refused = response
        .response()
        .extensions()
        .get::<RefusedWith>()
        .map(|r| r.0.clone());
    if let Some(code) = &refused {
        span.record("errors", code.as_str());
    }
    if let Some(metrics) = metrics {
        metrics.observe(&route, status, elapsed);
        if let Some(code) = &refused {
            metrics
                .graphql_errors
                .with_label_values(&[code.as_str()])
                .inc();
        }
    }
    span.in_scope(|| {
        tracing::info!(
            status,
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            "request"
        );
    });
    Ok(response)
}

/// Marks a response that refused a request before execution (limits, rate
/// limits, malformed bodies) with its `extensions.code`, so the refusal is
/// counted in `talentgraph_graphql_errors_total` and logged with the request.
#[derive(Debug, Clone)]
pub struct RefusedWith(pub String);

/// What bounds each GraphQL execution; app data beside the schema.
#[derive(Debug, Clone)]
pub struct ExecutionGuard {
    pub request_timeout: Duration,
    pub readiness: Readiness,
    /// Debug builds only: arm [`DebugFaultInjection`].
    pub debug_faults: bool,
    /// One permit per request executing (`max_concurrent_executions`).
    pub executions: Arc<tokio::sync::Semaphore>,
}

/// Request data that arms [`DebugFaultInjection`]. Only [`execute_graphql`]
/// adds it, and only in a debug build configured with
/// `TALENTGRAPH_DEBUG_FAULTS=true`.
#[derive(Debug, Clone, Copy)]
pub struct DebugFaults;

/// In an armed request (see [`DebugFaults`]), this header sends every object
/// through async-graphql's own executor instead of the in-place resolution of
/// `graphql::eager`: the differential tests compare the two answers.
pub const STOCK_EXECUTION_HEADER: &str = "x-talentgraph-stock-execution";

/// The alias that makes a field's resolver panic in an armed request.
pub const DEBUG_PANIC_ALIAS: &str = "_debugPanic";

/// The alias that makes a field fail with an `INJECTED_FAULT` field error in
/// an armed request: the conformance tests fail each field of the schema in
/// turn and check which ancestor its error nulls.
pub const DEBUG_ERROR_ALIAS: &str = "_debugError";

/// Makes the resolver of any field aliased `_debugPanic` panic, and any field
/// aliased `_debugError` fail, when the request carries [`DebugFaults`]: so
/// that a test can prove, through the real app, that a panicking resolver is
/// answered with `INTERNAL` and not a dropped connection, and where a field's
/// error goes. An extension rather than a hidden field: the schema
/// (and its SDL) stay exactly what clients see, and release builds can never
/// arm it.
pub struct DebugFaultInjection;

impl ExtensionFactory for DebugFaultInjection {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(DebugFaultInjectionExtension)
    }
}

struct DebugFaultInjectionExtension;

#[async_trait::async_trait]
impl Extension for DebugFaultInjectionExtension {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<async_graphql::Value>> {
        if ctx.data_opt::<DebugFaults>().is_some() {
            if info.alias == Some(DEBUG_PANIC_ALIAS) {
                panic!("{DEBUG_PANIC_ALIAS}: a resolver panicked on purpose");
            }
            if info.alias == Some(DEBUG_ERROR_ALIAS) {
                let mut error = ServerError::new(
                    format!("{DEBUG_ERROR_ALIAS}: a resolver failed on purpose"),
                    None,
                );
                error.path = info
                    .path_node
                    .to_string_vec()
                    .into_iter()
                    .map(|segment| match segment.parse() {
                        Ok(index) => async_graphql::PathSegment::Index(index),
                        Err(_) => async_graphql::PathSegment::Field(segment),
                    })
                    .collect();
                error
                    .extensions
                    .get_or_insert_with(Default::default)
                    .set("code", "INJECTED_FAULT");
                return Err(error);
            }
        }
        next.run(ctx, info).await
    }
}

/// Executes one GraphQL request within the guard: refused with
/// `DATABASE_UNAVAILABLE` before the database is ready, cancelled with
/// `TIMEOUT` past the request timeout, a panic answered with `INTERNAL`; and
/// no `INTERNAL` error leaves without the request id or with its cause.
pub async fn execute_graphql(
    req: &HttpRequest,
    schema: &AppSchema,
    mut request: async_graphql::Request,
) -> Response {
    let guard = req.app_data::<web::Data<ExecutionGuard>>();
    let request_id = current_request_id().unwrap_or_else(new_request_id);
    let requested = request.operation_name.clone();
    let operation = match request.parsed_query() {
        Ok(document) => Ok(operation_name(document, requested.as_deref())),
        Err(error) => Err(with_stage_code(error, Stage::Parse)),
    };
    let mut response = if guard.is_some_and(|g| !g.readiness.is_ready()) {
        Response::from_errors(vec![client_error(ApiError::DatabaseUnavailable)])
    } else if let Err(error) = &operation {
        Response::from_errors(vec![error.clone()])
    } else {
        if cfg!(debug_assertions) && guard.is_some_and(|g| g.debug_faults) {
            request = request.data(DebugFaults);
            if req.headers().get(STOCK_EXECUTION_HEADER).is_some() {
                request = request.data(crate::graphql::eager::StockExecution);
            }
        }
        let execution = AssertUnwindSafe(schema.execute(request)).catch_unwind();
        let outcome = match guard.map(|g| g.request_timeout) {
            Some(limit) => tokio::time::timeout(limit, execution).await.ok(),
            None => Some(execution.await),
        };
        match outcome {
            Some(Ok(response)) => response,
            Some(Err(panic)) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                tracing::error!(panic = %message, "a resolver panicked");
                Response::from_errors(vec![client_error(ApiError::Internal(request_id.clone()))])
            }
            None => {
                tracing::warn!(
                    timeout_ms = guard.map_or(0, |g| g.request_timeout.as_millis() as u64),
                    "request timed out"
                );
                Response::from_errors(vec![client_error(ApiError::Timeout)])
            }
        }
    };
    if let Ok(Some(name)) = &operation {
        tracing::Span::current().record("operation", name.as_str());
    }
    sort_errors(&mut response);
    response.errors = std::mem::take(&mut response.errors)
        .into_iter()
        .map(|error| with_stage_code(error, Stage::Parsed))
        .collect();
    for error in &mut response.errors {
        seal_internal(error, &request_id);
    }
    if let Some(metrics) = req.app_data::<web::Data<Metrics>>() {
        metrics.count_errors(&response);
    }
    if !response.errors.is_empty() {
        let codes: Vec<&str> = response.errors.iter().map(error_code).collect();
        tracing::Span::current().record("errors", codes.join(",").as_str());
    }
    response
}

/// Puts errors in the order of the places they point at in the response
/// (then by position in the document, then by message), not in the order
/// concurrent fields happened to fail: identical requests give identical
/// answers, byte for byte.
/// What [`execute_graphql`] does to an answer after execution, for answers
/// executed elsewhere (each event of a WebSocket operation): errors in
/// response order, each with its code, INTERNAL ones sealed with an id.
pub fn finish_response(response: &mut Response, metrics: Option<&Metrics>) -> String {
    let request_id = new_request_id();
    sort_errors(response);
    response.errors = std::mem::take(&mut response.errors)
        .into_iter()
        .map(|error| with_stage_code(error, Stage::Parsed))
        .collect();
    for error in &mut response.errors {
        seal_internal(error, &request_id);
    }
    if let Some(metrics) = metrics {
        metrics.count_errors(response);
    }
    request_id
}

/// Adds collectors of other modules (live sockets, the listener) to `/metrics`.
impl Metrics {
    pub fn register(
        &self,
        collector: Box<dyn prometheus::core::Collector>,
    ) -> Result<(), prometheus::Error> {
        self.registry.register(collector)
    }
}

fn sort_errors(response: &mut Response) {
    if response.errors.len() < 2 {
        return;
    }
    let data = &response.data;
    response.errors.sort_by_cached_key(|error| {
        let location = error.locations.first().map(|l| (l.line, l.column));
        (
            position_in(data, &error.path),
            location,
            error.message.clone(),
        )
    });
}

/// Where `path` leads in `data`: the index of each key or item on the way,
/// as far as the response goes (an error's field is often nulled or absent).
fn position_in(data: &async_graphql::Value, path: &[async_graphql::PathSegment]) -> Vec<usize> {
    use async_graphql::{PathSegment, Value};
    let mut position = Vec::with_capacity(path.len());
    let mut current = data;
    for segment in path {
        let next = match (segment, current) {
            (PathSegment::Field(name), Value::Object(fields)) => fields
                .get_full(name.as_str())
                .map(|(index, _, value)| (index, value)),
            (PathSegment::Index(index), Value::List(items)) => {
                items.get(*index).map(|value| (*index, value))
            }
            _ => None,
        };
        let Some((index, value)) = next else { break };
        position.push(index);
        current = value;
    }
    position
}

/// The name of the operation a request runs: the one it names, or the
/// document's only operation; `<anonymous>` for an unnamed one.
fn operation_name(document: &ExecutableDocument, requested: Option<&str>) -> Option<String> {
    if let Some(name) = requested {
        return Some(name.to_owned());
    }
    match &document.operations {
        DocumentOperations::Single(_) => Some("<anonymous>".to_owned()),
        DocumentOperations::Multiple(operations) if operations.len() == 1 => {
            operations.keys().next().map(|name| name.to_string())
        }
        DocumentOperations::Multiple(_) => None,
    }
}

/// An error's `extensions.code` (`NONE` if it has none, which
/// `with_stage_code` should make impossible).
fn error_code(error: &ServerError) -> &str {
    match error.extensions.as_ref().and_then(|e| e.get("code")) {
        Some(async_graphql::Value::String(code)) => code,
        _ => "NONE",
    }
}

/// An error raised outside any resolver, as the client sees it.
fn client_error(error: ApiError) -> ServerError {
    let code = error.code();
    let mut server_error = ServerError::new(error.message(), None);
    server_error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
    server_error
}

/// An `INTERNAL` error carries the request id; one whose message did not come
/// from `ApiError` (an async-graphql or library message that may name Rust
/// types or SQL) has it logged and replaced.
fn seal_internal(error: &mut ServerError, request_id: &str) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    let is_internal = matches!(
        extensions.get("code"),
        Some(async_graphql::Value::String(c)) if c == code::INTERNAL
    );
    if !is_internal {
        return;
    }
    extensions.set("requestId", request_id);
    let sealed = ApiError::Internal(request_id.to_owned()).message();
    if !error.message.starts_with("internal error (reference ") {
        tracing::error!(error = %error.message, path = ?error.path, "internal error");
        error.message = sealed;
    }
}

/// Logs to stderr (stdout carries `talentgraph schema`), as text or one JSON
/// object per line; `RUST_LOG` filters (default `info`).
pub fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour codes only for a person at a terminal, not for a log collector.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_env_filter(filter);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            REQUEST_ID_HEADER,
            HeaderValue::from_str(value).expect("a header value"),
        );
        headers
    }

    #[test]
    fn an_internal_error_with_a_library_message_is_sealed_with_the_request_id() {
        let mut error = client_error(ApiError::Internal("x".into()));
        error.message = "Data `talentgraph::db::DbPool` does not exist.".into();
        seal_internal(&mut error, "req-1");
        assert_eq!(error.message, "internal error (reference req-1)");
        let extensions = error.extensions.expect("extensions");
        assert_eq!(
            extensions.get("requestId"),
            Some(&async_graphql::Value::from("req-1"))
        );

        let mut not_internal = client_error(ApiError::BadUserInput("first: at most 100".into()));
        seal_internal(&mut not_internal, "req-1");
        assert_eq!(not_internal.message, "first: at most 100");
    }

    #[test]
    fn a_sane_incoming_request_id_is_kept() {
        assert_eq!(request_id(&headers("abc-123_x.y:z")), "abc-123_x.y:z");
    }

    #[test]
    fn an_odd_or_long_request_id_is_replaced() {
        for odd in ["", "a b", "<script>", &"x".repeat(MAX_REQUEST_ID_LEN + 1)] {
            let id = request_id(&headers(odd));
            assert_ne!(id, odd);
            assert_eq!(id.len(), 32, "{id}");
        }
        assert_ne!(new_request_id(), new_request_id());
    }
}
