//! `Employment`: one stint of a person at an organization.

use async_graphql::{Context, ID, Object, SelectionField};

use super::attestation::Attestation;
use super::context::ContextExt;
use super::eager::Lent;
use super::error::{ApiError, ApiResult};
use super::ids::{self, NodeKind};
use super::loaders::{AttestationsOf, EmploymentId, OrganizationId, PersonId, SourcesOfEmployment};
use super::organization::Organization;
use super::person::{Certainty, Person};
use super::projection::{column_set, fields_named};
use super::scalars::{DateScalar, PartialDateScalar};
use super::source::{Source, sources};
use crate::db::employments::{EmploymentRead, EmploymentRow, StintJoins};
use crate::db::sources::SourceRow;
use crate::domain::PartialDate;
use crate::domain::point_in_time::{Evidence, StintBounds};

/// A stint as read: the columns its statement selected (see
/// [`crate::db::columns`]), its dates made partial dates. A field whose column
/// was left out loads the whole row by id, in a batch.
#[derive(Debug, Clone)]
pub struct Employment {
    /// Read through [`Deref`](std::ops::Deref): `id`, `person_id`, `title`…;
    /// the dates are this struct's own fields, as partial dates.
    read: EmploymentRead,
    pub started_on: Option<PartialDate>,
    pub ended_on: Option<PartialDate>,
    /// The person and organization when the statement that read the stint
    /// read them too; otherwise they are loaded in a batch when asked for.
    pub preloaded_person: Option<Person>,
    pub preloaded_organization: Option<Organization>,
    /// The sources, when the statement that read the stint read them too
    /// (a page of an organization's stints); otherwise loaded in a batch.
    pub preloaded_sources: Option<Vec<SourceRow>>,
}

impl std::ops::Deref for Employment {
    type Target = EmploymentRead;

    fn deref(&self) -> &EmploymentRead {
        &self.read
    }
}

impl TryFrom<EmploymentRow> for Employment {
    type Error = ApiError;

    fn try_from(row: EmploymentRow) -> ApiResult<Self> {
        Employment::try_from(EmploymentRead::from(row))
    }
}

impl TryFrom<EmploymentRead> for Employment {
    type Error = ApiError;

    fn try_from(read: EmploymentRead) -> ApiResult<Self> {
        Ok(Employment {
            started_on: PartialDate::from_columns(
                read.started_on,
                read.started_on_precision.as_deref(),
            )?,
            ended_on: PartialDate::from_columns(read.ended_on, read.ended_on_precision.as_deref())?,
            read,
            preloaded_person: None,
            preloaded_organization: None,
            preloaded_sources: None,
        })
    }
}

