//! `CohortRetention`: of a publication's authors from one organization, who
//! is still inside it and who left, and where the leavers are now.

use std::collections::BTreeMap;

use async_graphql::{Context, Object};

use super::context::ContextExt;
use super::error::ApiResult;
use super::loaders::OrganizationId;
use super::organization::Organization;
use super::person::Person;
use super::talent_flow::{TalentFlow, people_by_name};
use crate::db::analytics::CohortMemberRow;

pub struct CohortRetention {
    pub organization: Organization,
    pub members: Vec<CohortMemberRow>,
}

impl CohortRetention {
    fn ids(&self, stayed: bool) -> Vec<i64> {
        self.members
            .iter()
            .filter(|m| m.stayed == stayed)
            .map(|m| m.person_id)
            .collect()
    }
}

/// A publication's authors affiliated, at the time, with an organization or
/// one of its units: who is still inside, who left, where the leavers are.
#[Object]
impl CohortRetention {
    /// The organization named in `retention(organization:)`.
    async fn organization(&self) -> &Organization {
        &self.organization
    }

    /// Authors affiliated with the organization (or a unit) on the publication.
    async fn total(&self) -> i32 {
        i32::try_from(self.members.len()).unwrap_or(i32::MAX)
    }

    /// Those with a current stint inside the organization, by name: a plain
    /// list (cut it with `first`), not a connection.
    async fn stayed(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Only the first this many (1 to 100), in the list's order; all of them when omitted."
        )]
        first: Option<i32>,
    ) -> ApiResult<Vec<Person>> {
        super::filter::take_first(people_by_name(ctx, &self.ids(true)).await?, first)
    }

    /// Those with no current stint inside it any more, by name: a plain list
    /// (cut it with `first`), not a connection.
    async fn left(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Only the first this many (1 to 100), in the list's order; all of them when omitted."
        )]
        first: Option<i32>,
    ) -> ApiResult<Vec<Person>> {
        super::filter::take_first(people_by_name(ctx, &self.ids(false)).await?, first)
    }

    /// Where the leavers work now, most people first: each flow goes from the
    /// organization to one where leavers have a current stint. A leaver with
    /// no known current stint appears in `left` only.
    async fn destinations(&self, ctx: &Context<'_>) -> ApiResult<Vec<TalentFlow>> {
        let mut by_destination: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for member in self.members.iter().filter(|m| !m.stayed) {
            for organization in &member.now_at {
                by_destination
                    .entry(*organization)
                    .or_default()
                    .push(member.person_id);
            }
        }
        let mut flows: Vec<TalentFlow> = by_destination
            .into_iter()
            .map(|(to_id, person_ids)| TalentFlow {
                from_id: self.organization.id,
                to_id,
                count: person_ids.len() as i64,
                cohort: Some(person_ids.clone()),
                person_ids: Some(person_ids),
                known_end: Some(self.organization.clone()),
                ends: crate::db::analytics::FlowEnds {
                    from_tree: true,
                    to_tree: false,
                    since: None,
                    until: None,
                },
            })
            .collect();
        // Most people first, then by the destination's name, as talent flows are.
        let names = ctx
            .loader()?
            .load_many(flows.iter().map(|f| OrganizationId(f.to_id)))
            .await?;
        flows.sort_by_cached_key(|f| {
            let name = names.get(&OrganizationId(f.to_id)).map(|o| o.name.clone());
            (std::cmp::Reverse(f.count), name, f.to_id)
        });
        Ok(flows)
    }
}
