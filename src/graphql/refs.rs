//! References: one `@oneOf` input per entity, so that every argument naming
//! an entity takes what the client holds, a global id or the natural key
//! (`{id}` or `{slug}`; `{id}` or `{url}` for a source), in reads and writes
//! alike.
//!
//! A reference is resolved through the request's loader: all the references
//! of one kind asked for at one level of a query are one statement
//! (`db::refs`). A reference that names nothing is `NOT_FOUND`; an id of
//! another kind (a `Person` id where an organization is named) is
//! `BAD_USER_INPUT`, as everywhere else.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use async_graphql::{Context, ID, OneofObject};

use super::context::ContextExt;
use super::error::{ApiError, ApiResult};
use super::ids::{self, NodeKind};
use super::loaders::Db;
use crate::db;
use crate::db::organizations::OrganizationRow;
use crate::db::people::PersonRow;
use crate::db::publications::PublicationRow;
use crate::db::sources::SourceRow;

/// An organization, named by its global id or by its slug: exactly one of them.
#[derive(OneofObject, Debug, Clone, PartialEq, Eq)]
pub enum OrganizationRef {
    /// The organization's global id, as `Organization.id` gives it.
    Id(ID),
    /// The organization's slug, e.g. `meta` (a unit has its own: `fair`).
    Slug(String),
}

/// A person, named by their global id or by their slug: exactly one of them.
#[derive(OneofObject, Debug, Clone, PartialEq, Eq)]
pub enum PersonRef {
    /// The person's global id, as `Person.id` gives it.
    Id(ID),
    /// The person's slug, e.g. `guillaume-lample`.
    Slug(String),
}

/// A publication, named by its global id or by its slug: exactly one of them.
#[derive(OneofObject, Debug, Clone, PartialEq, Eq)]
pub enum PublicationRef {
    /// The publication's global id, as `Publication.id` gives it.
    Id(ID),
    /// The publication's slug, e.g. `llama-2023`.
    Slug(String),
}

/// A source, named by its global id or by its URL: exactly one of them.
#[derive(OneofObject, Debug, Clone, PartialEq, Eq)]
pub enum SourceRef {
    /// The source's global id, as `Source.id` gives it.
    Id(ID),
    /// The source's URL, exactly as recorded (`Source.url`).
    Url(String),
}

/// What a reference names, once its id is decoded: a row id, or the natural
/// key (slug or URL) of an entity of the loader key's kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Lookup {
    Id(i64),
    Key(String),
}

/// The row an entity reference names, with what a message needs to say so.
pub trait EntityRef {
    /// The loader key for this kind of entity.
    type Key: Clone + Eq + std::hash::Hash + Send + Sync + 'static;
    /// The row the loader answers with.
    type Row: Clone + Send + Sync + 'static;
    const KIND: NodeKind;
    /// What the natural key is called in messages: `slug` or `url`.
    const KEY_NAME: &'static str;

    fn key(lookup: Lookup) -> Self::Key;
    fn row_id(row: &Self::Row) -> i64;
    /// The id, or the natural key, this reference gives.
    fn parts(&self) -> (Option<&ID>, Option<&str>);

    /// The loader key, once an id is known to be of the right kind. `field`
    /// names the argument or input field for the message (`input.person`).
    fn lookup(&self, field: &str) -> ApiResult<Lookup> {
        match self.parts() {
            (Some(id), _) => Ok(Lookup::Id(node_id(field, id, Self::KIND)?)),
            (None, Some(key)) => Ok(Lookup::Key(key.to_owned())),
            (None, None) => Err(ApiError::internal(format!(
                "{field}: a reference with neither an id nor a key"
            ))),
        }
    }

    /// How a reference that names nothing is told.
    fn not_found(&self, field: &str) -> ApiError {
        let what = match self.parts() {
            (Some(_), _) => "this id".to_owned(),
            (None, Some(key)) => format!("the {} {key:?}", Self::KEY_NAME),
            (None, None) => "this reference".to_owned(),
        };
        ApiError::NotFound(format!("{field}: no {} has {what}", Self::KIND.name()))
    }
}

/// The database id behind a global id, which must be of `kind`.
fn node_id(field: &str, id: &ID, kind: NodeKind) -> ApiResult<i64> {
    match ids::decode(id) {
        Ok((found, number)) if found == kind => Ok(number),
        Ok((found, _)) => Err(ApiError::InvalidField {
            field: field.to_owned(),
            message: format!(
                "is the id of {}, not of {}",
                found.with_article(),
                kind.with_article()
            ),
        }),
        Err(_) => Err(ApiError::InvalidField {
            field: field.to_owned(),
            message: "is not an id this API gave out".to_owned(),
        }),
    }
}