/// What the selections of a list's stints (`stints`) ask of their
/// organization and person: the relations the list's statement reads.
pub fn joins(stints: &[SelectionField<'_>]) -> StintJoins {
    let organizations = fields_named(stints, "organization");
    let people = fields_named(stints, "person");
    StintJoins {
        organization: (!organizations.is_empty()).then(|| column_set(&organizations)),
        person: (!people.is_empty()).then(|| column_set(&people)),
    }
}

impl Employment {
    /// A column of the stint: as read, or from the whole row loaded by id (in
    /// a batch) when the read left it out.
    async fn column<T>(
        &self,
        ctx: &Context<'_>,
        get: impl Fn(&EmploymentRead) -> Option<T>,
    ) -> ApiResult<T> {
        super::loaders::column_or_whole(ctx.loader()?, &self.read, EmploymentId(self.id), get).await
    }

    /// The stint's attestations (loaded in a batch with its siblings').
    pub async fn attested(&self, ctx: &Context<'_>) -> ApiResult<Vec<Attestation>> {
        ctx.loader()?
            .load_one(AttestationsOf(self.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Attestation::try_from)
            .collect()
    }

    /// What the stint's attestations prove for the point-in-time rule.
    pub async fn evidence(&self, ctx: &Context<'_>) -> ApiResult<Evidence> {
        let attestations = self.attested(ctx).await?;
        Ok(Evidence::of(attestations.iter().map(|a| (a.claim, &a.on))))
    }

    /// The stint's bounds for the point-in-time rule, with what its
    /// attestations prove (see [`Employment::evidence`]).
    pub fn bounds(&self, evidence: Evidence) -> StintBounds {
        StintBounds {
            started_on: self.started_on,
            ended_on: self.ended_on,
            is_current: self.is_current,
            evidence,
        }
    }
}

/// One stint of a person at an organization, with the sources that attest it.
#[Object]
impl Employment {
    /// Global id: opaque, unique across all types; `Query.node` fetches the entity by it.
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::Employment, self.id)
    }

    /// Increases with every change; updates and deletes must name the version
    /// they were based on, so that nobody overwrites a change they never saw.
    async fn version(&self, ctx: &Context<'_>) -> ApiResult<i32> {
        self.column(ctx, |e| e.version).await
    }

    /// Who held the stint.
    async fn person(&self, ctx: &Context<'_>) -> ApiResult<Lent<'_, Person>> {
        if let Some(person) = &self.preloaded_person {
            return Ok(Lent::Borrowed(person));
        }
        let row = ctx.loader()?.load_one(PersonId(self.person_id)).await?;
        row.map(|row| Lent::Owned(Person::from(row)))
            .ok_or_else(|| ApiError::internal(format!("employment {} has no person", self.id)))
    }

    /// Where: the organization or unit the stint was at.
    async fn organization(&self, ctx: &Context<'_>) -> ApiResult<Lent<'_, Organization>> {
        if let Some(organization) = &self.preloaded_organization {
            return Ok(Lent::Borrowed(organization));
        }
        let row = ctx
            .loader()?
            .load_one(OrganizationId(self.organization_id))
            .await?;
        row.ok_or_else(|| {
            ApiError::internal(format!("employment {} has no organization", self.id))
        })?
        .try_into()
        .map(Lent::Owned)
    }

    /// The role, as the source words it ("Co-founder and CTO").
    async fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// Whether the person founded (or co-founded) the organization.
    async fn is_founder(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        self.column(ctx, |e| e.is_founder).await
    }

    /// Whether the person headed the organization during this stint.
    async fn is_leader(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        self.column(ctx, |e| e.is_leader).await
    }

    /// When the stint began, at the precision known; null when no source says.
    async fn started_on(&self) -> Option<PartialDateScalar> {
        self.started_on.map(PartialDateScalar::from)
    }

    /// When the stint ended, at the precision known. Null for a current stint,
    /// and for one known to have ended on an unknown date (`isCurrent: false`).
    async fn ended_on(&self) -> Option<PartialDateScalar> {
        self.ended_on.map(PartialDateScalar::from)
    }

    /// Whether the stint is going on now.
    async fn is_current(&self) -> bool {
        self.is_current
    }

    /// Whether the stint was in progress on `date`, and how sure its dates
    /// make that: CERTAINLY, POSSIBLY (dates too coarse or missing) or NO.
    async fn in_progress_on(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The day to test, e.g. `2023-04-28`.")] date: DateScalar,
    ) -> ApiResult<Certainty> {
        let evidence = self.evidence(ctx).await?;
        Ok(self.bounds(evidence).in_progress_on(date.0).into())
    }

    /// The stint's place in the person's career (1 = first) when a source
    /// gives the order but not the dates.
    async fn career_position(&self) -> Option<i32> {
        self.career_position
    }

    /// The stint's length in years as a source states it ("after five years
    /// at DeepMind"), when its dates are not known.
    async fn reported_years(&self, ctx: &Context<'_>) -> ApiResult<Option<i32>> {
        self.column(ctx, |e| e.reported_years).await
    }

    /// Evidence on dates: sources showing the stint going on (or already over) on a date, by
    /// date. The point-in-time rule (`inProgressOn`, `employments(at:)`) uses them.
    async fn attestations(&self, ctx: &Context<'_>) -> ApiResult<Vec<Attestation>> {
        self.attested(ctx).await
    }

    /// The sources this stint rests on; never empty.
    async fn sources(&self, ctx: &Context<'_>) -> ApiResult<Vec<Source>> {
        if let Some(rows) = &self.preloaded_sources {
            return sources(Some(rows.clone()));
        }
        sources(ctx.loader()?.load_one(SourcesOfEmployment(self.id)).await?)
    }
}

super::eager::plain_fields!(Employment {
    "id" => __id_resolver,
    "title" => __title_resolver,
    "startedOn" => __started_on_resolver,
    "endedOn" => __ended_on_resolver,
    "isCurrent" => __is_current_resolver,
    "careerPosition" => __career_position_resolver,
    "version" when version => __version_resolver,
    "isFounder" when is_founder => __is_founder_resolver,
    "isLeader" when is_leader => __is_leader_resolver,
    "reportedYears" when reported_years => __reported_years_resolver,
});
