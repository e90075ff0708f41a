//! The mutation root. Each entity's writes live in their own file; every
//! resolver follows the same steps: check the token, validate the whole input
//! (nothing written yet), then make the change in one transaction that names
//! its author for the audit trail. [`Writer`] does the steps they share (and,
//! for an update or delete that touched nothing, tells a stale version from a
//! missing row), so that a resolver says only what is its own: its input, its
//! changes, its row type. Whatever the database refuses (a slug taken by a
//! concurrent request, a cycle) is mapped once, in `error.rs`.

mod admin;
mod attestation;
mod employment;
mod organization;
mod person;
mod publication;
mod source;

pub use admin::{AdminQuery, AuditAction, AuditEntityType, AuditEntry, AuditEntryConnection};

use std::borrow::Cow;

use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{ContainerType, resolve_container};
use async_graphql::{
    Context, ContextSelectionSet, ID, InputObject, MaybeUndefined, MergedObject, ObjectType,
    OutputType, Positioned, ServerResult, SimpleObject, Value, parser::types::Field,
};

use async_graphql::dataloader::Loader;

use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::auth::require;
use super::context::ContextExt;
use super::error::{ApiError, ApiResult};
use super::ids::{self, NodeKind};
use super::loaders::Db;
use super::refs::{self, EntityRef, SourceRef};
use super::scalars::PartialDateScalar;
use crate::auth::Role;
use crate::db::authorships::AuthorshipRow;
use crate::db::employments::EmploymentRow;
use crate::db::organizations::OrganizationRow;
use crate::db::people::PersonRow;
use crate::db::publications::PublicationRow;
use crate::db::sources::SourceRow;
use crate::db::writes::{self, Author, Versioned};
use crate::domain::PartialDate;
use crate::domain::validate::FieldError;

/// The mutation root as the schema serves it: [`Mutation`]'s fields, each run
/// after the request's loaders have forgotten what they read. Mutation fields
/// run one after another, so a field (and its payload) never reads a row as
/// it was before an earlier field of the same operation wrote it.
#[derive(Default)]
pub struct MutationRoot(Mutation);

impl OutputType for MutationRoot {
    fn type_name() -> Cow<'static, str> {
        Mutation::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        Mutation::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        resolve_container(ctx, self).await
    }
}

impl ContainerType for MutationRoot {
    async fn resolve_field(&self, ctx: &Context<'_>) -> ServerResult<Option<Value>> {
        if let Ok(loader) = super::context::ContextExt::loader(ctx) {
            loader.loader().forget_reads();
        }
        self.0.resolve_field(ctx).await
    }
}

impl ObjectType for MutationRoot {}

/// Writes. Each needs a bearer token (an editor's for data, an admin's for tokens), validates
/// its whole input before writing anything, and runs in one transaction; fields run in order,
/// each seeing the writes before it.
#[derive(MergedObject, Default)]
pub struct Mutation(
    organization::OrganizationMutations,
    person::PersonMutations,
    employment::EmploymentMutations,
    publication::PublicationMutations,
    source::SourceMutations,
    admin::AdminMutations,
    attestation::AttestationMutations,
);

/// Which entity to delete, and the version you last read of it.
#[derive(InputObject)]
pub struct DeleteInput {
    /// The global id of the entity to delete.
    pub id: ID,
    /// A stale version is refused with `CONFLICT`.
    pub version: i32,
}

/// What a delete removed.
#[derive(SimpleObject)]
pub struct DeletePayload {
    /// The global id of the deleted entity; its history stays in the audit log.
    pub deleted_id: ID,
}

/// The database id behind a global id, which must be of `kind`.
fn node_id(field: &str, id: &ID, kind: NodeKind) -> ApiResult<i64> {
    match ids::decode(id) {
        Ok((found, number)) if found == kind => Ok(number),
        Ok((found, _)) => Err(FieldError::new(
            field,
            format!(
                "is the id of {}, not of {}",
                found.with_article(),
                kind.with_article()
            ),
        )
        .into()),
        Err(_) => Err(FieldError::new(field, "is not an id this API gave out").into()),
    }
}

