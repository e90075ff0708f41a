//! `Publication`: a paper whose author list defines a cohort.

use async_graphql::{Context, ID, Object, SelectionField};

use super::authorship::{self, Authorship};
use super::context::ContextExt;
use super::eager::Eager;
use super::error::{ApiError, ApiResult};
use super::ids::{self, NodeKind};
use super::loaders::{
    self, AuthorshipsOfPublication, CohortKey, PublicationId, SourcesOfAuthorship,
};
use super::organization::Organization;
use super::person;
use super::projection::{column_set, fields_named};
use super::refs::{self, OrganizationRef};
use super::retention::CohortRetention;
use super::scalars::PartialDateScalar;
use crate::db;
use crate::db::ahead::{AuthorshipsAhead, ListedAuthorshipRow};
use crate::db::publications::{PublicationRead, PublicationRow};
use crate::domain::PartialDate;

/// A publication as read: the columns its statement selected (see
/// [`crate::db::columns`]); a field whose column was left out loads the whole
/// row by id, in a batch.
#[derive(Debug, Clone)]
pub struct Publication(PublicationRead);

impl std::ops::Deref for Publication {
    type Target = PublicationRead;

    fn deref(&self) -> &PublicationRead {
        &self.0
    }
}

impl From<PublicationRead> for Publication {
    fn from(read: PublicationRead) -> Self {
        Publication(read)
    }
}

impl TryFrom<PublicationRow> for Publication {
    type Error = ApiError;

    fn try_from(row: PublicationRow) -> ApiResult<Self> {
        Ok(Publication(row.into()))
    }
}

impl Publication {
    /// A column of the publication: as read, or from the whole row loaded by
    /// id (in a batch) when the read left it out.
    async fn column<T>(
        &self,
        ctx: &Context<'_>,
        get: impl Fn(&PublicationRead) -> Option<T>,
    ) -> ApiResult<T> {
        loaders::column_or_whole(ctx.loader()?, &self.0, PublicationId(self.id), get).await
    }
}

/// What to read with the publications whose selections are
/// `publications`, when they list their authors and every list (`authors`,
/// any alias) asks for the same relations: those relations, and each
/// author's stints ([`person::stints_ahead`]) and each authorship's sources
/// when the lists ask for them. `None`: the publications alone.
pub fn authors_ahead(publications: &[SelectionField<'_>]) -> Option<AuthorshipsAhead> {
    let lists = fields_named(publications, "authors");
    let mut asked = lists.iter().map(|list| authorship::joins_of(*list));
    let joins = asked.next()?;
    if !asked.all(|other| other == joins) {
        return None;
    }
    Some(AuthorshipsAhead {
        joins,
        author_stints: person::stints_ahead(&fields_named(&lists, "person")),
        sources: !fields_named(&lists, "sources").is_empty(),
    })
}

/// The publications of a [`db::ahead::WithChildren::authorships`]
/// statement, in their listed order (`id` tells each one's id); each one's
/// author list goes to the loader, where `authors` finds it, and so do the
/// grandchild lists `ahead` read (authors' stints, authorships' sources).
pub async fn feed_authors<R>(
    ctx: &Context<'_>,
    rows: Vec<ListedAuthorshipRow<R>>,
    ahead: AuthorshipsAhead,
    id: impl Fn(&R) -> i64,
) -> ApiResult<Vec<R>> {
    let loader = ctx.loader()?;
    let read = loaders::listed_with_authorships(rows, ahead)?;
    if let Some(joins) = ahead.author_stints {
        for (person_id, stints) in read.author_stints {
            loaders::feed_stints_of(loader, person_id, joins, stints).await;
        }
    }
    let cited = read.sources.into_iter();
    loader
        .feed_many(cited.map(|(authorship, sources)| (SourcesOfAuthorship(authorship), sources)))
        .await;
    let key = |publication: &R| AuthorshipsOfPublication {
        publication_id: id(publication),
        joins: ahead.joins,
    };
    Ok(loaders::feed_listed(loader, read.listed, key).await)
}

/// The publication `slug` names, its columns those the selection (the
/// resolver's field, `ctx.field()`) asks for, read with its authorships
/// when the selection lists them ([`authors_ahead`]): one statement, and
/// the lists then find the authorships in the loader.
pub async fn by_slug(ctx: &Context<'_>, slug: &str) -> ApiResult<Option<Publication>> {
    let columns = column_set(&[ctx.field()]);
    let mut conn = ctx.pool()?.get().await?;
    let Some(ahead) = authors_ahead(&[ctx.field()]) else {
        let read = db::publications::by_slug(&mut conn, slug, columns).await?;
        return Ok(read.map(Publication));
    };
    let rows = db::publications::with_authorships(&mut conn, slug, columns, ahead).await?;
    drop(conn);
    let listed = feed_authors(ctx, rows, ahead, |p: &PublicationRead| p.id).await?;
    Ok(listed.into_iter().next().map(Publication))
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
    async fn version(&self, ctx: &Context<'_>) -> ApiResult<i32> {
        self.column(ctx, |p| p.version).await
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
    async fn published_on(&self, ctx: &Context<'_>) -> ApiResult<Option<PartialDateScalar>> {
        let (date, precision) = self
            .column(ctx, |p| {
                Some((p.published_on?, p.published_on_precision.clone()?))
            })
            .await?;
        Ok(PartialDate::from_columns(date, precision.as_deref())?.map(PartialDateScalar::from))
    }

    /// Where it appeared: a journal, a conference, "arXiv".
    async fn venue(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        self.column(ctx, |p| p.venue.clone()).await
    }

    /// Where to read it, e.g. the arXiv abstract page; null when not recorded.
    async fn url(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        self.column(ctx, |p| p.url.clone()).await
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
