//! Relay cursor connections: page sizes, opaque keyset cursors and lazily
//! counted totals.
//!
//! Every list is paged by keyset (the last row's sort key), never by OFFSET, so
//! a page costs the same at any depth into the list.

use async_graphql::connection::{Connection, CursorType, Edge};
use async_graphql::{Context, Object, OutputType};
use std::sync::Arc;
use std::time::Duration;

use deadpool::managed::Timeouts;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::context::ContextExt;
use super::error::{ApiError, ApiResult};
use super::loaders::{AlumniCount, ListingCountKey};
use crate::db;

/// Page size when `first` is not given.
pub const DEFAULT_PAGE_SIZE: i32 = 20;
/// The largest `first` a client may ask for.
pub const MAX_PAGE_SIZE: i32 = 100;

/// Checks `first`: out of range is an error, never silently clamped.
pub fn page_size(first: Option<i32>) -> ApiResult<i64> {
    match first {
        None => Ok(i64::from(DEFAULT_PAGE_SIZE)),
        Some(n) if (0..=MAX_PAGE_SIZE).contains(&n) => Ok(i64::from(n)),
        Some(n) => Err(ApiError::BadUserInput(format!(
            "`first` must be between 0 and {MAX_PAGE_SIZE}, got {n}"
        ))),
    }
}

/// The list a cursor was given out by: every list refuses the others'
/// cursors, since a position in one means nothing in another (an
/// `organizations` cursor is a name and an id, like a `people` one).
/// Filters (`search` text aside, which orders by its own score) keep a
/// list's order, so a cursor stays good when they change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    People,
    /// `people(search:)`, best match first.
    PeopleMatching,
    Organizations,
    /// `organizations(search:)`, best match first.
    OrganizationsMatching,
    Publications,
    /// One organization's `employments`.
    Employments {
        organization: i64,
    },
    /// One organization's `alumni`.
    Alumni {
        organization: i64,
    },
    AuditLog,
    /// `Query.sources`, by URL.
    Sources,
}

impl List {
    /// The name a cursor carries; part of the cursor format.
    pub fn name(self) -> String {
        match self {
            List::People => "people".to_owned(),
            List::PeopleMatching => "people~search".to_owned(),
            List::Organizations => "organizations".to_owned(),
            List::OrganizationsMatching => "organizations~search".to_owned(),
            List::Publications => "publications".to_owned(),
            List::Employments { organization } => {
                format!("organization/{organization}/employments")
            }
            List::Alumni { organization } => format!("organization/{organization}/alumni"),
            List::AuditLog => "auditLog".to_owned(),
            List::Sources => "sources".to_owned(),
        }
    }
}

/// An opaque cursor: the base64url of the JSON `[list, sort key]`, the list
/// as [`List::name`] spells it and the sort key as the list orders by.
///
/// Encoded only when a client selects it: a page of 1,000 stints whose
/// cursors nobody asked for would otherwise cost 1,000 JSON and base64
/// encodings (10% of the server's CPU on benchmark (b)).
#[derive(Clone)]
pub struct Cursor(Arc<dyn SortKey>);

trait SortKey: Send + Sync {
    fn encode(&self) -> String;
}

/// A sort key not yet encoded.
struct Key<K> {
    list: String,
    key: K,
}

impl<K: Serialize + Send + Sync> SortKey for Key<K> {
    fn encode(&self) -> String {
        // Sort keys are tuples of strings, numbers and dates, which always
        // serialize; were one not to, the cursor would be refused when sent
        // back, never mistaken for another.
        serde_json::to_vec(&(&self.list, &self.key))
            .map(|json| URL_SAFE_NO_PAD.encode(json))
            .unwrap_or_default()
    }
}

/// A cursor as a client sent it.
struct Encoded(String);

impl SortKey for Encoded {
    fn encode(&self) -> String {
        self.0.clone()
    }
}

