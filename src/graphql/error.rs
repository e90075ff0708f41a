//! The one error type at the API boundary, and where every error gets its
//! stable `extensions.code`.
//!
//! Resolvers return [`ApiError`]; what a database or pool failure means to a
//! client is decided here, once. Internal causes are logged with a reference
//! and never sent: the client sees the code, a plain message and the reference.

use std::sync::atomic::{AtomicU64, Ordering};

use async_graphql::{ErrorExtensions as _, ServerError};

/// Stable machine-readable error codes, sent as `extensions.code`.
pub mod code {
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const CONFLICT: &str = "CONFLICT";
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const DATABASE_UNAVAILABLE: &str = "DATABASE_UNAVAILABLE";
    /// The request, or one of its statements, ran past its time limit.
    pub const TIMEOUT: &str = "TIMEOUT";
    /// Every database connection stayed busy for the whole pool wait.
    pub const SERVICE_BUSY: &str = "SERVICE_BUSY";
    pub const INTERNAL: &str = "INTERNAL";
    pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    /// The request itself is wrong (e.g. an `operationName` the document lacks).
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
}

/// An error as the client sees it. Deliberately not `Display`: async-graphql
/// turns any `Display` error into a message without a code, so the only way
/// out of a resolver is the `From` below, which attaches `extensions.code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    BadUserInput(String),
    /// Bad input in one field of a mutation's input, named by its path
    /// (`input.endedOn`), sent as `extensions.field`.
    InvalidField {
        field: String,
        message: String,
    },
    NotFound(String),
    /// A unique value already taken, or an update based on a stale version.
    Conflict(String),
    /// No bearer token, or one that is unknown or revoked.
    Unauthenticated,
    /// A valid token whose role does not allow this.
    Forbidden(String),
    DatabaseUnavailable,
    /// A statement hit `statement_timeout` or `lock_timeout`.
    Timeout,
    /// No connection came free within the pool's wait timeout.
    ServiceBusy,
    /// Holds the reference under which the cause was logged.
    Internal(String),
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadUserInput(_) | ApiError::InvalidField { .. } => code::BAD_USER_INPUT,
            ApiError::NotFound(_) => code::NOT_FOUND,
            ApiError::Conflict(_) => code::CONFLICT,
            ApiError::Unauthenticated => code::UNAUTHENTICATED,
            ApiError::Forbidden(_) => code::FORBIDDEN,
            ApiError::DatabaseUnavailable => code::DATABASE_UNAVAILABLE,
            ApiError::Timeout => code::TIMEOUT,
            ApiError::ServiceBusy => code::SERVICE_BUSY,
            ApiError::Internal(_) => code::INTERNAL,
        }
    }

    pub fn message(&self) -> String {
        match self {
            ApiError::BadUserInput(message)
            | ApiError::NotFound(message)
            | ApiError::Conflict(message)
            | ApiError::Forbidden(message) => message.clone(),
            ApiError::InvalidField { field, message } => format!("{field}: {message}"),
            ApiError::Unauthenticated => {
                "this operation needs a valid bearer token (Authorization: Bearer …)".to_owned()
            }
            ApiError::DatabaseUnavailable => {
                "the database is unavailable, try again shortly".to_owned()
            }
            ApiError::Timeout => "the request took too long and was cancelled".to_owned(),
            ApiError::ServiceBusy => "the service is busy, try again shortly".to_owned(),
            ApiError::Internal(reference) => format!("internal error (reference {reference})"),
        }
    }

    /// Logs `cause` under the request's id (a fresh reference outside a
    /// request) and returns the error the client sees.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let reference = crate::observability::current_request_id().unwrap_or_else(new_reference);
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

/// What the statement a database error came from was doing, where that
/// changes what the error means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Statement {
    /// An insert or an update.
    Write,
    Delete,
}

impl ApiError {
    /// What a database error from a delete means: a foreign key it violates
    /// is another row still referring to this one (`CONFLICT`), where from
    /// an insert or update it is a referred row that does not exist
    /// (`NOT_FOUND`). PostgreSQL gives both the same SQLSTATE (23503) and
    /// constraint name; only the caller knows which it was doing.
    pub fn from_delete(error: diesel::result::Error) -> Self {
        Self::from_database(error, Statement::Delete)
    }

