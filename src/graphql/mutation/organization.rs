//! Writes to organizations.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};

use super::{
    DeleteInput, DeletePayload, Writer, checked_change, checked_date, date_change, node_id,
    nullable, optional_reference, reference_change, required,
};
use crate::db::organizations::{NewOrganization, OrganizationRow};
use crate::db::writes::{self, OrganizationChanges};
use crate::domain::PartialDate;
use crate::domain::validate::{self, MAX_NAME};
use crate::graphql::error::ApiResult;
use crate::graphql::ids::NodeKind;
use crate::graphql::organization::{Organization, OrganizationKind};
use crate::graphql::refs::OrganizationRef;
use crate::graphql::scalars::PartialDateScalar;

/// A new organization, or a new unit of one.
#[derive(InputObject)]
pub struct CreateOrganizationInput {
    /// Stable, URL-safe identifier: lowercase letters, digits, single hyphens.
    pub slug: String,
    /// Display name, e.g. "Google DeepMind"; at most 200 characters.
    pub name: String,
    /// What kind of body it is.
    pub kind: OrganizationKind,
    /// The organization this one is a unit of (an `Organization` id).
    #[graphql(deprecation = "Use `parent`, which takes `{id}` or `{slug}`.")]
    pub parent_id: Option<ID>,
    /// The organization this one is a unit of: `{id}` or `{slug}`.
    pub parent: Option<OrganizationRef>,
    /// ISO 3166-1 alpha-2 code, e.g. `FR`.
    pub country: Option<String>,
    /// Home page, an `http://` or `https://` URL.
    pub website: Option<String>,
    /// When it was founded, at the precision known: `2023`, `2023-04` or `2023-04-28`.
    pub founded_on: Option<PartialDateScalar>,
}

/// Omit a field to leave it unchanged; send null to clear a nullable one.
#[derive(InputObject)]
pub struct UpdateOrganizationInput {
    /// The organization to change (an `Organization` id).
    pub id: ID,
    /// The version you last read; a stale one is refused with `CONFLICT`.
    pub version: i32,
    /// A new slug (lowercase letters, digits, single hyphens); cannot be null.
    pub slug: MaybeUndefined<String>,
    /// A new display name; cannot be null.
    pub name: MaybeUndefined<String>,
    /// What kind of body it is; cannot be null.
    pub kind: MaybeUndefined<OrganizationKind>,
    /// Null makes it a top-level organization; a parent inside its own units
    /// is refused.
    #[graphql(deprecation = "Use `parent`, which takes `{id}` or `{slug}`.")]
    pub parent_id: MaybeUndefined<ID>,
    /// The organization this one is a unit of, `{id}` or `{slug}`; null makes
    /// it a top-level organization; a parent inside its own units is refused.
    pub parent: MaybeUndefined<OrganizationRef>,
    /// ISO 3166-1 alpha-2 code, e.g. `FR`; null clears it.
    pub country: MaybeUndefined<String>,
    /// Home page, an `http://` or `https://` URL; null clears it.
    pub website: MaybeUndefined<String>,
    /// When it was founded: `2023`, `2023-04` or `2023-04-28`; null clears it.
    pub founded_on: MaybeUndefined<PartialDateScalar>,
}

/// The organization a mutation wrote.
#[derive(SimpleObject)]
pub struct OrganizationPayload {
    /// The organization as it is now stored.
    pub organization: Organization,
}

#[derive(Default)]
pub struct OrganizationMutations;

#[Object]
impl OrganizationMutations {
    /// Adds an organization, or a unit of one. Needs an editor token.
    async fn create_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization to add.")] input: CreateOrganizationInput,
    ) -> ApiResult<OrganizationPayload> {
        let writer = Writer::editor(ctx).await?;
        validate::slug("input.slug", &input.slug)?;
        validate::text("input.name", &input.name, MAX_NAME)?;
        validate::country("input.country", input.country.as_deref())?;
        validate::optional_url("input.website", input.website.as_deref())?;
        let parent_id = optional_reference(
            ctx,
            "input.parentId",
            input.parent_id,
            "input.parent",
            input.parent,
        )
        .await?;
        let (founded_on, founded_on_precision) =
            PartialDate::to_columns(checked_date("input.foundedOn", input.founded_on)?);
        let new = NewOrganization {
            slug: &input.slug,
            name: &input.name,
            kind: input.kind.as_db(),
            parent_id,
            country: input.country.as_deref(),
            website: input.website.as_deref(),
            founded_on,
            founded_on_precision,
        };
        let row = writer
            .run(async |conn| Ok(writes::insert_organization(conn, &new).await?))
            .await?;
        Ok(OrganizationPayload {
            organization: row.try_into()?,
        })
    }

    /// Changes an organization. Needs an editor token.
    async fn update_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization, the version you read, and the fields to change.")]
        input: UpdateOrganizationInput,
    ) -> ApiResult<OrganizationPayload> {
        let writer = Writer::editor(ctx).await?;
        let id = node_id("input.id", &input.id, NodeKind::Organization)?;
        let (_, parent_id) = reference_change(
            ctx,
            "input.parentId",
            input.parent_id,
            "input.parent",
            input.parent,
        )
        .await?;
        let parent_id = nullable(parent_id);
        let (founded_on, founded_on_precision) =
            date_change(checked_change("input.foundedOn", input.founded_on)?);
        let changes = OrganizationChanges {
            slug: required("input.slug", input.slug)?,
            name: required("input.name", input.name)?,
            kind: required("input.kind", input.kind)?.map(|k| k.as_db().to_owned()),
            parent_id,
            country: nullable(input.country),
            website: nullable(input.website),
            founded_on,
            founded_on_precision,
        };
        if let Some(slug) = &changes.slug {
            validate::slug("input.slug", slug)?;
        }
        if let Some(name) = &changes.name {
            validate::text("input.name", name, MAX_NAME)?;
        }
        if let Some(country) = &changes.country {
            validate::country("input.country", country.as_deref())?;
        }
        if let Some(website) = &changes.website {
            validate::optional_url("input.website", website.as_deref())?;
        }
        let row = writer
            .update::<OrganizationRow>(id, input.version, &changes)
            .await?;
        Ok(OrganizationPayload {
            organization: row.try_into()?,
        })
    }

    /// Deletes an organization that has no units, stints or affiliations
    /// left (`CONFLICT` otherwise). Needs an editor token.
    async fn delete_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization to delete and the version you last read.")]
        input: DeleteInput,
    ) -> ApiResult<DeletePayload> {
        Writer::editor(ctx)
            .await?
            .delete::<OrganizationRow>(input)
            .await
    }
}
