//! Every batch in one place. One [`Db`] loader serves all key types, so a
//! request has one `DataLoader` and each kind of lookup at one level of a
//! query becomes one SQL statement, however many parents ask.

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_graphql::dataloader::{CacheFactory, CacheStorage, DataLoader, Loader};

use super::authorship::Authorship;
use super::employment::Employment;
use super::error::{ApiError, ApiResult};
use chrono::NaiveDate;

use super::person::Person;
use crate::db::ahead::{
    AuthorshipsAhead, Listed, ListedAuthorshipRow, ListedOrganizationRow, ListedStintRow,
};
use crate::db::analytics::{CohortMemberRow, FlowEnds, FlowMoveRow, FlowQuery, FlowRow};
use crate::db::attestations::AttestationRow;
use crate::db::authorships::{AuthorshipJoins, AuthorshipRow, AuthorshipsBy, JoinedAuthorshipRow};
use crate::db::columns::{ColumnSet, Prefixed};
use crate::db::employments::{
    EmploymentRead, EmploymentRow, JoinedStintRow, ListingColumns, ListingCursor,
    OrganizationScope, StintJoins,
};
use crate::db::organizations::{OrganizationRead, OrganizationRow};
use crate::db::people::{PeopleLookup, PersonRead, PersonRow};
use crate::db::publications::PublicationRow;
use crate::db::sources::SourceRow;
use crate::db::{self, DbPool};
use crate::domain::chronology::{ChronologyKey, SuccessionKey};

/// The loader behind every batch; cheap to create per request.
pub struct Db {
    pool: DbPool,
    writes: Writes,
}

pub type DbLoader = DataLoader<Db, ForgetOnWrite>;

/// A per-request loader: its cache lives as long as the request, and
/// forgets everything it read whenever the operation writes (see
/// [`Db::forget_reads`]).
pub fn request_loader(pool: DbPool) -> DbLoader {
    let writes = Writes::default();
    // One statement per relation and level whatever the list size: the
    // default batch of 1,000 keys would split long lists into several.
    //
    // No delay: the default waits 1 ms before each batch, which added 1 ms
    // per level of a query (2 ms of a 3.5 ms person lookup). Waiting is not
    // needed to collect keys: on the request's single-threaded worker, the
    // spawned batch first runs once every sibling resolver of the level has
    // been polled and has asked for its key.
    DataLoader::with_cache(
        Db {
            pool,
            writes: writes.clone(),
        },
        crate::observability::spawn_in_request,
        ForgetOnWrite { writes },
    )
    .max_batch_size(usize::MAX)
    .delay(std::time::Duration::ZERO)
}

/// How many times the request's operation has written: every cache of its
/// loader compares it with the count it was filled at.
#[derive(Debug, Clone, Default)]
struct Writes(Arc<AtomicU64>);

impl Writes {
    fn count(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}

/// A cache per key type, each emptied before use once the operation has
/// written since it was filled: so no read after a write (a later mutation
/// field, or its payload) is answered from before it, whatever the key type,
/// including those added later.
pub struct ForgetOnWrite {
    writes: Writes,
}

impl CacheFactory for ForgetOnWrite {
    fn create<K, V>(&self) -> Box<dyn CacheStorage<Key = K, Value = V>>
    where
        K: Send + Sync + Clone + Eq + Hash + 'static,
        V: Send + Sync + Clone + 'static,
    {
        Box::new(ForgettingCache {
            entries: foldhash::HashMap::default(),
            filled_at: self.writes.count(),
            writes: self.writes.clone(),
        })
    }
}

struct ForgettingCache<K, V> {
    /// foldhash, not SipHash: every relation read and every read-ahead
    /// hands its rows through here (3% of the server's instructions on a
    /// page of organizations with their founders and leaders), and the keys
    /// are ids the server chose, not input an attacker can pick to collide.
    entries: foldhash::HashMap<K, V>,
    filled_at: u64,
    writes: Writes,
}

impl<K, V> ForgettingCache<K, V> {
    fn is_stale(&self) -> bool {
        self.filled_at != self.writes.count()
    }

    fn forget_if_stale(&mut self) {
        if self.is_stale() {
            self.entries.clear();
            self.filled_at = self.writes.count();
        }
    }
}

impl<K, V> CacheStorage for ForgettingCache<K, V>
where
    K: Send + Sync + Clone + Eq + Hash + 'static,
    V: Send + Sync + Clone + 'static,
{
    type Key = K;
    type Value = V;

    fn get(&mut self, key: &K) -> Option<&V> {
        self.forget_if_stale();
        self.entries.get(key)
    }

    fn insert(&mut self, key: Cow<'_, K>, value: Cow<'_, V>) {
        self.forget_if_stale();
        self.entries.insert(key.into_owned(), value.into_owned());
    }

    fn remove(&mut self, key: &K) {
        self.entries.remove(key);
    }

    fn clear(&mut self) {
        self.entries.clear();
    }

    fn iter(&self) -> Box<dyn Iterator<Item = (&'_ K, &'_ V)> + '_> {
        let entries = (!self.is_stale()).then_some(&self.entries);
        Box::new(entries.into_iter().flatten())
    }
}

impl Db {
    /// Called before each mutation field runs: from then on, every cache of
    /// the request's loader answers only what was read after it.
    pub fn forget_reads(&self) {
        self.writes.0.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) async fn conn(&self) -> Result<db::DbConn, ApiError> {
        Ok(self.pool.get().await?)
    }
}

