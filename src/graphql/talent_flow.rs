//! `TalentFlow`: people who moved from one organization to another.

use async_graphql::{Context, Enum, Object};

use super::context::ContextExt;
use super::error::{ApiError, ApiResult};
use super::loaders::{OrganizationId, PersonId};
use super::organization::Organization;
use super::person::Person;
use crate::db::analytics::{FlowEnds, FlowRow};

/// Which way flows go, seen from an organization.
#[derive(Debug, Enum, Copy, Clone, Eq, PartialEq, Default)]
pub enum FlowDirection {
    /// People who left it, by where they went.
    #[default]
    Outbound,
    /// People who joined it, by where they came from.
    Inbound,
}

#[derive(Debug, Clone)]
pub struct TalentFlow {
    pub from_id: i64,
    pub to_id: i64,
    pub count: i64,
    /// Who moved; `None` when the query did not select `people` (see
    /// [`wants_people`]), so none were loaded.
    pub person_ids: Option<Vec<i64>>,
    /// One end, when it came with the flow; the other is loaded.
    pub known_end: Option<Organization>,
    /// How the query named the flow's ends: which moves it counts.
    pub ends: FlowEnds,
    /// Only these people's moves (a cohort's destinations).
    pub cohort: Option<Vec<i64>>,
}

/// Whether the flows being resolved have `people` selected: loading every
/// mover of thousands of flows costs more than the rest of the answer.
pub fn wants_people(ctx: &Context<'_>) -> bool {
    ctx.look_ahead().field("people").exists()
}

impl TalentFlow {
    pub fn from_row(row: FlowRow, with_people: bool, ends: FlowEnds) -> ApiResult<Self> {
        Ok(TalentFlow {
            from_id: row.from_id,
            to_id: row.to_id,
            count: row.person_count,
            person_ids: Some(row.person_ids).filter(|_| with_people),
            known_end: Some(Organization::try_from(row.other_end)?),
            ends,
            cohort: None,
        })
    }

    async fn end(&self, ctx: &Context<'_>, id: i64) -> ApiResult<Organization> {
        match &self.known_end {
            Some(known) if known.id == id => Ok(known.clone()),
            _ => organization(ctx, id).await,
        }
    }
}

async fn organization(ctx: &Context<'_>, id: i64) -> ApiResult<Organization> {
    ctx.loader()?
        .load_one(OrganizationId(id))
        .await?
        .ok_or_else(|| ApiError::internal(format!("talent flow names missing organization {id}")))?
        .try_into()
}

/// People who left `from` (or a unit of it) and whose next stint outside it
/// was at `to`, counted once each.
#[Object]
impl TalentFlow {
    /// The organization the people left, named as the query asked (units roll up into a named
    /// organization).
    async fn from(&self, ctx: &Context<'_>) -> ApiResult<Organization> {
        self.end(ctx, self.from_id).await
    }

    /// The organization of their next stint outside `from`, named likewise.
    async fn to(&self, ctx: &Context<'_>) -> ApiResult<Organization> {
        self.end(ctx, self.to_id).await
    }

    /// How many distinct people made this move.
    async fn count(&self) -> i32 {
        i32::try_from(self.count).unwrap_or(i32::MAX)
    }

    /// The moves behind the flow, each with the stints on both sides and
    /// their sources, undated ones last, then by date. For a cohort's
    /// destinations: the leavers' moves straight from the organization to
    /// this one (a leaver who got there by way of another has none here).
    async fn moves(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size: 20 when omitted, at most 100.")] first: Option<i32>,
        #[graphql(desc = "A cursor from this list: the page starts after it.")] after: Option<
            String,
        >,
    ) -> ApiResult<super::live::MoveConnection> {
        super::live::flow_moves(ctx, self, first, after).await
    }

    /// The people who made it, by name: a plain list (cut it with `first`),
    /// not a connection like `Query.people`.
    async fn people(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Only the first this many (1 to 100), in the list's order; all of them when omitted."
        )]
        first: Option<i32>,
    ) -> ApiResult<Vec<Person>> {
        let ids = self.person_ids.as_deref().ok_or_else(|| {
            ApiError::internal(
                "talent flow people asked for but not loaded (look-ahead missed them)",
            )
        })?;
        super::filter::take_first(people_by_name(ctx, ids).await?, first)
    }
}

/// Loads people by id, ordered by name.
pub async fn people_by_name(ctx: &Context<'_>, ids: &[i64]) -> ApiResult<Vec<Person>> {
    let rows = ctx
        .loader()?
        .load_many(ids.iter().copied().map(PersonId))
        .await?;
    let mut people: Vec<Person> = rows.into_values().map(Person::from).collect();
    people.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    Ok(people)
}