/// The row `reference` names, or `None`: through the request's loader.
pub async fn find<R>(ctx: &Context<'_>, field: &str, reference: &R) -> ApiResult<Option<R::Row>>
where
    R: EntityRef,
    Db: Loader<R::Key, Value = R::Row, Error = ApiError>,
{
    let key = R::key(reference.lookup(field)?);
    ctx.loader()?.load_one(key).await
}

/// The row `reference` names; `NOT_FOUND` when there is none.
pub async fn row<R>(ctx: &Context<'_>, field: &str, reference: &R) -> ApiResult<R::Row>
where
    R: EntityRef,
    Db: Loader<R::Key, Value = R::Row, Error = ApiError>,
{
    find(ctx, field, reference)
        .await?
        .ok_or_else(|| reference.not_found(field))
}

/// The row id `reference` names; `NOT_FOUND` when there is none.
pub async fn id<R>(ctx: &Context<'_>, field: &str, reference: &R) -> ApiResult<i64>
where
    R: EntityRef,
    Db: Loader<R::Key, Value = R::Row, Error = ApiError>,
{
    Ok(R::row_id(&row(ctx, field, reference).await?))
}

/// The row ids a list of references names, in order, in one statement; the
/// first that names nothing is `NOT_FOUND` with its index (`input.sources.2`).
pub async fn ids<R>(ctx: &Context<'_>, field: &str, references: &[R]) -> ApiResult<Vec<i64>>
where
    R: EntityRef,
    Db: Loader<R::Key, Value = R::Row, Error = ApiError>,
{
    let keys = references
        .iter()
        .enumerate()
        .map(|(i, r)| Ok(R::key(r.lookup(&format!("{field}.{i}"))?)))
        .collect::<ApiResult<Vec<_>>>()?;
    let rows = ctx.loader()?.load_many(keys.iter().cloned()).await?;
    keys.iter()
        .zip(references)
        .enumerate()
        .map(|(i, (key, reference))| {
            rows.get(key)
                .map(R::row_id)
                .ok_or_else(|| reference.not_found(&format!("{field}.{i}")))
        })
        .collect()
}

macro_rules! entity_ref {
    ($ref:ident, $variant:ident, $key:ident, $row:ty, $kind:expr, $key_name:literal, $query:path, $natural:ident) => {
        #[doc = concat!("A `", stringify!($ref), "` as a loader key.")]
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $key(pub Lookup);

        impl EntityRef for $ref {
            type Key = $key;
            type Row = $row;
            const KIND: NodeKind = $kind;
            const KEY_NAME: &'static str = $key_name;

            fn key(lookup: Lookup) -> $key {
                $key(lookup)
            }

            fn row_id(row: &$row) -> i64 {
                row.id
            }

            fn parts(&self) -> (Option<&ID>, Option<&str>) {
                match self {
                    $ref::Id(id) => (Some(id), None),
                    $ref::$variant(key) => (None, Some(key)),
                }
            }
        }

        /// Ids and natural keys of one kind share one statement.
        impl Loader<$key> for Db {
            type Value = $row;
            type Error = ApiError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, $row>, ApiError> {
                let mut ids = Vec::new();
                let mut naturals = Vec::new();
                for key in keys {
                    match &key.0 {
                        Lookup::Id(id) => ids.push(*id),
                        Lookup::Key(natural) => naturals.push(natural.clone()),
                    }
                }
                let rows = $query(&mut *self.conn().await?, &ids, &naturals).await?;
                let mut found = HashMap::with_capacity(keys.len());
                for row in rows {
                    let by_key = $key(Lookup::Key(row.$natural.clone()));
                    if keys.contains(&by_key) {
                        found.insert(by_key, row.clone());
                    }
                    found.insert($key(Lookup::Id(row.id)), row);
                }
                Ok(found)
            }
        }
    };
}

entity_ref!(
    OrganizationRef,
    Slug,
    OrganizationLookup,
    OrganizationRow,
    NodeKind::Organization,
    "slug",
    db::refs::organizations,
    slug
);
entity_ref!(
    PersonRef,
    Slug,
    PersonLookup,
    PersonRow,
    NodeKind::Person,
    "slug",
    db::refs::people,
    slug
);
entity_ref!(
    PublicationRef,
    Slug,
    PublicationLookup,
    PublicationRow,
    NodeKind::Publication,
    "slug",
    db::refs::publications,
    slug
);
entity_ref!(
    SourceRef,
    Url,
    SourceLookup,
    SourceRow,
    NodeKind::Source,
    "url",
    db::refs::sources,
    url
);

/// Exactly one of a deprecated argument and the reference that replaced it
/// (`retention(organization:)` and `retention(of:)`), as the reference.
pub fn either<R>(
    old_name: &str,
    old: Option<String>,
    new_name: &str,
    new: Option<R>,
    from_old: impl FnOnce(String) -> R,
) -> ApiResult<R> {
    match (old, new) {
        (Some(_), Some(_)) => Err(ApiError::BadUserInput(format!(
            "give `{new_name}` or `{old_name}`, not both"
        ))),
        (None, None) => Err(ApiError::BadUserInput(format!("`{new_name}` is required"))),
        (Some(old), None) => Ok(from_old(old)),
        (None, Some(new)) => Ok(new),
    }
}

/// Like [`either`], where both may be left out.
pub fn at_most_one<R>(
    old_name: &str,
    old: Option<String>,
    new_name: &str,
    new: Option<R>,
    from_old: impl FnOnce(String) -> R,
) -> ApiResult<Option<R>> {
    match (old, new) {
        (None, None) => Ok(None),
        (old, new) => either(old_name, old, new_name, new, from_old).map(Some),
    }
}
