//! Root fields users look for beside the contract's: every source
//! (`sources`, `source`), many nodes at once (`nodes`, Relay's), and who is
//! calling (`viewer`).

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use super::context::ContextExt;
use super::employment::Employment;
use super::error::{ApiError, ApiResult};
use super::ids::{self, NodeKind};
use super::loaders::{
    AuthorshipId, EmploymentId, OrganizationId, PersonId, PublicationId, SourceId,
};
use super::pagination::{Cursor, List, MAX_PAGE_SIZE, page_size};
use super::query::Node;
use super::refs::{self, SourceRef};
use super::scalars::DateScalar;
use super::source::Source;
use crate::auth::{self, Role};
use crate::db;
use crate::db::source_pages::{DateCondition, Direction, SourceFilter, TextCondition};
use crate::graphql::auth::Credentials;

/// The most ids `nodes` takes at once; the cost limit counts each.
pub const MAX_NODE_IDS: usize = 100;

/// Conditions on a text field of a source; every one given must hold.
#[derive(InputObject, Debug, Clone, Default)]
pub struct SourceTextFilter {
    /// Exactly this text.
    pub eq: Option<String>,
    /// Contains this text, ignoring case (`%` and `_` are plain characters).
    pub contains: Option<String>,
    /// Starts with this text, case included (e.g. `https://arxiv.org/`).
    pub starts_with: Option<String>,
    /// True: the field is not recorded; false: it is.
    pub is_null: Option<bool>,
}

/// Conditions on a source's publication date, a partial date: a source
/// dated `2023` may have been published on any day of 2023, so it matches
/// `from: "2023-06-01"` and `to: "2023-06-01"` alike. Undated sources match
/// neither (ask for them with `isNull: true`).
#[derive(InputObject, Debug, Clone, Default)]
pub struct SourceDateFilter {
    /// May have been published on or after this day.
    pub from: Option<DateScalar>,
    /// May have been published on or before this day.
    pub to: Option<DateScalar>,
    /// True: no date is recorded; false: one is.
    pub is_null: Option<bool>,
}

/// Which sources `sources` lists: every condition given must hold; `and`,
/// `or` and `not` compose them.
#[derive(InputObject, Debug, Clone, Default)]
pub struct SourceWhere {
    /// On the URL.
    pub url: Option<SourceTextFilter>,
    /// On the title.
    pub title: Option<SourceTextFilter>,
    /// On the publisher.
    pub publisher: Option<SourceTextFilter>,
    /// On the publication date (partial dates: see `SourceDateFilter`).
    pub published_on: Option<SourceDateFilter>,
    /// Every one of these holds.
    pub and: Option<Vec<SourceWhere>>,
    /// At least one of these holds.
    pub or: Option<Vec<SourceWhere>>,
    /// This does not hold.
    pub not: Option<Box<SourceWhere>>,
}

/// How deeply `and`/`or`/`not` may nest in a `where`.
const MAX_WHERE_DEPTH: usize = 8;

fn text(filter: SourceTextFilter) -> TextCondition {
    TextCondition {
        eq: filter.eq,
        contains: filter.contains,
        starts_with: filter.starts_with,
        is_null: filter.is_null,
    }
}

impl SourceWhere {
    fn into_filter(self, depth: usize) -> ApiResult<SourceFilter> {
        if depth > MAX_WHERE_DEPTH {
            return Err(ApiError::BadUserInput(format!(
                "`where` nests `and`/`or`/`not` more than {MAX_WHERE_DEPTH} deep"
            )));
        }
        let nested = |list: Option<Vec<SourceWhere>>| -> ApiResult<Vec<SourceFilter>> {
            list.unwrap_or_default()
                .into_iter()
                .map(|w| w.into_filter(depth + 1))
                .collect()
        };
        Ok(SourceFilter {
            url: self.url.map(text),
            title: self.title.map(text),
            publisher: self.publisher.map(text),
            published_on: self.published_on.map(|d| DateCondition {
                from: d.from.map(|d| d.0),
                to: d.to.map(|d| d.0),
                is_null: d.is_null,
            }),
            and: nested(self.and)?,
            or: nested(self.or)?,
            not: self
                .not
                .map(|w| w.into_filter(depth + 1).map(Box::new))
                .transpose()?,
        })
    }
}