macro_rules! id_key {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(pub i64);
    };
}

id_key!(/// A person by id.
    PersonId);
id_key!(/// An organization by id.
    OrganizationId);
id_key!(/// An employment stint by id.
    EmploymentId);
id_key!(/// A publication by id.
    PublicationId);
id_key!(/// A source by id.
    SourceId);
id_key!(/// An authorship by id.
    AuthorshipId);
id_key!(/// A person's stints, in chronological order.
    EmploymentsOfPerson);
id_key!(/// An organization's direct units, by name.
    UnitsOf);
id_key!(/// An organization's founders, by name.
    FoundersOf);
id_key!(/// The sources an employment cites.
    SourcesOfEmployment);
id_key!(/// The sources an authorship cites.
    SourcesOfAuthorship);
id_key!(/// A stint's attestations, by date.
    AttestationsOf);

/// A person's stints, in chronological order, with the relations its
/// readers ask for (organization, person) read by the same statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JoinedStintsOf {
    pub person_id: i64,
    pub joins: StintJoins,
}

/// A publication's authorships, in author order, with the relations its
/// readers ask for read by the same statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AuthorshipsOfPublication {
    pub publication_id: i64,
    pub joins: AuthorshipJoins,
}

/// A person's authorships, by publication, with the relations its readers
/// ask for read by the same statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AuthorshipsOfPerson {
    pub person_id: i64,
    pub joins: AuthorshipJoins,
}

/// One page of an organization's stints.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ListingPageKey {
    pub organization_id: i64,
    pub scope: OrganizationScope,
    pub cursor: Option<ListingCursor>,
    pub limit: i64,
    pub columns: ListingColumns,
}

/// The size of an organization's whole listing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ListingCountKey {
    pub organization_id: i64,
    pub scope: OrganizationScope,
}

fn ids<K: Copy>(keys: &[K], id: impl Fn(K) -> i64) -> Vec<i64> {
    keys.iter().map(|k| id(*k)).collect()
}

/// The keys' ids grouped by what else the keys carry (`split` gives both):
/// one statement per group, for keys that share everything but the id.
fn batches<'k, K, G: Eq + Hash>(
    keys: &'k [K],
    split: impl Fn(&'k K) -> (G, i64),
) -> HashMap<G, Vec<i64>> {
    let mut batches: HashMap<G, Vec<i64>> = HashMap::new();
    for key in keys {
        let (group, id) = split(key);
        batches.entry(group).or_default().push(id);
    }
    batches
}

/// Groups `(parent id, child)` pairs by parent, keeping their order, and gives
/// every asked-for parent an entry (empty when it has no children).
fn group<K: Copy + Eq + Hash, V>(
    keys: &[K],
    key: impl Fn(i64) -> K,
    pairs: impl IntoIterator<Item = (i64, V)>,
) -> HashMap<K, Vec<V>> {
    let mut groups: HashMap<K, Vec<V>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for (parent, value) in pairs {
        groups.entry(key(parent)).or_default().push(value);
    }
    groups
}

macro_rules! by_id_loader {
    ($key:ident, $row:ty, $query:path) => {
        impl Loader<$key> for Db {
            type Value = $row;
            type Error = ApiError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, $row>, ApiError> {
                let rows = $query(&mut *self.conn().await?, &ids(keys, |k| k.0)).await?;
                Ok(rows.into_iter().map(|row| ($key(row.id), row)).collect())
            }
        }
    };
}

by_id_loader!(PersonId, PersonRow, db::people::by_ids);
by_id_loader!(OrganizationId, OrganizationRow, db::organizations::by_ids);
by_id_loader!(EmploymentId, EmploymentRow, db::employments::by_ids);
by_id_loader!(PublicationId, PublicationRow, db::publications::by_ids);
by_id_loader!(SourceId, SourceRow, db::sources::by_ids);
by_id_loader!(AuthorshipId, AuthorshipRow, db::authorships::by_ids);

/// A column of an entity read in part (`read`): as read, or from the whole
/// row the loader finds under `key` (in a batch with its siblings') when
/// the read left it out. Every entity whose reads narrow their columns
/// answers its column fields through this.
pub async fn column_or_whole<R, K, T>(
    loader: &DbLoader,
    read: &R,
    key: K,
    get: impl Fn(&R) -> Option<T>,
) -> ApiResult<T>
where
    K: Send + Sync + Hash + Eq + Clone + std::fmt::Debug + 'static,
    Db: Loader<K, Error = ApiError>,
    <Db as Loader<K>>::Value: Into<R>,
{
    if let Some(value) = get(read) {
        return Ok(value);
    }
    let row = loader.load_one(key.clone()).await?;
    let row = row.ok_or_else(|| ApiError::internal(format!("{key:?} is gone")))?;
    get(&row.into()).ok_or_else(|| ApiError::internal(format!("{key:?} lacks a column")))
}

/// Stints, converted once: the batch's answer is shared with the loader's
/// cache, and readers hand out its items (`EagerItem`) without copying them.
pub type Stints = Arc<[Employment]>;