impl Cursor {
    pub fn new<K: Serialize + Send + Sync + 'static>(list: List, key: K) -> Self {
        Self::named(list.name(), key)
    }

    /// A cursor of the list named `list` (a [`List::name`], or one with the
    /// order it was given out in: see `filter::ListOrder`).
    pub fn named<K: Serialize + Send + Sync + 'static>(list: String, key: K) -> Self {
        Cursor(Arc::new(Key { list, key }))
    }

    /// Decodes `after`, refusing anything `list` did not give out: another
    /// list's cursor, a key of the wrong shape, and strings PostgreSQL would
    /// refuse (a NUL). Keys a list must check further (dates) it checks.
    pub fn decode<K: DeserializeOwned>(list: List, after: Option<&str>) -> ApiResult<Option<K>> {
        Self::decode_named(&list.name(), "after", after)
    }

    /// Decodes the cursor argument `field` (`after`, `before`) of the list
    /// named `list`, as [`Cursor::decode`].
    pub fn decode_named<K: DeserializeOwned>(
        list: &str,
        field: &str,
        after: Option<&str>,
    ) -> ApiResult<Option<K>> {
        let Some(after) = after else { return Ok(None) };
        let invalid = || ApiError::InvalidField {
            field: field.to_owned(),
            message: "is not a cursor from this list in this order".to_owned(),
        };
        let json = URL_SAFE_NO_PAD.decode(after).map_err(|_| invalid())?;
        let (name, key): (String, serde_json::Value) =
            serde_json::from_slice(&json).map_err(|_| invalid())?;
        if name != list || holds_nul(&key) {
            return Err(invalid());
        }
        serde_json::from_value(key).map(Some).map_err(|_| invalid())
    }
}

fn holds_nul(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(holds_nul),
        serde_json::Value::Object(fields) => fields
            .iter()
            .any(|(key, value)| key.contains('\0') || holds_nul(value)),
        _ => false,
    }
}

impl CursorType for Cursor {
    type Error = std::convert::Infallible;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        Ok(Cursor(Arc::new(Encoded(s.to_owned()))))
    }

    fn encode_cursor(&self) -> String {
        self.0.encode()
    }
}

/// Turns `limit + 1` rows of `list`, fetched after a keyset, into a page of
/// `limit` whose cursors carry each row's sort key.
pub fn keyset_page<Row, Node: OutputType, SortKeyOf: Serialize + Send + Sync + 'static>(
    list: List,
    mut rows: Vec<Row>,
    limit: i64,
    after_given: bool,
    total: TotalCount,
    sort_key: impl Fn(&Row) -> SortKeyOf,
    convert: impl Fn(Row) -> ApiResult<Node>,
) -> ApiResult<Connection<Cursor, Node, TotalCount>> {
    let has_next_page = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let mut connection = Connection::with_additional_fields(after_given, has_next_page, total);
    for row in rows {
        let cursor = Cursor::new(list, sort_key(&row));
        connection.edges.push(Edge::new(cursor, convert(row)?));
    }
    Ok(connection)
}

/// What a connection's `totalCount` counts; counted only when asked for.
#[derive(Debug, Clone)]
pub enum TotalCount {
    People,
    PeopleMatching(String),
    Organizations {
        kind: Option<&'static str>,
    },
    OrganizationsMatching {
        query: String,
        kind: Option<&'static str>,
    },
    Publications,
    OrganizationEmployments(ListingCountKey),
    Alumni(AlumniCount),
    Audit(db::audit::AuditFilter),
    /// Lists under `where:` (see `filter`).
    FilteredPeople(Arc<db::filter::Pred<db::filter::PersonLeaf>>),
    FilteredOrganizations(Arc<db::filter::Pred<db::filter::OrganizationLeaf>>),
    FilteredPublications(Arc<db::filter::Pred<db::filter::PublicationLeaf>>),
    FilteredStints(super::filter::StintCountKey),
    /// Counted beside the page (see [`TotalCount::beside`]); a failed count
    /// is the `totalCount` field's error, as it would have been.
    Counted(ApiResult<i64>),
}

impl TotalCount {
    /// Loads a page with `page` and, when the connection's selection asks
    /// for `totalCount`, counts the list at the same time: the two
    /// statements do not depend on each other, so neither need wait for the
    /// other.
    ///
    /// Only on a connection that is free right now: a count that queued for
    /// the pool while its own page held a connection could time out where
    /// counting after the page would not (a pool of one, a page waiting on a
    /// lock). Without one, the count runs after the page as before.
    pub async fn beside<T>(
        self,
        ctx: &Context<'_>,
        page: impl Future<Output = ApiResult<T>>,
    ) -> ApiResult<(T, TotalCount)> {
        if !ctx.look_ahead().field("totalCount").exists() {
            return Ok((page.await?, self));
        }
        let pool = ctx.pool()?;
        let at_once = Timeouts {
            wait: Some(Duration::ZERO),
            ..pool.timeouts()
        };
        let Ok(spare) = pool.timeout_get(&at_once).await else {
            return Ok((page.await?, self));
        };
        let (page, count) = futures_util::join!(page, self.count(ctx, Some(spare)));
        Ok((page?, TotalCount::Counted(count)))
    }