fn node_ids(field: &str, values: &[ID], kind: NodeKind) -> ApiResult<Vec<i64>> {
    values
        .iter()
        .enumerate()
        .map(|(i, id)| node_id(&format!("{field}.{i}"), id, kind))
        .collect()
}

/// At least one source, each a Source id: a fact without a source is not a fact.
fn source_ids(field: &str, values: &[ID]) -> ApiResult<Vec<i64>> {
    if values.is_empty() {
        return Err(FieldError::new(field, "a fact needs at least one source").into());
    }
    node_ids(field, values, NodeKind::Source)
}

/// The last part of an input path, for messages: `person` of `input.person`.
fn last(field: &str) -> &str {
    field.rsplit('.').next().unwrap_or(field)
}

fn both_given(old_field: &str, new_field: &str) -> ApiError {
    FieldError::new(
        new_field,
        format!(
            "give `{}` or `{}`, not both",
            last(new_field),
            last(old_field)
        ),
    )
    .into()
}

/// Exactly one of a deprecated id field (`input.personId`, taken as before:
/// its existence is the database's to check) and the reference that
/// replaced it (`input.person`, looked up: `NOT_FOUND` when it names nothing).
async fn reference<R>(
    ctx: &Context<'_>,
    old_field: &str,
    old: Option<ID>,
    new_field: &str,
    new: Option<R>,
) -> ApiResult<i64>
where
    R: EntityRef,
    Db: Loader<R::Key, Value = R::Row, Error = ApiError>,
{
    optional_reference(ctx, old_field, old, new_field, new)
        .await?
        .ok_or_else(|| FieldError::new(new_field, "is required").into())
}

/// Like [`reference`], where both may be left out.
async fn optional_reference<R>(
    ctx: &Context<'_>,
    old_field: &str,
    old: Option<ID>,
    new_field: &str,
    new: Option<R>,
) -> ApiResult<Option<i64>>
where
    R: EntityRef,
    Db: Loader<R::Key, Value = R::Row, Error = ApiError>,
{
    match (old, new) {
        (Some(_), Some(_)) => Err(both_given(old_field, new_field)),
        (None, None) => Ok(None),
        (Some(id), None) => node_id(old_field, &id, R::KIND).map(Some),
        (None, Some(reference)) => refs::id(ctx, new_field, &reference).await.map(Some),
    }
}

/// An update's reference field beside the deprecated id field it replaced:
/// the field given (for messages) and its change (absent, null or an id).
async fn reference_change<R>(
    ctx: &Context<'_>,
    old_field: &str,
    old: MaybeUndefined<ID>,
    new_field: &str,
    new: MaybeUndefined<R>,
) -> ApiResult<(String, MaybeUndefined<i64>)>
where
    R: EntityRef,
    Db: Loader<R::Key, Value = R::Row, Error = ApiError>,
{
    Ok(match (old, new) {
        (MaybeUndefined::Undefined, MaybeUndefined::Undefined) => {
            (new_field.to_owned(), MaybeUndefined::Undefined)
        }
        (old, MaybeUndefined::Undefined) => (
            old_field.to_owned(),
            match old {
                MaybeUndefined::Value(id) => {
                    MaybeUndefined::Value(node_id(old_field, &id, R::KIND)?)
                }
                _ => MaybeUndefined::Null,
            },
        ),
        (MaybeUndefined::Undefined, new) => (
            new_field.to_owned(),
            match new {
                MaybeUndefined::Value(reference) => {
                    MaybeUndefined::Value(refs::id(ctx, new_field, &reference).await?)
                }
                _ => MaybeUndefined::Null,
            },
        ),
        _ => return Err(both_given(old_field, new_field)),
    })
}

/// The sources a fact cites, from the deprecated `sourceIds` or from
/// `sources` (references): at least one, never both lists.
async fn sources(
    ctx: &Context<'_>,
    old_field: &str,
    old: Option<Vec<ID>>,
    new_field: &str,
    new: Option<Vec<SourceRef>>,
) -> ApiResult<Vec<i64>> {
    match (old, new) {
        (Some(_), Some(_)) => Err(both_given(old_field, new_field)),
        (Some(ids), None) => source_ids(old_field, &ids),
        (None, Some(references)) => {
            if references.is_empty() {
                return Err(FieldError::new(new_field, "a fact needs at least one source").into());
            }
            refs::ids(ctx, new_field, &references).await
        }
        (None, None) => Err(FieldError::new(new_field, "a fact needs at least one source").into()),
    }
}

