//! What admins do: manage tokens and read the audit trail.

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, ID, InputObject, Json, Object, SimpleObject};

use crate::auth::{self, Role};
use crate::db;
use crate::db::audit::{AuditFilter, AuditRow};
use crate::db::tokens::TokenRow;
use crate::domain::validate::{self, MAX_NAME};
use crate::graphql::auth::require;
use crate::graphql::context::ContextExt;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::ids::{self, NodeKind};
use crate::graphql::pagination::{Cursor, List, TotalCount, keyset_page, page_size};
use crate::graphql::scalars::DateTimeScalar;

/// A write token, without its secret (which is shown only once, on creation).
#[derive(Debug, Clone)]
pub struct ApiToken(TokenRow);

/// A write token, without its secret (shown only once, when the token is
/// created).
#[Object]
impl ApiToken {
    /// The token's number, as `talentgraph token revoke` takes it.
    async fn id(&self) -> i64 {
        self.0.id
    }

    /// What the token is for, e.g. `ci-frontend`.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// What the token may do.
    async fn role(&self) -> ApiResult<Role> {
        Role::from_db(&self.0.role).ok_or_else(|| {
            ApiError::internal(format!("token {} has role {:?}", self.0.id, self.0.role))
        })
    }

    /// RFC 3339 timestamp.
    #[graphql(deprecation = "Use `createdTimestamp`, typed `DateTime`.")]
    async fn created_at(&self) -> String {
        self.0.created_at.to_rfc3339()
    }

    /// RFC 3339 timestamp; null while the token is valid.
    #[graphql(deprecation = "Use `revokedTimestamp`, typed `DateTime`.")]
    async fn revoked_at(&self) -> Option<String> {
        self.0.revoked_at.map(|t| t.to_rfc3339())
    }

    /// When the token was created.
    async fn created_timestamp(&self) -> DateTimeScalar {
        DateTimeScalar(self.0.created_at)
    }

    /// When the token was revoked; null while it is valid.
    async fn revoked_timestamp(&self) -> Option<DateTimeScalar> {
        self.0.revoked_at.map(DateTimeScalar)
    }
}

/// What kind of row an audit entry is about.
#[derive(Debug, Enum, Copy, Clone, Eq, PartialEq)]
pub enum AuditEntityType {
    /// An organization or unit: its name, kind, parent and other details.
    Organization,
    /// A person: name, slug, aliases and bio.
    Person,
    /// A stint of a person at an organization.
    Employment,
    /// A publication's own details (its authors are AUTHORSHIP entries).
    Publication,
    /// A person's place in a publication's author list.
    Authorship,
    /// A source that employments and authorships cite.
    Source,
    /// A citation of a source by an employment; filed under the employment.
    EmploymentSource,
    /// A citation of a source by an authorship; filed under the authorship.
    AuthorshipSource,
    /// A source's attestation of an employment (in progress on a date, or
    /// ended by it); filed under the employment.
    EmploymentAttestation,
}

impl AuditEntityType {
    pub(crate) const ALL: [AuditEntityType; 9] = [
        AuditEntityType::Organization,
        AuditEntityType::Person,
        AuditEntityType::Employment,
        AuditEntityType::Publication,
        AuditEntityType::Authorship,
        AuditEntityType::Source,
        AuditEntityType::EmploymentSource,
        AuditEntityType::AuthorshipSource,
        AuditEntityType::EmploymentAttestation,
    ];

    pub(crate) fn as_db(self) -> &'static str {
        match self {
            AuditEntityType::Organization => "organization",
            AuditEntityType::Person => "person",
            AuditEntityType::Employment => "employment",
            AuditEntityType::Publication => "publication",
            AuditEntityType::Authorship => "authorship",
            AuditEntityType::Source => "source",
            AuditEntityType::EmploymentSource => "employment_source",
            AuditEntityType::AuthorshipSource => "authorship_source",
            AuditEntityType::EmploymentAttestation => "employment_attestation",
        }
    }

    /// The kind of node whose id `entity_id` holds for this type.
    pub(crate) fn node_kind(self) -> NodeKind {
        match self {
            AuditEntityType::Organization => NodeKind::Organization,
            AuditEntityType::Person => NodeKind::Person,
            AuditEntityType::Employment
            | AuditEntityType::EmploymentSource
            | AuditEntityType::EmploymentAttestation => NodeKind::Employment,
            AuditEntityType::Publication => NodeKind::Publication,
            AuditEntityType::Authorship | AuditEntityType::AuthorshipSource => NodeKind::Authorship,
            AuditEntityType::Source => NodeKind::Source,
        }
    }

    /// The types whose entries are about a node of `kind`: its own, and its
    /// citations.
    fn about(kind: NodeKind) -> Vec<AuditEntityType> {
        Self::ALL
            .into_iter()
            .filter(|t| t.node_kind() == kind)
            .collect()
    }
}

