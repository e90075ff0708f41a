//! The read side of the API: lookups by slug or global id, and paged lists.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Interface, Object, OutputType};

use super::context::ContextExt;
use super::employment::Employment;
use super::error::ApiResult;
use super::ids::{self, NodeKind};
use super::loaders::{EmploymentId, OrganizationId, PersonId, PublicationId, SourceId};
use super::organization::{Organization, OrganizationKind};
use super::pagination::{Cursor, TotalCount, page_size};
use super::person::Person;
use super::publication::Publication;
use super::source::Source;
use crate::db;

/// Anything with a global id; `Query.node` finds it again.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID"))]
pub enum Node {
    Person(Person),
    Organization(Organization),
    Employment(Employment),
    Publication(Publication),
    Source(Source),
}

pub type PersonConnection = Connection<Cursor, Person, TotalCount>;
pub type OrganizationConnection = Connection<Cursor, Organization, TotalCount>;
pub type PublicationConnection = Connection<Cursor, Publication, TotalCount>;

/// Root lists are ordered by a text column then id; the cursor is that pair.
type NameCursor = (String, i64);

/// Turns `limit + 1` rows into a page of `limit` with its cursors.
fn name_ordered_page<Row, Node: OutputType>(
    mut rows: Vec<Row>,
    limit: i64,
    after_given: bool,
    total: TotalCount,
    sort_key: impl Fn(&Row) -> NameCursor,
    convert: impl Fn(Row) -> ApiResult<Node>,
) -> ApiResult<Connection<Cursor, Node, TotalCount>> {
    let has_next_page = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let mut connection = Connection::with_additional_fields(after_given, has_next_page, total);
    for row in rows {
        let cursor = Cursor::encode(&sort_key(&row))?;
        connection.edges.push(Edge::new(cursor, convert(row)?));
    }
    Ok(connection)
}

pub struct Query;

#[Object]
impl Query {
    /// Anything by its global id; null when nothing has that id.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Node>> {
        let (kind, id) = ids::decode(&id)?;
        let loader = ctx.loader()?;
        Ok(match kind {
            NodeKind::Person => loader
                .load_one(PersonId(id))
                .await?
                .map(|r| Node::Person(r.into())),
            NodeKind::Organization => loader
                .load_one(OrganizationId(id))
                .await?
                .map(|r| r.try_into().map(Node::Organization))
                .transpose()?,
            NodeKind::Employment => loader
                .load_one(EmploymentId(id))
                .await?
                .map(|r| r.try_into().map(Node::Employment))
                .transpose()?,
            NodeKind::Publication => loader
                .load_one(PublicationId(id))
                .await?
                .map(|r| r.try_into().map(Node::Publication))
                .transpose()?,
            NodeKind::Source => loader
                .load_one(SourceId(id))
                .await?
                .map(|r| r.try_into().map(Node::Source))
                .transpose()?,
        })
    }

    /// A person by slug, e.g. `guillaume-lample`.
    async fn person(&self, ctx: &Context<'_>, slug: String) -> ApiResult<Option<Person>> {
        let row = db::people::by_slug(&mut *ctx.pool()?.get().await?, &slug).await?;
        Ok(row.map(Person::from))
    }

    /// Everyone, by name.
    async fn people(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size: 20 when omitted, at most 100.")] first: Option<i32>,
        #[graphql(desc = "A cursor from this list: the page starts after it.")] after: Option<
            String,
        >,
    ) -> ApiResult<PersonConnection> {
        let limit = page_size(first)?;
        let after: Option<NameCursor> = Cursor::decode(after.as_deref())?;
        let keyset = after.as_ref().map(|(name, id)| (name.as_str(), *id));
        let rows = db::people::page(&mut *ctx.pool()?.get().await?, keyset, limit + 1).await?;
        name_ordered_page(
            rows,
            limit,
            after.is_some(),
            TotalCount::People,
            |r| (r.name.clone(), r.id),
            |r| Ok(Person::from(r)),
        )
    }

    /// An organization by slug, e.g. `meta` or `fair`.
    async fn organization(
        &self,
        ctx: &Context<'_>,
        slug: String,
    ) -> ApiResult<Option<Organization>> {
        let row = db::organizations::by_slug(&mut *ctx.pool()?.get().await?, &slug).await?;
        row.map(Organization::try_from).transpose()
    }

    /// Every organization (units included), by name; optionally of one kind.
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        kind: Option<OrganizationKind>,
        #[graphql(desc = "Page size: 20 when omitted, at most 100.")] first: Option<i32>,
        #[graphql(desc = "A cursor from this list: the page starts after it.")] after: Option<
            String,
        >,
    ) -> ApiResult<OrganizationConnection> {
        let limit = page_size(first)?;
        let after: Option<NameCursor> = Cursor::decode(after.as_deref())?;
        let keyset = after.as_ref().map(|(name, id)| (name.as_str(), *id));
        let kind = kind.map(OrganizationKind::as_db);
        let rows = db::organizations::page(&mut *ctx.pool()?.get().await?, kind, keyset, limit + 1)
            .await?;
        name_ordered_page(
            rows,
            limit,
            after.is_some(),
            TotalCount::Organizations { kind },
            |r| (r.name.clone(), r.id),
            Organization::try_from,
        )
    }

    /// A publication by slug, e.g. `llama-2023`.
    async fn publication(&self, ctx: &Context<'_>, slug: String) -> ApiResult<Option<Publication>> {
        let row = db::publications::by_slug(&mut *ctx.pool()?.get().await?, &slug).await?;
        row.map(Publication::try_from).transpose()
    }

    /// Every publication, by title.
    async fn publications(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size: 20 when omitted, at most 100.")] first: Option<i32>,
        #[graphql(desc = "A cursor from this list: the page starts after it.")] after: Option<
            String,
        >,
    ) -> ApiResult<PublicationConnection> {
        let limit = page_size(first)?;
        let after: Option<NameCursor> = Cursor::decode(after.as_deref())?;
        let keyset = after.as_ref().map(|(title, id)| (title.as_str(), *id));
        let rows =
            db::publications::page(&mut *ctx.pool()?.get().await?, keyset, limit + 1).await?;
        name_ordered_page(
            rows,
            limit,
            after.is_some(),
            TotalCount::Publications,
            |r| (r.title.clone(), r.id),
            Publication::try_from,
        )
    }
}