/// Sources in an update: absent leaves them, null is refused, a list
/// replaces them.
async fn sources_change(
    ctx: &Context<'_>,
    old_field: &str,
    old: MaybeUndefined<Vec<ID>>,
    new_field: &str,
    new: MaybeUndefined<Vec<SourceRef>>,
) -> ApiResult<Option<Vec<i64>>> {
    let old = required(old_field, old)?;
    let new = required(new_field, new)?;
    if old.is_none() && new.is_none() {
        return Ok(None);
    }
    sources(ctx, old_field, old, new_field, new).await.map(Some)
}

/// An update found no row with the id and version it was given: say which.
fn stale_or_missing(kind: NodeKind, current: Option<i32>, seen: i32) -> ApiError {
    match current {
        None => ApiError::NotFound(format!("input.id: no {} has this id", kind.name())),
        Some(current) => ApiError::Conflict(format!(
            "the {} changed since version {seen} (it is at version {current} now): read it again and retry",
            kind.name()
        )),
    }
}

/// A non-null field in an update: absent leaves it, null is refused.
fn required<T>(field: &str, value: MaybeUndefined<T>) -> ApiResult<Option<T>> {
    match value {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Err(FieldError::new(field, "cannot be null").into()),
        MaybeUndefined::Value(v) => Ok(Some(v)),
    }
}