impl Loader<EmploymentsOfPerson> for Db {
    type Value = Stints;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[EmploymentsOfPerson],
    ) -> Result<HashMap<EmploymentsOfPerson, Self::Value>, ApiError> {
        let rows =
            db::employments::of_people(&mut *self.conn().await?, &ids(keys, |k| k.0)).await?;
        let stints = rows
            .into_iter()
            .map(|row| Ok((row.person_id, Employment::try_from(row)?)))
            .collect::<ApiResult<Vec<_>>>()?;
        Ok(chronological(group(keys, EmploymentsOfPerson, stints)))
    }
}

/// One statement for every reader: it reads the union of the relations and
/// columns they ask for (readers of one list ask for the same ones; aliased
/// siblings may differ), so exact column sets never cost a statement more.
impl Loader<JoinedStintsOf> for Db {
    type Value = Stints;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[JoinedStintsOf],
    ) -> Result<HashMap<JoinedStintsOf, Self::Value>, ApiError> {
        let joins = keys
            .iter()
            .map(|key| key.joins)
            .fold(StintJoins::default(), StintJoins::union);
        let mut person_ids: Vec<i64> = keys.iter().map(|key| key.person_id).collect();
        person_ids.sort_unstable();
        person_ids.dedup();
        let rows =
            db::employments::of_people_joined(&mut *self.conn().await?, &person_ids, joins).await?;
        let mut by_person: HashMap<i64, Vec<Employment>> = HashMap::new();
        for row in rows {
            let stint = joined_stint(row, joins)?;
            by_person.entry(stint.person_id).or_default().push(stint);
        }
        let readers: Vec<&JoinedStintsOf> = keys.iter().collect();
        let mut groups = HashMap::new();
        hand_out(&readers, |key| key.person_id, by_person, &mut groups);
        Ok(chronological(groups))
    }
}

/// A person by id read with every stint of theirs, and each stint's
/// organization's columns `organization` (see
/// [`crate::graphql::person::with_stints`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PersonWithStints {
    pub person_id: i64,
    pub organization: Option<ColumnSet<OrganizationRead>>,
}

/// A person and their stints, unordered, as [`PersonWithStints`] reads them.
pub type PersonAndStints = (PersonRead, Vec<Employment>);

/// One statement per set of organization columns asked for (readers of one
/// query ask for one).
impl Loader<PersonWithStints> for Db {
    type Value = PersonAndStints;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[PersonWithStints],
    ) -> Result<HashMap<PersonWithStints, Self::Value>, ApiError> {
        let mut loaded = HashMap::new();
        for (organization, person_ids) in batches(keys, |key| (key.organization, key.person_id)) {
            let rows = db::people::with_stints(
                &mut *self.conn().await?,
                PeopleLookup::Ids(&person_ids),
                organization,
            )
            .await?;
            let joins = StintJoins {
                organization,
                person: None,
            };
            for (person, stints) in listed_with_stints(rows, joins)? {
                let key = PersonWithStints {
                    person_id: person.id,
                    organization,
                };
                loaded.insert(key, (person.into(), stints));
            }
        }
        Ok(loaded)
    }
}

/// Hands the loader every stint of `person_id`, read by another statement
/// with the relations `joins` asks for, in the order and under the key its
/// own read would give them: the person's stint lists then cost no
/// statement.
pub async fn feed_stints_of(
    loader: &DbLoader,
    person_id: i64,
    joins: StintJoins,
    stints: Vec<Employment>,
) {
    let stints = chronological(HashMap::from([(person_id, stints)]))
        .remove(&person_id)
        .unwrap_or_default();
    if joins == StintJoins::default() {
        loader
            .feed_one(EmploymentsOfPerson(person_id), stints)
            .await;
    } else {
        loader
            .feed_one(JoinedStintsOf { person_id, joins }, stints)
            .await;
    }
}

/// A stint with the relations `joins` asked for lent to it.
fn joined_stint(row: JoinedStintRow, joins: StintJoins) -> ApiResult<Employment> {
    lend_relations(row.stint.into(), row.organization, row.person, joins)
}

/// The stint `read`, with the organization and person its statement read
/// beside it lent to it, as `joins` asked.
fn lend_relations(
    read: EmploymentRead,
    organization: Prefixed<OrganizationRead>,
    person: Prefixed<PersonRead>,
    joins: StintJoins,
) -> ApiResult<Employment> {
    let mut stint = Employment::try_from(read)?;
    let id = stint.id;
    let missing = |relation| ApiError::internal(format!("stint {id} read without its {relation}"));
    if joins.organization.is_some() {
        let read = organization.0.ok_or_else(|| missing("organization"))?;
        stint.preloaded_organization = Some(read.into());
    }
    if joins.person.is_some() {
        let read = person.0.ok_or_else(|| missing("person"))?;
        stint.preloaded_person = Some(read.into());
    }
    Ok(stint)
}

/// Gives each reader the rows of its parent (`parent(key)`), an empty list
/// when there are none: moved to a parent's last reader, copied for the
/// others (readers of one parent differ only when aliased siblings ask for
/// different columns).
fn hand_out<K: Clone + Eq + Hash, V: Clone>(
    readers: &[&K],
    parent: impl Fn(&K) -> i64,
    mut rows: HashMap<i64, Vec<V>>,
    into: &mut HashMap<K, Vec<V>>,
) {
    let mut left: foldhash::HashMap<i64, usize> = foldhash::HashMap::default();
    for key in readers {
        *left.entry(parent(key)).or_default() += 1;
    }
    for key in readers {
        let id = parent(key);
        let remaining = left.entry(id).or_default();
        *remaining -= 1;
        let value = if *remaining == 0 {
            rows.remove(&id)
        } else {
            rows.get(&id).cloned()
        };
        into.insert((*key).clone(), value.unwrap_or_default());
    }
}