/// What a change did to a row.
#[derive(Debug, Enum, Copy, Clone, Eq, PartialEq)]
pub enum AuditAction {
    /// The row was created; `before` is null.
    Create,
    /// The row was changed; `before` and `after` hold it as it was and became.
    Update,
    /// The row was deleted; `after` is null.
    Delete,
}

/// One change: who made it, when, and the row before and after.
pub struct AuditEntry {
    pub(crate) row: AuditRow,
    pub(crate) token_name: Option<String>,
}

impl AuditEntry {
    fn kind(&self) -> ApiResult<AuditEntityType> {
        AuditEntityType::ALL
            .into_iter()
            .find(|t| t.as_db() == self.row.entity_type)
            .ok_or_else(|| ApiError::internal(format!("audit entity {:?}", self.row.entity_type)))
    }
}

/// One change to the data: who made it, when, and the row before and after.
#[Object]
impl AuditEntry {
    /// Entries are numbered in the order they were written.
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }

    /// RFC 3339 timestamp of the transaction that made the change.
    #[graphql(deprecation = "Use `changedTimestamp`, typed `DateTime`.")]
    async fn changed_at(&self) -> String {
        self.row.changed_at.to_rfc3339()
    }

    /// When the transaction that made the change ran.
    async fn changed_timestamp(&self) -> DateTimeScalar {
        DateTimeScalar(self.row.changed_at)
    }

    /// `token:<id>` for the API, `cli:<command>` for the command line,
    /// `database:<role>` for SQL run directly against the database.
    async fn actor(&self) -> &str {
        &self.row.actor
    }

    /// The token's number, when a token made the change.
    async fn token_id(&self) -> Option<i64> {
        self.row.token_id
    }

    /// The name of the token that made the change (e.g. `ci-frontend`); null
    /// when no token did.
    async fn token_name(&self) -> Option<&str> {
        self.token_name.as_deref()
    }

    /// Whether the row was created, updated or deleted.
    async fn action(&self) -> ApiResult<AuditAction> {
        match self.row.action.as_str() {
            "CREATE" => Ok(AuditAction::Create),
            "UPDATE" => Ok(AuditAction::Update),
            "DELETE" => Ok(AuditAction::Delete),
            other => Err(ApiError::internal(format!("audit action {other:?}"))),
        }
    }

    /// What kind of row changed.
    async fn entity_type(&self) -> ApiResult<AuditEntityType> {
        self.kind()
    }

    /// The global id of the entity (for a citation, of the fact citing it),
    /// which `Query.node` resolves while the entity exists.
    async fn entity_id(&self) -> ApiResult<ID> {
        let kind = self.kind()?.node_kind();
        Ok(ids::encode(kind, self.row.entity_id))
    }

    /// The row before the change, as stored; null for a creation.
    async fn before(&self) -> Option<Json<serde_json::Value>> {
        self.row.before.clone().map(Json)
    }

    /// The row after the change, as stored; null for a deletion.
    async fn after(&self) -> Option<Json<serde_json::Value>> {
        self.row.after.clone().map(Json)
    }
}

pub type AuditEntryConnection = Connection<Cursor, AuditEntry, TotalCount>;

#[derive(Default)]
pub struct AdminQuery;