/// The total of a `sources` list, counted only when asked for.
pub struct SourcesTotal(SourceFilter);

#[Object]
impl SourcesTotal {
    /// The number of sources matching `where`, across all pages.
    async fn total_count(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        Ok(db::source_pages::count(&mut *ctx.pool()?.get().await?, &self.0).await?)
    }
}

pub type SourceConnection = Connection<Cursor, Source, SourcesTotal>;

/// The caller, as their bearer token says.
#[derive(SimpleObject)]
pub struct Viewer {
    /// What the token may do.
    pub role: Role,
    /// The token's name, as given when it was created (e.g. `ci-frontend`).
    pub name: String,
}

#[derive(Default)]
pub struct RootQuery;

type UrlCursor = (String, i64);

#[Object]
impl RootQuery {
    /// Every source facts cite, by URL; `where` narrows them. Pages go
    /// forward (`first`/`after`) or backward (`last`/`before`).
    async fn sources(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            name = "where",
            desc = "Which sources: conditions on url, title, publisher and publishedOn, composable with `and`/`or`/`not`; all when omitted."
        )]
        filter: Option<SourceWhere>,
        #[graphql(
            desc = "Page size from the start (or from `after`): 20 when omitted, at most 100."
        )]
        first: Option<i32>,
        #[graphql(desc = "A cursor from this list: the page starts after it.")] after: Option<
            String,
        >,
        #[graphql(
            desc = "Page size from the end (or from `before`), at most 100; not with `first`."
        )]
        last: Option<i32>,
        #[graphql(desc = "A cursor from this list: the page ends before it.")] before: Option<
            String,
        >,
    ) -> ApiResult<SourceConnection> {
        let filter = filter.unwrap_or_default().into_filter(0)?;
        let after: Option<UrlCursor> = Cursor::decode(List::Sources, after.as_deref())?;
        let before: Option<UrlCursor> =
            Cursor::decode(List::Sources, before.as_deref()).map_err(|_| {
                ApiError::InvalidField {
                    field: "before".to_owned(),
                    message: "is not a cursor from this list".to_owned(),
                }
            })?;
        let (direction, limit) = match (first, last) {
            (Some(_), Some(_)) => {
                return Err(ApiError::BadUserInput(
                    "give `first` or `last`, not both".into(),
                ));
            }
            (None, Some(last)) => (
                Direction::Backward,
                page_size(Some(last)).map_err(|_| {
                    ApiError::BadUserInput(format!(
                        "`last` must be between 0 and {MAX_PAGE_SIZE}, got {last}"
                    ))
                })?,
            ),
            (first, None) => (Direction::Forward, page_size(first)?),
        };
        fn keyset(k: &Option<UrlCursor>) -> Option<(&str, i64)> {
            k.as_ref().map(|(url, id)| (url.as_str(), *id))
        }
        let mut rows = db::source_pages::page(
            &mut *ctx.pool()?.get().await?,
            &filter,
            keyset(&after),
            keyset(&before),
            direction,
            limit + 1,
        )
        .await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let (has_previous, has_next) = match direction {
            Direction::Forward => (after.is_some(), more),
            Direction::Backward => {
                rows.reverse();
                (more, before.is_some())
            }
        };
        let mut connection =
            Connection::with_additional_fields(has_previous, has_next, SourcesTotal(filter));
        for row in rows {
            let cursor = Cursor::new(List::Sources, (row.url.clone(), row.id));
            connection
                .edges
                .push(Edge::new(cursor, Source::try_from(row)?));
        }
        Ok(connection)
    }

    /// A source by its URL (`source(url: "https://arxiv.org/abs/2302.13971")`)
    /// or by reference; null when nothing has it.
    async fn source(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The source's URL, exactly as recorded.")] url: Option<String>,
        #[graphql(
            name = "ref",
            desc = "The source: `{id: …}` or `{url: …}`; not with `url`."
        )]
        reference: Option<SourceRef>,
    ) -> ApiResult<Option<Source>> {
        let row = match refs::either("url", url, "ref", reference, SourceRef::Url)? {
            SourceRef::Url(url) => {
                db::source_pages::by_url(&mut *ctx.pool()?.get().await?, &url).await?
            }
            reference => refs::find(ctx, "ref", &reference).await?,
        };
        row.map(Source::try_from).transpose()
    }

    /// Many entities by global id at once (Relay's `nodes`), in the order
    /// asked, null where an id names nothing (or a deleted entity); at most
    /// 100 ids, each counted in the query's cost. Each kind is one statement.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ids, as `id` fields gave them; at most 100.")] ids: Vec<ID>,
    ) -> ApiResult<Vec<Option<Node>>> {
        if ids.len() > MAX_NODE_IDS {
            return Err(ApiError::BadUserInput(format!(
                "`nodes` takes at most {MAX_NODE_IDS} ids, got {}",
                ids.len()
            )));
        }
        let decoded = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                ids::decode(id).map_err(|_| ApiError::InvalidField {
                    field: format!("ids.{i}"),
                    message: "is not an id this API gave out".to_owned(),
                })
            })
            .collect::<ApiResult<Vec<_>>>()?;
        let of = |kind: NodeKind| {
            decoded
                .iter()
                .filter(move |(k, _)| *k == kind)
                .map(|(_, id)| *id)
        };
        let loader = ctx.loader()?;
        let (people, organizations, employments, publications, sources, authorships) = futures_util::try_join!(
            loader.load_many(of(NodeKind::Person).map(PersonId)),
            loader.load_many(of(NodeKind::Organization).map(OrganizationId)),
            loader.load_many(of(NodeKind::Employment).map(EmploymentId)),
            loader.load_many(of(NodeKind::Publication).map(PublicationId)),
            loader.load_many(of(NodeKind::Source).map(SourceId)),
            loader.load_many(of(NodeKind::Authorship).map(AuthorshipId)),
        )?;
        decoded
            .into_iter()
            .map(|(kind, id)| {
                Ok(match kind {
                    NodeKind::Person => people
                        .get(&PersonId(id))
                        .cloned()
                        .map(|r| Node::Person(r.into())),
                    NodeKind::Organization => organizations
                        .get(&OrganizationId(id))
                        .cloned()
                        .map(|r| r.try_into().map(Node::Organization))
                        .transpose()?,
                    NodeKind::Employment => employments
                        .get(&EmploymentId(id))
                        .cloned()
                        .map(|r| {
                            Employment::try_from(r).map(|stint| Node::Employment(Box::new(stint)))
                        })
                        .transpose()?,
                    NodeKind::Publication => publications
                        .get(&PublicationId(id))
                        .cloned()
                        .map(|r| r.try_into().map(Node::Publication))
                        .transpose()?,
                    NodeKind::Source => sources
                        .get(&SourceId(id))
                        .cloned()
                        .map(|r| r.try_into().map(Node::Source))
                        .transpose()?,
                    NodeKind::Authorship => authorships
                        .get(&AuthorshipId(id))
                        .cloned()
                        .map(|r| Node::Authorship(r.into())),
                })
            })
            .collect()
    }

    /// Who is calling: the bearer token's role and name; null without an
    /// `Authorization` header, `UNAUTHENTICATED` with a token that is not
    /// (or no longer) valid.
    async fn viewer(&self, ctx: &Context<'_>) -> ApiResult<Option<Viewer>> {
        let Some(credentials) = ctx.data_opt::<Credentials>() else {
            return Ok(None);
        };
        let Some(secret) = credentials.bearer_secret() else {
            return match credentials.0 {
                None => Ok(None),
                Some(_) => Err(ApiError::Unauthenticated),
            };
        };
        let token = db::tokens::active_by_hash(&mut *ctx.pool()?.get().await?, &auth::hash(secret))
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        let role = Role::from_db(&token.role).ok_or_else(|| {
            ApiError::internal(format!("token {} has role {:?}", token.id, token.role))
        })?;
        Ok(Some(Viewer {
            role,
            name: token.name,
        }))
    }
}
