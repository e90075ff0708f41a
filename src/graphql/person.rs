//! `Person`: someone whose career is tracked.

use async_graphql::{Context, Enum, ID, Object};

use super::authorship::Authorship;
use super::context::ContextExt;
use super::employment::Employment;
use super::error::ApiResult;
use super::ids::{self, NodeKind};
use super::loaders::{AuthorshipsOfPerson, EmploymentsOfPerson};
use crate::db::people::PersonRow;

#[derive(Debug, Clone)]
pub struct Person {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub aliases: Vec<String>,
    pub bio: Option<String>,
}

impl From<PersonRow> for Person {
    fn from(row: PersonRow) -> Self {
        Person {
            id: row.id,
            slug: row.slug,
            name: row.name,
            aliases: row.aliases,
            bio: row.bio,
        }
    }
}

/// Which stints to list.
#[derive(Debug, Enum, Copy, Clone, Eq, PartialEq, Default)]
pub enum EmploymentStatus {
    /// Every stint, current or not.
    #[default]
    All,
    /// Stints that are going on.
    Current,
    /// Stints that have ended (with or without a known end date).
    Former,
}

impl EmploymentStatus {
    /// `Some(is_current)` to filter on, `None` for all.
    pub fn is_current(self) -> Option<bool> {
        match self {
            EmploymentStatus::All => None,
            EmploymentStatus::Current => Some(true),
            EmploymentStatus::Former => Some(false),
        }
    }
}

impl Person {
    async fn stints(
        &self,
        ctx: &Context<'_>,
        status: EmploymentStatus,
    ) -> ApiResult<Vec<Employment>> {
        let rows = ctx
            .loader()?
            .load_one(EmploymentsOfPerson(self.id))
            .await?
            .unwrap_or_default();
        rows.into_iter()
            .filter(|row| {
                status
                    .is_current()
                    .is_none_or(|current| row.is_current == current)
            })
            .map(Employment::try_from)
            .collect()
    }
}

/// A person whose employment history and authorships are recorded.
#[Object]
impl Person {
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::Person, self.id)
    }

    /// Stable, URL-safe identifier, e.g. `aurelien-rodriguez`.
    async fn slug(&self) -> &str {
        &self.slug
    }

    async fn name(&self) -> &str {
        &self.name
    }

    /// Other spellings of the name, e.g. without accents.
    async fn aliases(&self) -> &[String] {
        &self.aliases
    }

    async fn bio(&self) -> Option<&str> {
        self.bio.as_deref()
    }

    /// The person's stints in chronological order: by stated career position,
    /// then start date (unknown last), then ended before current.
    async fn employments(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] status: EmploymentStatus,
    ) -> ApiResult<Vec<Employment>> {
        self.stints(ctx, status).await
    }

    /// The stints going on now, in chronological order.
    async fn current_employments(&self, ctx: &Context<'_>) -> ApiResult<Vec<Employment>> {
        self.stints(ctx, EmploymentStatus::Current).await
    }

    /// The person's places in publications' author lists.
    async fn authorships(&self, ctx: &Context<'_>) -> ApiResult<Vec<Authorship>> {
        let rows = ctx
            .loader()?
            .load_one(AuthorshipsOfPerson(self.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Authorship::from).collect())
    }
}
