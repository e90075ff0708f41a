//! Writes to people.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};

use super::{DeleteInput, DeletePayload, Writer, node_id, nullable, required};
use crate::db::people::{NewPerson, PersonRow};
use crate::db::writes::{self, PersonChanges};
use crate::domain::validate::{self, MAX_BIO, MAX_NAME};
use crate::graphql::error::ApiResult;
use crate::graphql::ids::NodeKind;
use crate::graphql::person::Person;

/// A new person.
#[derive(InputObject)]
pub struct CreatePersonInput {
    /// Stable, URL-safe identifier: lowercase letters, digits, single hyphens.
    pub slug: String,
    /// Full name as usually written, accents included; at most 200 characters.
    pub name: String,
    /// Other spellings of the name ("Aurelien" for "Aurélien").
    #[graphql(default)]
    pub aliases: Vec<String>,
    /// A short biography; omit when none.
    pub bio: Option<String>,
}

/// Omit a field to leave it unchanged; send null to clear a nullable one.
#[derive(InputObject)]
pub struct UpdatePersonInput {
    /// The person to change (a `Person` id).
    pub id: ID,
    /// The version you last read; a stale one is refused with `CONFLICT`.
    pub version: i32,
    /// A new slug (lowercase letters, digits, single hyphens); cannot be null.
    pub slug: MaybeUndefined<String>,
    /// The full name; cannot be null.
    pub name: MaybeUndefined<String>,
    /// Replaces the other spellings of the name; `[]` removes them all. Cannot be null.
    pub aliases: MaybeUndefined<Vec<String>>,
    /// A short biography; null clears it.
    pub bio: MaybeUndefined<String>,
}

/// The person a mutation wrote.
#[derive(SimpleObject)]
pub struct PersonPayload {
    /// The person as now stored.
    pub person: Person,
}

#[derive(Default)]
pub struct PersonMutations;

#[Object]
impl PersonMutations {
    /// Adds a person. Needs an editor token.
    async fn create_person(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person to add.")] input: CreatePersonInput,
    ) -> ApiResult<PersonPayload> {
        let writer = Writer::editor(ctx).await?;
        validate::slug("input.slug", &input.slug)?;
        validate::text("input.name", &input.name, MAX_NAME)?;
        validate::aliases("input.aliases", &input.aliases)?;
        validate::optional_text("input.bio", input.bio.as_deref(), MAX_BIO)?;
        let new = NewPerson {
            slug: &input.slug,
            name: &input.name,
            aliases: input.aliases.iter().map(String::as_str).collect(),
            bio: input.bio.as_deref(),
        };
        let row = writer
            .run(async |conn| Ok(writes::insert_person(conn, &new).await?))
            .await?;
        Ok(PersonPayload { person: row.into() })
    }

    /// Changes a person. Needs an editor token.
    async fn update_person(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person, the version you read, and the fields to change.")]
        input: UpdatePersonInput,
    ) -> ApiResult<PersonPayload> {
        let writer = Writer::editor(ctx).await?;
        let id = node_id("input.id", &input.id, NodeKind::Person)?;
        let changes = PersonChanges {
            slug: required("input.slug", input.slug)?,
            name: required("input.name", input.name)?,
            aliases: required("input.aliases", input.aliases)?,
            bio: nullable(input.bio),
        };
        if let Some(slug) = &changes.slug {
            validate::slug("input.slug", slug)?;
        }
        if let Some(name) = &changes.name {
            validate::text("input.name", name, MAX_NAME)?;
        }
        if let Some(aliases) = &changes.aliases {
            validate::aliases("input.aliases", aliases)?;
        }
        if let Some(Some(bio)) = &changes.bio {
            validate::text("input.bio", bio, MAX_BIO)?;
        }
        let row = writer
            .update::<PersonRow>(id, input.version, &changes)
            .await?;
        Ok(PersonPayload { person: row.into() })
    }

    /// Deletes a person with their stints and authorships; the audit log keeps
    /// every deleted row. Needs an editor token.
    async fn delete_person(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person to delete and the version you last read.")] input: DeleteInput,
    ) -> ApiResult<DeletePayload> {
        Writer::editor(ctx).await?.delete::<PersonRow>(input).await
    }
}