/// Each person's stints in the order of their career.
fn chronological<K: Eq + Hash>(groups: HashMap<K, Vec<Employment>>) -> HashMap<K, Stints> {
    groups
        .into_iter()
        .map(|(key, mut stints)| {
            stints.sort_by_key(|stint| ChronologyKey {
                career_position: stint.career_position,
                started_on: stint.started_on.map(|date| date.first_day()),
                is_current: stint.is_current,
                id: stint.id,
            });
            (key, stints.into())
        })
        .collect()
}

impl Loader<UnitsOf> for Db {
    type Value = Vec<OrganizationRow>;
    type Error = ApiError;

    async fn load(&self, keys: &[UnitsOf]) -> Result<HashMap<UnitsOf, Self::Value>, ApiError> {
        let rows =
            db::organizations::units_of(&mut *self.conn().await?, &ids(keys, |k| k.0)).await?;
        let pairs = rows
            .into_iter()
            .filter_map(|row| row.parent_id.map(|parent| (parent, row)));
        Ok(group(keys, UnitsOf, pairs))
    }
}

impl Loader<FoundersOf> for Db {
    type Value = Vec<PersonRow>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[FoundersOf],
    ) -> Result<HashMap<FoundersOf, Self::Value>, ApiError> {
        let rows = db::people::founders_of(&mut *self.conn().await?, &ids(keys, |k| k.0)).await?;
        Ok(group(keys, FoundersOf, rows))
    }
}

/// One statement for every reader of a kind (of publications, of people):
/// it reads the union of the relations they ask for, as
/// [`JoinedStintsOf`] does.
impl Loader<AuthorshipsOfPublication> for Db {
    type Value = Vec<Authorship>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[AuthorshipsOfPublication],
    ) -> Result<HashMap<AuthorshipsOfPublication, Self::Value>, ApiError> {
        let readers: Vec<(i64, AuthorshipJoins)> =
            keys.iter().map(|k| (k.publication_id, k.joins)).collect();
        let by_parent = self
            .authorships(AuthorshipsBy::Publication, &readers, |a| a.publication_id)
            .await?;
        let readers: Vec<&AuthorshipsOfPublication> = keys.iter().collect();
        let mut lists = HashMap::new();
        hand_out(&readers, |key| key.publication_id, by_parent, &mut lists);
        Ok(lists)
    }
}

impl Loader<AuthorshipsOfPerson> for Db {
    type Value = Vec<Authorship>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[AuthorshipsOfPerson],
    ) -> Result<HashMap<AuthorshipsOfPerson, Self::Value>, ApiError> {
        let readers: Vec<(i64, AuthorshipJoins)> =
            keys.iter().map(|k| (k.person_id, k.joins)).collect();
        let by_parent = self
            .authorships(AuthorshipsBy::Person, &readers, |a| a.person_id)
            .await?;
        let readers: Vec<&AuthorshipsOfPerson> = keys.iter().collect();
        let mut lists = HashMap::new();
        hand_out(&readers, |key| key.person_id, by_parent, &mut lists);
        Ok(lists)
    }
}

impl Db {
    /// The authorships of the parents `readers` name (by `by`), in the
    /// statement's order, grouped by `parent`, with the union of the
    /// relations the readers ask for lent to each.
    async fn authorships(
        &self,
        by: AuthorshipsBy,
        readers: &[(i64, AuthorshipJoins)],
        parent: fn(&Authorship) -> i64,
    ) -> Result<HashMap<i64, Vec<Authorship>>, ApiError> {
        let joins = readers
            .iter()
            .map(|(_, joins)| *joins)
            .fold(AuthorshipJoins::default(), AuthorshipJoins::union);
        let mut parent_ids: Vec<i64> = readers.iter().map(|(id, _)| *id).collect();
        parent_ids.sort_unstable();
        parent_ids.dedup();
        let rows =
            db::authorships::of_parents(&mut *self.conn().await?, by, &parent_ids, joins).await?;
        let mut by_parent: HashMap<i64, Vec<Authorship>> = HashMap::new();
        for row in rows {
            let authorship = Authorship::joined(row, joins)?;
            by_parent
                .entry(parent(&authorship))
                .or_default()
                .push(authorship);
        }
        Ok(by_parent)
    }
}

impl Loader<SourcesOfEmployment> for Db {
    type Value = Vec<SourceRow>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[SourcesOfEmployment],
    ) -> Result<HashMap<SourcesOfEmployment, Self::Value>, ApiError> {
        let rows = db::sources::cited_by_employments(&mut *self.conn().await?, &ids(keys, |k| k.0))
            .await?;
        Ok(group(keys, SourcesOfEmployment, rows))
    }
}

impl Loader<SourcesOfAuthorship> for Db {
    type Value = Vec<SourceRow>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[SourcesOfAuthorship],
    ) -> Result<HashMap<SourcesOfAuthorship, Self::Value>, ApiError> {
        let rows = db::sources::cited_by_authorships(&mut *self.conn().await?, &ids(keys, |k| k.0))
            .await?;
        Ok(group(keys, SourcesOfAuthorship, rows))
    }
}

