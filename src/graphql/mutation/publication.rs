//! Writes to publications and their author lists.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};

use super::{
    DeleteInput, DeletePayload, Writer, checked_change, checked_date, date_change, node_id,
    nullable, optional_reference, reference, reference_change, required, sources, sources_change,
};
use crate::db::authorships::{AuthorshipRow, NewAuthorship};
use crate::db::publications::{NewPublication, PublicationRow};
use crate::db::writes::{self, AuthorshipChanges, PublicationChanges};
use crate::domain::PartialDate;
use crate::domain::validate::{self, MAX_NAME, MAX_TITLE};
use crate::graphql::authorship::Authorship;
use crate::graphql::error::ApiResult;
use crate::graphql::ids::NodeKind;
use crate::graphql::publication::Publication;
use crate::graphql::refs::{OrganizationRef, PersonRef, PublicationRef, SourceRef};
use crate::graphql::scalars::PartialDateScalar;

/// Author positions beyond this are surely a mistake.
const MAX_POSITION: i32 = 10_000;

/// A new publication, without its authors (add them with `addAuthorship`).
#[derive(InputObject)]
pub struct CreatePublicationInput {
    /// Stable, URL-safe identifier: lowercase letters, digits, single hyphens.
    pub slug: String,
    /// The title as published; at most 500 characters.
    pub title: String,
    /// When it was published, at the precision known: `2023`, `2023-04` or `2023-04-28`.
    pub published_on: Option<PartialDateScalar>,
    /// Where it appeared: a journal, a conference, "arXiv".
    pub venue: Option<String>,
    /// Where to read it, an `http://` or `https://` URL.
    pub url: Option<String>,
}

/// Omit a field to leave it unchanged; send null to clear a nullable one.
#[derive(InputObject)]
pub struct UpdatePublicationInput {
    /// The publication to change (a `Publication` id).
    pub id: ID,
    /// The version you last read; a stale one is refused with `CONFLICT`.
    pub version: i32,
    /// A new slug (lowercase letters, digits, single hyphens); cannot be null.
    pub slug: MaybeUndefined<String>,
    /// The title as published; cannot be null.
    pub title: MaybeUndefined<String>,
    /// When it was published: `2023`, `2023-04` or `2023-04-28`; null clears it.
    pub published_on: MaybeUndefined<PartialDateScalar>,
    /// Where it appeared; null clears it.
    pub venue: MaybeUndefined<String>,
    /// Where to read it, an `http://` or `https://` URL; null clears it.
    pub url: MaybeUndefined<String>,
}

/// A person's place in a publication's author list, with the sources that attest it.
#[derive(InputObject)]
pub struct AddAuthorshipInput {
    /// The publication (a `Publication` id).
    #[graphql(deprecation = "Use `publication`, which takes `{id}` or `{slug}`.")]
    pub publication_id: Option<ID>,
    /// The publication: `{id}` or `{slug}`. Required (unless the deprecated
    /// `publicationId` is given).
    pub publication: Option<PublicationRef>,
    /// The author (a `Person` id).
    #[graphql(deprecation = "Use `person`, which takes `{id}` or `{slug}`.")]
    pub person_id: Option<ID>,
    /// The author: `{id}` or `{slug}`. Required (unless the deprecated
    /// `personId` is given).
    pub person: Option<PersonRef>,
    /// 1 for the first author; unique within the publication.
    pub position: i32,
    /// The organization the author gave at the time (an `Organization` id).
    #[graphql(deprecation = "Use `affiliation`, which takes `{id}` or `{slug}`.")]
    pub affiliation_id: Option<ID>,
    /// The organization the author gave at the time: `{id}` or `{slug}`.
    pub affiliation: Option<OrganizationRef>,
    /// The sources for this authorship: at least one.
    #[graphql(deprecation = "Use `sources`, which take `{id}` or `{url}`.")]
    pub source_ids: Option<Vec<ID>>,
    /// The sources for this authorship, each `{id}` or `{url}`: at least one.
    pub sources: Option<Vec<SourceRef>>,
}