#[Object]
impl AdminQuery {
    /// Every change, newest first. Filter by `entityType`, or by `entityId`
    /// for one entity's history including its citations. Needs an admin token.
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only changes to rows of this kind; all kinds when omitted.")]
        entity_type: Option<AuditEntityType>,
        #[graphql(
            desc = "Only the history of this entity (a global id), its citations of sources included."
        )]
        entity_id: Option<ID>,
        #[graphql(desc = "Page size: 20 when omitted, at most 100.")] first: Option<i32>,
        #[graphql(desc = "A cursor from this list: the page starts after it.")] after: Option<
            String,
        >,
        #[graphql(
            desc = "Page size counted from the end, the oldest entries (for a Previous button): at most 100; not with `first`."
        )]
        last: Option<i32>,
        #[graphql(desc = "A cursor from this list: the page ends before it.")] before: Option<
            String,
        >,
    ) -> ApiResult<AuditEntryConnection> {
        require(ctx, Role::Admin).await?;
        if last.is_some() && first.is_some() {
            return Err(ApiError::BadUserInput(
                "give `first` or `last`, not both".into(),
            ));
        }
        let backward = last.is_some();
        let limit = page_size(if backward { last } else { first })?;
        let mut filter = AuditFilter::default();
        let mut types: Option<Vec<AuditEntityType>> = entity_type.map(|t| vec![t]);
        if let Some(id) = &entity_id {
            let (kind, number) = ids::decode(id)?;
            let about = AuditEntityType::about(kind);
            types = Some(match types {
                Some(wanted) => wanted.into_iter().filter(|t| about.contains(t)).collect(),
                None => about,
            });
            filter.entity_id = Some(number);
        }
        filter.entity_types =
            types.map(|ts| ts.into_iter().map(|t| t.as_db().to_owned()).collect());
        let older_than: Option<i64> = Cursor::decode(List::AuditLog, after.as_deref())?;
        let newer_than: Option<i64> =
            Cursor::decode_named(&List::AuditLog.name(), "before", before.as_deref())?;
        let mut conn = ctx.pool()?.get().await?;
        if backward || newer_than.is_some() {
            let mut rows = db::audit::range(
                &mut conn,
                &filter,
                older_than,
                newer_than,
                limit + 1,
                backward,
            )
            .await?;
            let more = rows.len() as i64 > limit;
            rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            let (has_previous, has_next) = if backward {
                rows.reverse();
                (more, newer_than.is_some())
            } else {
                (older_than.is_some(), more)
            };
            let mut connection = Connection::with_additional_fields(
                has_previous,
                has_next,
                TotalCount::Audit(filter),
            );
            for (row, token_name) in rows {
                connection.edges.push(async_graphql::connection::Edge::new(
                    Cursor::new(List::AuditLog, row.id),
                    AuditEntry { row, token_name },
                ));
            }
            return Ok(connection);
        }
        let before = older_than;
        let rows = db::audit::page(&mut conn, &filter, before, limit + 1).await?;
        keyset_page(
            List::AuditLog,
            rows,
            limit,
            before.is_some(),
            TotalCount::Audit(filter),
            |(row, _)| row.id,
            |(row, token_name)| Ok(AuditEntry { row, token_name }),
        )
    }

    /// Every write token, valid or revoked. Needs an admin token.
    async fn api_tokens(&self, ctx: &Context<'_>) -> ApiResult<Vec<ApiToken>> {
        require(ctx, Role::Admin).await?;
        let mut conn = ctx.pool()?.get().await?;
        Ok(db::tokens::all(&mut conn)
            .await?
            .into_iter()
            .map(ApiToken)
            .collect())
    }
}

/// A new write token: what it is for and what it may do.
#[derive(InputObject)]
pub struct CreateTokenInput {
    /// What the token is for, e.g. `ci-frontend`.
    pub name: String,
    /// What the token may do.
    pub role: Role,
}

/// The token to revoke.
#[derive(InputObject)]
pub struct RevokeTokenInput {
    /// The token's number (`ApiToken.id`).
    pub id: i64,
}

/// The new token and, this once, its secret.
#[derive(SimpleObject)]
pub struct CreateTokenPayload {
    /// The token as stored, without its secret.
    pub token: ApiToken,
    /// The bearer secret. Shown this once: only its hash is stored.
    pub secret: String,
}

/// The token that was revoked.
#[derive(SimpleObject)]
pub struct RevokeTokenPayload {
    /// The token, with `revokedAt` set.
    pub token: ApiToken,
}

#[derive(Default)]
pub struct AdminMutations;

#[Object]
impl AdminMutations {
    /// Creates a write token. Needs an admin token.
    async fn create_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new token's name and role.")] input: CreateTokenInput,
    ) -> ApiResult<CreateTokenPayload> {
        require(ctx, Role::Admin).await?;
        validate::text("input.name", &input.name, MAX_NAME)?;
        let secret = auth::new_secret().map_err(ApiError::internal)?;
        let mut conn = ctx.pool()?.get().await?;
        let row = db::tokens::insert(
            &mut conn,
            &input.name,
            input.role.as_db(),
            &auth::hash(&secret),
        )
        .await?;
        Ok(CreateTokenPayload {
            token: ApiToken(row),
            secret,
        })
    }

    /// Revokes a token at once; revoking it again changes nothing. Needs an
    /// admin token.
    async fn revoke_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which token to revoke.")] input: RevokeTokenInput,
    ) -> ApiResult<RevokeTokenPayload> {
        require(ctx, Role::Admin).await?;
        let mut conn = ctx.pool()?.get().await?;
        let row = db::tokens::revoke(&mut conn, input.id)
            .await?
            .ok_or_else(|| ApiError::NotFound("input.id: no token has this id".into()))?;
        Ok(RevokeTokenPayload {
            token: ApiToken(row),
        })
    }
}
