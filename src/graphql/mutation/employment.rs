//! Writes to employment stints, including the two everyday ones: ending a
//! stint, and a move (end one stint, start the next) as one change.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};

use super::{
    DeleteInput, DeletePayload, Writer, checked_change, checked_date, date_change, node_id,
    nullable, reference, reference_change, required, sources, sources_change, stale_or_missing,
};
use crate::db;
use crate::db::employments::{EmploymentRow, NewEmployment};
use crate::db::writes::{self, EmploymentChanges, Versioned};
use crate::domain::PartialDate;
use crate::domain::validate::{self, MAX_NAME};
use crate::graphql::employment::Employment;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::ids::NodeKind;
use crate::graphql::refs::{self, OrganizationRef, PersonRef, SourceRef};
use crate::graphql::scalars::PartialDateScalar;

const MAX_CAREER_POSITION: i32 = 1_000;
const MAX_REPORTED_YEARS: i32 = 100;

/// A new stint of a person at an organization, with the sources that attest it.
#[derive(InputObject)]
pub struct AddEmploymentInput {
    /// Who held the stint (a `Person` id).
    #[graphql(deprecation = "Use `person`, which takes `{id}` or `{slug}`.")]
    pub person_id: Option<ID>,
    /// Who held the stint: `{id}` or `{slug}`. Required (unless the deprecated `personId`
    /// is given).
    pub person: Option<PersonRef>,
    /// Where (an `Organization` id; a unit such as FAIR rather than its parent when the source
    /// says so).
    #[graphql(deprecation = "Use `organization`, which takes `{id}` or `{slug}`.")]
    pub organization_id: Option<ID>,
    /// Where: `{id}` or `{slug}` (a unit such as FAIR rather than its parent when the source
    /// says so). Required (unless the deprecated `organizationId` is given).
    pub organization: Option<OrganizationRef>,
    /// The role as the source words it ("Co-founder and CTO"); omit when unknown.
    pub title: Option<String>,
    /// Whether the person founded or co-founded the organization.
    #[graphql(default)]
    pub is_founder: bool,
    /// Whether the stint is the organization's leadership (director, head).
    #[graphql(default)]
    pub is_leader: bool,
    /// When the stint began, at the precision known: `2023`, `2023-04` or `2023-04-28`. Omit
    /// when unknown.
    pub started_on: Option<PartialDateScalar>,
    /// When the stint ended, at the precision known; omit for a current stint or an unknown
    /// end. Never before `startedOn`.
    pub ended_on: Option<PartialDateScalar>,
    /// Defaults to true when `endedOn` is absent. False without `endedOn`:
    /// known to have ended, on an unknown date.
    pub is_current: Option<bool>,
    /// Orders stints whose dates are unknown: 1 for a first job.
    pub career_position: Option<i32>,
    /// A length a source gives ("about five years") where dates are unknown.
    pub reported_years: Option<i32>,
    /// The sources for this stint: at least one.
    #[graphql(deprecation = "Use `sources`, which take `{id}` or `{url}`.")]
    pub source_ids: Option<Vec<ID>>,
    /// The sources for this stint, each `{id}` or `{url}`: at least one.
    pub sources: Option<Vec<SourceRef>>,
}

