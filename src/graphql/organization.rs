//! `Organization`: a company, lab or other body, possibly a unit of another.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, Object, SelectionField};
use chrono::NaiveDate;

use super::certainty::RequiredCertainty;
use super::context::ContextExt;
use super::eager::{Eager, EagerItem};
use super::employment::Employment;
use super::error::{ApiError, ApiResult};
use super::filter::{self, EmploymentFilter, EmploymentOrder, PageArgs};
use super::headcount::{HeadcountInterval, HeadcountPoint, headcount_days};
use super::ids::{self, NodeKind};
use super::loaders::{
    self, AlumniCount, AlumniPageKey, FlowsKey, FoundersOf, HeadcountKey, LeadersOf,
    ListingCountKey, ListingPageKey, OrganizationId, UnitsOf,
};
use super::pagination::{Cursor, List, MAX_PAGE_SIZE, TotalCount, keyset_page, page_size};
use super::person::{self, Certainty, EmploymentStatus, Person, at_day};
use super::projection::{column_set, connection_nodes, fields_named};
use super::query::PersonConnection;
use super::scalars::{DateScalar, PartialDateScalar};
use super::talent_flow::{FlowDirection, TalentFlow, wants_people};
use crate::db;
use crate::db::ahead::{ListedOrganizationRow, OrganizationChildren};
use crate::db::analytics::FlowEnds;
use crate::db::employments::{ListingColumns, ListingCursor, OrganizationScope};
use crate::db::filter::StintLeaf;
use crate::db::organizations::{OrganizationRead, OrganizationRow};
use crate::domain::{PartialDate, partial_date};

/// What kind of body an organization is.
#[derive(Debug, Enum, Copy, Clone, Eq, PartialEq)]
pub enum OrganizationKind {
    /// An established business (Meta, Google).
    Company,
    /// A young company building its first products (Mistral, Thinking Machines Lab).
    Startup,
    /// A research laboratory, often a unit of a company or university (FAIR, Google DeepMind).
    ResearchLab,
    /// A university or other higher-education institution.
    University,
    /// A non-profit organization or foundation.
    Nonprofit,
    /// A government body or public agency.
    Government,
    /// Any body that fits none of the other kinds.
    Other,
}

impl OrganizationKind {
    const ALL: [OrganizationKind; 7] = [
        OrganizationKind::Company,
        OrganizationKind::Startup,
        OrganizationKind::ResearchLab,
        OrganizationKind::University,
        OrganizationKind::Nonprofit,
        OrganizationKind::Government,
        OrganizationKind::Other,
    ];

    /// The value stored in `organizations.kind`.
    pub fn as_db(self) -> &'static str {
        match self {
            OrganizationKind::Company => "company",
            OrganizationKind::Startup => "startup",
            OrganizationKind::ResearchLab => "research_lab",
            OrganizationKind::University => "university",
            OrganizationKind::Nonprofit => "nonprofit",
            OrganizationKind::Government => "government",
            OrganizationKind::Other => "other",
        }
    }

    pub fn from_db(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_db() == value)
    }
}

/// An organization as read: the columns its statement selected (see
/// [`crate::db::columns`]); a field whose column was left out loads the whole
/// row by id, in a batch.
#[derive(Debug, Clone)]
pub struct Organization(OrganizationRead);

impl std::ops::Deref for Organization {
    type Target = OrganizationRead;

    fn deref(&self) -> &OrganizationRead {
        &self.0
    }
}

impl From<OrganizationRead> for Organization {
    fn from(read: OrganizationRead) -> Self {
        Organization(read)
    }
}

impl TryFrom<OrganizationRow> for Organization {
    type Error = ApiError;

    fn try_from(row: OrganizationRow) -> ApiResult<Self> {
        Ok(Organization(row.into()))
    }
}

