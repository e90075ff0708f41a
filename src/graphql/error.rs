//! The one error type at the API boundary, and where every error gets its
//! stable `extensions.code`.
//!
//! Resolvers return [`ApiError`]; what a database or pool failure means to a
//! client is decided here, once. Internal causes are logged with a reference
//! and never sent: the client sees the code, a plain message and the reference.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{
    ErrorExtensions as _, Response, ServerError, ServerResult, ValidationResult, Variables,
};

/// Stable machine-readable error codes, sent as `extensions.code`.
pub mod code {
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const CONFLICT: &str = "CONFLICT";
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const DATABASE_UNAVAILABLE: &str = "DATABASE_UNAVAILABLE";
    pub const INTERNAL: &str = "INTERNAL";
    pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
}

/// An error as the client sees it. Deliberately not `Display`: async-graphql
/// turns any `Display` error into a message without a code, so the only way
/// out of a resolver is the `From` below, which attaches `extensions.code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    BadUserInput(String),
    NotFound(String),
    /// A unique value already taken, or an update based on a stale version.
    Conflict(String),
    /// No bearer token, or one that is unknown or revoked.
    Unauthenticated,
    /// A valid token whose role does not allow this.
    Forbidden(String),
    DatabaseUnavailable,
    /// Holds the reference under which the cause was logged.
    Internal(String),
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadUserInput(_) => code::BAD_USER_INPUT,
            ApiError::NotFound(_) => code::NOT_FOUND,
            ApiError::Conflict(_) => code::CONFLICT,
            ApiError::Unauthenticated => code::UNAUTHENTICATED,
            ApiError::Forbidden(_) => code::FORBIDDEN,
            ApiError::DatabaseUnavailable => code::DATABASE_UNAVAILABLE,
            ApiError::Internal(_) => code::INTERNAL,
        }
    }

    pub fn message(&self) -> String {
        match self {
            ApiError::BadUserInput(message)
            | ApiError::NotFound(message)
            | ApiError::Conflict(message)
            | ApiError::Forbidden(message) => message.clone(),
            ApiError::Unauthenticated => {
                "this operation needs a valid bearer token (Authorization: Bearer …)".to_owned()
            }
            ApiError::DatabaseUnavailable => {
                "the database is unavailable, try again shortly".to_owned()
            }
            ApiError::Internal(reference) => format!("internal error (reference {reference})"),
        }
    }

    /// Logs `cause` under a fresh reference and returns the error the client sees.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let reference = new_reference();
        tracing::error!(%reference, error = %cause, "internal error");
        ApiError::Internal(reference)
    }
}

fn new_reference() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{:x}-{:x}",
        nanos as u64,
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

impl From<diesel::result::Error> for ApiError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match &error {
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => {
                tracing::warn!(%error, "database connection lost");
                ApiError::DatabaseUnavailable
            }
            _ => ApiError::internal(error),
        }
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for ApiError {
    fn from(error: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        tracing::warn!(%error, "no database connection");
        ApiError::DatabaseUnavailable
    }
}

impl From<crate::domain::PartialDateError> for ApiError {
    /// Partial dates read from the database were written by us: a bad one is a bug.
    fn from(error: crate::domain::PartialDateError) -> Self {
        ApiError::internal(error)
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        let code = error.code();
        async_graphql::Error::new(error.message()).extend_with(|_, e| e.set("code", code))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Gives every error in a response a code: those async-graphql raises itself
/// (syntax, validation, input coercion) come without one.
pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodesExtension)
    }
}

struct ErrorCodesExtension;

fn with_code(mut error: ServerError, code: &'static str) -> ServerError {
    let has_code = error
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some());
    if !has_code {
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
    }
    error
}

/// async-graphql reports a value its scalar or type refused this way.
fn is_input_error(error: &ServerError) -> bool {
    error.message.starts_with("Invalid value for argument")
        || error.message.starts_with("Failed to parse")
}

#[async_trait::async_trait]
impl Extension for ErrorCodesExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables)
            .await
            .map_err(|e| with_code(e, code::GRAPHQL_PARSE_FAILED))
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|e| {
                    let code = if is_input_error(&e) {
                        code::BAD_USER_INPUT
                    } else {
                        code::GRAPHQL_VALIDATION_FAILED
                    };
                    with_code(e, code)
                })
                .collect()
        })
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        response.errors = std::mem::take(&mut response.errors)
            .into_iter()
            .map(|e| {
                let code = if is_input_error(&e) {
                    code::BAD_USER_INPUT
                } else {
                    code::INTERNAL
                };
                with_code(e, code)
            })
            .collect();
        response
    }
}