    /// The count, on `spare` when given (loader counts batch on the
    /// loader's own connections, so they give it back first).
    async fn count(&self, ctx: &Context<'_>, spare: Option<db::DbConn>) -> ApiResult<i64> {
        let loaded = |count: Option<i64>| count.unwrap_or(0);
        // A loader count gives `spare` back before it waits for its batch.
        let loader = |spare: Option<db::DbConn>| {
            drop(spare);
            ctx.loader()
        };
        Ok(match self {
            TotalCount::Counted(count) => return count.clone(),
            TotalCount::OrganizationEmployments(key) => {
                loaded(loader(spare)?.load_one(key.clone()).await?)
            }
            TotalCount::Alumni(key) => loaded(loader(spare)?.load_one(*key).await?),
            TotalCount::FilteredStints(key) => loaded(loader(spare)?.load_one(key.clone()).await?),
            TotalCount::People => db::people::count(&mut *conn(ctx, spare).await?).await?,
            TotalCount::PeopleMatching(query) => {
                db::search::people_count(&mut *conn(ctx, spare).await?, query).await?
            }
            TotalCount::OrganizationsMatching { query, kind } => {
                db::search::organizations_count(&mut *conn(ctx, spare).await?, query, *kind).await?
            }
            TotalCount::Organizations { kind } => {
                db::organizations::count(&mut *conn(ctx, spare).await?, *kind).await?
            }
            TotalCount::Publications => {
                db::publications::count(&mut *conn(ctx, spare).await?).await?
            }
            TotalCount::Audit(filter) => {
                db::audit::count(&mut *conn(ctx, spare).await?, filter).await?
            }
            TotalCount::FilteredPeople(filter) => {
                db::filter::people_count(&mut *conn(ctx, spare).await?, filter).await?
            }
            TotalCount::FilteredOrganizations(filter) => {
                db::filter::organizations_count(&mut *conn(ctx, spare).await?, filter).await?
            }
            TotalCount::FilteredPublications(filter) => {
                db::filter::publications_count(&mut *conn(ctx, spare).await?, filter).await?
            }
        })
    }
}

/// `spare`, or a connection from the pool.
async fn conn(ctx: &Context<'_>, spare: Option<db::DbConn>) -> ApiResult<db::DbConn> {
    match spare {
        Some(conn) => Ok(conn),
        None => Ok(ctx.pool()?.get().await?),
    }
}

#[Object]
impl TotalCount {
    /// The number of items in the whole list, across all pages.
    async fn total_count(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        self.count(ctx, None).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_out_of_range_are_refused() {
        assert_eq!(page_size(None).ok(), Some(20));
        assert_eq!(page_size(Some(0)).ok(), Some(0));
        assert_eq!(page_size(Some(100)).ok(), Some(100));
        assert!(page_size(Some(101)).is_err());
        assert!(page_size(Some(-1)).is_err());
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let cursor = Cursor::new(List::Organizations, ("Meta", 3_i64));
        let decoded: Option<(String, i64)> =
            Cursor::decode(List::Organizations, Some(&cursor.encode_cursor())).expect("valid");
        assert_eq!(decoded, Some(("Meta".to_owned(), 3)));
        assert_eq!(
            URL_SAFE_NO_PAD.decode(cursor.encode_cursor()).ok(),
            Some(br#"["organizations",["Meta",3]]"#.to_vec()),
            "the format clients hold"
        );
        let decode = |list, text: &str| {
            Cursor::decode::<(String, i64)>(list, Some(&URL_SAFE_NO_PAD.encode(text)))
        };
        assert!(Cursor::decode::<(String, i64)>(List::People, Some("nope")).is_err());
        assert!(decode(List::People, "[1]").is_err());
        assert!(decode(List::People, r#"["people",[1]]"#).is_err());
        assert!(decode(List::People, r#"["people",["Ada",1]]"#).is_ok());
        assert!(decode(List::People, r#"["people",["A\u0000",1]]"#).is_err());
        // Another list's cursor, and one from before cursors named their list.
        assert!(decode(List::People, r#"["organizations",["Meta",3]]"#).is_err());
        assert!(decode(List::People, r#"["Ada",1]"#).is_err());
        assert!(
            Cursor::decode::<(Option<String>, i64)>(
                List::Employments { organization: 2 },
                Some(
                    &Cursor::new(List::Employments { organization: 1 }, (None::<String>, 5))
                        .encode_cursor()
                )
            )
            .is_err()
        );
    }
}