impl Loader<AttestationsOf> for Db {
    type Value = Vec<(AttestationRow, SourceRow)>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[AttestationsOf],
    ) -> Result<HashMap<AttestationsOf, Self::Value>, ApiError> {
        let rows =
            db::attestations::of_employments(&mut *self.conn().await?, &ids(keys, |k| k.0)).await?;
        Ok(group(
            keys,
            AttestationsOf,
            rows.into_iter().map(|row| (row.0.employment_id, row)),
        ))
    }
}

/// Sibling connections usually share their arguments: each distinct
/// (scope, cursor, limit) is one statement for all of its organizations,
/// reading the union of the columns its readers ask for.
impl Loader<ListingPageKey> for Db {
    type Value = Stints;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[ListingPageKey],
    ) -> Result<HashMap<ListingPageKey, Self::Value>, ApiError> {
        let mut conn = self.conn().await?;
        type Batch = (OrganizationScope, Option<ListingCursor>, i64);
        let mut batches: HashMap<Batch, Vec<&ListingPageKey>> = HashMap::new();
        for key in keys {
            batches
                .entry((key.scope, key.cursor, key.limit))
                .or_default()
                .push(key);
        }
        let mut pages: HashMap<ListingPageKey, Vec<Employment>> = HashMap::new();
        for ((scope, cursor, limit), readers) in batches {
            let columns = readers
                .iter()
                .map(|key| key.columns)
                .reduce(ListingColumns::union)
                .unwrap_or(ListingColumns {
                    stint: ColumnSet::always(),
                    person: None,
                    sources: false,
                });
            let mut roots: Vec<i64> = readers.iter().map(|key| key.organization_id).collect();
            roots.sort_unstable();
            roots.dedup();
            let mut by_root: HashMap<i64, Vec<Employment>> = HashMap::new();
            if columns.sources {
                let rows = db::employments::listing_pages_with_sources(
                    &mut conn, &roots, scope, cursor, limit, columns,
                )
                .await?;
                let listed = group_listed(rows, |row| {
                    row.source
                        .0
                        .map(|read| {
                            let id = read.id;
                            read.whole().ok_or_else(|| {
                                ApiError::internal(format!("source {id} read in part"))
                            })
                        })
                        .transpose()
                })?;
                for (row, sources) in listed {
                    let root_id = row.root_id;
                    let mut stint = listed_stint(row)?;
                    stint.preloaded_sources = Some(sources);
                    by_root.entry(root_id).or_default().push(stint);
                }
            } else {
                let rows = db::employments::listing_pages(
                    &mut conn, &roots, scope, cursor, limit, columns,
                )
                .await?;
                for row in rows {
                    by_root
                        .entry(row.root_id)
                        .or_default()
                        .push(listed_stint(row)?);
                }
            }
            hand_out(&readers, |key| key.organization_id, by_root, &mut pages);
        }
        Ok(pages
            .into_iter()
            .map(|(key, mut page)| {
                page.sort_unstable_by_key(|stint| {
                    db::employments::listing_order(
                        stint.started_on.map(|d| d.first_day()),
                        stint.id,
                    )
                });
                (key, page.into())
            })
            .collect())
    }
}

impl Loader<ListingCountKey> for Db {
    type Value = i64;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[ListingCountKey],
    ) -> Result<HashMap<ListingCountKey, i64>, ApiError> {
        let mut conn = self.conn().await?;
        let mut counts = HashMap::new();
        for (scope, roots) in batches(keys, |key| (key.scope, key.organization_id)) {
            for row in db::employments::listing_counts(&mut conn, &roots, scope).await? {
                let key = ListingCountKey {
                    organization_id: row.root_id,
                    scope,
                };
                counts.insert(key, row.count);
            }
        }
        Ok(counts)
    }
}

/// An organization's leadership stints, in succession order, with the
/// relations its readers ask for read by the same statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LeadersOf {
    pub organization_id: i64,
    pub joins: StintJoins,
}

id_key!(/// How many alumni an organization has.
    AlumniCount);

/// An organization by slug.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrganizationSlug(pub String);

/// Where a list ordered by (name, id) resumes.
pub type NameKeyset = (String, i64);

/// One page of an organization's alumni, by (name, id).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AlumniPageKey {
    pub organization_id: i64,
    pub after: Option<NameKeyset>,
    pub limit: i64,
    pub columns: ColumnSet<PersonRead>,
    /// Read each alumnus's stints too, with these relations
    /// ([`super::person::stints_ahead`]); `None`: the people alone.
    pub stints: Option<StintJoins>,
}

/// An organization's talent flows in one direction, between two dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowsKey {
    pub organization_id: i64,
    pub outbound: bool,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    pub first: Option<i64>,
    pub with_people: bool,
}

/// An organization's headcount on a series of days.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HeadcountKey {
    pub organization_id: i64,
    pub days: Vec<NaiveDate>,
}

