//! Writes to sources.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};

use super::{
    DeleteInput, DeletePayload, Writer, checked_change, checked_date, date_change, node_id,
    nullable, required,
};
use crate::db::sources::{NewSource, SourceRow};
use crate::db::writes::{self, SourceChanges};
use crate::domain::PartialDate;
use crate::domain::validate::{self, MAX_NAME, MAX_TITLE};
use crate::graphql::error::ApiResult;
use crate::graphql::ids::NodeKind;
use crate::graphql::scalars::PartialDateScalar;
use crate::graphql::source::Source;

/// A new source that employments and authorships can cite.
#[derive(InputObject)]
pub struct CreateSourceInput {
    /// Where the fact can be checked; unique.
    pub url: String,
    /// The article's or page's title.
    pub title: Option<String>,
    /// Who published it: a newspaper, a company blog, arXiv.
    pub publisher: Option<String>,
    /// When it was published, at the precision known: `2023`, `2023-04` or `2023-04-28`.
    pub published_on: Option<PartialDateScalar>,
}

/// Omit a field to leave it unchanged; send null to clear a nullable one.
#[derive(InputObject)]
pub struct UpdateSourceInput {
    /// The source to change (a `Source` id).
    pub id: ID,
    /// The version you last read; a stale one is refused with `CONFLICT`.
    pub version: i32,
    /// Where the fact can be checked; unique among sources. Cannot be null.
    pub url: MaybeUndefined<String>,
    /// The article's or page's title; null clears it.
    pub title: MaybeUndefined<String>,
    /// Who published it; null clears it.
    pub publisher: MaybeUndefined<String>,
    /// When it was published: `2023`, `2023-04` or `2023-04-28`; null clears it.
    pub published_on: MaybeUndefined<PartialDateScalar>,
}

/// The source a mutation wrote.
#[derive(SimpleObject)]
pub struct SourcePayload {
    /// The source as now stored.
    pub source: Source,
}

#[derive(Default)]
pub struct SourceMutations;

#[Object]
impl SourceMutations {
    /// Records a source that facts can cite. Needs an editor token.
    async fn create_source(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The source to record.")] input: CreateSourceInput,
    ) -> ApiResult<SourcePayload> {
        let writer = Writer::editor(ctx).await?;
        validate::url("input.url", &input.url)?;
        validate::optional_text("input.title", input.title.as_deref(), MAX_TITLE)?;
        validate::optional_text("input.publisher", input.publisher.as_deref(), MAX_NAME)?;
        let (published_on, published_on_precision) =
            PartialDate::to_columns(checked_date("input.publishedOn", input.published_on)?);
        let new = NewSource {
            url: &input.url,
            title: input.title.as_deref(),
            publisher: input.publisher.as_deref(),
            published_on,
            published_on_precision,
        };
        let row = writer
            .run(async |conn| Ok(writes::insert_source(conn, &new).await?))
            .await?;
        Ok(SourcePayload {
            source: row.try_into()?,
        })
    }

    /// Corrects a source. Needs an editor token.
    async fn update_source(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The source, the version you read, and the fields to change.")]
        input: UpdateSourceInput,
    ) -> ApiResult<SourcePayload> {
        let writer = Writer::editor(ctx).await?;
        let id = node_id("input.id", &input.id, NodeKind::Source)?;
        let (published_on, published_on_precision) =
            date_change(checked_change("input.publishedOn", input.published_on)?);
        let changes = SourceChanges {
            url: required("input.url", input.url)?,
            title: nullable(input.title),
            publisher: nullable(input.publisher),
            published_on,
            published_on_precision,
        };
        if let Some(url) = &changes.url {
            validate::url("input.url", url)?;
        }
        if let Some(Some(title)) = &changes.title {
            validate::text("input.title", title, MAX_TITLE)?;
        }
        if let Some(Some(publisher)) = &changes.publisher {
            validate::text("input.publisher", publisher, MAX_NAME)?;
        }
        let row = writer
            .update::<SourceRow>(id, input.version, &changes)
            .await?;
        Ok(SourcePayload {
            source: row.try_into()?,
        })
    }

    /// Deletes a source no fact cites any more (`CONFLICT` otherwise). Needs an
    /// editor token.
    async fn delete_source(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The source to delete and the version you last read.")] input: DeleteInput,
    ) -> ApiResult<DeletePayload> {
        Writer::editor(ctx).await?.delete::<SourceRow>(input).await
    }
}
