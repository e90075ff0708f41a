//! The read side of the API: lookups by slug or global id, and paged lists.

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, Interface, Object};

use super::authorship::Authorship;
use super::context::ContextExt;
use super::eager::Eager;
use super::employment::Employment;
use super::error::{ApiError, ApiResult};
use super::filter::{
    self, OrganizationFilter, OrganizationOrder, PageArgs, PersonFilter, PersonOrder,
    PublicationFilter, PublicationOrder,
};
use super::ids::{self, NodeKind};
use super::loaders::{
    AuthorshipId, EmploymentId, OrganizationId, PersonId, PublicationId, SourceId,
};
use super::organization::{self, Organization, OrganizationKind};
use super::organization::{date_range, flow_limit};
use super::pagination::{Cursor, List, TotalCount, keyset_page, page_size};
use super::person::{self, Person};
use super::projection::{column_set, connection_nodes};
use super::publication::{self, Publication};
use super::refs::{self, EntityRef, OrganizationRef, PersonRef, PublicationRef};
use super::scalars::DateScalar;
use super::search::{DEFAULT_RESULTS, MAX_RESULTS, SearchResult};
use super::source::Source;
use super::talent_flow::{TalentFlow, wants_people};
use crate::db;
use crate::db::analytics::FlowQuery;
use crate::db::search::RankCursor;

/// Anything with a global id; `Query.node` finds it again.
#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "ID",
    desc = "Global id: opaque, unique across all types; `Query.node` fetches the entity by it."
))]
pub enum Node {
    Person(Person),
    Organization(Organization),
    // Boxed: a stint carries its preloaded person and organization.
    Employment(Box<Employment>),
    Publication(Publication),
    Source(Source),
    Authorship(Authorship),
}

pub type PersonConnection = Connection<Cursor, Eager<Person>, TotalCount>;
pub type OrganizationConnection = Connection<Cursor, Eager<Organization>, TotalCount>;
pub type PublicationConnection = Connection<Cursor, Publication, TotalCount>;

/// Root lists are ordered by a text column then id; the cursor is that pair.
type NameCursor = (String, i64);

#[derive(Default)]
pub struct Query;