/// Omit a field to leave it unchanged; send null to clear a nullable one.
#[derive(InputObject)]
pub struct UpdateAuthorshipInput {
    /// The authorship to change (an `Authorship` id).
    pub id: ID,
    /// The version you last read; a stale one is refused with `CONFLICT`.
    pub version: i32,
    /// The author (a `Person` id); cannot be null.
    #[graphql(deprecation = "Use `person`, which takes `{id}` or `{slug}`.")]
    pub person_id: MaybeUndefined<ID>,
    /// The author, `{id}` or `{slug}`; cannot be null.
    pub person: MaybeUndefined<PersonRef>,
    /// The place in the author list, 1 for the first author; cannot be null.
    pub position: MaybeUndefined<i32>,
    /// The organization the author gave at the time (an `Organization` id); null clears it.
    #[graphql(deprecation = "Use `affiliation`, which takes `{id}` or `{slug}`.")]
    pub affiliation_id: MaybeUndefined<ID>,
    /// The organization the author gave at the time, `{id}` or `{slug}`; null clears it.
    pub affiliation: MaybeUndefined<OrganizationRef>,
    /// Replaces the cited sources (at least one).
    #[graphql(deprecation = "Use `sources`, which take `{id}` or `{url}`.")]
    pub source_ids: MaybeUndefined<Vec<ID>>,
    /// Replaces the cited sources (at least one), each `{id}` or `{url}`.
    pub sources: MaybeUndefined<Vec<SourceRef>>,
}

/// The publication a mutation wrote.
#[derive(SimpleObject)]
pub struct PublicationPayload {
    /// The publication as now stored.
    pub publication: Publication,
}

/// The authorship a mutation wrote.
#[derive(SimpleObject)]
pub struct AuthorshipPayload {
    /// The authorship as now stored.
    pub authorship: Authorship,
}

fn check_position(position: i32) -> ApiResult<()> {
    Ok(validate::positive(
        "input.position",
        Some(position),
        MAX_POSITION,
    )?)
}

#[derive(Default)]
pub struct PublicationMutations;

#[Object]
impl PublicationMutations {
    /// Adds a publication. Needs an editor token.
    async fn create_publication(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The publication to add.")] input: CreatePublicationInput,
    ) -> ApiResult<PublicationPayload> {
        let writer = Writer::editor(ctx).await?;
        validate::slug("input.slug", &input.slug)?;
        validate::text("input.title", &input.title, MAX_TITLE)?;
        validate::optional_text("input.venue", input.venue.as_deref(), MAX_NAME)?;
        validate::optional_url("input.url", input.url.as_deref())?;
        let (published_on, published_on_precision) =
            PartialDate::to_columns(checked_date("input.publishedOn", input.published_on)?);
        let new = NewPublication {
            slug: &input.slug,
            title: &input.title,
            published_on,
            published_on_precision,
            venue: input.venue.as_deref(),
            url: input.url.as_deref(),
        };
        let row = writer
            .run(async |conn| Ok(writes::insert_publication(conn, &new).await?))
            .await?;
        Ok(PublicationPayload {
            publication: row.try_into()?,
        })
    }

    /// Changes a publication. Needs an editor token.
    async fn update_publication(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The publication, the version you read, and the fields to change.")]
        input: UpdatePublicationInput,
    ) -> ApiResult<PublicationPayload> {
        let writer = Writer::editor(ctx).await?;
        let id = node_id("input.id", &input.id, NodeKind::Publication)?;
        let (published_on, published_on_precision) =
            date_change(checked_change("input.publishedOn", input.published_on)?);
        let changes = PublicationChanges {
            slug: required("input.slug", input.slug)?,
            title: required("input.title", input.title)?,
            published_on,
            published_on_precision,
            venue: nullable(input.venue),
            url: nullable(input.url),
        };
        if let Some(slug) = &changes.slug {
            validate::slug("input.slug", slug)?;
        }
        if let Some(title) = &changes.title {
            validate::text("input.title", title, MAX_TITLE)?;
        }
        if let Some(Some(venue)) = &changes.venue {
            validate::text("input.venue", venue, MAX_NAME)?;
        }
        if let Some(Some(url)) = &changes.url {
            validate::url("input.url", url)?;
        }
        let row = writer
            .update::<PublicationRow>(id, input.version, &changes)
            .await?;
        Ok(PublicationPayload {
            publication: row.try_into()?,
        })
    }

