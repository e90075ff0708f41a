//! What every GraphQL request passes before async-graphql sees it: the
//! nesting scan, one parse, the limits of `graphql::limits`, the GET-reads-only
//! rule, the client's input (`graphql::input`) and the client's rate limit.
//! Every refusal here runs no SQL.
//!
//! The input is checked before async-graphql validates the document, so a
//! request that both fails validation and brings a wrong variable hears about
//! the variable; either way it is a request error and nothing runs.

use std::net::IpAddr;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use async_graphql::parser::types::OperationType;
use async_graphql::{Request, ServerError};
use futures_util::FutureExt as _;

use super::documents::{DocumentCache, Unusable};
use super::negotiate::GRAPHQL_RESPONSE;
use super::rate_limit::{Charge, ClientKey, RateLimiter, SharedBuckets};
use crate::config::HttpConfig;
use crate::db::DbPool;
use crate::graphql::auth::{Credentials, VerifiedTokens};
use crate::graphql::input::{InputError, InputTypes};
use crate::graphql::limits::{self, CostModel, LimitError};

/// Shared by every worker: built once from the schema and the configuration.
pub struct Guard {
    model: CostModel,
    inputs: InputTypes,
    documents: DocumentCache,
    verified: VerifiedTokens,
    limiter: RateLimiter,
    trust_forwarded_for: bool,
    persisted: super::persisted::PersistedQueries,
}

/// Codes of refusals made over HTTP rather than by a document's measure.
pub mod code {
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    pub const REQUEST_TOO_LARGE: &str = "REQUEST_TOO_LARGE";
    pub const BATCH_NOT_SUPPORTED: &str = "BATCH_NOT_SUPPORTED";
    pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
    pub const NOT_ACCEPTABLE: &str = "NOT_ACCEPTABLE";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
}

/// An error response in the GraphQL shape, without executing anything.
pub fn refusal(status: StatusCode, media_type: &str, code: &str, message: &str) -> HttpResponse {
    let mut response =
        HttpResponse::build(status)
            .content_type(media_type)
            .json(serde_json::json!({
                "errors": [{ "message": message, "extensions": { "code": code } }]
            }));
    // So that the metrics and the request's log line count it like any error.
    response
        .extensions_mut()
        .insert(crate::observability::RefusedWith(code.to_owned()));
    response
}

/// `response` (a refusal made after the client was charged) with what the
/// charge left: `extensions.cost` in its body and the `RateLimit-*` headers.
fn costed(mut response: HttpResponse, charge: &Charge) -> HttpResponse {
    super::budget::insert_headers(response.headers_mut(), charge);
    let (response, body) = response.into_parts();
    // A refusal's body is JSON bytes already in memory: read at once.
    let json = actix_web::body::to_bytes(body)
        .now_or_never()
        .and_then(Result::ok)
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok());
    let mut json = json.unwrap_or_else(|| serde_json::json!({}));
    if let Some(object) = json.as_object_mut() {
        object.insert(
            "extensions".to_owned(),
            serde_json::json!({ "cost": super::budget::cost_extension(charge) }),
        );
    }
    response.set_body(actix_web::body::BoxBody::new(
        serde_json::to_vec(&json).unwrap_or_default(),
    ))
}

/// The status of a request refused before execution: like a validation
/// error, a 400 with the newer media type and a 200 with plain JSON
/// (GraphQL-over-HTTP).
fn request_error_status(media_type: &str) -> StatusCode {
    if media_type == GRAPHQL_RESPONSE {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    }
}

fn limit_refusal(media_type: &str, error: &LimitError) -> HttpResponse {
    refusal(
        request_error_status(media_type),
        media_type,
        error.code(),
        &error.message(),
    )
}

/// Input refused before execution, each error with its code, the field it
/// names and where it is in the document; no `data` entry.
fn input_refusal(media_type: &str, errors: Vec<InputError>) -> HttpResponse {
    let code = errors.first().map_or(code::BAD_REQUEST, |e| e.code);
    let errors: Vec<ServerError> = errors.into_iter().map(ServerError::from).collect();
    let mut response = HttpResponse::build(request_error_status(media_type))
        .content_type(media_type)
        .json(serde_json::json!({ "errors": errors }));
    response
        .extensions_mut()
        .insert(crate::observability::RefusedWith(code.to_owned()));
    response
}

impl Guard {
    /// Keeps the rate-limit buckets in Redis (`TALENTGRAPH_REDIS_URL`).
    pub fn share_limits(&mut self, shared: SharedBuckets) {
        self.limiter.share(shared);
    }

    pub fn new(model: CostModel, config: &HttpConfig) -> Self {
        Guard {
            model,
            inputs: InputTypes::of_schema(),
            documents: DocumentCache::default(),
            verified: VerifiedTokens::default(),
            limiter: RateLimiter::new(
                config.rate_limit_capacity,
                config.rate_limit_refill_per_second,
            ),
            trust_forwarded_for: config.trust_forwarded_for,
            persisted: Default::default(),
        }
    }

    /// The automatic persisted queries this process holds.
    pub fn persisted(&self) -> &super::persisted::PersistedQueries {
        &self.persisted
    }