/// Omit a field to leave it unchanged; send null to clear a nullable one.
#[derive(InputObject)]
pub struct UpdateEmploymentInput {
    /// The stint to change (an `Employment` id).
    pub id: ID,
    /// The version you last read; a stale one is refused with `CONFLICT`.
    pub version: i32,
    /// Where the stint was (an `Organization` id); cannot be null.
    #[graphql(deprecation = "Use `organization`, which takes `{id}` or `{slug}`.")]
    pub organization_id: MaybeUndefined<ID>,
    /// Where the stint was: `{id}` or `{slug}`; cannot be null.
    pub organization: MaybeUndefined<OrganizationRef>,
    /// The role as the source words it; null clears it.
    pub title: MaybeUndefined<String>,
    /// Whether the person founded or co-founded the organization; cannot be null.
    pub is_founder: MaybeUndefined<bool>,
    /// Whether the person headed the organization during the stint; cannot be null.
    pub is_leader: MaybeUndefined<bool>,
    /// When the stint began: `2023`, `2023-04` or `2023-04-28`; null clears it.
    pub started_on: MaybeUndefined<PartialDateScalar>,
    /// When the stint ended: `2023`, `2023-04` or `2023-04-28`; null clears it. Never before
    /// `startedOn`.
    pub ended_on: MaybeUndefined<PartialDateScalar>,
    /// Whether the stint is going on now; a current stint has no `endedOn`. Cannot be null.
    pub is_current: MaybeUndefined<bool>,
    /// The stint's place in the person's career (1 = first), for stints without dates; null
    /// clears it.
    pub career_position: MaybeUndefined<i32>,
    /// The stint's length in years as a source states it, when its dates are unknown; null
    /// clears it.
    pub reported_years: MaybeUndefined<i32>,
    /// Replaces the cited sources (at least one).
    #[graphql(deprecation = "Use `sources`, which take `{id}` or `{url}`.")]
    pub source_ids: MaybeUndefined<Vec<ID>>,
    /// Replaces the cited sources (at least one), each `{id}` or `{url}`.
    pub sources: MaybeUndefined<Vec<SourceRef>>,
}

/// Which current stint ended, and when if known.
#[derive(InputObject)]
pub struct EndEmploymentInput {
    /// The stint that ended (an `Employment` id).
    pub id: ID,
    /// The version you last read; a stale one is refused with `CONFLICT`.
    pub version: i32,
    /// When it ended; leave out if a source says it ended but not when.
    pub ended_on: Option<PartialDateScalar>,
    /// Sources for the end, added to the stint's citations.
    #[graphql(default, deprecation = "Use `sources`, which take `{id}` or `{url}`.")]
    pub source_ids: Vec<ID>,
    /// Sources for the end, each `{id}` or `{url}`, added to the stint's citations.
    #[graphql(default)]
    pub sources: Vec<SourceRef>,
}

/// A move: the stint a person leaves and the one they start next.
#[derive(InputObject)]
pub struct RecordMoveInput {
    /// The current stint the person leaves.
    pub employment_id: ID,
    /// The version of that stint you last read.
    pub version: i32,
    /// When the person left; leave out if unknown.
    pub ended_on: Option<PartialDateScalar>,
    /// Where they go (an `Organization` id).
    #[graphql(deprecation = "Use `organization`, which takes `{id}` or `{slug}`.")]
    pub organization_id: Option<ID>,
    /// Where they go: `{id}` or `{slug}`. Required (unless the deprecated
    /// `organizationId` is given).
    pub organization: Option<OrganizationRef>,
    /// The role in the next stint, as the source words it; omit when unknown.
    pub title: Option<String>,
    /// Whether the person founded or co-founded the organization they join.
    #[graphql(default)]
    pub is_founder: bool,
    /// Whether the person heads the organization they join.
    #[graphql(default)]
    pub is_leader: bool,
    /// When the next stint started; defaults to `endedOn`.
    pub started_on: Option<PartialDateScalar>,
    /// The sources for the move, cited by both stints: at least one.
    #[graphql(deprecation = "Use `sources`, which take `{id}` or `{url}`.")]
    pub source_ids: Option<Vec<ID>>,
    /// The sources for the move, each `{id}` or `{url}`, cited by both stints: at least one.
    pub sources: Option<Vec<SourceRef>>,
}

/// The stint a mutation wrote.
#[derive(SimpleObject)]
pub struct EmploymentPayload {
    /// The stint as it is now stored.
    pub employment: Employment,
}

/// A move: the stint that ended and the one that started.
#[derive(SimpleObject)]
pub struct MovePayload {
    /// The stint the person left, now ended.
    pub ended: Employment,
    /// The new stint at the organization they joined.
    pub started: Employment,
}

#[derive(Default)]
pub struct EmploymentMutations;