/// A nullable field in an update: absent leaves it, null clears it.
fn nullable<T>(value: MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

/// An optional date input, refused with its field when it is no date.
fn checked_date(field: &str, value: Option<PartialDateScalar>) -> ApiResult<Option<PartialDate>> {
    Ok(value.map(|d| d.checked(field)).transpose()?)
}

/// A nullable date in an update, refused with its field when it is no date.
fn checked_change(
    field: &str,
    value: MaybeUndefined<PartialDateScalar>,
) -> ApiResult<Option<Option<PartialDate>>> {
    Ok(match nullable(value) {
        Some(Some(d)) => Some(Some(d.checked(field)?)),
        Some(None) => Some(None),
        None => None,
    })
}

/// A partial-date change as changes of its two stored columns.
fn date_change(
    change: Option<Option<PartialDate>>,
) -> (Option<Option<chrono::NaiveDate>>, Option<Option<String>>) {
    match change {
        None => (None, None),
        Some(date) => {
            let (day, precision) = PartialDate::to_columns(date);
            (Some(day), Some(precision.map(str::to_owned)))
        }
    }
}

/// A write to run in a [`Writer`]'s transaction: an async closure over the
/// transaction's connection whose future can cross threads (named, so that
/// [`Writer::run`] can ask what `AsyncConnection::transaction` asks).
trait WriteFn<'c, T>:
    AsyncFnOnce(&'c mut AsyncPgConnection) -> ApiResult<T>
    + FnOnce(&'c mut AsyncPgConnection) -> <Self as WriteFn<'c, T>>::Fut
    + Send
{
    type Fut: Future<Output = ApiResult<T>> + Send;
}

impl<'c, T, F, Fut> WriteFn<'c, T> for F
where
    F: AsyncFnOnce(&'c mut AsyncPgConnection) -> ApiResult<T>
        + FnOnce(&'c mut AsyncPgConnection) -> Fut
        + Send,
    Fut: Future<Output = ApiResult<T>> + Send,
{
    type Fut = Fut;
}

/// A versioned row a mutation writes, and the kind of node it is.
trait Written: Versioned {
    const KIND: NodeKind;
}

impl Written for OrganizationRow {
    const KIND: NodeKind = NodeKind::Organization;
}
impl Written for PersonRow {
    const KIND: NodeKind = NodeKind::Person;
}
impl Written for EmploymentRow {
    const KIND: NodeKind = NodeKind::Employment;
}
impl Written for PublicationRow {
    const KIND: NodeKind = NodeKind::Publication;
}
impl Written for AuthorshipRow {
    const KIND: NodeKind = NodeKind::Authorship;
}
impl Written for SourceRow {
    const KIND: NodeKind = NodeKind::Source;
}

/// The steps every data mutation shares, written once: the caller's role is
/// checked first (before the input is read, so that a caller without a
/// token learns nothing from validation), then each write runs in one
/// transaction that names its author for the audit trail, and an update or
/// delete that matched no row says whether the version was stale
/// (`CONFLICT`) or the row missing (`NOT_FOUND`).
struct Writer<'a, 'ctx> {
    ctx: &'a Context<'ctx>,
    author: Author,
}

impl<'a, 'ctx> Writer<'a, 'ctx> {
    /// A writer for an editor's token: `UNAUTHENTICATED` or `FORBIDDEN` otherwise.
    async fn editor(ctx: &'a Context<'ctx>) -> ApiResult<Self> {
        let caller = require(ctx, Role::Editor).await?;
        Ok(Writer {
            ctx,
            author: caller.author(),
        })
    }

    /// Runs `write` in one transaction that first names the author.
    async fn run<T, F>(&self, write: F) -> ApiResult<T>
    where
        T: Send,
        F: for<'c> WriteFn<'c, T>,
    {
        let author = &self.author;
        let mut conn = writes::connection(self.ctx.pool()?).await?;
        conn.transaction(async move |conn| -> ApiResult<T> {
            writes::name_author(conn, author).await?;
            write(conn).await
        })
        .await
    }

    /// Applies `changes` to row `id` if it is still at `version`.
    async fn update<R: Written>(
        &self,
        id: i64,
        version: i32,
        changes: &R::Changes,
    ) -> ApiResult<R> {
        self.update_then(id, version, changes, async |_| Ok(()))
            .await
    }

    /// Like [`Writer::update`], then `then` in the same transaction (the
    /// citations a change brings) once the row is updated.
    async fn update_then<R, F>(
        &self,
        id: i64,
        version: i32,
        changes: &R::Changes,
        then: F,
    ) -> ApiResult<R>
    where
        R: Written,
        F: for<'c> WriteFn<'c, ()>,
    {
        self.run(async move |conn| -> ApiResult<R> {
            let Some(row) = R::update(conn, id, version, changes).await? else {
                return Err(stale_or_missing(
                    R::KIND,
                    R::version_of(conn, id).await?,
                    version,
                ));
            };
            then(conn).await?;
            Ok(row)
        })
        .await
    }

    /// Deletes the row `input` names if it is still at the version given.
    async fn delete<R: Written>(&self, input: DeleteInput) -> ApiResult<DeletePayload> {
        let id = node_id("input.id", &input.id, R::KIND)?;
        let version = input.version;
        self.run(async move |conn| -> ApiResult<()> {
            match R::delete(conn, id, version)
                .await
                .map_err(ApiError::from_delete)?
            {
                Some(_) => Ok(()),
                None => Err(stale_or_missing(
                    R::KIND,
                    R::version_of(conn, id).await?,
                    version,
                )),
            }
        })
        .await?;
        Ok(DeletePayload {
            deleted_id: ids::encode(R::KIND, id),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(field: &str, id: &ID, kind: NodeKind) -> String {
        match node_id(field, id, kind) {
            Err(error) => error.message(),
            Ok(number) => panic!("{id:?} was taken as {kind:?} {number}"),
        }
    }

    #[test]
    fn an_id_of_the_wrong_kind_is_named_with_the_right_article() {
        let person = ids::encode(NodeKind::Person, 1);
        assert_eq!(
            refusal("input.organizationId", &person, NodeKind::Organization),
            "input.organizationId: is the id of a Person, not of an Organization"
        );
        let authorship = ids::encode(NodeKind::Authorship, 2);
        assert_eq!(
            refusal("input.id", &authorship, NodeKind::Employment),
            "input.id: is the id of an Authorship, not of an Employment"
        );
        let source = ids::encode(NodeKind::Source, 3);
        assert_eq!(
            refusal("input.id", &source, NodeKind::Publication),
            "input.id: is the id of a Source, not of a Publication"
        );
    }
}