/// Sibling organizations counted on the same days share one statement.
impl Loader<HeadcountKey> for Db {
    type Value = Vec<db::headcount::HeadcountRow>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[HeadcountKey],
    ) -> Result<HashMap<HeadcountKey, Self::Value>, ApiError> {
        let mut conn = self.conn().await?;
        let mut counts: HashMap<HeadcountKey, Self::Value> = HashMap::new();
        for (days, roots) in batches(keys, |key| (&key.days[..], key.organization_id)) {
            for row in db::headcount::headcounts(&mut conn, &roots, days).await? {
                let key = HeadcountKey {
                    organization_id: row.root_id,
                    days: days.to_vec(),
                };
                counts.entry(key).or_default().push(row);
            }
        }
        Ok(counts)
    }
}

/// The authors of a publication affiliated with an organization (or its units).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CohortKey {
    pub publication_id: i64,
    pub organization_id: i64,
}

impl Loader<OrganizationSlug> for Db {
    type Value = OrganizationRow;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[OrganizationSlug],
    ) -> Result<HashMap<OrganizationSlug, OrganizationRow>, ApiError> {
        let slugs: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
        let rows = db::organizations::by_slugs(&mut *self.conn().await?, &slugs).await?;
        Ok(rows
            .into_iter()
            .map(|row| (OrganizationSlug(row.slug.clone()), row))
            .collect())
    }
}

/// One statement for every reader: it reads the union of the relations
/// they ask for, as [`JoinedStintsOf`] does.
impl Loader<LeadersOf> for Db {
    type Value = Vec<Employment>;
    type Error = ApiError;

    async fn load(&self, keys: &[LeadersOf]) -> Result<HashMap<LeadersOf, Self::Value>, ApiError> {
        let joins = keys
            .iter()
            .map(|key| key.joins)
            .fold(StintJoins::default(), StintJoins::union);
        let mut organization_ids: Vec<i64> = keys.iter().map(|key| key.organization_id).collect();
        organization_ids.sort_unstable();
        organization_ids.dedup();
        let mut rows =
            db::employments::leaders_of(&mut *self.conn().await?, &organization_ids, joins).await?;
        rows.sort_by_key(|row| SuccessionKey {
            started_on: row.stint.started_on,
            is_current: row.stint.is_current,
            id: row.stint.id,
        });
        let mut by_organization: HashMap<i64, Vec<Employment>> = HashMap::new();
        for row in rows {
            let stint = joined_stint(row, joins)?;
            by_organization
                .entry(stint.organization_id)
                .or_default()
                .push(stint);
        }
        let readers: Vec<&LeadersOf> = keys.iter().collect();
        let mut groups = HashMap::new();
        hand_out(
            &readers,
            |key| key.organization_id,
            by_organization,
            &mut groups,
        );
        Ok(groups)
    }
}

/// Each alumnus with their stints (unordered) when the key asks for them,
/// with none otherwise.
impl Loader<AlumniPageKey> for Db {
    type Value = Vec<PersonAndStints>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[AlumniPageKey],
    ) -> Result<HashMap<AlumniPageKey, Self::Value>, ApiError> {
        let mut conn = self.conn().await?;
        // One statement per (after, limit, stints), reading the union of the
        // columns its readers ask for.
        type Batch = (Option<NameKeyset>, i64, Option<StintJoins>);
        let mut batches: HashMap<Batch, Vec<&AlumniPageKey>> = HashMap::new();
        for key in keys {
            batches
                .entry((key.after.clone(), key.limit, key.stints))
                .or_default()
                .push(key);
        }
        let mut pages: HashMap<AlumniPageKey, Self::Value> = HashMap::new();
        for ((after, limit, stints), readers) in batches {
            let columns = readers
                .iter()
                .map(|key| key.columns)
                .fold(ColumnSet::always(), ColumnSet::union);
            let mut roots: Vec<i64> = readers.iter().map(|key| key.organization_id).collect();
            roots.sort_unstable();
            roots.dedup();
            let keyset = after.as_ref().map(|(name, id)| (name.as_str(), *id));
            let mut by_root: HashMap<i64, Self::Value> = HashMap::new();
            match stints {
                None => {
                    let rows =
                        db::analytics::alumni_pages(&mut conn, &roots, keyset, limit, columns)
                            .await?;
                    for row in rows {
                        by_root
                            .entry(row.root_id)
                            .or_default()
                            .push((row.person, Vec::new()));
                    }
                }
                Some(joins) => {
                    let rows = db::analytics::alumni_pages_with_stints(
                        &mut conn,
                        &roots,
                        keyset,
                        limit,
                        columns,
                        joins.organization,
                    )
                    .await?;
                    for (row, stints) in listed_with_stints(rows, joins)? {
                        by_root
                            .entry(row.root_id)
                            .or_default()
                            .push((row.person, stints));
                    }
                }
            }
            hand_out(&readers, |key| key.organization_id, by_root, &mut pages);
        }
        Ok(pages)
    }
}

/// The rows of a [`db::ahead::WithChildren`] statement as its listed rows,
/// in the order they first come (the listed order, when numbered), each
/// with its children. `child` takes a row's child part apart: the child it
/// holds, `None` for a listed row without children.
fn group_listed<R, C, Child>(
    rows: Vec<Listed<R, C>>,
    mut child: impl FnMut(C) -> ApiResult<Option<Child>>,
) -> ApiResult<Vec<(R, Vec<Child>)>> {
    let mut listed: Vec<(R, Vec<Child>)> = Vec::new();
    let mut at: foldhash::HashMap<i64, usize> = foldhash::HashMap::default();
    for row in rows {
        let index = match at.entry(row.ordinal) {
            Entry::Occupied(seen) => *seen.get(),
            Entry::Vacant(new) => {
                // The first row of a listed row's run holds it decoded.
                let head = row.listed.ok_or_else(|| {
                    ApiError::internal(format!("listed row {} read without it", row.ordinal))
                })?;
                listed.push((head, Vec::new()));
                *new.insert(listed.len() - 1)
            }
        };
        listed[index].1.extend(child(row.child)?);
    }
    Ok(listed)
}