#[Object]
impl EmploymentMutations {
    /// Adds a stint. Needs an editor token.
    async fn add_employment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The stint to add.")] input: AddEmploymentInput,
    ) -> ApiResult<EmploymentPayload> {
        let writer = Writer::editor(ctx).await?;
        let person_id = reference(
            ctx,
            "input.personId",
            input.person_id,
            "input.person",
            input.person,
        )
        .await?;
        let organization_id = reference(
            ctx,
            "input.organizationId",
            input.organization_id,
            "input.organization",
            input.organization,
        )
        .await?;
        let started = checked_date("input.startedOn", input.started_on)?;
        let ended = checked_date("input.endedOn", input.ended_on)?;
        let is_current = input.is_current.unwrap_or(ended.is_none());
        validate::optional_text("input.title", input.title.as_deref(), MAX_NAME)?;
        validate::date_order("input.endedOn", started, ended)?;
        validate::current_has_no_end("input.isCurrent", is_current, ended)?;
        validate::positive(
            "input.careerPosition",
            input.career_position,
            MAX_CAREER_POSITION,
        )?;
        validate::positive(
            "input.reportedYears",
            input.reported_years,
            MAX_REPORTED_YEARS,
        )?;
        let sources = sources(
            ctx,
            "input.sourceIds",
            input.source_ids,
            "input.sources",
            input.sources,
        )
        .await?;
        let (started_on, started_on_precision) = PartialDate::to_columns(started);
        let (ended_on, ended_on_precision) = PartialDate::to_columns(ended);
        let new = NewEmployment {
            person_id,
            organization_id,
            title: input.title.as_deref(),
            is_founder: input.is_founder,
            started_on,
            started_on_precision,
            ended_on,
            ended_on_precision,
            is_current,
            career_position: input.career_position,
            reported_years: input.reported_years,
            is_leader: input.is_leader,
        };
        let row = writer
            .run(async |conn| {
                let row = writes::insert_employment(conn, &new).await?;
                writes::cite_for_employment(conn, row.id, &sources).await?;
                Ok(row)
            })
            .await?;
        Ok(EmploymentPayload {
            employment: row.try_into()?,
        })
    }

    /// Changes a stint. Needs an editor token.
    async fn update_employment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The stint, the version you read, and the fields to change.")]
        input: UpdateEmploymentInput,
    ) -> ApiResult<EmploymentPayload> {
        let writer = Writer::editor(ctx).await?;
        let id = node_id("input.id", &input.id, NodeKind::Employment)?;
        let (field, organization_id) = reference_change(
            ctx,
            "input.organizationId",
            input.organization_id,
            "input.organization",
            input.organization,
        )
        .await?;
        let organization_id = required(&field, organization_id)?;
        let title = nullable(input.title);
        if let Some(Some(title)) = &title {
            validate::text("input.title", title, MAX_NAME)?;
        }
        let career_position = nullable(input.career_position);
        if let Some(position) = career_position {
            validate::positive("input.careerPosition", position, MAX_CAREER_POSITION)?;
        }
        let reported_years = nullable(input.reported_years);
        if let Some(years) = reported_years {
            validate::positive("input.reportedYears", years, MAX_REPORTED_YEARS)?;
        }
        let sources = sources_change(
            ctx,
            "input.sourceIds",
            input.source_ids,
            "input.sources",
            input.sources,
        )
        .await?;
        // End-before-start and "current with an end" span fields this input
        // may not carry: the database checks them against the merged row.
        let (started_on, started_on_precision) =
            date_change(checked_change("input.startedOn", input.started_on)?);
        let (ended_on, ended_on_precision) =
            date_change(checked_change("input.endedOn", input.ended_on)?);
        let changes = EmploymentChanges {
            organization_id,
            title,
            is_founder: required("input.isFounder", input.is_founder)?,
            is_leader: required("input.isLeader", input.is_leader)?,
            started_on,
            started_on_precision,
            ended_on,
            ended_on_precision,
            is_current: required("input.isCurrent", input.is_current)?,
            career_position,
            reported_years,
        };
        let row = writer
            .update_then::<EmploymentRow, _>(id, input.version, &changes, async |conn| {
                if let Some(sources) = &sources {
                    writes::replace_employment_sources(conn, id, sources).await?;
                }
                Ok(())
            })
            .await?;
        Ok(EmploymentPayload {
            employment: row.try_into()?,
        })
    }

    /// Ends a stint: sets its end date (if known) and clears its current flag.
    /// Needs an editor token.
    async fn end_employment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The stint that ended, and when if known.")] input: EndEmploymentInput,
    ) -> ApiResult<EmploymentPayload> {
        let writer = Writer::editor(ctx).await?;
        let id = node_id("input.id", &input.id, NodeKind::Employment)?;
        let extra_sources = match (input.source_ids.is_empty(), input.sources.is_empty()) {
            (false, false) => return Err(super::both_given("input.sourceIds", "input.sources")),
            (false, true) => {
                super::node_ids("input.sourceIds", &input.source_ids, NodeKind::Source)?
            }
            _ => refs::ids(ctx, "input.sources", &input.sources).await?,
        };
        let (ended_on, ended_on_precision) =
            date_change(Some(checked_date("input.endedOn", input.ended_on)?));
        let changes = EmploymentChanges {
            ended_on,
            ended_on_precision,
            is_current: Some(false),
            ..EmploymentChanges::default()
        };
        let row = writer
            .update_then::<EmploymentRow, _>(id, input.version, &changes, async |conn| {
                if !extra_sources.is_empty() {
                    writes::cite_for_employment(conn, id, &extra_sources).await?;
                }
                Ok(())
            })
            .await?;
        Ok(EmploymentPayload {
            employment: row.try_into()?,
        })
    }

    /// Records a move in one change: ends the current stint `employmentId`
    /// and starts the next one at `organizationId`, both citing the same
    /// sources. Nothing is written unless both succeed. Needs an editor token.
    async fn record_move(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The stint left, the organization joined, and the sources.")]
        input: RecordMoveInput,
    ) -> ApiResult<MovePayload> {
        let writer = Writer::editor(ctx).await?;
        let from_id = node_id(
            "input.employmentId",
            &input.employment_id,
            NodeKind::Employment,
        )?;
        let organization_id = reference(
            ctx,
            "input.organizationId",
            input.organization_id,
            "input.organization",
            input.organization,
        )
        .await?;
        let ended = checked_date("input.endedOn", input.ended_on)?;
        let started = checked_date("input.startedOn", input.started_on)?.or(ended);
        validate::optional_text("input.title", input.title.as_deref(), MAX_NAME)?;
        let sources = sources(
            ctx,
            "input.sourceIds",
            input.source_ids,
            "input.sources",
            input.sources,
        )
        .await?;
        let (ended_on, ended_on_precision) = date_change(Some(ended));
        let end = EmploymentChanges {
            ended_on,
            ended_on_precision,
            is_current: Some(false),
            ..EmploymentChanges::default()
        };
        let (started_on, started_on_precision) = PartialDate::to_columns(started);
        let version = input.version;
        let (title, is_founder, is_leader) = (input.title, input.is_founder, input.is_leader);
        let (ended_row, started_row) = writer
            .run(async |conn| {
                let current = db::employments::by_ids(conn, &[from_id]).await?;
                let Some(current) = current.into_iter().next() else {
                    return Err(ApiError::NotFound(
                        "input.employmentId: no Employment has this id".into(),
                    ));
                };
                if !current.is_current {
                    return Err(ApiError::Conflict(
                        "this stint has already ended: add the next stint with addEmployment"
                            .into(),
                    ));
                }
                // Its version was read above: a stale one needs no second look.
                let Some(ended_row) = EmploymentRow::update(conn, from_id, version, &end).await?
                else {
                    return Err(stale_or_missing(
                        NodeKind::Employment,
                        Some(current.version),
                        version,
                    ));
                };
                writes::cite_for_employment(conn, from_id, &sources).await?;
                let next = NewEmployment {
                    person_id: current.person_id,
                    organization_id,
                    title: title.as_deref(),
                    is_founder,
                    started_on,
                    started_on_precision,
                    ended_on: None,
                    ended_on_precision: None,
                    is_current: true,
                    career_position: None,
                    reported_years: None,
                    is_leader,
                };
                let started_row = writes::insert_employment(conn, &next).await?;
                writes::cite_for_employment(conn, started_row.id, &sources).await?;
                Ok((ended_row, started_row))
            })
            .await?;
        Ok(MovePayload {
            ended: ended_row.try_into()?,
            started: started_row.try_into()?,
        })
    }

    /// Deletes a stint; the audit log keeps it. Needs an editor token.
    async fn delete_employment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The stint to delete and the version you last read.")] input: DeleteInput,
    ) -> ApiResult<DeletePayload> {
        Writer::editor(ctx)
            .await?
            .delete::<EmploymentRow>(input)
            .await
    }
}