/// The child list the statement that lists the organizations whose
/// selections are `organizations` reads with them: the first of `units` and
/// `founders` the selection asks for (one list per statement: two would
/// multiply each other's rows). `None`: the organizations alone.
pub fn children_ahead(organizations: &[SelectionField<'_>]) -> Option<OrganizationChildren> {
    organizations
        .iter()
        .flat_map(|organization| organization.selection_set())
        .find_map(|field| match field.name() {
            "units" => Some(OrganizationChildren::Units),
            "founders" => Some(OrganizationChildren::Founders),
            _ => None,
        })
}

/// The organizations of a [`db::ahead::WithChildren::of_organizations`]
/// statement, in their listed order; each one's child list goes to the
/// loader, where `units` or `founders` finds it.
pub async fn feed_children(
    ctx: &Context<'_>,
    rows: Vec<ListedOrganizationRow<OrganizationRow>>,
    children: OrganizationChildren,
) -> ApiResult<Vec<OrganizationRow>> {
    let loader = ctx.loader()?;
    Ok(match children {
        OrganizationChildren::Units => {
            let listed = loaders::listed_with_units(rows)?;
            loaders::feed_listed(loader, listed, |o: &OrganizationRow| UnitsOf(o.id)).await
        }
        OrganizationChildren::Founders => {
            let listed = loaders::listed_with_founders(rows)?;
            loaders::feed_listed(loader, listed, |o: &OrganizationRow| FoundersOf(o.id)).await
        }
    })
}

/// The organization `slug` names, read with a child list when the
/// selection (the resolver's field, `ctx.field()`) asks for one
/// ([`children_ahead`]): one statement, and the list then finds its rows in
/// the loader.
pub async fn by_slug(ctx: &Context<'_>, slug: &str) -> ApiResult<Option<OrganizationRow>> {
    let mut conn = ctx.pool()?.get().await?;
    let Some(children) = children_ahead(&[ctx.field()]) else {
        return Ok(db::organizations::by_slug(&mut conn, slug).await?);
    };
    let rows = db::organizations::with_children(&mut conn, slug, children).await?;
    drop(conn);
    Ok(feed_children(ctx, rows, children).await?.into_iter().next())
}

impl Organization {
    /// A column of the organization: as read, or from the whole row loaded by
    /// id (in a batch) when the read left it out.
    async fn column<T>(
        &self,
        ctx: &Context<'_>,
        get: impl Fn(&OrganizationRead) -> Option<T>,
    ) -> ApiResult<T> {
        loaders::column_or_whole(ctx.loader()?, &self.0, OrganizationId(self.id), get).await
    }
}

pub type EmploymentConnection = Connection<Cursor, EagerItem<Employment>, TotalCount>;

/// Where an organization's stint listing resumes, as carried in its cursors.
type ListingCursorKey = (Option<String>, i64);

/// A stint's place in the listing, turned into a [`ListingCursorKey`] only
/// when its cursor is asked for.
struct ListingPlace {
    started_on: Option<NaiveDate>,
    id: i64,
}

impl serde::Serialize for ListingPlace {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let key: ListingCursorKey = (self.started_on.map(|d| d.to_string()), self.id);
        key.serialize(serializer)
    }
}

fn listing_cursor(list: List, stint: &Employment) -> Cursor {
    Cursor::new(
        list,
        ListingPlace {
            started_on: stint.started_on.map(|date| date.first_day()),
            id: stint.id,
        },
    )
}

fn parse_listing_cursor(list: List, after: Option<&str>) -> ApiResult<Option<ListingCursor>> {
    let Some((started_on, id)) = Cursor::decode::<ListingCursorKey>(list, after)? else {
        return Ok(None);
    };
    // Only dates a stint can have (years 1 to 9999): PostgreSQL's range is
    // wider but not unbounded, and no listing gives out anything else.
    let started_on = started_on
        .map(|d| partial_date::parse_full_date(&d))
        .transpose()
        .map_err(|_| ApiError::InvalidField {
            field: "after".to_owned(),
            message: "is not a cursor from this list".to_owned(),
        })?;
    Ok(Some(ListingCursor { started_on, id }))
}