    /// Checks `request`; on success it carries its parsed document, so
    /// async-graphql does not parse it again, and the charge is returned for
    /// the answer to show. Every refusal after the charge shows it too.
    pub async fn admit(
        &self,
        req: &HttpRequest,
        request: &mut Request,
        media_type: &'static str,
        read_only: bool,
        credentials: &Credentials,
        pool: &DbPool,
    ) -> Result<Charge, HttpResponse> {
        let measured = self.measure(request, read_only);
        // Only a request that will run may cost a token lookup: a refused one
        // issues no SQL, and is charged to whatever client it is known as.
        if measured.is_ok() {
            self.verified.recognise(credentials, pool).await;
        }
        let cost = match &measured {
            Ok(Some(measure)) => measure.cost,
            // Refusals and unparsable documents cost a point, so floods of them are limited too.
            _ => 1,
        };
        let charge = self
            .limiter
            .charge(self.client(req, credentials), cost)
            .await;
        if let Charge::Refused { retry_after, .. } = charge {
            let seconds = retry_after.as_secs().max(1);
            let mut response = refusal(
                StatusCode::TOO_MANY_REQUESTS,
                media_type,
                code::RATE_LIMITED,
                &format!("rate limit reached: try again in {seconds} s"),
            );
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return Err(costed(response, &charge));
        }
        match measured {
            Ok(_) => Ok(charge),
            Err(Refused::Limit(error)) => Err(costed(limit_refusal(media_type, &error), &charge)),
            Err(Refused::Input(errors)) => Err(costed(input_refusal(media_type, errors), &charge)),
            Err(Refused::WriteOverGet) => {
                let mut response = refusal(
                    StatusCode::METHOD_NOT_ALLOWED,
                    media_type,
                    code::METHOD_NOT_ALLOWED,
                    "GET only runs queries: send mutations with POST",
                );
                response
                    .headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static("POST"));
                Err(costed(response, &charge))
            }
        }
    }

    /// Checks an operation sent over a WebSocket with the same limits and
    /// input checks as over HTTP (depth, cost, …); the refusal is the
    /// protocol's `error` message. Not rate-limited: a socket's operations
    /// are bounded by `TALENTGRAPH_WS_MAX_SUBSCRIPTIONS` instead.
    pub fn admit_operation(&self, request: &mut Request) -> Result<(), Vec<ServerError>> {
        match self.measure(request, false) {
            Ok(_) | Err(Refused::WriteOverGet) => Ok(()),
            Err(Refused::Limit(error)) => {
                let mut refused = ServerError::new(error.message(), None);
                let mut extensions = async_graphql::ErrorExtensionValues::default();
                extensions.set("code", error.code());
                refused.extensions = Some(extensions);
                Err(vec![refused])
            }
            Err(Refused::Input(errors)) => Err(errors.into_iter().map(ServerError::from).collect()),
        }
    }

    /// `Ok(None)`: a syntax error, left for async-graphql to report.
    fn measure(
        &self,
        request: &mut Request,
        read_only: bool,
    ) -> Result<Option<limits::Measure>, Refused> {
        limits::check_nesting(&request.query).map_err(Refused::Limit)?;
        let (document, verdicts) = match self.documents.parse(&request.query) {
            Ok(parsed) => parsed,
            Err(Unusable::Syntax) => return Ok(None),
            Err(Unusable::RepeatedInputField(error)) => return Err(Refused::Input(vec![error])),
        };
        let measure = self
            .model
            .measure(&document, &request.variables)
            .map_err(Refused::Limit)?;
        if read_only
            && limits::operation_type(&document, request.operation_name.as_deref())
                .is_some_and(|ty| ty != OperationType::Query)
        {
            return Err(Refused::WriteOverGet);
        }
        self.inputs
            .check(
                &request.query,
                &document,
                request.operation_name.as_deref(),
                &request.variables,
            )
            .map_err(Refused::Input)?;
        request.set_parsed_query(document);
        // Only now: the variables were checked just above, which is what
        // lets a verdict about the document stand for this request.
        request.set_validation_verdicts(verdicts);
        Ok(Some(measure))
    }

    /// The tokens known to be valid, which [`Guard::client`] keys by.
    pub fn verified(&self) -> &VerifiedTokens {
        &self.verified
    }

    /// A valid bearer token if there is one, else the peer's address (or, behind
    /// a trusted proxy, the address it says it served).
    fn client(&self, req: &HttpRequest, credentials: &Credentials) -> ClientKey {
        let token = credentials
            .bearer_secret()
            .filter(|t| self.verified.contains(t));
        if let Some(token) = token {
            return self.limiter.token_key(token);
        }
        let forwarded = self
            .trust_forwarded_for
            .then(|| req.headers().get("x-forwarded-for"))
            .flatten()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|last| last.trim().parse::<IpAddr>().ok());
        let address = forwarded
            .or_else(|| req.peer_addr().map(|a| a.ip()))
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        ClientKey::Address(address)
    }
}

enum Refused {
    Limit(LimitError),
    WriteOverGet,
    Input(Vec<InputError>),
}
