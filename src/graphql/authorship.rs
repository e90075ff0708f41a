//! `Authorship`: a person's place in a publication's author list.

use async_graphql::{Context, ID, Object};

use super::context::ContextExt;
use super::error::{ApiError, ApiResult};
use super::ids::{self, NodeKind};
use super::loaders::{OrganizationId, PersonId, PublicationId, SourcesOfAuthorship};
use super::organization::Organization;
use super::person::Person;
use super::publication::Publication;
use super::source::{Source, sources};
use crate::db::authorships::AuthorshipRow;

#[derive(Debug, Clone)]
pub struct Authorship {
    pub id: i64,
    pub publication_id: i64,
    pub person_id: i64,
    pub position: i32,
    pub affiliation_id: Option<i64>,
    pub version: i32,
}

impl From<AuthorshipRow> for Authorship {
    fn from(row: AuthorshipRow) -> Self {
        Authorship {
            id: row.id,
            publication_id: row.publication_id,
            person_id: row.person_id,
            position: row.position,
            affiliation_id: row.affiliation_id,
            version: row.version,
        }
    }
}

/// A person's place in a publication's author list, with their affiliation then.
#[Object]
impl Authorship {
    /// Global id: opaque, unique across all types; `Query.node` fetches the entity by it.
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::Authorship, self.id)
    }

    /// Increases with every change; updates and deletes must name the version
    /// they were based on, so that nobody overwrites a change they never saw.
    async fn version(&self) -> i32 {
        self.version
    }

    /// 1 for the first author.
    async fn position(&self) -> i32 {
        self.position
    }

    /// The author.
    async fn person(&self, ctx: &Context<'_>) -> ApiResult<Person> {
        let row = ctx.loader()?.load_one(PersonId(self.person_id)).await?;
        row.map(Person::from)
            .ok_or_else(|| ApiError::internal(format!("authorship {} has no person", self.id)))
    }

    /// The publication whose author list this is a place in.
    async fn publication(&self, ctx: &Context<'_>) -> ApiResult<Publication> {
        let row = ctx
            .loader()?
            .load_one(PublicationId(self.publication_id))
            .await?;
        row.ok_or_else(|| ApiError::internal(format!("authorship {} has no publication", self.id)))?
            .try_into()
    }

    /// The organization the author gave at the time of the publication.
    async fn affiliation(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        let Some(id) = self.affiliation_id else {
            return Ok(None);
        };
        let row = ctx.loader()?.load_one(OrganizationId(id)).await?;
        row.map(Organization::try_from).transpose()
    }

    /// The sources this authorship rests on; never empty.
    async fn sources(&self, ctx: &Context<'_>) -> ApiResult<Vec<Source>> {
        sources(ctx.loader()?.load_one(SourcesOfAuthorship(self.id)).await?)
    }
}