#[Object(name = "PublicQuery")]
impl Query {
    /// Anything by its global id; null when nothing has that id.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global id, as an `id` field gave it.")] id: ID,
    ) -> ApiResult<Option<Node>> {
        let (kind, id) = ids::decode(&id)?;
        let loader = ctx.loader()?;
        Ok(match kind {
            NodeKind::Person => person::with_stints(ctx, person::Lookup::Id(id))
                .await?
                .map(Node::Person),
            NodeKind::Organization => loader
                .load_one(OrganizationId(id))
                .await?
                .map(|r| r.try_into().map(Node::Organization))
                .transpose()?,
            NodeKind::Employment => loader
                .load_one(EmploymentId(id))
                .await?
                .map(|r| Employment::try_from(r).map(|stint| Node::Employment(Box::new(stint))))
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
            NodeKind::Authorship => loader
                .load_one(AuthorshipId(id))
                .await?
                .map(|r| Node::Authorship(r.into())),
        })
    }

    /// A person by id or slug (`person(ref: {slug: "guillaume-lample"})`);
    /// null when nothing has it.
    async fn person(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The person's slug.",
            deprecation = "Use `ref: {slug: …}`, which also takes an id."
        )]
        slug: Option<String>,
        #[graphql(name = "ref", desc = "The person: `{id: …}` or `{slug: …}`.")] reference: Option<
            PersonRef,
        >,
    ) -> ApiResult<Option<Eager<Person>>> {
        let reference = refs::either("slug", slug, "ref", reference, PersonRef::Slug)?;
        let person = match reference.lookup("ref")? {
            refs::Lookup::Id(id) => person::with_stints(ctx, person::Lookup::Id(id)).await?,
            refs::Lookup::Key(slug) => {
                person::with_stints(ctx, person::Lookup::Slug(&slug)).await?
            }
        };
        Ok(person.map(Eager))
    }

    /// Everyone, by name; or, with `search`, the people whose name or an
    /// alias matches (accents, case and small typos ignored), best match first.
    async fn people(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Text to match against names and aliases, ignoring accents, case and small typos; everyone when omitted."
        )]
        search: Option<String>,
        #[graphql(desc = "Page size: 20 when omitted, at most 100.")] first: Option<i32>,
        #[graphql(desc = "A cursor from this list: the page starts after it.")] after: Option<
            String,
        >,
        #[graphql(
            desc = "Page size counted from the end (for a Previous button): at most 100; not with `first`."
        )]
        last: Option<i32>,
        #[graphql(desc = "A cursor from this list: the page ends before it.")] before: Option<
            String,
        >,
        #[graphql(
            name = "where",
            desc = "Only the people this filter admits (not with `search`)."
        )]
        filter: Option<PersonFilter>,
        #[graphql(
            desc = "The order, column by column, the id breaking ties; by name when omitted (not with `search`). Cursors hold for the order they were given in."
        )]
        order_by: Option<Vec<PersonOrder>>,
    ) -> ApiResult<PersonConnection> {
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        if filter.is_some() || order_by.is_some() || !args.is_forward_only() {
            if filter.is_none()
                && order_by.is_none()
                && let Some(query) = search_text(search.clone())?
            {
                return filter::people_matching(ctx, query, &args).await;
            }
            refuse_with_search(&search)?;
            return filter::people(ctx, filter.as_ref(), order_by, &args).await;
        }
        let PageArgs { first, after, .. } = args;
        let limit = page_size(first)?;
        let mut conn = ctx.pool()?.get().await?;
        let stints = person::stints_ahead(&connection_nodes(ctx.field()));
        if let Some(query) = search_text(search)? {
            let after: Option<RankCursor> = Cursor::decode(List::PeopleMatching, after.as_deref())?;
            let (rows, total) = TotalCount::PeopleMatching(query.clone())
                .beside(ctx, async {
                    let Some(joins) = stints else {
                        return Ok(db::search::people(&mut conn, &query, after, limit + 1).await?);
                    };
                    let rows = db::search::people_with_stints(
                        &mut conn,
                        &query,
                        after,
                        limit + 1,
                        joins.organization,
                    )
                    .await?;
                    drop(conn);
                    let people = person::feed_stints(ctx, rows, joins, |row| row.person.id).await?;
                    Ok(people
                        .into_iter()
                        .map(|row| (row.score, row.person))
                        .collect())
                })
                .await?;
            return keyset_page(
                List::PeopleMatching,
                rows,
                limit,
                after.is_some(),
                total,
                |(score, r)| (*score, r.id),
                |(_, r)| Ok(Eager(Person::from(r))),
            );
        }
        let after: Option<NameCursor> = Cursor::decode(List::People, after.as_deref())?;
        let keyset = after.as_ref().map(|(name, id)| (name.as_str(), *id));
        let (rows, total) = TotalCount::People
            .beside(ctx, async {
                let Some(joins) = stints else {
                    return Ok(db::people::page(&mut conn, keyset, limit + 1).await?);
                };
                let rows =
                    db::people::page_with_stints(&mut conn, keyset, limit + 1, joins.organization)
                        .await?;
                person::feed_stints(ctx, rows, joins, |person| person.id).await
            })
            .await?;
        keyset_page(
            List::People,
            rows,
            limit,
            after.is_some(),
            total,
            |r| (r.name.clone(), r.id),
            |r| Ok(Eager(Person::from(r))),
        )
    }

    /// An organization by id or slug (`organization(ref: {slug: "meta"})`;
    /// a unit has its own slug, `fair`); null when nothing has it.
    async fn organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The organization's slug; a unit has its own (`fair`).",
            deprecation = "Use `ref: {slug: …}`, which also takes an id."
        )]
        slug: Option<String>,
        #[graphql(name = "ref", desc = "The organization: `{id: …}` or `{slug: …}`.")]
        reference: Option<OrganizationRef>,
    ) -> ApiResult<Option<Eager<Organization>>> {
        let row = match refs::either("slug", slug, "ref", reference, OrganizationRef::Slug)? {
            OrganizationRef::Slug(slug) => organization::by_slug(ctx, &slug).await?,
            reference => refs::find(ctx, "ref", &reference).await?,
        };
        row.map(|row| Organization::try_from(row).map(Eager))
            .transpose()
    }

    /// Every organization (units included), by name; optionally of one
    /// kind; with `search`, those whose name or slug matches, best first.
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Text to match against names and slugs, ignoring accents, case and small typos; all when omitted."
        )]
        search: Option<String>,
        #[graphql(desc = "Only organizations of this kind; every kind when omitted.")] kind: Option<
            OrganizationKind,
        >,
        #[graphql(desc = "Page size: 20 when omitted, at most 100.")] first: Option<i32>,
        #[graphql(desc = "A cursor from this list: the page starts after it.")] after: Option<
            String,
        >,
        #[graphql(
            desc = "Page size counted from the end (for a Previous button): at most 100; not with `first`."
        )]
        last: Option<i32>,
        #[graphql(desc = "A cursor from this list: the page ends before it.")] before: Option<
            String,
        >,
        #[graphql(
            name = "where",
            desc = "Only the organizations this filter admits (not with `search`)."
        )]
        filter: Option<OrganizationFilter>,
        #[graphql(
            desc = "The order, column by column, the id breaking ties; by name when omitted (not with `search`). Cursors hold for the order they were given in."
        )]
        order_by: Option<Vec<OrganizationOrder>>,
    ) -> ApiResult<OrganizationConnection> {
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        if filter.is_some() || order_by.is_some() || !args.is_forward_only() {
            if filter.is_none()
                && order_by.is_none()
                && let Some(query) = search_text(search.clone())?
            {
                return filter::organizations_matching(ctx, query, kind, &args).await;
            }
            refuse_with_search(&search)?;
            return filter::organizations(ctx, filter.as_ref(), kind, order_by, &args).await;
        }
        let PageArgs { first, after, .. } = args;
        let limit = page_size(first)?;
        let kind = kind.map(OrganizationKind::as_db);
        let mut conn = ctx.pool()?.get().await?;
        if let Some(query) = search_text(search)? {
            let after: Option<RankCursor> =
                Cursor::decode(List::OrganizationsMatching, after.as_deref())?;
            let (rows, total) = TotalCount::OrganizationsMatching {
                query: query.clone(),
                kind,
            }
            .beside(ctx, async {
                Ok(db::search::organizations(&mut conn, &query, kind, after, limit + 1).await?)
            })
            .await?;
            return keyset_page(
                List::OrganizationsMatching,
                rows,
                limit,
                after.is_some(),
                total,
                |(score, r)| (*score, r.id),
                |(_, r)| Organization::try_from(r).map(Eager),
            );
        }
        let after: Option<NameCursor> = Cursor::decode(List::Organizations, after.as_deref())?;
        let keyset = after.as_ref().map(|(name, id)| (name.as_str(), *id));
        let children = organization::children_ahead(&connection_nodes(ctx.field()));
        let (rows, total) = TotalCount::Organizations { kind }
            .beside(ctx, async {
                let Some(children) = children else {
                    return Ok(db::organizations::page(&mut conn, kind, keyset, limit + 1).await?);
                };
                let rows = db::organizations::page_with_children(
                    &mut conn,
                    kind,
                    keyset,
                    limit + 1,
                    children,
                )
                .await?;
                drop(conn);
                organization::feed_children(ctx, rows, children).await
            })
            .await?;
        keyset_page(
            List::Organizations,
            rows,
            limit,
            after.is_some(),
            total,
            |r| (r.name.clone(), r.id),
            |r| Organization::try_from(r).map(Eager),
        )
    }

    /// A publication by id or slug (`publication(ref: {slug: "llama-2023"})`);
    /// null when nothing has it.
    async fn publication(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The publication's slug.",
            deprecation = "Use `ref: {slug: …}`, which also takes an id."
        )]
        slug: Option<String>,
        #[graphql(name = "ref", desc = "The publication: `{id: …}` or `{slug: …}`.")]
        reference: Option<PublicationRef>,
    ) -> ApiResult<Option<Publication>> {
        match refs::either("slug", slug, "ref", reference, PublicationRef::Slug)? {
            PublicationRef::Slug(slug) => publication::by_slug(ctx, &slug).await,
            reference => refs::find(ctx, "ref", &reference)
                .await?
                .map(Publication::try_from)
                .transpose(),
        }
    }

    /// Every publication, by title.
    async fn publications(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size: 20 when omitted, at most 100.")] first: Option<i32>,
        #[graphql(desc = "A cursor from this list: the page starts after it.")] after: Option<
            String,
        >,
        #[graphql(
            desc = "Page size counted from the end (for a Previous button): at most 100; not with `first`."
        )]
        last: Option<i32>,
        #[graphql(desc = "A cursor from this list: the page ends before it.")] before: Option<
            String,
        >,
        #[graphql(name = "where", desc = "Only the publications this filter admits.")]
        filter: Option<PublicationFilter>,
        #[graphql(
            desc = "The order, column by column, the id breaking ties; by title when omitted. Cursors hold for the order they were given in."
        )]
        order_by: Option<Vec<PublicationOrder>>,
    ) -> ApiResult<PublicationConnection> {
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        if filter.is_some() || order_by.is_some() || !args.is_forward_only() {
            return filter::publications(ctx, filter.as_ref(), order_by, &args).await;
        }
        let PageArgs { first, after, .. } = args;
        let limit = page_size(first)?;
        let after: Option<NameCursor> = Cursor::decode(List::Publications, after.as_deref())?;
        let keyset = after.as_ref().map(|(title, id)| (title.as_str(), *id));
        let nodes = connection_nodes(ctx.field());
        let columns = column_set(&nodes);
        let authors = publication::authors_ahead(&nodes);
        let (rows, total) = TotalCount::Publications
            .beside(ctx, async {
                let mut conn = ctx.pool()?.get().await?;
                let Some(ahead) = authors else {
                    return Ok(
                        db::publications::page(&mut conn, keyset, limit + 1, columns).await?,
                    );
                };
                let rows = db::publications::page_with_authorships(
                    &mut conn,
                    keyset,
                    limit + 1,
                    columns,
                    ahead,
                )
                .await?;
                drop(conn);
                publication::feed_authors(ctx, rows, ahead, |p| p.id).await
            })
            .await?;
        keyset_page(
            List::Publications,
            rows,
            limit,
            after.is_some(),
            total,
            |r| (r.title.clone(), r.id),
            |r| Ok(Publication::from(r)),
        )
    }

    /// Moves between organizations, counted per distinct person, most people
    /// first. `from` / `to` are slugs; a named organization includes its units
    /// (they roll up into it), an unnamed end is the organization itself.
    /// Without either, moves between top-level organizations' trees.
    async fn talent_flows(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Slug of the organization people left (its units included); any when omitted.",
            deprecation = "Use `leaving: {slug: …}`, which also takes an id."
        )]
        from: Option<String>,
        #[graphql(
            desc = "Slug of the organization people joined (its units included); any when omitted.",
            deprecation = "Use `joining: {slug: …}`, which also takes an id."
        )]
        to: Option<String>,
        #[graphql(
            desc = "The organization people left (its units included): `{id: …}` or `{slug: …}`; any when omitted."
        )]
        leaving: Option<OrganizationRef>,
        #[graphql(
            desc = "The organization people joined (its units included): `{id: …}` or `{slug: …}`; any when omitted."
        )]
        joining: Option<OrganizationRef>,
        #[graphql(
            desc = "Only moves that may have happened on or after this day (a move dated `2012` counts for `2012-06-01`); undated moves are then left out."
        )]
        since: Option<DateScalar>,
        #[graphql(
            desc = "Only moves that may have happened on or before this day; undated moves are then left out."
        )]
        until: Option<DateScalar>,
        #[graphql(desc = "Only the largest flows (at most 100); all of them when omitted.")] first: Option<i32>,
    ) -> ApiResult<Vec<TalentFlow>> {
        let (since, until) = date_range(since, until)?;
        let first = flow_limit(first)?;
        let from_field = if from.is_some() { "from" } else { "leaving" };
        let to_field = if to.is_some() { "to" } else { "joining" };
        let from = refs::at_most_one("from", from, "leaving", leaving, OrganizationRef::Slug)?;
        let to = refs::at_most_one("to", to, "joining", joining, OrganizationRef::Slug)?;
        let mut ends = [None, None];
        for (end, (field, reference)) in ends.iter_mut().zip([(from_field, from), (to_field, to)]) {
            if let Some(reference) = reference {
                *end = Some(vec![refs::id(ctx, field, &reference).await?]);
            }
        }
        let [from, to] = ends;
        let query = FlowQuery {
            from,
            to,
            since,
            until,
            first,
            with_people: wants_people(ctx),
        };
        // Ranked by the database.
        let rows = db::analytics::talent_flows(&mut *ctx.pool()?.get().await?, &query).await?;
        let ends = crate::db::analytics::FlowEnds {
            from_tree: query.from.is_some(),
            to_tree: query.to.is_some(),
            since,
            until,
        };
        rows.into_iter()
            .map(|row| TalentFlow::from_row(row, query.with_people, ends))
            .collect()
    }

    /// People, organizations and publications whose names (or aliases,
    /// slugs, titles) match `query`, ignoring accents, case and small typos;
    /// best match first.
    async fn search(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The text to look for, e.g. `rodriguez`.")] query: String,
        #[graphql(desc = "How many results: 10 when omitted, at most 50.")] first: Option<i32>,
    ) -> ApiResult<Vec<SearchResult>> {
        let first = first.unwrap_or(DEFAULT_RESULTS);
        if !(1..=MAX_RESULTS).contains(&first) {
            return Err(ApiError::BadUserInput(format!(
                "`first` must be between 1 and {MAX_RESULTS}, got {first}"
            )));
        }
        let Some(query) = search_text(Some(query))? else {
            return Err(ApiError::BadUserInput("`query` is empty".into()));
        };
        let hits = db::search::everything(&mut *ctx.pool()?.get().await?, &query, i64::from(first))
            .await?;
        let loader = ctx.loader()?;
        let people = loader
            .load_many(
                hits.iter()
                    .filter(|h| h.kind == "person")
                    .map(|h| PersonId(h.id)),
            )
            .await?;
        let organizations = loader
            .load_many(
                hits.iter()
                    .filter(|h| h.kind == "organization")
                    .map(|h| OrganizationId(h.id)),
            )
            .await?;
        let publications = loader
            .load_many(
                hits.iter()
                    .filter(|h| h.kind == "publication")
                    .map(|h| PublicationId(h.id)),
            )
            .await?;
        let mut results = Vec::with_capacity(hits.len());
        for hit in hits {
            let result = match hit.kind.as_str() {
                "person" => people
                    .get(&PersonId(hit.id))
                    .cloned()
                    .map(|r| SearchResult::Person(r.into())),
                "organization" => organizations
                    .get(&OrganizationId(hit.id))
                    .cloned()
                    .map(|r| r.try_into().map(SearchResult::Organization))
                    .transpose()?,
                _ => publications
                    .get(&PublicationId(hit.id))
                    .cloned()
                    .map(|r| r.try_into().map(SearchResult::Publication))
                    .transpose()?,
            };
            // A row deleted between the search and the load is simply gone.
            results.extend(result);
        }
        Ok(results)
    }
}

/// `search` ranks by relevance: it takes no other filter or order (yet).
fn refuse_with_search(search: &Option<String>) -> ApiResult<()> {
    if search_text(search.clone())?.is_some() {
        return Err(ApiError::BadUserInput(
            "`search` orders by relevance and takes neither `where` nor `orderBy`: filter by `where: {name: …}` instead".into(),
        ));
    }
    Ok(())
}

/// The longest search query accepted.
const MAX_SEARCH_CHARS: usize = 200;

/// A search argument: `None` when absent or blank; too long is an error.
fn search_text(search: Option<String>) -> ApiResult<Option<String>> {
    let Some(search) = search else {
        return Ok(None);
    };
    let search = search.trim();
    if search.chars().count() > MAX_SEARCH_CHARS {
        return Err(ApiError::BadUserInput(format!(
            "a search is at most {MAX_SEARCH_CHARS} characters"
        )));
    }
    Ok((!search.is_empty()).then(|| search.to_owned()))
}