    /// Deletes a publication and its author list; the audit log keeps them.
    /// Needs an editor token.
    async fn delete_publication(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The publication to delete and the version you last read.")]
        input: DeleteInput,
    ) -> ApiResult<DeletePayload> {
        Writer::editor(ctx)
            .await?
            .delete::<PublicationRow>(input)
            .await
    }

    /// Adds a person to a publication's author list. Needs an editor token.
    async fn add_authorship(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The publication, the author, their position and the sources.")]
        input: AddAuthorshipInput,
    ) -> ApiResult<AuthorshipPayload> {
        let writer = Writer::editor(ctx).await?;
        let new = NewAuthorship {
            publication_id: reference(
                ctx,
                "input.publicationId",
                input.publication_id,
                "input.publication",
                input.publication,
            )
            .await?,
            person_id: reference(
                ctx,
                "input.personId",
                input.person_id,
                "input.person",
                input.person,
            )
            .await?,
            position: input.position,
            affiliation_id: optional_reference(
                ctx,
                "input.affiliationId",
                input.affiliation_id,
                "input.affiliation",
                input.affiliation,
            )
            .await?,
        };
        check_position(input.position)?;
        let sources = sources(
            ctx,
            "input.sourceIds",
            input.source_ids,
            "input.sources",
            input.sources,
        )
        .await?;
        let row = writer
            .run(async |conn| {
                let row = writes::insert_authorship(conn, &new).await?;
                writes::cite_for_authorship(conn, row.id, &sources).await?;
                Ok(row)
            })
            .await?;
        Ok(AuthorshipPayload {
            authorship: row.into(),
        })
    }

    /// Changes an authorship. Needs an editor token.
    async fn update_authorship(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The authorship, the version you read, and the fields to change.")]
        input: UpdateAuthorshipInput,
    ) -> ApiResult<AuthorshipPayload> {
        let writer = Writer::editor(ctx).await?;
        let id = node_id("input.id", &input.id, NodeKind::Authorship)?;
        let (field, person_id) = reference_change(
            ctx,
            "input.personId",
            input.person_id,
            "input.person",
            input.person,
        )
        .await?;
        let person_id = required(&field, person_id)?;
        let (_, affiliation_id) = reference_change(
            ctx,
            "input.affiliationId",
            input.affiliation_id,
            "input.affiliation",
            input.affiliation,
        )
        .await?;
        let affiliation_id = nullable(affiliation_id);
        let position = required("input.position", input.position)?;
        if let Some(position) = position {
            check_position(position)?;
        }
        let sources = sources_change(
            ctx,
            "input.sourceIds",
            input.source_ids,
            "input.sources",
            input.sources,
        )
        .await?;
        let changes = AuthorshipChanges {
            person_id,
            position,
            affiliation_id,
        };
        let row = writer
            .update_then::<AuthorshipRow, _>(id, input.version, &changes, async |conn| {
                if let Some(sources) = &sources {
                    writes::replace_authorship_sources(conn, id, sources).await?;
                }
                Ok(())
            })
            .await?;
        Ok(AuthorshipPayload {
            authorship: row.into(),
        })
    }

    /// Removes a person from a publication's author list. Needs an editor token.
    async fn remove_authorship(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The authorship to remove and the version you last read.")]
        input: DeleteInput,
    ) -> ApiResult<DeletePayload> {
        Writer::editor(ctx)
            .await?
            .delete::<AuthorshipRow>(input)
            .await
    }
}