/// A company, research lab, university or other body that people work for.
#[Object]
impl Organization {
    /// Global id: opaque, unique across all types; `Query.node` fetches the entity by it.
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::Organization, self.id)
    }

    /// Increases with every change; updates and deletes must name the version
    /// they were based on, so that nobody overwrites a change they never saw.
    async fn version(&self, ctx: &Context<'_>) -> ApiResult<i32> {
        self.column(ctx, |o| o.version).await
    }

    /// Stable, URL-safe identifier, e.g. `google-deepmind`.
    async fn slug(&self) -> &str {
        &self.slug
    }

    /// Display name, e.g. "Google DeepMind".
    async fn name(&self) -> &str {
        &self.name
    }

    /// What kind of body it is.
    async fn kind(&self, ctx: &Context<'_>) -> ApiResult<OrganizationKind> {
        let kind = self.column(ctx, |o| o.kind.clone()).await?;
        OrganizationKind::from_db(&kind).ok_or_else(|| {
            ApiError::internal(format!(
                "organization {} has unknown kind {kind:?}",
                self.id
            ))
        })
    }

    /// The organization this one is a unit of (Meta for FAIR).
    async fn parent(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        let Some(parent_id) = self.column(ctx, |o| o.parent_id).await? else {
            return Ok(None);
        };
        let row = ctx.loader()?.load_one(OrganizationId(parent_id)).await?;
        row.map(Organization::try_from).transpose()
    }

    /// The direct units of this organization, by name.
    async fn units(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Only the first this many (1 to 100), in the list's order; all of them when omitted."
        )]
        first: Option<i32>,
    ) -> ApiResult<Vec<Organization>> {
        let rows = ctx
            .loader()?
            .load_one(UnitsOf(self.id))
            .await?
            .unwrap_or_default();
        filter::take_first(rows, first)?
            .into_iter()
            .map(Organization::try_from)
            .collect()
    }

    /// ISO 3166-1 alpha-2 country code, e.g. `FR`.
    async fn country(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        self.column(ctx, |o| o.country.clone()).await
    }

    /// Home page URL; null when unknown.
    async fn website(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        self.column(ctx, |o| o.website.clone()).await
    }

    /// When it was founded, at the precision known.
    async fn founded_on(&self, ctx: &Context<'_>) -> ApiResult<Option<PartialDateScalar>> {
        let (day, precision) = self
            .column(ctx, |o| {
                Some((o.founded_on?, o.founded_on_precision.clone()?))
            })
            .await?;
        Ok(PartialDate::from_columns(day, precision.as_deref())?.map(PartialDateScalar::from))
    }

    /// People with a founder stint at this organization, by name.
    async fn founders(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Only the first this many (1 to 100), in the list's order; all of them when omitted."
        )]
        first: Option<i32>,
    ) -> ApiResult<Vec<Person>> {
        let rows = ctx
            .loader()?
            .load_one(FoundersOf(self.id))
            .await?
            .unwrap_or_default();
        Ok(filter::take_first(rows, first)?
            .into_iter()
            .map(Person::from)
            .collect())
    }

    /// The stints in which someone headed this organization, in succession
    /// order: by start date (unknown last), then those who left before whoever
    /// leads now.
    async fn leaders(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Only the first this many (1 to 100), in the list's order; all of them when omitted."
        )]
        first: Option<i32>,
    ) -> ApiResult<Vec<Eager<Employment>>> {
        let key = LeadersOf {
            organization_id: self.id,
            joins: super::employment::joins(&[ctx.field()]),
        };
        let stints = ctx.loader()?.load_one(key).await?.unwrap_or_default();
        Ok(filter::take_first(stints, first)?
            .into_iter()
            .map(Eager)
            .collect())
    }

    /// People who were inside this organization (or a unit of it) and are no
    /// longer: none of their stints inside it is current. Moving between its
    /// units does not make an alumnus. By name.
    async fn alumni(
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
    ) -> ApiResult<PersonConnection> {
        // Boxed, as the type's large resolvers are (`graphql::eager`).
        Box::pin(async move {
            let args = PageArgs {
                first,
                after,
                last,
                before,
            };
            if !args.is_forward_only() {
                let total = TotalCount::Alumni(AlumniCount(self.id));
                return filter::alumni(ctx, self.id, &args, total).await;
            }
            let PageArgs { first, after, .. } = args;
            let limit = page_size(first)?;
            let list = List::Alumni {
                organization: self.id,
            };
            let after: Option<(String, i64)> = Cursor::decode(list, after.as_deref())?;
            let nodes = connection_nodes(ctx.field());
            let stints = person::stints_ahead(&nodes);
            let key = AlumniPageKey {
                organization_id: self.id,
                after: after.clone(),
                limit: limit + 1,
                columns: column_set(&nodes),
                stints,
            };
            let loader = ctx.loader()?;
            let (listed, total) = TotalCount::Alumni(AlumniCount(self.id))
                .beside(ctx, async {
                    Ok(loader.load_one(key).await?.unwrap_or_default())
                })
                .await?;
            let mut people = Vec::with_capacity(listed.len());
            for (read, stints_of) in listed {
                if let Some(joins) = stints {
                    loaders::feed_stints_of(loader, read.id, joins, stints_of).await;
                }
                people.push(Person::from(read));
            }
            keyset_page(
                list,
                people,
                limit,
                after.is_some(),
                total,
                |person| (person.name.clone(), person.id),
                |person| Ok(Eager(person)),
            )
        })
        .await
    }

    /// Moves out of (OUTBOUND) or into (INBOUND) this organization, its units
    /// included, by the organization at the other end; most people first.
    /// See `docs/analytics.md` for what counts as a move and how `since` and
    /// `until` treat partial dates.
    async fn talent_flows(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default,
            desc = "OUTBOUND (the default): people who left, by where they went; INBOUND: people who joined, by where they came from."
        )]
        direction: FlowDirection,
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
        // Boxed, as the type's large resolvers are (`graphql::eager`).
        Box::pin(async move {
            let (since, until) = date_range(since, until)?;
            let key = FlowsKey {
                organization_id: self.id,
                outbound: direction == FlowDirection::Outbound,
                since,
                until,
                first: flow_limit(first)?,
                with_people: wants_people(ctx),
            };
            // Ranked by the database.
            let rows = ctx.loader()?.load_one(key).await?.unwrap_or_default();
            rows.into_iter()
                .map(|row| {
                    TalentFlow::from_row(
                        row,
                        key.with_people,
                        FlowEnds {
                            from_tree: key.outbound,
                            to_tree: !key.outbound,
                            since,
                            until,
                        },
                    )
                })
                .collect()
        })
        .await
    }

    /// How many people were inside this organization (its units included) on each day from
    /// `from` to `to`, one day per interval: how many the dates prove (`certainly`) and how
    /// many they allow (`possibly`), a count with honest bounds rather than one made-up number.
    /// Each person counts once. At most 200 days.
    async fn headcount(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The first day counted.")] from: DateScalar,
        #[graphql(desc = "No day after this one is counted.")] to: DateScalar,
        #[graphql(
            default,
            desc = "The spacing of the days: YEAR (the default), QUARTER or MONTH."
        )]
        interval: HeadcountInterval,
    ) -> ApiResult<Vec<HeadcountPoint>> {
        let key = HeadcountKey {
            organization_id: self.id,
            days: headcount_days(from, to, interval)?,
        };
        let rows = ctx.loader()?.load_one(key).await?.unwrap_or_default();
        Ok(rows.into_iter().map(HeadcountPoint::from).collect())
    }

    /// Stints at this organization (and, unless `includeUnits: false`, at its
    /// units at any depth), ordered by start date (unknown starts last), then id.
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
        #[graphql(
            default = true,
            desc = "Whether stints at its units, at any depth, are listed too (true by default)."
        )]
        include_units: bool,
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
        #[graphql(name = "where", desc = "Only the stints this filter admits.")] filter: Option<
            EmploymentFilter,
        >,
        #[graphql(
            desc = "The order, column by column, the id breaking ties; by start date when omitted. Cursors hold for the order they were given in."
        )]
        order_by: Option<Vec<EmploymentOrder>>,
    ) -> ApiResult<EmploymentConnection> {
        // Boxed, as the type's large resolvers are (`graphql::eager`).
        Box::pin(async move {
            let at = at_day(at, super::certainty::asked(certainty, at_certainty)?)?;
            let args = PageArgs {
                first,
                after,
                last,
                before,
            };
            if filter.is_some() || order_by.is_some() || !args.is_forward_only() {
                let scope = status
                    .is_current()
                    .map(StintLeaf::IsCurrent)
                    .into_iter()
                    .chain(at.map(StintLeaf::InProgressOn))
                    .collect();
                return filter::organization_stints(
                    ctx,
                    self.id,
                    include_units,
                    scope,
                    filter.as_ref(),
                    order_by,
                    &args,
                )
                .await;
            }
            let PageArgs { first, after, .. } = args;
            let limit = page_size(first)?;
            let list = List::Employments {
                organization: self.id,
            };
            let cursor = parse_listing_cursor(list, after.as_deref())?;
            let scope = OrganizationScope {
                include_units,
                is_current: status.is_current(),
                at,
            };
            let key = ListingPageKey {
                organization_id: self.id,
                scope,
                cursor,
                // One more row than asked tells whether there is a next page.
                limit: limit + 1,
                columns: listing_columns(ctx),
            };
            let (page, total) = TotalCount::OrganizationEmployments(ListingCountKey {
                organization_id: self.id,
                scope,
            })
            .beside(ctx, async {
                Ok(ctx.loader()?.load_one(key).await?.unwrap_or_default())
            })
            .await?;
            let has_next_page = page.len() as i64 > limit;
            let shown = page.len().min(usize::try_from(limit).unwrap_or(usize::MAX));
            let mut connection =
                Connection::with_additional_fields(cursor.is_some(), has_next_page, total);
            for stint in EagerItem::of(&page, 0..shown) {
                connection
                    .edges
                    .push(Edge::new(listing_cursor(list, &stint), stint));
            }
            Ok(connection)
        })
        .await
    }
}

