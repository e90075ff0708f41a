//! GraphQL over WebSocket at `/graphql`, speaking `graphql-transport-ws`
//! (the protocol of the `graphql-ws` npm client and of GraphiQL).
//!
//! The protocol is implemented here rather than taken from
//! `async-graphql-actix-web`, because each socket must obey this service's
//! rules: the `Origin` check, a cap on sockets and on operations per socket,
//! the same document limits as HTTP, a bounded queue per socket (a slow
//! consumer is closed, not buffered), ping with an idle timeout, a token
//! checked at `connection_init` whose revocation closes the socket, and
//! 1001 for every socket on SIGTERM.
//!
//! Close codes: 4400 malformed message, 4401 operation before
//! `connection_ack`, 4403 token refused or revoked, 4408 no
//! `connection_init` in time, 4409 an operation id already running, 4429 a
//! second `connection_init`, 4504 idle (no message or pong in
//! `TALENTGRAPH_WS_IDLE_TIMEOUT_SECS`), 1013 slow consumer (more than
//! `TALENTGRAPH_WS_QUEUE` events behind; resume with `changes(after:)`),
//! 1001 the server is shutting down.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{CloseCode, CloseReason, Session};
use async_graphql::{Request, Response, ServerError, Variables};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::{Control, Live};
use crate::auth;
use crate::config::HttpConfig;
use crate::db::{self, DbPool};
use crate::graphql::AppSchema;
use crate::graphql::auth::Credentials;
use crate::graphql::live::{Armed, SlowConsumer};
use crate::graphql::loaders::request_loader;
use crate::http::Guard;
use crate::observability::Metrics;
use crate::shutdown::Draining;

pub const PROTOCOL: &str = "graphql-transport-ws";

/// The longest a socket waits for an operation to start listening before
/// reading the client's next message (resolving its arguments takes a
/// statement or two).
const ARM_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// How long a closed socket waits for the client's close frame.
const CLOSE_HANDSHAKE: std::time::Duration = std::time::Duration::from_secs(1);

/// Whether `req` asks to upgrade to a WebSocket.
pub fn is_upgrade(req: &actix_web::dev::RequestHead) -> bool {
    req.headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

fn refuse(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    crate::http::refusal(status, "application/json", code, message)
}

/// A browser's socket must come from the service's own origin or one of
/// `TALENTGRAPH_CORS_ORIGINS`: WebSockets are not subject to CORS, so
/// without this any page could subscribe with its visitor's network.
fn origin_allowed(req: &HttpRequest, config: &HttpConfig) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        // Not a browser: nothing to protect.
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim_end_matches('/');
    if config.cors_origins.iter().any(|allowed| allowed == origin) {
        return true;
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    let own = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!((own, host), (Some(own), Some(host)) if own.eq_ignore_ascii_case(host))
}

/// Everything a socket needs, shared by the worker.
pub struct SocketDeps {
    pub schema: web::Data<AppSchema>,
    pub pool: DbPool,
    pub live: Arc<Live>,
    pub guard: web::Data<Guard>,
    pub metrics: Option<web::Data<Metrics>>,
}

/// `GET /graphql` with `Upgrade: websocket`.
pub async fn upgrade(
    req: HttpRequest,
    body: web::Payload,
    schema: web::Data<AppSchema>,
    pool: web::Data<DbPool>,
    live: web::Data<Arc<Live>>,
    guard: web::Data<Guard>,
    config: web::Data<HttpConfig>,
    draining: Option<web::Data<Draining>>,
    metrics: Option<web::Data<Metrics>>,
) -> HttpResponse {
    if draining.is_some_and(|d| d.is_draining()) {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "SHUTTING_DOWN",
            "the server is shutting down: connect to another instance",
        );
    }
    if !origin_allowed(&req, &config) {
        live.metrics.closed.with_label_values(&["origin"]).inc();
        return refuse(
            StatusCode::FORBIDDEN,
            "ORIGIN_NOT_ALLOWED",
            "this origin may not open a socket here (TALENTGRAPH_CORS_ORIGINS)",
        );
    }
    let Some(slot) = live.open_socket() else {
        live.metrics
            .closed
            .with_label_values(&["too_many_sockets"])
            .inc();
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "TOO_MANY_SOCKETS",
            "this server holds as many sockets as it may (TALENTGRAPH_WS_MAX_SOCKETS): try again later",
        );
    };
    let (response, session, stream) = match actix_ws::handle_with_protocols(&req, body, &[PROTOCOL])
    {
        Ok(parts) => parts,
        Err(error) => return error.error_response(),
    };
    let deps = SocketDeps {
        schema,
        pool: pool.get_ref().clone(),
        live: live.get_ref().clone(),
        guard,
        metrics,
    };
    actix_web::rt::spawn(async move {
        run(deps, session, stream).await;
        drop(slot);
    });
    response
}

