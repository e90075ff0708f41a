//! `Person`: someone whose career is tracked.

use async_graphql::{Context, Enum, ID, Object, SelectionField};

use super::attestation::Attestation;
use super::authorship::{self, Authorship};
use super::certainty::RequiredCertainty;
use super::context::ContextExt;
use super::eager::{Eager, EagerItem};
use super::employment::{self, Employment};
use super::error::{ApiError, ApiResult};
use super::filter::{
    EmploymentFilter, EmploymentOrder, employment_order, sort_stints, stint_filter, stint_holds,
};
use super::ids::{self, NodeKind};
use super::loaders::{
    self, AttestationsOf, AuthorshipsOfPerson, EmploymentsOfPerson, JoinedStintsOf, PersonId,
    PersonWithStints,
};
use super::scalars::DateScalar;
use crate::db::ahead::ListedStintRow;
use crate::db::employments::{AtDay, StintJoins};
use crate::db::people::{PeopleLookup, PersonRead, PersonRow};
use crate::domain::point_in_time::{self, Evidence};

/// A person as read: the columns its statement selected (see
/// [`crate::db::columns`]); a field whose column was left out loads the whole
/// row by id, in a batch.
#[derive(Debug, Clone)]
pub struct Person(PersonRead);

impl std::ops::Deref for Person {
    type Target = PersonRead;

    fn deref(&self) -> &PersonRead {
        &self.0
    }
}

impl From<PersonRead> for Person {
    fn from(read: PersonRead) -> Self {
        Person(read)
    }
}

impl From<PersonRow> for Person {
    fn from(row: PersonRow) -> Self {
        Person(row.into())
    }
}