/// The rows of a [`db::ahead::WithChildren::stints`] statement: each
/// listed row with its person's stints (with the relations `joins` asked
/// for).
pub fn listed_with_stints<R>(
    rows: Vec<ListedStintRow<R>>,
    joins: StintJoins,
) -> ApiResult<Vec<(R, Vec<Employment>)>> {
    group_listed(rows, |row| {
        row.stint
            .0
            .map(|read| lend_relations(read, row.organization, Prefixed(None), joins))
            .transpose()
    })
}

/// The rows of a [`db::ahead::WithChildren::of_organizations`] statement
/// that read [`db::ahead::OrganizationChildren::Units`]: each listed row with its
/// units, by name.
pub fn listed_with_units<R>(
    rows: Vec<ListedOrganizationRow<R>>,
) -> ApiResult<Vec<(R, Vec<OrganizationRow>)>> {
    group_listed(rows, |row| {
        row.unit
            .0
            .map(|read| {
                let id = read.id;
                read.whole()
                    .ok_or_else(|| ApiError::internal(format!("unit {id} read in part")))
            })
            .transpose()
    })
}

/// The rows of a [`db::ahead::WithChildren::of_organizations`] statement
/// that read [`db::ahead::OrganizationChildren::Founders`]: each listed row with its
/// founders, by name.
pub fn listed_with_founders<R>(
    rows: Vec<ListedOrganizationRow<R>>,
) -> ApiResult<Vec<(R, Vec<PersonRow>)>> {
    group_listed(rows, |row| {
        row.founder
            .0
            .map(|read| {
                let id = read.id;
                read.whole()
                    .ok_or_else(|| ApiError::internal(format!("founder {id} read in part")))
            })
            .transpose()
    })
}

/// Hands each listed row's child list to the loader under `key(row)`, where
/// the child list's resolver finds it, and returns the rows in their
/// listed order.
pub async fn feed_listed<R, K>(
    loader: &DbLoader,
    listed: Vec<(R, <Db as Loader<K>>::Value)>,
    key: impl Fn(&R) -> K,
) -> Vec<R>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    Db: Loader<K>,
{
    let mut rows = Vec::with_capacity(listed.len());
    let lists = listed.into_iter().map(|(row, children)| {
        let key = key(&row);
        rows.push(row);
        (key, children)
    });
    loader.feed_many(lists).await;
    rows
}

/// What a [`db::ahead::WithChildren::authorships`] statement read: each
/// listed row with its authorships in author order (with the relations
/// asked for), and the grandchild lists it was asked for.
pub struct ListedAuthorships<R> {
    pub listed: Vec<(R, Vec<Authorship>)>,
    /// Every author's stints, by person id (an author without any too),
    /// when [`AuthorshipsAhead::author_stints`] asked for them.
    pub author_stints: HashMap<i64, Vec<Employment>>,
    /// Every authorship's sources by source id, by authorship id, when
    /// [`AuthorshipsAhead::sources`] asked for them.
    pub sources: HashMap<i64, Vec<SourceRow>>,
}

/// The rows of a [`db::ahead::WithChildren::authorships`] statement, put
/// back together: an authorship's row repeats for each of its
/// grandchildren, an author's stints for each of their authorships.
pub fn listed_with_authorships<R>(
    rows: Vec<ListedAuthorshipRow<R>>,
    ahead: AuthorshipsAhead,
) -> ApiResult<ListedAuthorships<R>> {
    let mut author_stints: HashMap<i64, Vec<Employment>> = HashMap::new();
    let mut sources: HashMap<i64, Vec<SourceRow>> = HashMap::new();
    let (mut authorships_seen, mut stints_seen) = (HashSet::new(), HashSet::new());
    let listed = group_listed(rows, |row| {
        let Some(read) = row.authorship.0 else {
            return Ok(None);
        };
        let id = read.id;
        if let Some(joins) = ahead.author_stints {
            let stints = author_stints.entry(read.person_id).or_default();
            if let Some(stint) = row.author_stint.0
                && stints_seen.insert(stint.id)
            {
                let organization = Prefixed(row.author_stint_organization.0);
                stints.push(lend_relations(stint, organization, Prefixed(None), joins)?);
            }
        }
        if ahead.sources {
            let cited = sources.entry(id).or_default();
            if let Some(source) = row.source.0 {
                let source_id = source.id;
                cited.push(source.whole().ok_or_else(|| {
                    ApiError::internal(format!("source {source_id} read in part"))
                })?);
            }
        }
        if !authorships_seen.insert(id) {
            return Ok(None);
        }
        let authorship = read
            .whole()
            .ok_or_else(|| ApiError::internal(format!("authorship {id} read in part")))?;
        let joined = JoinedAuthorshipRow {
            authorship,
            person: row.person,
            affiliation: row.affiliation,
        };
        Ok(Some(Authorship::joined(joined, ahead.joins)?))
    })?;
    for cited in sources.values_mut() {
        cited.sort_by_key(|source| source.id);
    }
    Ok(ListedAuthorships {
        listed,
        author_stints,
        sources,
    })
}

