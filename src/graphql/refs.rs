//! `@oneOf` references: wherever an argument names an entity, it may name it
//! by global id or by slug, exactly one of them.

use async_graphql::{Context, ID, OneofObject};

use super::context::ContextExt;
use super::error::{ApiError, ApiResult};
use super::ids::{self, NodeKind};
use crate::db;

/// An organization, named by its global id or by its slug (exactly one).
#[derive(Debug, Clone, OneofObject)]
pub enum OrganizationRef {
    /// The organization's global id (`Organization.id`).
    Id(ID),
    /// The organization's slug, e.g. `meta`.
    Slug(String),
}

/// A person, named by their global id or by their slug (exactly one).
#[derive(Debug, Clone, OneofObject)]
pub enum PersonRef {
    /// The person's global id (`Person.id`).
    Id(ID),
    /// The person's slug, e.g. `guillaume-lample`.
    Slug(String),
}

fn id_of(id: &ID, kind: NodeKind) -> ApiResult<i64> {
    match ids::decode(id)? {
        (found, number) if found == kind => Ok(number),
        _ => Err(ApiError::BadUserInput(format!(
            "{:?} is not the id of {}",
            id.as_str(),
            kind.with_article()
        ))),
    }
}

impl OrganizationRef {
    /// The organization's number; `NOT_FOUND` when none has that id or slug.
    pub async fn resolve(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        let mut conn = ctx.pool()?.get().await?;
        let found = match self {
            OrganizationRef::Id(id) => {
                let number = id_of(id, NodeKind::Organization)?;
                db::organizations::by_ids(&mut conn, &[number])
                    .await?
                    .into_iter()
                    .next()
            }
            OrganizationRef::Slug(slug) => db::organizations::by_slug(&mut conn, slug).await?,
        };
        found.map(|row| row.id).ok_or_else(|| {
            ApiError::NotFound(match self {
                OrganizationRef::Id(id) => format!("no organization has the id {:?}", id.as_str()),
                OrganizationRef::Slug(slug) => format!("no organization has the slug {slug:?}"),
            })
        })
    }
}

impl PersonRef {
    /// The person's number; `NOT_FOUND` when nobody has that id or slug.
    pub async fn resolve(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        let mut conn = ctx.pool()?.get().await?;
        let found = match self {
            PersonRef::Id(id) => {
                let number = id_of(id, NodeKind::Person)?;
                db::people::by_ids(&mut conn, &[number])
                    .await?
                    .into_iter()
                    .next()
            }
            PersonRef::Slug(slug) => db::people::by_slug(&mut conn, slug).await?,
        };
        found.map(|row| row.id).ok_or_else(|| {
            ApiError::NotFound(match self {
                PersonRef::Id(id) => format!("no person has the id {:?}", id.as_str()),
                PersonRef::Slug(slug) => format!("no person has the slug {slug:?}"),
            })
        })
    }
}