/// What operation tasks hand the socket to write.
enum Out {
    Next(String, Response),
    Error(String, Vec<ServerError>),
    Complete(String),
}

struct Closing(u16, String);

impl Closing {
    fn new(code: u16, reason: impl Into<String>) -> Self {
        Closing(code, reason.into())
    }
}

struct Socket {
    deps: SocketDeps,
    acknowledged: bool,
    credentials: Credentials,
    token_id: Option<i64>,
    operations: HashMap<String, actix_web::rt::task::JoinHandle<()>>,
    out: mpsc::Sender<Out>,
    slow: mpsc::UnboundedSender<u64>,
}

async fn run(deps: SocketDeps, mut session: Session, stream: actix_ws::MessageStream) {
    let live = Arc::clone(&deps.live);
    let config = live.config;
    let mut stream = stream
        .max_frame_size(crate::http::MAX_BODY_BYTES)
        .aggregate_continuations();
    // Operation tasks wait here when the client reads slowly; once they
    // wait, their events pile up in the broadcast ring until they lag.
    let (out, mut outgoing) = mpsc::channel::<Out>(config.queue);
    let (slow, mut slow_signals) = mpsc::unbounded_channel();
    let mut control = live.control();
    let mut closing = live.closing();
    let mut socket = Socket {
        deps,
        acknowledged: false,
        credentials: Credentials::default(),
        token_id: None,
        operations: HashMap::new(),
        out,
        slow,
    };
    let mut last_heard = Instant::now();
    let opened = Instant::now();
    let mut ticks = tokio::time::interval(config.ping_interval.min(config.init_timeout));
    ticks.tick().await;
    let ending: Closing = loop {
        if *closing.borrow() {
            break Closing::new(1001, "the server is shutting down");
        }
        tokio::select! {
            message = stream.recv() => {
                last_heard = Instant::now();
                let message = match message {
                    None => break Closing::new(1000, ""),
                    Some(Err(_)) => break Closing::new(4400, "malformed WebSocket frame"),
                    Some(Ok(message)) => message,
                };
                let text = match message {
                    actix_ws::AggregatedMessage::Text(text) => text,
                    actix_ws::AggregatedMessage::Ping(bytes) => {
                        if session.pong(&bytes).await.is_err() { break Closing::new(1000, ""); }
                        continue;
                    }
                    actix_ws::AggregatedMessage::Pong(_) => continue,
                    actix_ws::AggregatedMessage::Close(_) => break Closing::new(1000, ""),
                    actix_ws::AggregatedMessage::Binary(_) => break Closing::new(4400, "messages are JSON text"),
                };
                match socket.handle(&text, &mut session).await {
                    Ok(()) => {}
                    Err(closing) => break closing,
                }
            }
            Some(out) = outgoing.recv() => {
                let (id, message) = match out {
                    Out::Next(id, response) => {
                        let message = json!({"id": id, "type": "next", "payload": response});
                        (None, message)
                    }
                    Out::Error(id, errors) => {
                        let message = json!({"id": id, "type": "error", "payload": errors});
                        (Some(id), message)
                    }
                    Out::Complete(id) => {
                        let message = json!({"id": id, "type": "complete"});
                        (Some(id), message)
                    }
                };
                if let Some(id) = id
                    && socket.operations.remove(&id).is_some() {
                        live.metrics.subscriptions.dec();
                    }
                if session.text(message.to_string()).await.is_err() {
                    break Closing::new(1000, "");
                }
            }
            Some(behind) = slow_signals.recv() => {
                tracing::warn!(behind, "live: closing a socket that reads too slowly");
                live.metrics.closed.with_label_values(&["slow_consumer"]).inc();
                break Closing::new(1013, format!(
                    "too slow: more than {} events behind; resume with changes(after: lastCursor)",
                    config.queue
                ));
            }
            control = control.recv() => {
                let revoked = match control {
                    Ok(Control::Revoked(id)) => socket.token_id == Some(id),
                    Ok(Control::Recheck) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        socket.token_id.is_some() && !socket.token_still_valid().await
                    }
                    Err(_) => false,
                };
                if revoked {
                    live.metrics.closed.with_label_values(&["token_revoked"]).inc();
                    break Closing::new(4403, "Forbidden: the token was revoked");
                }
            }
            _ = closing.changed() => {}
            _ = ticks.tick() => {
                if !socket.acknowledged && opened.elapsed() >= config.init_timeout {
                    live.metrics.closed.with_label_values(&["init_timeout"]).inc();
                    break Closing::new(4408, "Connection initialisation timeout");
                }
                if last_heard.elapsed() >= config.idle_timeout {
                    live.metrics.closed.with_label_values(&["idle"]).inc();
                    break Closing::new(4504, "idle: no message or pong within the idle timeout");
                }
                if session.ping(b"").await.is_err() {
                    break Closing::new(1000, "");
                }
            }
        }
    };
    for (_, task) in socket.operations.drain() {
        task.abort();
        live.metrics.subscriptions.dec();
    }
    let Closing(code, reason) = ending;
    let reason = CloseReason {
        code: CloseCode::from(code),
        description: (!reason.is_empty()).then_some(reason),
    };
    if session.close(Some(reason)).await.is_ok() {
        // The closing handshake: the client answers with its own close frame,
        // and only then does the connection end, so the client reads the
        // code instead of a reset (a client still writing pongs would get one).
        let _ = tokio::time::timeout(CLOSE_HANDSHAKE, async {
            while let Some(Ok(message)) = stream.recv().await {
                if matches!(message, actix_ws::AggregatedMessage::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
}

/// The bearer token of a `connection_init` payload: `Authorization` (as
/// GraphiQL's headers send it) or `authorization`, `Bearer <secret>` or the
/// bare secret.
fn token_of(payload: &Value) -> Option<String> {
    let value = payload
        .get("Authorization")
        .or_else(|| payload.get("authorization"))
        .and_then(Value::as_str)?
        .trim();
    let secret = match value.split_once(' ') {
        Some((scheme, secret)) if scheme.eq_ignore_ascii_case("bearer") => secret.trim(),
        _ => value,
    };
    (!secret.is_empty()).then(|| secret.to_owned())
}

impl Socket {
    async fn token_still_valid(&self) -> bool {
        let Some(secret) = self.credentials.bearer_secret() else {
            return true;
        };
        let Ok(mut conn) = self.deps.pool.get().await else {
            // Unknown is not revoked: checked again on the next recheck.
            return true;
        };
        !matches!(
            db::tokens::active_by_hash(&mut conn, &auth::hash(secret)).await,
            Ok(None)
        )
    }

    async fn handle(&mut self, text: &str, session: &mut Session) -> Result<(), Closing> {
        let message: Value = serde_json::from_str(text)
            .map_err(|_| Closing::new(4400, "a message must be a JSON object"))?;
        let kind = message
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| Closing::new(4400, "a message needs a `type`"))?;
        match kind {
            "connection_init" => {
                if self.acknowledged {
                    return Err(Closing::new(4429, "Too many initialisation requests"));
                }
                let payload = message.get("payload").cloned().unwrap_or(Value::Null);
                if let Some(secret) = token_of(&payload) {
                    let mut conn = self
                        .deps
                        .pool
                        .get()
                        .await
                        .map_err(|_| Closing::new(1011, "the database is unavailable"))?;
                    let token = db::tokens::active_by_hash(&mut conn, &auth::hash(&secret))
                        .await
                        .map_err(|_| Closing::new(1011, "the database is unavailable"))?
                        .ok_or_else(|| Closing::new(4403, "Forbidden: the token is not valid"))?;
                    self.token_id = Some(token.id);
                    self.credentials = Credentials(Some(format!("Bearer {secret}")));
                }
                self.acknowledged = true;
                session
                    .text(json!({"type": "connection_ack"}).to_string())
                    .await
                    .map_err(|_| Closing::new(1000, ""))
            }
            "ping" => session
                .text(json!({"type": "pong"}).to_string())
                .await
                .map_err(|_| Closing::new(1000, "")),
            "pong" => Ok(()),
            "subscribe" => self.subscribe(&message).await,
            "complete" => {
                let id = message
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| Closing::new(4400, "`complete` needs an `id`"))?;
                if let Some(task) = self.operations.remove(id) {
                    task.abort();
                    self.deps.live.metrics.subscriptions.dec();
                }
                Ok(())
            }
            other => Err(Closing::new(
                4400,
                format!("unknown message type {other:?}"),
            )),
        }
    }

    async fn subscribe(&mut self, message: &Value) -> Result<(), Closing> {
        if !self.acknowledged {
            return Err(Closing::new(4401, "Unauthorized"));
        }
        let id = message
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| Closing::new(4400, "`subscribe` needs an `id`"))?
            .to_owned();
        if self.operations.contains_key(&id) {
            return Err(Closing::new(
                4409,
                format!("Subscriber for {id} already exists"),
            ));
        }
        let payload = message
            .get("payload")
            .ok_or_else(|| Closing::new(4400, "`subscribe` needs a `payload`"))?;
        let query = payload
            .get("query")
            .and_then(Value::as_str)
            .ok_or_else(|| Closing::new(4400, "the payload needs a `query` string"))?;
        let mut request = Request::new(query);
        if let Some(name) = payload.get("operationName").and_then(Value::as_str) {
            request = request.operation_name(name);
        }
        match payload.get("variables") {
            None | Some(Value::Null) => {}
            Some(variables @ Value::Object(_)) => {
                if crate::graphql::limits::check_variables(variables).is_err() {
                    return Err(Closing::new(4400, "the variables are nested too deeply"));
                }
                request = request.variables(Variables::from_json(variables.clone()));
            }
            Some(_) => return Err(Closing::new(4400, "`variables` must be an object")),
        }
        if self.operations.len() >= self.deps.live.config.max_subscriptions {
            let error = refused_error(
                "TOO_MANY_SUBSCRIPTIONS",
                &format!(
                    "this socket runs {} operations, the most it may (TALENTGRAPH_WS_MAX_SUBSCRIPTIONS): complete one first",
                    self.operations.len()
                ),
            );
            let _ = self.out.send(Out::Error(id, vec![error])).await;
            return Ok(());
        }
        if let Err(errors) = self.deps.guard.admit_operation(&mut request) {
            let _ = self.out.send(Out::Error(id, errors)).await;
            return Ok(());
        }
        let (armed, listening) = tokio::sync::oneshot::channel();
        let request = request
            .data(Armed(std::sync::Mutex::new(Some(armed))))
            .data(request_loader(self.deps.pool.clone()))
            .data(self.deps.pool.clone())
            .data(self.credentials.clone())
            .data(Arc::clone(&self.deps.live))
            .data(SlowConsumer(self.slow.clone()));
        let schema = self.deps.schema.clone();
        let metrics = self.deps.metrics.clone();
        let out = self.out.clone();
        let task_id = id.clone();
        let task = actix_web::rt::spawn(async move {
            let mut responses = schema.execute_stream(request);
            let mut first = true;
            while let Some(mut response) = responses.next().await {
                crate::observability::finish_response(
                    &mut response,
                    metrics.as_deref().map(|m| &**m),
                );
                // Refused before running (syntax, validation, a bad argument
                // of the subscription field): the protocol's `error`.
                let refused = first
                    && response.data == async_graphql::Value::Null
                    && !response.errors.is_empty();
                if refused {
                    let _ = out.send(Out::Error(task_id, response.errors)).await;
                    return;
                }
                first = false;
                if out
                    .send(Out::Next(task_id.clone(), response))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            let _ = out.send(Out::Complete(task_id)).await;
        });
        self.operations.insert(id, task);
        self.deps.live.metrics.subscriptions.inc();
        // The client's next message waits until this operation listens (or
        // has ended: the sender is dropped with the request), so that a
        // `ping` answered means every subscription before it is armed.
        let _ = tokio::time::timeout(ARM_TIMEOUT, listening).await;
        Ok(())
    }
}

fn refused_error(code: &str, message: &str) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", code);
    error.extensions = Some(extensions);
    error
}