/// The relations to read with the stints of `people` (selections of
/// `Person`) when their statement can read the stints too: when their stint
/// lists (`employments`, `currentEmployments`, any alias) all ask for the
/// same relations, and not for each stint's person, which would join the
/// people again. `None` leaves the lists to their own statement.
pub fn stints_ahead(people: &[SelectionField<'_>]) -> Option<StintJoins> {
    let mut asked = people
        .iter()
        .flat_map(|person| person.selection_set())
        .filter(|field| matches!(field.name(), "employments" | "currentEmployments"))
        .map(|list| employment::joins(&[list]));
    asked
        .next()
        .filter(|first| first.person.is_none() && asked.all(|other| other == *first))
}

/// The listed rows of a [`crate::db::ahead::WithChildren::stints`]
/// statement, in their listed order; each one's person's stints (`person`
/// gives the person's id) go to the loader, where their stint lists find
/// them.
pub async fn feed_stints<R>(
    ctx: &Context<'_>,
    rows: Vec<ListedStintRow<R>>,
    joins: StintJoins,
    person: impl Fn(&R) -> i64,
) -> ApiResult<Vec<R>> {
    let loader = ctx.loader()?;
    let listed = loaders::listed_with_stints(rows, joins)?;
    let mut people = Vec::with_capacity(listed.len());
    for (row, stints) in listed {
        loaders::feed_stints_of(loader, person(&row), joins, stints).await;
        people.push(row);
    }
    Ok(people)
}

/// How a root field names the person it reads.
#[derive(Debug, Clone, Copy)]
pub enum Lookup<'a> {
    Slug(&'a str),
    Id(i64),
}

/// The person `lookup` names, read with every stint of theirs when the
/// selection (the resolver's field, `ctx.field()`) lists them: one
/// statement, and the stint lists then find the stints in the loader.
/// Lists that ask for different relations, or for each stint's person,
/// leave the stints to their own statement. By id it goes through the
/// loader, so sibling lookups (`a: node(…) b: node(…)`) share a statement.
pub async fn with_stints(ctx: &Context<'_>, lookup: Lookup<'_>) -> ApiResult<Option<Person>> {
    let joins = stints_ahead(&[ctx.field()]);
    let loader = ctx.loader()?;
    let Some(joins) = joins else {
        let row = match lookup {
            Lookup::Slug(slug) => {
                crate::db::people::by_slug(&mut *ctx.pool()?.get().await?, slug).await?
            }
            Lookup::Id(id) => loader.load_one(PersonId(id)).await?,
        };
        return Ok(row.map(Person::from));
    };
    let found = match lookup {
        Lookup::Slug(slug) => {
            let rows = crate::db::people::with_stints(
                &mut *ctx.pool()?.get().await?,
                PeopleLookup::Slug(slug),
                joins.organization,
            )
            .await?;
            let found = loaders::listed_with_stints(rows, joins)?.pop();
            found.map(|(person, stints)| (person.into(), stints))
        }
        Lookup::Id(person_id) => {
            let key = PersonWithStints {
                person_id,
                organization: joins.organization,
            };
            loader.load_one(key).await?
        }
    };
    let Some((person, stints)) = found else {
        return Ok(None);
    };
    loaders::feed_stints_of(loader, person.id, joins, stints).await;
    Ok(Some(Person(person)))
}

impl Person {
    /// A column of the person: as read, or from the whole row loaded by id
    /// (in a batch) when the read left it out.
    async fn column<T>(
        &self,
        ctx: &Context<'_>,
        get: impl Fn(&PersonRead) -> Option<T>,
    ) -> ApiResult<T> {
        loaders::column_or_whole(ctx.loader()?, &self.0, PersonId(self.id), get).await
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

/// How sure the dates must make a point-in-time answer.
#[derive(Debug, Enum, Copy, Clone, Eq, PartialEq, Default)]
pub enum Certainty {
    /// The dates prove it.
    Certainly,
    /// The dates allow it: they prove it, or are too coarse or missing to tell.
    #[default]
    Possibly,
    /// The dates rule it out.
    No,
}

impl From<point_in_time::Certainty> for Certainty {
    fn from(certainty: point_in_time::Certainty) -> Self {
        match certainty {
            point_in_time::Certainty::Certainly => Certainty::Certainly,
            point_in_time::Certainty::Possibly => Certainty::Possibly,
            point_in_time::Certainty::No => Certainty::No,
        }
    }
}

/// Checks an `at:` / `certainty:` argument pair.
pub fn at_day(at: Option<DateScalar>, certainty: Certainty) -> ApiResult<Option<AtDay>> {
    match (at, certainty) {
        (None, _) => Ok(None),
        (Some(_), Certainty::No) => Err(ApiError::BadUserInput(
            "`certainty: NO` would list stints that were *not* in progress: use CERTAINLY or POSSIBLY".into(),
        )),
        (Some(day), certainty) => Ok(Some(AtDay {
            day: day.0,
            certain: certainty == Certainty::Certainly,
        })),
    }
}

fn admits(at: AtDay, stint: &Employment, evidence: Evidence) -> bool {
    match stint.bounds(evidence).in_progress_on(at.day) {
        point_in_time::Certainty::Certainly => true,
        point_in_time::Certainty::Possibly => !at.certain,
        point_in_time::Certainty::No => false,
    }
}

impl Person {
    /// The person's stints, in chronological order, with their organizations
    /// read in the same statement when the query asks for them.
    async fn stints(
        &self,
        ctx: &Context<'_>,
        status: EmploymentStatus,
        at: Option<AtDay>,
    ) -> ApiResult<Vec<EagerItem<Employment>>> {
        // Boxed, as the type's large resolvers are (`graphql::eager`).
        Box::pin(async move {
            let loader = ctx.loader()?;
            let joins = employment::joins(&[ctx.field()]);
            let stints = if joins == StintJoins::default() {
                loader.load_one(EmploymentsOfPerson(self.id)).await?
            } else {
                let key = JoinedStintsOf {
                    person_id: self.id,
                    joins,
                };
                loader.load_one(key).await?
            }
            .unwrap_or_default();
            // Attestations are read only for a point-in-time question: one
            // batched statement for every stint (and person) asking.
            let evidence = match at {
                None => vec![Evidence::default(); stints.len()],
                Some(_) => {
                    let keys: Vec<AttestationsOf> =
                        stints.iter().map(|s| AttestationsOf(s.id)).collect();
                    let loaded = loader.load_many(keys).await?;
                    stints
                        .iter()
                        .map(|stint| {
                            let attestations = loaded.get(&AttestationsOf(stint.id));
                            attestations
                                .into_iter()
                                .flatten()
                                .map(|(row, source)| {
                                    Attestation::try_from((row.clone(), source.clone()))
                                })
                                .collect::<ApiResult<Vec<_>>>()
                                .map(|list| Evidence::of(list.iter().map(|a| (a.claim, &a.on))))
                        })
                        .collect::<ApiResult<Vec<_>>>()?
                }
            };
            let kept = stints
                .iter()
                .zip(&evidence)
                .enumerate()
                .filter(|(_, (stint, evidence))| {
                    admits_status(status, stint)
                        && at.is_none_or(|at| admits(at, stint, **evidence))
                });
            Ok(EagerItem::of(&stints, kept.map(|(index, _)| index)))
        })
        .await
    }
}

fn admits_status(status: EmploymentStatus, stint: &Employment) -> bool {
    status
        .is_current()
        .is_none_or(|current| stint.is_current == current)
}

/// A person whose employment history and authorships are recorded.
#[Object]
impl Person {
    /// Global id: opaque, unique across all types; `Query.node` fetches the entity by it.
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::Person, self.id)
    }

    /// Increases with every change; updates and deletes must name the version
    /// they were based on, so that nobody overwrites a change they never saw.
    async fn version(&self, ctx: &Context<'_>) -> ApiResult<i32> {
        self.column(ctx, |p| p.version).await
    }

    /// Stable, URL-safe identifier, e.g. `aurelien-rodriguez`.
    async fn slug(&self) -> &str {
        &self.slug
    }

    /// Full name as usually written, accents included ("Aurélien Rodriguez").
    async fn name(&self) -> &str {
        &self.name
    }

    /// Other spellings of the name, e.g. without accents.
    async fn aliases(&self, ctx: &Context<'_>) -> ApiResult<Vec<String>> {
        self.column(ctx, |p| p.aliases.clone()).await
    }

    /// A short biography; null when none is recorded.
    async fn bio(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        self.column(ctx, |p| p.bio.clone()).await
    }

    /// The person's stints in chronological order: by stated career position,
    /// then start date (unknown last), then ended before current. A plain
    /// list, not a connection like `Organization.employments`: one person's
    /// stints are few.
    async fn employments(
        &self,
        ctx: &Context<'_>,
        #[graphql(default, desc = "Which stints: ALL (the default), CURRENT or FORMER.")]
        status: EmploymentStatus,
        #[graphql(desc = "Only stints in progress on this day (see `certainty`).")] at: Option<
            DateScalar,
        >,
        #[graphql(
            desc = "With `at`: POSSIBLY (the default) also lists stints whose dates are too coarse or missing to tell; CERTAINLY only those the dates prove; NO is refused.",
            deprecation = "Use `atCertainty`, which takes only CERTAINLY or POSSIBLY."
        )]
        certainty: Option<Certainty>,
        #[graphql(
            desc = "With `at`: POSSIBLY (the default) also lists stints whose dates are too coarse or missing to tell; CERTAINLY only those the dates prove."
        )]
        at_certainty: Option<RequiredCertainty>,
        #[graphql(name = "where", desc = "Only the stints this filter admits.")] filter: Option<
            EmploymentFilter,
        >,
        #[graphql(
            desc = "The order, column by column, the id breaking ties; chronological (see above) when omitted."
        )]
        order_by: Option<Vec<EmploymentOrder>>,
    ) -> ApiResult<Vec<EagerItem<Employment>>> {
        // Boxed, as the type's large resolvers are (`graphql::eager`).
        Box::pin(async move {
            let at = at_day(at, super::certainty::asked(certainty, at_certainty)?)?;
            let order = order_by.map(|o| employment_order(Some(o))).transpose()?;
            let filter = filter.as_ref().map(|f| stint_filter(Some(f))).transpose()?;
            let mut stints = self.stints(ctx, status, at).await?;
            if let Some(filter) = filter {
                // What the stints' attestations prove, for `inProgressOn`: one
                // batched statement for all of them.
                let evidence = futures_util::future::try_join_all(
                    stints.iter().map(|stint| stint.evidence(ctx)),
                )
                .await?;
                let mut evidence = evidence.into_iter();
                stints.retain(|stint| {
                    stint_holds(&filter, stint, evidence.next().unwrap_or_default())
                });
            }
            if let Some(order) = order {
                sort_stints(&order, &mut stints);
            }
            Ok(stints)
        })
        .await
    }

    /// The stints going on now, in chronological order.
    async fn current_employments(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<EagerItem<Employment>>> {
        self.stints(ctx, EmploymentStatus::Current, None).await
    }

    /// The person's places in publications' author lists.
    async fn authorships(&self, ctx: &Context<'_>) -> ApiResult<Vec<Eager<Authorship>>> {
        let key = AuthorshipsOfPerson {
            person_id: self.id,
            joins: authorship::joins(ctx),
        };
        let authorships = ctx.loader()?.load_one(key).await?.unwrap_or_default();
        Ok(authorships.into_iter().map(Eager).collect())
    }
}

super::eager::plain_fields!(Person {
    "id" => __id_resolver,
    "slug" => __slug_resolver,
    "name" => __name_resolver,
    "version" when version => __version_resolver,
    "aliases" when aliases => __aliases_resolver,
    "bio" when bio => __bio_resolver,
});