    /// Decided from the SQLSTATE, diesel's error kind and the constraint's
    /// name, never from the message, which is in the server's language.
    fn from_database(error: diesel::result::Error, statement: Statement) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        if crate::db::is_timeout(&error) {
            tracing::warn!(%error, "statement cancelled");
            return ApiError::Timeout;
        }
        if crate::db::is_connection_lost(&error) {
            tracing::warn!(%error, "database connection lost");
            return ApiError::DatabaseUnavailable;
        }
        match &error {
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => ApiError::Conflict(
                "a concurrent change got there first; read again and retry".to_owned(),
            ),
            Error::DatabaseError(kind, info) => {
                let still_referenced = statement == Statement::Delete
                    && *kind == DatabaseErrorKind::ForeignKeyViolation;
                match info
                    .constraint_name()
                    .and_then(|name| refused_by_constraint(name, still_referenced))
                {
                    Some(refusal) => refusal,
                    None => ApiError::internal(error),
                }
            }
            _ => ApiError::internal(error),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    /// A database error from an insert, an update or a read; deletes use
    /// [`ApiError::from_delete`].
    fn from(error: diesel::result::Error) -> Self {
        Self::from_database(error, Statement::Write)
    }
}

impl From<crate::domain::validate::FieldError> for ApiError {
    fn from(error: crate::domain::validate::FieldError) -> Self {
        ApiError::InvalidField {
            field: error.field,
            message: error.message,
        }
    }
}

/// What a write refused by a named constraint means to the client. The code
/// validates first; these are the refusals only the database can decide (a
/// slug taken by a concurrent request, a cycle, a reference still in use).
/// Fields are named as in the mutations' inputs. `still_referenced`: a
/// delete violated the foreign key, rather than an insert or update.
fn refused_by_constraint(constraint: &str, still_referenced: bool) -> Option<ApiError> {
    let field = |field: &str, message: &str| ApiError::InvalidField {
        field: format!("input.{field}"),
        message: message.to_owned(),
    };
    let conflict = |message: &str| ApiError::Conflict(message.to_owned());
    let missing = |message: &str| ApiError::NotFound(message.to_owned());
    Some(match constraint {
        "organizations_slug_key" => conflict("an organization with this slug already exists"),
        "people_slug_key" => conflict("a person with this slug already exists"),
        "publications_slug_key" => conflict("a publication with this slug already exists"),
        "sources_url_key" => conflict("a source with this URL already exists"),
        "authorships_publication_position_key" => {
            conflict("another author already holds this position in the publication")
        }
        "authorships_publication_person_key" => {
            conflict("this person is already an author of the publication")
        }
        "organizations_parent_acyclic" | "organizations_parent_not_self" => field(
            "parentId",
            "this parent would make the organization a unit of itself",
        ),
        "employments_end_not_before_start" => field("endedOn", "is before the start date"),
        "employments_current_has_no_end" => field(
            "isCurrent",
            "a current stint has no end date: clear endedOn or set isCurrent to false",
        ),
        "employments_cited" | "authorships_cited" => {
            field("sourceIds", "a fact needs at least one source")
        }
        "organizations_parent_fkey" if still_referenced => {
            conflict("the organization still has units; move or delete them first")
        }
        "employments_organization_fkey" if still_referenced => {
            conflict("the organization still has employments; delete or move them first")
        }
        "authorships_affiliation_fkey" if still_referenced => {
            conflict("the organization is still an author's affiliation")
        }
        "employment_sources_source_fkey" | "authorship_sources_source_fkey" if still_referenced => {
            conflict("the source is still cited; cite another source first")
        }
        "employment_attestations_source_fkey" if still_referenced => {
            conflict("the source is still cited by an attestation; remove it first")
        }
        "employment_attestations_source_fkey" => missing("input.sourceId: no such source"),
        "employment_attestations_employment_fkey" => {
            missing("input.employmentId: no such employment")
        }
        "organizations_parent_fkey" => missing("input.parentId: no such organization"),
        "employments_organization_fkey" => missing("input.organizationId: no such organization"),
        "employments_person_fkey" | "authorships_person_fkey" => {
            missing("input.personId: no such person")
        }
        "authorships_publication_fkey" => missing("input.publicationId: no such publication"),
        "authorships_affiliation_fkey" => missing("input.affiliationId: no such organization"),
        "employment_sources_source_fkey" | "authorship_sources_source_fkey" => {
            missing("input.sourceIds: no such source")
        }
        _ => return None,
    })
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for ApiError {
    fn from(error: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        use deadpool::managed::TimeoutType;
        use diesel_async::pooled_connection::deadpool::PoolError;
        if let PoolError::Timeout(TimeoutType::Wait) = error {
            tracing::warn!("every database connection is busy");
            return ApiError::ServiceBusy;
        }
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
        let field = match &error {
            ApiError::InvalidField { field, .. } => Some(field.clone()),
            _ => None,
        };
        async_graphql::Error::new(error.message()).extend_with(|_, e| {
            e.set("code", code);
            if let Some(field) = field {
                e.set("field", field);
            }
        })
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Where in async-graphql's pipeline an error without a code was raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The document did not parse.
    Parse,
    /// Everything after parsing: validation, choosing the operation, and
    /// execution.
    Parsed,
}

/// Gives an error the code of where it was raised, unless it has one: those
/// async-graphql raises itself (syntax, validation, input coercion) come
/// without.
///
/// Validation and the choice of operation run before any resolver, so their
/// errors have no path; an error raised while executing always has the path
/// of its field. A missing required variable used to be one of those
/// (`Variable s is not defined.`, sealed as `INTERNAL`); `graphql::input`
/// now refuses it before execution, so the path branch is left to real faults.
pub fn with_stage_code(error: ServerError, stage: Stage) -> ServerError {
    let code = match stage {
        Stage::Parse => code::GRAPHQL_PARSE_FAILED,
        Stage::Parsed if is_input_error(&error) => code::BAD_USER_INPUT,
        Stage::Parsed if !error.path.is_empty() => code::INTERNAL,
        Stage::Parsed if is_operation_choice_error(&error) => code::BAD_REQUEST,
        Stage::Parsed => code::GRAPHQL_VALIDATION_FAILED,
    };
    with_code(error, code)
}

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
///
/// Variables never get here any more: `graphql::input` coerces them before
/// execution and answers with its own codes. Literals still do: validation
/// refuses those a scalar's `is_valid` refuses ("Invalid value for
/// argument", no path), and a resolver those only its `parse` refuses
/// ("Failed to parse", with the field's path: `Int` literals past 32 bits).
fn is_input_error(error: &ServerError) -> bool {
    error.message.starts_with("Invalid value for argument")
        || error.message.starts_with("Failed to parse")
}

/// async-graphql's refusals of `operationName`, raised between validation and
/// execution.
fn is_operation_choice_error(error: &ServerError) -> bool {
    error.message.starts_with("Unknown operation named")
        || error.message.starts_with("Operation name required")
}

#[cfg(test)]
mod tests {
    use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind, Error};

    use super::*;

    /// A database error as a tagged connection delivers it.
    struct Refusal {
        message: String,
        constraint: Option<&'static str>,
    }

    impl DatabaseErrorInformation for Refusal {
        fn message(&self) -> &str {
            &self.message
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            self.constraint
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn refusal(kind: DatabaseErrorKind, message: &str, constraint: Option<&'static str>) -> Error {
        Error::DatabaseError(
            kind,
            Box::new(Refusal {
                message: message.to_owned(),
                constraint,
            }),
        )
    }

    fn foreign_key_violation() -> Error {
        refusal(
            DatabaseErrorKind::ForeignKeyViolation,
            "SQLSTATE 23503: UPDATE ou DELETE sur la table « organizations » viole la contrainte \
             de clé étrangère « employments_organization_fkey »",
            Some("employments_organization_fkey"),
        )
    }

    #[test]
    fn a_foreign_key_refusing_a_delete_is_a_conflict_and_refusing_a_write_is_not_found() {
        assert_eq!(
            ApiError::from_delete(foreign_key_violation()).code(),
            code::CONFLICT
        );
        assert_eq!(
            ApiError::from(foreign_key_violation()).code(),
            code::NOT_FOUND
        );
    }

    #[test]
    fn timeouts_are_told_by_their_sqlstate_in_any_language() {
        for message in [
            "SQLSTATE 57014: annulation de la requête à cause du délai écoulé",
            "SQLSTATE 55P03: annulation de la requête à cause du délai écoulé pour l'obtention des verrous",
            "SQLSTATE 25P03: arrêt de la connexion suite à un délai d'inactivité",
        ] {
            let error = refusal(DatabaseErrorKind::Unknown, message, None);
            assert_eq!(ApiError::from(error), ApiError::Timeout, "{message}");
        }
        let lost = refusal(
            DatabaseErrorKind::Unknown,
            "SQLSTATE 57P01: arrêt des connexions suite à la demande de l'administrateur",
            None,
        );
        assert_eq!(ApiError::from(lost), ApiError::DatabaseUnavailable);
    }

    #[test]
    fn english_words_without_a_sqlstate_decide_nothing() {
        let untagged = refusal(
            DatabaseErrorKind::Unknown,
            "canceling statement due to statement timeout",
            None,
        );
        assert_eq!(ApiError::from(untagged).code(), code::INTERNAL);
    }
}
