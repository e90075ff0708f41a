//! `Publication`: a paper whose author list defines a cohort.

use async_graphql::{Context, ID, Object, SelectionField};

use super::authorship::{self, Authorship};
use super::context::ContextExt;
use super::eager::Eager;
use super::error::{ApiError, ApiResult};
use super::ids::{self, NodeKind};
use super::loaders::{self, AuthorshipsOfPublication, CohortKey};
use super::organization::Organization;
use super::refs::{self, OrganizationRef};
use super::retention::CohortRetention;
use super::scalars::PartialDateScalar;
use crate::db;
use crate::db::ahead::ListedAuthorshipRow;
use crate::db::authorships::AuthorshipJoins;
use crate::db::publications::PublicationRow;
use crate::domain::PartialDate;

#[derive(Debug, Clone)]
pub struct Publication {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub published_on: Option<PartialDate>,
    pub venue: Option<String>,
    pub url: Option<String>,
    pub version: i32,
}

/// The authorship relations to read with the publications whose
/// selections are `publications`, when they list their authors and every
/// list (`authors`, any alias) asks for the same relations; `None`: the
/// publications alone.
pub fn authors_ahead(publications: &[SelectionField<'_>]) -> Option<AuthorshipJoins> {
    let mut asked = publications
        .iter()
        .flat_map(|publication| publication.selection_set())
        .filter(|field| field.name() == "authors")
        .map(authorship::joins_of);
    let first = asked.next()?;
    asked.all(|other| other == first).then_some(first)
}

/// The publications of a [`db::ahead::WithChildren::authorships`]
/// statement, in their listed order; each one's author list goes to the
/// loader, where `authors` finds it.
pub async fn feed_authors(
    ctx: &Context<'_>,
    rows: Vec<ListedAuthorshipRow<PublicationRow>>,
    joins: AuthorshipJoins,
) -> ApiResult<Vec<PublicationRow>> {
    let listed = loaders::listed_with_authorships(rows, joins)?;
    let key = |publication: &PublicationRow| AuthorshipsOfPublication {
        publication_id: publication.id,
        joins,
    };
    Ok(loaders::feed_listed(ctx.loader()?, listed, key).await)
}

/// The publication `slug` names, read with its authorships when the
/// selection (the resolver's field, `ctx.field()`) lists them
/// ([`authors_ahead`]): one statement, and the lists then find the
/// authorships in the loader.
pub async fn by_slug(ctx: &Context<'_>, slug: &str) -> ApiResult<Option<PublicationRow>> {
    let mut conn = ctx.pool()?.get().await?;
    let Some(joins) = authors_ahead(&[ctx.field()]) else {
        return Ok(db::publications::by_slug(&mut conn, slug).await?);
    };
    let rows = db::publications::with_authorships(&mut conn, slug, joins).await?;
    drop(conn);
    Ok(feed_authors(ctx, rows, joins).await?.into_iter().next())
}

impl TryFrom<PublicationRow> for Publication {
    type Error = ApiError;

    fn try_from(row: PublicationRow) -> ApiResult<Self> {
        Ok(Publication {
            published_on: PartialDate::from_columns(
                row.published_on,
                row.published_on_precision.as_deref(),
            )?,
            id: row.id,
            version: row.version,
            slug: row.slug,
            title: row.title,
            venue: row.venue,
            url: row.url,
        })
    }
}

/// A paper or report whose author list defines a cohort worth following.
#[Object]
impl Publication {
    /// Global id: opaque, unique across all types; `Query.node` fetches the entity by it.
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::Publication, self.id)
    }

    /// Increases with every change; updates and deletes must name the version
    /// they were based on, so that nobody overwrites a change they never saw.
    async fn version(&self) -> i32 {
        self.version
    }

    /// Stable, URL-safe identifier, e.g. `llama-2023`.
    async fn slug(&self) -> &str {
        &self.slug
    }

    /// The title as published.
    async fn title(&self) -> &str {
        &self.title
    }

    /// When it was published, at the precision known.
    async fn published_on(&self) -> Option<PartialDateScalar> {
        self.published_on.map(PartialDateScalar::from)
    }

    /// Where it appeared: a journal, a conference, "arXiv".
    async fn venue(&self) -> Option<&str> {
        self.venue.as_deref()
    }

    /// Where to read it, e.g. the arXiv abstract page; null when not recorded.
    async fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// Of the authors affiliated with an organization (its units count) on
    /// this publication: who is still inside it, who left, and where the
    /// leavers are now.
    async fn retention(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The organization's slug, e.g. `meta`; its units count as inside it.",
            deprecation = "Use `of: {slug: …}`, which also takes an id."
        )]
        organization: Option<String>,
        #[graphql(
            desc = "The organization, `{id: …}` or `{slug: …}` (e.g. `{slug: \"meta\"}`); its units count as inside it."
        )]
        of: Option<OrganizationRef>,
    ) -> ApiResult<CohortRetention> {
        let field = if organization.is_some() {
            "organization"
        } else {
            "of"
        };
        let reference = refs::either(
            "organization",
            organization,
            "of",
            of,
            OrganizationRef::Slug,
        )?;
        let loader = ctx.loader()?;
        let row = refs::row(ctx, field, &reference).await?;
        let organization = Organization::try_from(row)?;
        let key = CohortKey {
            publication_id: self.id,
            organization_id: organization.id,
        };
        let members = loader.load_one(key).await?.unwrap_or_default();
        Ok(CohortRetention {
            organization,
            members,
        })
    }

    /// The authors, in author order.
    async fn authors(&self, ctx: &Context<'_>) -> ApiResult<Vec<Eager<Authorship>>> {
        let key = AuthorshipsOfPublication {
            publication_id: self.id,
            joins: authorship::joins(ctx),
        };
        let authorships = ctx.loader()?.load_one(key).await?.unwrap_or_default();
        Ok(authorships.into_iter().map(Eager).collect())
    }
}