super::eager::plain_fields!(Organization {
    "id" => __id_resolver,
    "slug" => __slug_resolver,
    "name" => __name_resolver,
    "version" when version => __version_resolver,
    "kind" when kind => __kind_resolver,
    "country" when country => __country_resolver,
    "website" when website => __website_resolver,
    "foundedOn" when founded_on => __founded_on_resolver,
});

/// What a stint connection's selection asks of its stints and their people.
fn listing_columns(ctx: &Context<'_>) -> ListingColumns {
    let stints = connection_nodes(ctx.field());
    let people = fields_named(&stints, "person");
    ListingColumns {
        stint: column_set(&stints),
        person: (!people.is_empty()).then(|| column_set(&people)),
        sources: !fields_named(&stints, "sources").is_empty(),
    }
}

/// Checks a `since` / `until` pair.
pub fn date_range(
    since: Option<DateScalar>,
    until: Option<DateScalar>,
) -> ApiResult<(Option<NaiveDate>, Option<NaiveDate>)> {
    let (since, until) = (since.map(|d| d.0), until.map(|d| d.0));
    if let (Some(since), Some(until)) = (since, until)
        && until < since
    {
        return Err(ApiError::BadUserInput(format!(
            "`until` ({until}) is before `since` ({since})"
        )));
    }
    Ok((since, until))
}

/// Checks the `first` of a flow list: 1 to 100, or all when omitted.
pub fn flow_limit(first: Option<i32>) -> ApiResult<Option<i64>> {
    match first {
        None => Ok(None),
        Some(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(Some(i64::from(n))),
        Some(n) => Err(ApiError::BadUserInput(format!(
            "`first` must be between 1 and {MAX_PAGE_SIZE}, got {n}"
        ))),
    }
}
