//! `Employment`: one stint of a person at an organization.

use async_graphql::{Context, ID, Object, Value};

use super::context::ContextExt;
use super::eager::{Eager, PlainFields, ResolveEagerly, value};
use super::error::{ApiError, ApiResult};
use super::ids::{self, NodeKind};
use super::loaders::{OrganizationId, PersonId, SourcesOfEmployment};
use super::organization::Organization;
use super::person::{Certainty, Person};
use super::scalars::{DateScalar, PartialDateScalar};
use super::source::{Source, sources};
use crate::db::employments::EmploymentRow;
use crate::domain::PartialDate;
use crate::domain::point_in_time::StintBounds;

#[derive(Debug, Clone)]
pub struct Employment {
    pub id: i64,
    pub person_id: i64,
    pub organization_id: i64,
    pub title: Option<String>,
    pub is_founder: bool,
    pub started_on: Option<PartialDate>,
    pub ended_on: Option<PartialDate>,
    pub is_current: bool,
    pub career_position: Option<i32>,
    pub reported_years: Option<i32>,
    pub is_leader: bool,
    pub version: i32,
    /// The person and organization when the statement that read the stint
    /// read them too; otherwise they are loaded in a batch when asked for.
    pub preloaded_person: Option<Person>,
    pub preloaded_organization: Option<Organization>,
}

impl TryFrom<EmploymentRow> for Employment {
    type Error = ApiError;

    fn try_from(row: EmploymentRow) -> ApiResult<Self> {
        Ok(Employment {
            started_on: PartialDate::from_columns(
                row.started_on,
                row.started_on_precision.as_deref(),
            )?,
            ended_on: PartialDate::from_columns(row.ended_on, row.ended_on_precision.as_deref())?,
            id: row.id,
            version: row.version,
            person_id: row.person_id,
            organization_id: row.organization_id,
            title: row.title,
            is_founder: row.is_founder,
            is_current: row.is_current,
            career_position: row.career_position,
            reported_years: row.reported_years,
            is_leader: row.is_leader,
            preloaded_person: None,
            preloaded_organization: None,
        })
    }
}

impl Employment {
    pub fn bounds(&self) -> StintBounds {
        StintBounds {
            started_on: self.started_on,
            ended_on: self.ended_on,
            is_current: self.is_current,
        }
    }
}

impl PlainFields for Employment {
    fn plain_field(&self, field: &str) -> Option<Value> {
        Some(match field {
            "id" => value::id(ids::encode(NodeKind::Employment, self.id)),
            "version" => value::int(self.version),
            "title" => value::optional_text(self.title.as_deref()),
            "isFounder" => Value::Boolean(self.is_founder),
            "isLeader" => Value::Boolean(self.is_leader),
            "startedOn" => value::partial_date(self.started_on),
            "endedOn" => value::partial_date(self.ended_on),
            "isCurrent" => Value::Boolean(self.is_current),
            "careerPosition" => value::optional_int(self.career_position),
            "reportedYears" => value::optional_int(self.reported_years),
            _ => return None,
        })
    }

    fn preloaded(&self, field: &str) -> Option<&dyn ResolveEagerly> {
        match field {
            "person" => Some(self.preloaded_person.as_ref()?),
            "organization" => Some(self.preloaded_organization.as_ref()?),
            _ => None,
        }
    }
}

/// One stint of a person at an organization, with the sources that attest it.
#[Object]
impl Employment {
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::Employment, self.id)
    }

    /// Increases with every change; updates and deletes must name the version
    /// they were based on, so that nobody overwrites a change they never saw.
    async fn version(&self) -> i32 {
        self.version
    }

    async fn person(&self, ctx: &Context<'_>) -> ApiResult<Eager<Person>> {
        if let Some(person) = &self.preloaded_person {
            return Ok(Eager(person.clone()));
        }
        let row = ctx.loader()?.load_one(PersonId(self.person_id)).await?;
        row.map(|row| Eager(Person::from(row)))
            .ok_or_else(|| ApiError::internal(format!("employment {} has no person", self.id)))
    }

    async fn organization(&self, ctx: &Context<'_>) -> ApiResult<Eager<Organization>> {
        if let Some(organization) = &self.preloaded_organization {
            return Ok(Eager(organization.clone()));
        }
        let row = ctx
            .loader()?
            .load_one(OrganizationId(self.organization_id))
            .await?;
        row.ok_or_else(|| {
            ApiError::internal(format!("employment {} has no organization", self.id))
        })?
        .try_into()
        .map(Eager)
    }

    /// The role, as the source words it ("Co-founder and CTO").
    async fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// Whether the person founded (or co-founded) the organization.
    async fn is_founder(&self) -> bool {
        self.is_founder
    }

    /// Whether the person headed the organization during this stint.
    async fn is_leader(&self) -> bool {
        self.is_leader
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
    async fn in_progress_on(&self, date: DateScalar) -> Certainty {
        self.bounds().in_progress_on(date.0).into()
    }

    /// The stint's place in the person's career (1 = first) when a source
    /// gives the order but not the dates.
    async fn career_position(&self) -> Option<i32> {
        self.career_position
    }

    /// The stint's length in years as a source states it ("after five years
    /// at DeepMind"), when its dates are not known.
    async fn reported_years(&self) -> Option<i32> {
        self.reported_years
    }

    /// The sources this stint rests on; never empty.
    async fn sources(&self, ctx: &Context<'_>) -> ApiResult<Vec<Source>> {
        sources(ctx.loader()?.load_one(SourcesOfEmployment(self.id)).await?)
    }
}