impl Loader<AlumniCount> for Db {
    type Value = i64;
    type Error = ApiError;

    async fn load(&self, keys: &[AlumniCount]) -> Result<HashMap<AlumniCount, i64>, ApiError> {
        let rows =
            db::analytics::alumni_counts(&mut *self.conn().await?, &ids(keys, |k| k.0)).await?;
        let mut counts: HashMap<AlumniCount, i64> = keys.iter().map(|k| (*k, 0)).collect();
        counts.extend(
            rows.into_iter()
                .map(|row| (AlumniCount(row.root_id), row.count)),
        );
        Ok(counts)
    }
}

/// Sibling organizations asking for flows with the same direction and dates
/// share one statement.
impl Loader<FlowsKey> for Db {
    type Value = Vec<FlowRow>;
    type Error = ApiError;

    async fn load(&self, keys: &[FlowsKey]) -> Result<HashMap<FlowsKey, Self::Value>, ApiError> {
        let mut conn = self.conn().await?;
        // Keys that differ only in their organization share a statement.
        let mut flows: HashMap<FlowsKey, Self::Value> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        let shared = |key: &FlowsKey| {
            let shared = FlowsKey {
                organization_id: 0,
                ..*key
            };
            (shared, key.organization_id)
        };
        for (shared, roots) in batches(keys, shared) {
            let query = FlowQuery {
                from: shared.outbound.then(|| roots.clone()),
                to: (!shared.outbound).then(|| roots.clone()),
                since: shared.since,
                until: shared.until,
                first: shared.first,
                with_people: shared.with_people,
            };
            for row in db::analytics::talent_flows(&mut conn, &query).await? {
                let key = FlowsKey {
                    organization_id: if shared.outbound {
                        row.from_id
                    } else {
                        row.to_id
                    },
                    ..shared
                };
                flows.entry(key).or_default().push(row);
            }
        }
        Ok(flows)
    }
}

impl Loader<CohortKey> for Db {
    type Value = Vec<CohortMemberRow>;
    type Error = ApiError;

    async fn load(&self, keys: &[CohortKey]) -> Result<HashMap<CohortKey, Self::Value>, ApiError> {
        let pairs: Vec<(i64, i64)> = keys
            .iter()
            .map(|k| (k.publication_id, k.organization_id))
            .collect();
        let rows = db::analytics::cohorts(&mut *self.conn().await?, &pairs).await?;
        let mut cohorts: HashMap<CohortKey, Self::Value> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in rows {
            let key = CohortKey {
                publication_id: row.publication_id,
                organization_id: row.organization_id,
            };
            cohorts.entry(key).or_default().push(row);
        }
        Ok(cohorts)
    }
}

/// One page of the moves behind a talent flow.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FlowMovesKey {
    pub from_id: i64,
    pub to_id: i64,
    /// Only these people's moves (a cohort's destinations).
    pub cohort: Option<Vec<i64>>,
    pub ends: FlowEnds,
    /// The keyset: the move's day (`infinity` when undated) and stint left.
    pub after: Option<(String, i64)>,
    pub limit: i64,
}

/// Sibling flows asking for the same page share one statement.
impl Loader<FlowMovesKey> for Db {
    type Value = Vec<FlowMoveRow>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[FlowMovesKey],
    ) -> Result<HashMap<FlowMovesKey, Self::Value>, ApiError> {
        let mut conn = self.conn().await?;
        // Keys that differ only in their flow (and cohort) share a statement.
        type SharedPage = (FlowEnds, Option<(String, i64)>, i64);
        let mut batches: HashMap<SharedPage, Vec<&FlowMovesKey>> = HashMap::new();
        for key in keys {
            batches
                .entry((key.ends, key.after.clone(), key.limit))
                .or_default()
                .push(key);
        }
        let mut pages: HashMap<FlowMovesKey, Self::Value> =
            keys.iter().map(|k| (k.clone(), Vec::new())).collect();
        for ((ends, after, limit), batch) in batches {
            let flows: Vec<(i64, i64)> = batch.iter().map(|k| (k.from_id, k.to_id)).collect();
            let cohorts: Vec<(i64, i64)> = batch
                .iter()
                .enumerate()
                .flat_map(|(i, k)| {
                    k.cohort
                        .iter()
                        .flatten()
                        .map(move |person| (i as i64, *person))
                })
                .collect();
            let rows = db::analytics::flow_moves(
                &mut conn,
                &flows,
                &cohorts,
                ends,
                after.as_ref().map(|(day, id)| (day.as_str(), *id)),
                limit,
            )
            .await?;
            for row in rows {
                if let Some(key) = usize::try_from(row.key).ok().and_then(|i| batch.get(i)) {
                    pages.entry((*key).clone()).or_default().push(row);
                }
            }
        }
        Ok(pages)
    }
}

/// A stint of an organization's listing, with the person the same row
/// carries lent to it (no second lookup).
pub(crate) fn listed_stint(
    row: crate::db::employments::ScopedEmploymentRow,
) -> Result<Employment, ApiError> {
    let person = row.person.0.map(Person::from);
    let mut stint = Employment::try_from(row.employment)?;
    stint.preloaded_person = person;
    Ok(stint)
}
