//! `Authorship`: a person's place in a publication's author list.

use async_graphql::{Context, ID, Object, SelectionField};

use super::context::ContextExt;
use super::eager::Lent;
use super::error::{ApiError, ApiResult};
use super::ids::{self, NodeKind};
use super::loaders::{OrganizationId, PersonId, PublicationId, SourcesOfAuthorship};
use super::organization::Organization;
use super::person::Person;
use super::projection::{column_set, fields_named};
use super::publication::Publication;
use super::source::{Source, sources};
use crate::db::authorships::{AuthorshipJoins, AuthorshipRow, JoinedAuthorshipRow};

#[derive(Debug, Clone)]
pub struct Authorship {
    pub id: i64,
    pub publication_id: i64,
    pub person_id: i64,
    pub position: i32,
    pub affiliation_id: Option<i64>,
    pub version: i32,
    /// The person and affiliation when the statement that read the
    /// authorship read them too; otherwise they are loaded in a batch when
    /// asked for.
    pub preloaded_person: Option<Person>,
    pub preloaded_affiliation: Option<Organization>,
}

/// What a selection of authorships (the field `ctx` resolves) asks of
/// their person and affiliation: the relations the list's statement reads.
pub fn joins(ctx: &Context<'_>) -> AuthorshipJoins {
    joins_of(ctx.field())
}

/// The relations the authorship list `list` (a selection) asks for.
pub fn joins_of(list: SelectionField<'_>) -> AuthorshipJoins {
    let authorships = [list];
    let people = fields_named(&authorships, "person");
    let affiliations = fields_named(&authorships, "affiliation");
    AuthorshipJoins {
        person: (!people.is_empty()).then(|| column_set(&people)),
        affiliation: (!affiliations.is_empty()).then(|| column_set(&affiliations)),
    }
}

impl Authorship {
    /// An authorship read with the relations `joins` asked for.
    pub fn joined(row: JoinedAuthorshipRow, joins: AuthorshipJoins) -> ApiResult<Self> {
        let mut authorship = Authorship::from(row.authorship);
        if joins.person.is_some() {
            let person = row.person.0.ok_or_else(|| {
                ApiError::internal(format!(
                    "authorship {} read without its person",
                    authorship.id
                ))
            })?;
            authorship.preloaded_person = Some(person.into());
        }
        if joins.affiliation.is_some() {
            authorship.preloaded_affiliation = row.affiliation.0.map(Organization::from);
            if authorship.affiliation_id.is_some() && authorship.preloaded_affiliation.is_none() {
                return Err(ApiError::internal(format!(
                    "authorship {} read without its affiliation",
                    authorship.id
                )));
            }
        }
        Ok(authorship)
    }
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
            preloaded_person: None,
            preloaded_affiliation: None,
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
    async fn person(&self, ctx: &Context<'_>) -> ApiResult<Lent<'_, Person>> {
        if let Some(person) = &self.preloaded_person {
            return Ok(Lent::Borrowed(person));
        }
        let row = ctx.loader()?.load_one(PersonId(self.person_id)).await?;
        row.map(|row| Lent::Owned(Person::from(row)))
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
    async fn affiliation(&self, ctx: &Context<'_>) -> ApiResult<Option<Lent<'_, Organization>>> {
        let Some(id) = self.affiliation_id else {
            return Ok(None);
        };
        if let Some(organization) = &self.preloaded_affiliation {
            return Ok(Some(Lent::Borrowed(organization)));
        }
        let row = ctx.loader()?.load_one(OrganizationId(id)).await?;
        row.map(|row| Organization::try_from(row).map(Lent::Owned))
            .transpose()
    }

    /// The sources this authorship rests on; never empty.
    async fn sources(&self, ctx: &Context<'_>) -> ApiResult<Vec<Source>> {
        sources(ctx.loader()?.load_one(SourcesOfAuthorship(self.id)).await?)
    }
}

super::eager::plain_fields!(Authorship {
    "id" => __id_resolver,
    "version" => __version_resolver,
    "position" => __position_resolver,
});
