//! `where:`, `orderBy:` and backward paging (`last`/`before`): the input
//! types, their checks, and the lists that use them.
//!
//! A filter becomes a [`Pred`] of the database layer (`db::filter`), which
//! puts it into the one statement that reads the list; a person's stints,
//! already loaded in a batch, are filtered in memory by the Rust twins of the
//! same rules. A cursor carries the order it was given out in: a list refuses
//! it under another order (`BAD_USER_INPUT`), never resumes at a wrong place.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::dataloader::Loader;
use async_graphql::{Context, Enum, InputObject, OutputType};
use chrono::NaiveDate;
use serde_json::Value as Json;

use super::context::ContextExt;
use super::eager::{Eager, EagerItem};
use super::employment::Employment;
use super::error::{ApiError, ApiResult};
use super::ids::{self, NodeKind};
use super::loaders::Db;
use super::organization::{self, EmploymentConnection, Organization, OrganizationKind};
use super::pagination::{Cursor, List, TotalCount, page_size};
use super::person::{self, Certainty, Person, at_day};
use super::projection::connection_nodes;
use super::publication::{self, Publication};
use super::query::{OrganizationConnection, PersonConnection, PublicationConnection};
use super::refs::{OrganizationRef, PublicationRef};
use super::scalars::DateScalar;
use crate::db::employments::AtDay;
use crate::db::filter::{
    Key, KeyType, Keyset, OrderKey, OrganizationLeaf, Page, PersonLeaf, Pred, PublicationLeaf,
    Span, StintLeaf, TextMatch, Value,
};
use crate::db::{self};
use crate::domain::point_in_time::{self, Evidence};
use crate::domain::span;

/// Deepest nesting of `and` / `or` / `not` in one filter.
pub const MAX_FILTER_DEPTH: usize = 8;
/// Most tests in one filter.
pub const MAX_FILTER_TESTS: usize = 50;
/// Most columns in one `orderBy`.
pub const MAX_ORDER_KEYS: usize = 4;

/// A text field's test; give one of `eq` or `in` (both must hold if both are given).
#[derive(Debug, Clone, InputObject)]
pub struct StringFilter {
    /// Exactly this text (case and accents count).
    eq: Option<String>,
    /// Any of these texts (at most 100).
    #[graphql(name = "in")]
    any_of: Option<Vec<String>>,
}

/// A span of days for a partial date, either end open; the date is in it
/// CERTAINLY when its whole period is, POSSIBLY (the default) when the dates
/// do not rule it out, an unknown date included (see `docs/dates.md`).
#[derive(Debug, Clone, Copy, InputObject)]
pub struct DateSpan {
    /// The first day of the span; open when omitted.
    from: Option<DateScalar>,
    /// The last day of the span (included); open when omitted.
    to: Option<DateScalar>,
    /// CERTAINLY: only dates whose whole period is in the span; POSSIBLY (the default): also those too coarse or missing to tell.
    #[graphql(default)]
    certainty: Certainty,
}

/// A day and how sure the dates must be that a stint was in progress then
/// (the rule of `Organization.employments(at:)`, `docs/dates.md`).
#[derive(Debug, Clone, Copy, InputObject)]
pub struct InProgressFilter {
    /// The day.
    date: DateScalar,
    /// CERTAINLY: the dates prove it; POSSIBLY (the default): they do not rule it out.
    #[graphql(default)]
    certainty: Certainty,
}

/// A stint at an organization, optionally in progress on a day.
#[derive(Debug, Clone, InputObject)]
pub struct EmployedAtFilter {
    /// The organization, by id or slug; an unknown one matches no one.
    organization: OrganizationRef,
    /// Only stints in progress on this day (see `certainty`); any stint when omitted.
    at: Option<DateScalar>,
    /// With `at`: POSSIBLY (the default) also counts stints whose dates are too coarse or missing to tell; CERTAINLY only those the dates prove.
    #[graphql(default)]
    certainty: Certainty,
    /// Whether stints at its units, at any depth, count too (true by default).
    #[graphql(default = true)]
    include_units: bool,
}

/// Which people to list. Every test given must hold; `and`, `or` and `not`
/// combine filters. References (`{id}` or `{slug}`) that name nothing match
/// no one.
#[derive(Debug, Clone, Default, InputObject)]
pub struct PersonFilter {
    /// Every one of these filters holds.
    and: Option<Vec<PersonFilter>>,
    /// At least one of these filters holds.
    or: Option<Vec<PersonFilter>>,
    /// This filter does not hold.
    not: Option<Box<PersonFilter>>,
    /// The person's name.
    name: Option<StringFilter>,
    /// The person's slug.
    slug: Option<StringFilter>,
    /// Has a stint at the organization (its units included unless told
    /// otherwise), in progress on a day when `at` is given.
    employed_at: Option<EmployedAtFilter>,
    /// Has a current stint at the organization or one of its units.
    currently_at: Option<OrganizationRef>,
    /// Was at the organization or one of its units and has no current stint
    /// inside it any more: its alumni (`Organization.alumni`).
    formerly_at: Option<OrganizationRef>,
    /// Is an author of the publication.
    author_of: Option<PublicationRef>,
}

/// Which organizations to list. Every test given must hold; `and`, `or` and
/// `not` combine filters.
#[derive(Debug, Clone, Default, InputObject)]
pub struct OrganizationFilter {
    /// Every one of these filters holds.
    and: Option<Vec<OrganizationFilter>>,
    /// At least one of these filters holds.
    or: Option<Vec<OrganizationFilter>>,
    /// This filter does not hold.
    not: Option<Box<OrganizationFilter>>,
    /// The organization's name.
    name: Option<StringFilter>,
    /// The organization's slug.
    slug: Option<StringFilter>,
    /// Of one of these kinds.
    kind: Option<Vec<OrganizationKind>>,
    /// Its ISO 3166-1 alpha-2 country code (`FR`).
    country: Option<StringFilter>,
    /// The organization itself or one of its units at any depth.
    within: Option<OrganizationRef>,
    /// Someone's stint at it (at the organization itself, not a unit) was
    /// possibly in progress on this day.
    has_staff_at: Option<DateScalar>,
}

/// Which publications to list. Every test given must hold; `and`, `or` and
/// `not` combine filters.
#[derive(Debug, Clone, Default, InputObject)]
pub struct PublicationFilter {
    /// Every one of these filters holds.
    and: Option<Vec<PublicationFilter>>,
    /// At least one of these filters holds.
    or: Option<Vec<PublicationFilter>>,
    /// This filter does not hold.
    not: Option<Box<PublicationFilter>>,
    /// The title.
    title: Option<StringFilter>,
    /// The slug.
    slug: Option<StringFilter>,
    /// The venue (`arXiv`, `NeurIPS`).
    venue: Option<StringFilter>,
    /// Published within these days (partial dates: see `DateSpan`).
    published_on: Option<DateSpan>,
}

/// Which stints to list. Every test given must hold; `and`, `or` and `not`
/// combine filters.
#[derive(Debug, Clone, Default, InputObject)]
pub struct EmploymentFilter {
    /// Every one of these filters holds.
    and: Option<Vec<EmploymentFilter>>,
    /// At least one of these filters holds.
    or: Option<Vec<EmploymentFilter>>,
    /// This filter does not hold.
    not: Option<Box<EmploymentFilter>>,
    /// The title as the source words it.
    title: Option<StringFilter>,
    /// Whether the person founded the organization.
    is_founder: Option<bool>,
    /// Whether the stint is the organization's leadership.
    is_leader: Option<bool>,
    /// Whether the stint is going on.
    is_current: Option<bool>,
    /// In progress on a day (the rule of `at:`).
    in_progress_on: Option<InProgressFilter>,
    /// Started within these days (partial dates: see `DateSpan`).
    started_between: Option<DateSpan>,
    /// Ended within these days: current stints never match; a stint known to
    /// have ended on an unknown date matches POSSIBLY.
    ended_between: Option<DateSpan>,
}

/// Which way an `orderBy` column sorts. Unknown values (a missing date) come
/// last either way.
#[derive(Debug, Enum, Copy, Clone, Eq, PartialEq, Default)]
pub enum OrderDirection {
    /// Smallest first (A to Z, earliest first).
    #[default]
    Asc,
    /// Largest first (Z to A, latest first).
    Desc,
}

/// A column people can be ordered by.
#[derive(Debug, Enum, Copy, Clone, Eq, PartialEq)]
pub enum PersonOrderField {
    /// The name.
    Name,
    /// The slug.
    Slug,
}

/// A column organizations can be ordered by.
#[derive(Debug, Enum, Copy, Clone, Eq, PartialEq)]
pub enum OrganizationOrderField {
    /// The name.
    Name,
    /// The slug.
    Slug,
    /// The founding date's first day (unknown last).
    FoundedOn,
}

/// A column publications can be ordered by.
#[derive(Debug, Enum, Copy, Clone, Eq, PartialEq)]
pub enum PublicationOrderField {
    /// The title.
    Title,
    /// The slug.
    Slug,
    /// The publication date's first day (unknown last).
    PublishedOn,
}

/// A column stints can be ordered by.
#[derive(Debug, Enum, Copy, Clone, Eq, PartialEq)]
pub enum EmploymentOrderField {
    /// The start date's first day (unknown last).
    StartedOn,
    /// The end date's first day (unknown last, current stints included).
    EndedOn,
    /// The title (unknown last).
    Title,
}

macro_rules! order_input {
    ($(#[$doc:meta])* $name:ident, $field:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, InputObject)]
        pub struct $name {
            /// The column.
            field: $field,
            /// ASC (the default) or DESC.
            #[graphql(default)]
            direction: OrderDirection,
        }
    };
}

order_input!(
    /// One column of a people order; the id breaks ties.
    PersonOrder,
    PersonOrderField
);
order_input!(
    /// One column of an organization order; the id breaks ties.
    OrganizationOrder,
    OrganizationOrderField
);
order_input!(
    /// One column of a publication order; the id breaks ties.
    PublicationOrder,
    PublicationOrderField
);
order_input!(
    /// One column of a stint order; the id breaks ties.
    EmploymentOrder,
    EmploymentOrderField
);

fn text_key(column: &'static str, descending: bool) -> OrderKey {
    OrderKey {
        column,
        descending,
        nullable: false,
        ty: KeyType::Text,
    }
}

fn date_key(column: &'static str, descending: bool) -> OrderKey {
    OrderKey {
        column,
        descending,
        nullable: true,
        ty: KeyType::Date,
    }
}

fn order_keys<O: Copy>(
    order_by: Option<Vec<O>>,
    default: Vec<OrderKey>,
    key: impl Fn(O) -> OrderKey,
) -> ApiResult<Vec<OrderKey>> {
    let Some(order_by) = order_by else {
        return Ok(default);
    };
    if order_by.len() > MAX_ORDER_KEYS {
        return Err(ApiError::BadUserInput(format!(
            "`orderBy` takes at most {MAX_ORDER_KEYS} columns"
        )));
    }
    let keys: Vec<OrderKey> = order_by.into_iter().map(key).collect();
    if keys.is_empty() {
        return Ok(default);
    }
    Ok(keys)
}

fn desc(direction: OrderDirection) -> bool {
    direction == OrderDirection::Desc
}

pub fn person_order(order_by: Option<Vec<PersonOrder>>) -> ApiResult<Vec<OrderKey>> {
    order_keys(order_by, vec![text_key("name", false)], |o| match o.field {
        PersonOrderField::Name => text_key("name", desc(o.direction)),
        PersonOrderField::Slug => text_key("slug", desc(o.direction)),
    })
}

pub fn organization_order(order_by: Option<Vec<OrganizationOrder>>) -> ApiResult<Vec<OrderKey>> {
    order_keys(order_by, vec![text_key("name", false)], |o| match o.field {
        OrganizationOrderField::Name => text_key("name", desc(o.direction)),
        OrganizationOrderField::Slug => text_key("slug", desc(o.direction)),
        OrganizationOrderField::FoundedOn => date_key("founded_on", desc(o.direction)),
    })
}

pub fn publication_order(order_by: Option<Vec<PublicationOrder>>) -> ApiResult<Vec<OrderKey>> {
    order_keys(order_by, vec![text_key("title", false)], |o| {
        match o.field {
            PublicationOrderField::Title => text_key("title", desc(o.direction)),
            PublicationOrderField::Slug => text_key("slug", desc(o.direction)),
            PublicationOrderField::PublishedOn => date_key("published_on", desc(o.direction)),
        }
    })
}

pub fn employment_order(order_by: Option<Vec<EmploymentOrder>>) -> ApiResult<Vec<OrderKey>> {
    order_keys(order_by, vec![date_key("started_on", false)], |o| {
        match o.field {
            EmploymentOrderField::StartedOn => date_key("started_on", desc(o.direction)),
            EmploymentOrderField::EndedOn => date_key("ended_on", desc(o.direction)),
            EmploymentOrderField::Title => OrderKey {
                nullable: true,
                ..text_key("title", desc(o.direction))
            },
        }
    })
}

/// Counts tests and depth while a filter is converted.
struct Budget {
    tests: usize,
}

impl Budget {
    fn enter(&mut self, depth: usize) -> ApiResult<()> {
        if depth > MAX_FILTER_DEPTH {
            return Err(ApiError::BadUserInput(format!(
                "`where` nests `and`/`or`/`not` at most {MAX_FILTER_DEPTH} deep"
            )));
        }
        Ok(())
    }

    fn test(&mut self) -> ApiResult<()> {
        self.tests += 1;
        if self.tests > MAX_FILTER_TESTS {
            return Err(ApiError::BadUserInput(format!(
                "`where` holds at most {MAX_FILTER_TESTS} tests"
            )));
        }
        Ok(())
    }
}

/// The combinators and tests of one filter object, as one `All`.
fn combine<F, L>(
    budget: &mut Budget,
    depth: usize,
    and: Option<&Vec<F>>,
    or: Option<&Vec<F>>,
    not: Option<&F>,
    leaves: Vec<L>,
    convert: &impl Fn(&mut Budget, usize, &F) -> ApiResult<Pred<L>>,
) -> ApiResult<Pred<L>> {
    budget.enter(depth)?;
    let mut all = Vec::new();
    for leaf in leaves {
        budget.test()?;
        all.push(Pred::Leaf(leaf));
    }
    if let Some(and) = and {
        for f in and {
            all.push(convert(budget, depth + 1, f)?);
        }
    }
    if let Some(or) = or {
        let mut any = Vec::new();
        for f in or {
            any.push(convert(budget, depth + 1, f)?);
        }
        all.push(Pred::Any(any));
    }
    if let Some(not) = not {
        all.push(Pred::Not(Box::new(convert(budget, depth + 1, not)?)));
    }
    Ok(match all.len() {
        1 => all.pop().unwrap_or(Pred::All(Vec::new())),
        _ => Pred::All(all),
    })
}

fn text(filter: &StringFilter, field: &str) -> ApiResult<Vec<TextMatch>> {
    let mut tests = Vec::new();
    for value in filter.eq.iter().chain(filter.any_of.iter().flatten()) {
        if value.contains('\0') {
            return Err(ApiError::BadUserInput(format!(
                "`{field}` holds a NUL character"
            )));
        }
    }
    if let Some(eq) = &filter.eq {
        tests.push(TextMatch::Eq(eq.clone()));
    }
    if let Some(any) = &filter.any_of {
        if any.len() > 100 {
            return Err(ApiError::BadUserInput(format!(
                "`{field}.in` holds at most 100 values"
            )));
        }
        tests.push(TextMatch::In(any.clone()));
    }
    if tests.is_empty() {
        return Err(ApiError::BadUserInput(format!(
            "`{field}` needs `eq` or `in`"
        )));
    }
    Ok(tests)
}

fn reference(id: &async_graphql::ID, kind: NodeKind) -> ApiResult<i64> {
    match ids::decode(id)? {
        (k, id) if k == kind => Ok(id),
        _ => Err(ApiError::BadUserInput(format!(
            "{:?} is not the id of {}",
            id.as_str(),
            kind.with_article()
        ))),
    }
}

fn organization_key(r: &OrganizationRef) -> ApiResult<Key> {
    Ok(match r {
        OrganizationRef::Id(id) => Key::Id(reference(id, NodeKind::Organization)?),
        OrganizationRef::Slug(slug) => Key::Slug(slug.clone()),
    })
}

fn publication_key(r: &PublicationRef) -> ApiResult<Key> {
    Ok(match r {
        PublicationRef::Id(id) => Key::Id(reference(id, NodeKind::Publication)?),
        PublicationRef::Slug(slug) => Key::Slug(slug.clone()),
    })
}

fn span(s: &DateSpan) -> ApiResult<Span> {
    let (from, to) = (s.from.map(|d| d.0), s.to.map(|d| d.0));
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        return Err(ApiError::BadUserInput(format!(
            "`to` ({to}) is before `from` ({from})"
        )));
    }
    Ok(Span {
        from,
        to,
        certain: certain(s.certainty)?,
    })
}

fn certain(certainty: Certainty) -> ApiResult<bool> {
    match certainty {
        Certainty::No => Err(ApiError::BadUserInput(
            "`certainty: NO` cannot filter: use CERTAINLY or POSSIBLY".into(),
        )),
        c => Ok(c == Certainty::Certainly),
    }
}

fn at(day: DateScalar, certainty: Certainty) -> ApiResult<AtDay> {
    Ok(AtDay {
        day: day.0,
        certain: certain(certainty)?,
    })
}

fn person_pred(budget: &mut Budget, depth: usize, f: &PersonFilter) -> ApiResult<Pred<PersonLeaf>> {
    let mut leaves = Vec::new();
    if let Some(name) = &f.name {
        leaves.extend(text(name, "name")?.into_iter().map(PersonLeaf::Name));
    }
    if let Some(slug) = &f.slug {
        leaves.extend(text(slug, "slug")?.into_iter().map(PersonLeaf::Slug));
    }
    if let Some(e) = &f.employed_at {
        leaves.push(PersonLeaf::EmployedAt {
            organization: organization_key(&e.organization)?,
            at: at_day(e.at, e.certainty)?,
            include_units: e.include_units,
        });
    }
    if let Some(r) = &f.currently_at {
        leaves.push(PersonLeaf::CurrentlyAt(organization_key(r)?));
    }
    if let Some(r) = &f.formerly_at {
        leaves.push(PersonLeaf::FormerlyAt(organization_key(r)?));
    }
    if let Some(r) = &f.author_of {
        leaves.push(PersonLeaf::AuthorOf(publication_key(r)?));
    }
    combine(
        budget,
        depth,
        f.and.as_ref(),
        f.or.as_ref(),
        f.not.as_deref(),
        leaves,
        &person_pred,
    )
}

fn organization_pred(
    budget: &mut Budget,
    depth: usize,
    f: &OrganizationFilter,
) -> ApiResult<Pred<OrganizationLeaf>> {
    let mut leaves = Vec::new();
    if let Some(name) = &f.name {
        leaves.extend(text(name, "name")?.into_iter().map(OrganizationLeaf::Name));
    }
    if let Some(slug) = &f.slug {
        leaves.extend(text(slug, "slug")?.into_iter().map(OrganizationLeaf::Slug));
    }
    if let Some(kinds) = &f.kind {
        leaves.push(OrganizationLeaf::Kind(
            kinds.iter().map(|k| k.as_db().to_owned()).collect(),
        ));
    }
    if let Some(country) = &f.country {
        leaves.extend(
            text(country, "country")?
                .into_iter()
                .map(OrganizationLeaf::Country),
        );
    }
    if let Some(r) = &f.within {
        leaves.push(OrganizationLeaf::Within(organization_key(r)?));
    }
    if let Some(day) = f.has_staff_at {
        leaves.push(OrganizationLeaf::HasStaffAt(AtDay {
            day: day.0,
            certain: false,
        }));
    }
    combine(
        budget,
        depth,
        f.and.as_ref(),
        f.or.as_ref(),
        f.not.as_deref(),
        leaves,
        &organization_pred,
    )
}

fn publication_pred(
    budget: &mut Budget,
    depth: usize,
    f: &PublicationFilter,
) -> ApiResult<Pred<PublicationLeaf>> {
    let mut leaves = Vec::new();
    if let Some(title) = &f.title {
        leaves.extend(
            text(title, "title")?
                .into_iter()
                .map(PublicationLeaf::Title),
        );
    }
    if let Some(slug) = &f.slug {
        leaves.extend(text(slug, "slug")?.into_iter().map(PublicationLeaf::Slug));
    }
    if let Some(venue) = &f.venue {
        leaves.extend(
            text(venue, "venue")?
                .into_iter()
                .map(PublicationLeaf::Venue),
        );
    }
    if let Some(s) = &f.published_on {
        leaves.push(PublicationLeaf::PublishedOn(span(s)?));
    }
    combine(
        budget,
        depth,
        f.and.as_ref(),
        f.or.as_ref(),
        f.not.as_deref(),
        leaves,
        &publication_pred,
    )
}

fn stint_pred(
    budget: &mut Budget,
    depth: usize,
    f: &EmploymentFilter,
) -> ApiResult<Pred<StintLeaf>> {
    let mut leaves = Vec::new();
    if let Some(title) = &f.title {
        leaves.extend(text(title, "title")?.into_iter().map(StintLeaf::Title));
    }
    leaves.extend(f.is_founder.map(StintLeaf::IsFounder));
    leaves.extend(f.is_leader.map(StintLeaf::IsLeader));
    leaves.extend(f.is_current.map(StintLeaf::IsCurrent));
    if let Some(p) = &f.in_progress_on {
        leaves.push(StintLeaf::InProgressOn(at(p.date, p.certainty)?));
    }
    if let Some(s) = &f.started_between {
        leaves.push(StintLeaf::StartedBetween(span(s)?));
    }
    if let Some(s) = &f.ended_between {
        leaves.push(StintLeaf::EndedBetween(span(s)?));
    }
    combine(
        budget,
        depth,
        f.and.as_ref(),
        f.or.as_ref(),
        f.not.as_deref(),
        leaves,
        &stint_pred,
    )
}

macro_rules! filter_of {
    ($name:ident, $input:ty, $leaf:ty, $convert:ident) => {
        pub fn $name(filter: Option<&$input>) -> ApiResult<Pred<$leaf>> {
            match filter {
                None => Ok(Pred::All(Vec::new())),
                Some(f) => $convert(&mut Budget { tests: 0 }, 0, f),
            }
        }
    };
}

filter_of!(person_filter, PersonFilter, PersonLeaf, person_pred);
filter_of!(
    organization_filter,
    OrganizationFilter,
    OrganizationLeaf,
    organization_pred
);
filter_of!(
    publication_filter,
    PublicationFilter,
    PublicationLeaf,
    publication_pred
);
filter_of!(stint_filter, EmploymentFilter, StintLeaf, stint_pred);

/// `first`, `after`, `last` and `before` as a client gave them.
#[derive(Debug, Clone, Default)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

impl PageArgs {
    /// Whether only the old forward arguments are used.
    pub fn is_forward_only(&self) -> bool {
        self.last.is_none() && self.before.is_none()
    }
}

/// A list in one order: the name its cursors carry, and its page.
#[derive(Debug, Clone)]
pub struct Paged {
    pub name: String,
    pub page: Page,
    /// Rows shown (the page reads one more).
    pub shown: i64,
}

/// Checks paging arguments against a list and its order.
pub fn paged(
    list: List,
    order: Vec<OrderKey>,
    default: &[OrderKey],
    args: &PageArgs,
) -> ApiResult<Paged> {
    if args.first.is_some() && args.last.is_some() {
        return Err(ApiError::BadUserInput(
            "give `first` or `last`, not both".into(),
        ));
    }
    let backward = args.last.is_some();
    let shown = page_size(if backward { args.last } else { args.first }).map_err(|e| {
        match (backward, e) {
            (true, ApiError::BadUserInput(m)) => {
                ApiError::BadUserInput(m.replace("`first`", "`last`"))
            }
            (_, e) => e,
        }
    })?;
    // The default order's cursors are the ones the list always gave out.
    let name = if order == default {
        list.name()
    } else {
        let order_name: Vec<String> = order
            .iter()
            .map(|k| format!("{}.{}", k.column, if k.descending { "desc" } else { "asc" }))
            .collect();
        format!("{}~{}", list.name(), order_name.join(","))
    };
    let after = decode_keyset(&name, "after", &order, args.after.as_deref())?;
    let before = decode_keyset(&name, "before", &order, args.before.as_deref())?;
    Ok(Paged {
        name,
        page: Page {
            order,
            after,
            before,
            limit: shown + 1,
            backward,
        },
        shown,
    })
}

fn decode_keyset(
    name: &str,
    field: &str,
    order: &[OrderKey],
    cursor: Option<&str>,
) -> ApiResult<Option<Keyset>> {
    let Some(values) = Cursor::decode_named::<Vec<Json>>(name, field, cursor)? else {
        return Ok(None);
    };
    let invalid = || ApiError::InvalidField {
        field: field.to_owned(),
        message: "is not a cursor from this list in this order".to_owned(),
    };
    if values.len() != order.len() + 1 {
        return Err(invalid());
    }
    let id = values.last().and_then(Json::as_i64).ok_or_else(invalid)?;
    let mut keys = Vec::new();
    for (key, value) in order.iter().zip(&values) {
        keys.push(match (key.ty, value) {
            (_, Json::Null) if key.nullable => None,
            (KeyType::Text, Json::String(s)) => Some(Value::Text(s.clone())),
            (KeyType::Date, Json::String(s)) => Some(Value::Date(
                crate::domain::partial_date::parse_full_date(s).map_err(|_| invalid())?,
            )),
            _ => return Err(invalid()),
        });
    }
    Ok(Some(Keyset { values: keys, id }))
}

/// A row's place in its list, as its cursor carries it.
fn place(values: Vec<Json>, id: i64) -> Vec<Json> {
    let mut key = values;
    key.push(Json::from(id));
    key
}

fn text_value(s: &str) -> Json {
    Json::String(s.to_owned())
}

fn date_value(d: Option<NaiveDate>) -> Json {
    d.map_or(Json::Null, |d| Json::String(d.to_string()))
}

/// A page of rows read by `paged.page`, as a connection.
fn connection<Row, Node: OutputType>(
    paged: &Paged,
    args: &PageArgs,
    mut rows: Vec<Row>,
    total: TotalCount,
    key: impl Fn(&Row) -> Vec<Json>,
    convert: impl Fn(Row) -> ApiResult<Node>,
) -> ApiResult<Connection<Cursor, Node, TotalCount>> {
    let more = rows.len() as i64 > paged.shown;
    rows.truncate(usize::try_from(paged.shown).unwrap_or(usize::MAX));
    let (has_previous, has_next) = if paged.page.backward {
        rows.reverse();
        (more, args.before.is_some())
    } else {
        (args.after.is_some(), more)
    };
    let mut connection = Connection::with_additional_fields(has_previous, has_next, total);
    for row in rows {
        let cursor = Cursor::named(paged.name.clone(), key(&row));
        connection.edges.push(Edge::new(cursor, convert(row)?));
    }
    Ok(connection)
}

/// `Query.people` with `where`, `orderBy` or backward paging.
pub async fn people(
    ctx: &Context<'_>,
    filter: Option<&PersonFilter>,
    order_by: Option<Vec<PersonOrder>>,
    args: &PageArgs,
) -> ApiResult<PersonConnection> {
    let filter = person_filter(filter)?;
    let paged = paged(
        List::People,
        person_order(order_by)?,
        &person_order(None)?,
        args,
    )?;
    let filter = Arc::new(filter);
    let stints = person::stints_ahead(&connection_nodes(ctx.field()));
    let (rows, total) = TotalCount::FilteredPeople(filter.clone())
        .beside(ctx, async {
            let mut conn = ctx.pool()?.get().await?;
            let Some(joins) = stints else {
                return Ok(db::filter::people(&mut conn, &filter, &paged.page).await?);
            };
            let rows =
                db::filter::people_with_stints(&mut conn, &filter, &paged.page, joins.organization)
                    .await?;
            drop(conn);
            person::feed_stints(ctx, rows, joins, |person| person.id).await
        })
        .await?;
    let order = paged.page.order.clone();
    connection(
        &paged,
        args,
        rows,
        total,
        |r| {
            let values = order
                .iter()
                .map(|k| text_value(if k.column == "slug" { &r.slug } else { &r.name }))
                .collect();
            place(values, r.id)
        },
        |r| Ok(Eager(Person::from(r))),
    )
}

/// `Query.organizations` with `where`, `orderBy` or backward paging.
pub async fn organizations(
    ctx: &Context<'_>,
    filter: Option<&OrganizationFilter>,
    kind: Option<OrganizationKind>,
    order_by: Option<Vec<OrganizationOrder>>,
    args: &PageArgs,
) -> ApiResult<OrganizationConnection> {
    let mut filter = organization_filter(filter)?;
    if let Some(kind) = kind {
        filter = Pred::All(vec![
            filter,
            Pred::Leaf(OrganizationLeaf::Kind(vec![kind.as_db().to_owned()])),
        ]);
    }
    let paged = paged(
        List::Organizations,
        organization_order(order_by)?,
        &organization_order(None)?,
        args,
    )?;
    let filter = Arc::new(filter);
    let children = organization::children_ahead(&connection_nodes(ctx.field()));
    let (rows, total) = TotalCount::FilteredOrganizations(filter.clone())
        .beside(ctx, async {
            let mut conn = ctx.pool()?.get().await?;
            let Some(children) = children else {
                return Ok(db::filter::organizations(&mut conn, &filter, &paged.page).await?);
            };
            let rows =
                db::filter::organizations_with_children(&mut conn, &filter, &paged.page, children)
                    .await?;
            drop(conn);
            organization::feed_children(ctx, rows, children).await
        })
        .await?;
    let order = paged.page.order.clone();
    connection(
        &paged,
        args,
        rows,
        total,
        |r| {
            let values = order
                .iter()
                .map(|k| match k.column {
                    "slug" => text_value(&r.slug),
                    "founded_on" => date_value(r.founded_on),
                    _ => text_value(&r.name),
                })
                .collect();
            place(values, r.id)
        },
        |r| Organization::try_from(r).map(Eager),
    )
}

/// `Query.publications` with `where`, `orderBy` or backward paging.
pub async fn publications(
    ctx: &Context<'_>,
    filter: Option<&PublicationFilter>,
    order_by: Option<Vec<PublicationOrder>>,
    args: &PageArgs,
) -> ApiResult<PublicationConnection> {
    let filter = publication_filter(filter)?;
    let paged = paged(
        List::Publications,
        publication_order(order_by)?,
        &publication_order(None)?,
        args,
    )?;
    let filter = Arc::new(filter);
    let authors = publication::authors_ahead(&connection_nodes(ctx.field()));
    let (rows, total) = TotalCount::FilteredPublications(filter.clone())
        .beside(ctx, async {
            let mut conn = ctx.pool()?.get().await?;
            let Some(ahead) = authors else {
                return Ok(db::filter::publications(&mut conn, &filter, &paged.page).await?);
            };
            let rows =
                db::filter::publications_with_authorships(&mut conn, &filter, &paged.page, ahead)
                    .await?;
            drop(conn);
            publication::feed_authors(ctx, rows, ahead, |p| p.id).await
        })
        .await?;
    let order = paged.page.order.clone();
    connection(
        &paged,
        args,
        rows,
        total,
        |r| {
            let values = order
                .iter()
                .map(|k| match k.column {
                    "slug" => text_value(&r.slug),
                    "published_on" => date_value(r.published_on),
                    _ => text_value(&r.title),
                })
                .collect();
            place(values, r.id)
        },
        Publication::try_from,
    )
}

/// One page of an organization's stints under a filter and an order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StintPageKey {
    pub organization_id: i64,
    pub include_units: bool,
    pub filter: Arc<Pred<StintLeaf>>,
    pub page: Page,
}

/// The size of an organization's filtered stint listing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StintCountKey {
    pub organization_id: i64,
    pub include_units: bool,
    pub filter: Arc<Pred<StintLeaf>>,
}

/// Sibling connections with the same arguments share one statement.
impl Loader<StintPageKey> for Db {
    type Value = Arc<[Employment]>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[StintPageKey],
    ) -> Result<HashMap<StintPageKey, Self::Value>, ApiError> {
        let mut conn = self.conn().await?;
        type Batch = (bool, Arc<Pred<StintLeaf>>, Page);
        let mut batches: HashMap<Batch, Vec<i64>> = HashMap::new();
        for key in keys {
            batches
                .entry((key.include_units, key.filter.clone(), key.page.clone()))
                .or_default()
                .push(key.organization_id);
        }
        let mut pages: HashMap<StintPageKey, Vec<Employment>> = HashMap::new();
        for ((include_units, filter, page), roots) in batches {
            let rows =
                db::filter::stint_pages(&mut conn, &roots, include_units, &filter, &page).await?;
            for row in rows {
                let key = StintPageKey {
                    organization_id: row.root_id,
                    include_units,
                    filter: filter.clone(),
                    page: page.clone(),
                };
                pages
                    .entry(key)
                    .or_default()
                    .push(super::loaders::listed_stint(row)?);
            }
        }
        Ok(keys
            .iter()
            .map(|key| {
                let page = pages.remove(key).unwrap_or_default();
                (key.clone(), page.into())
            })
            .collect())
    }
}

impl Loader<StintCountKey> for Db {
    type Value = i64;
    type Error = ApiError;

    async fn load(&self, keys: &[StintCountKey]) -> Result<HashMap<StintCountKey, i64>, ApiError> {
        let mut conn = self.conn().await?;
        let mut batches: HashMap<(bool, Arc<Pred<StintLeaf>>), Vec<i64>> = HashMap::new();
        for key in keys {
            batches
                .entry((key.include_units, key.filter.clone()))
                .or_default()
                .push(key.organization_id);
        }
        let mut counts = HashMap::new();
        for ((include_units, filter), roots) in batches {
            for row in db::filter::stint_counts(&mut conn, &roots, include_units, &filter).await? {
                let key = StintCountKey {
                    organization_id: row.root_id,
                    include_units,
                    filter: filter.clone(),
                };
                counts.insert(key, row.count);
            }
        }
        Ok(counts)
    }
}

/// `Organization.employments` with `where`, `orderBy` or backward paging;
/// `status` and `at` become tests of the filter.
pub async fn organization_stints(
    ctx: &Context<'_>,
    organization_id: i64,
    include_units: bool,
    scope: Vec<StintLeaf>,
    filter: Option<&EmploymentFilter>,
    order_by: Option<Vec<EmploymentOrder>>,
    args: &PageArgs,
) -> ApiResult<EmploymentConnection> {
    let mut all: Vec<Pred<StintLeaf>> = scope.into_iter().map(Pred::Leaf).collect();
    all.push(stint_filter(filter)?);
    let filter = Arc::new(Pred::All(all));
    let list = List::Employments {
        organization: organization_id,
    };
    let paged = paged(
        list,
        employment_order(order_by)?,
        &employment_order(None)?,
        args,
    )?;
    let key = StintPageKey {
        organization_id,
        include_units,
        filter: filter.clone(),
        page: paged.page.clone(),
    };
    let (page, total) = TotalCount::FilteredStints(StintCountKey {
        organization_id,
        include_units,
        filter,
    })
    .beside(ctx, async {
        Ok(ctx.loader()?.load_one(key).await?.unwrap_or_default())
    })
    .await?;
    let order = paged.page.order.clone();
    let indices: Vec<usize> = (0..page.len()).collect();
    connection(
        &paged,
        args,
        indices,
        total,
        |&i| stint_place(&order, &page[i]),
        |i| {
            EagerItem::of(&page, [i])
                .pop()
                .ok_or_else(|| ApiError::internal("a stint left its page"))
        },
    )
}

fn stint_place(order: &[OrderKey], stint: &Employment) -> Vec<Json> {
    let values = order
        .iter()
        .map(|k| match k.column {
            "ended_on" => date_value(stint.ended_on.map(|d| d.first_day())),
            "title" => stint.title.as_deref().map_or(Json::Null, text_value),
            _ => date_value(stint.started_on.map(|d| d.first_day())),
        })
        .collect();
    place(values, stint.id)
}

/// Whether a stint passes a filter: the Rust twins of the SQL tests, for a
/// person's stints, which are loaded whole in a batch.
pub fn stint_holds(filter: &Pred<StintLeaf>, stint: &Employment, evidence: Evidence) -> bool {
    let sure = |certainty: point_in_time::Certainty, certain: bool| match certainty {
        point_in_time::Certainty::Certainly => true,
        point_in_time::Certainty::Possibly => !certain,
        point_in_time::Certainty::No => false,
    };
    let within = |s: &Span, date| {
        sure(
            span::Span {
                from: s.from,
                to: s.to,
            }
            .contains(date),
            s.certain,
        )
    };
    filter.holds(&|leaf| match leaf {
        StintLeaf::Title(m) => m.matches(stint.title.as_deref()),
        StintLeaf::IsFounder(v) => stint.is_founder == Some(*v),
        StintLeaf::IsLeader(v) => stint.is_leader == Some(*v),
        StintLeaf::IsCurrent(v) => stint.is_current == *v,
        StintLeaf::InProgressOn(at) => {
            sure(stint.bounds(evidence).in_progress_on(at.day), at.certain)
        }
        StintLeaf::StartedBetween(s) => within(s, stint.started_on),
        StintLeaf::EndedBetween(s) => !stint.is_current && within(s, stint.ended_on),
    })
}

/// Sorts a person's stints by `order` (unknown values last, then id).
pub fn sort_stints(order: &[OrderKey], stints: &mut [EagerItem<Employment>]) {
    use std::cmp::Ordering;
    stints.sort_by(|a, b| {
        for key in order {
            let (x, y) = (
                stint_place(std::slice::from_ref(key), a),
                stint_place(std::slice::from_ref(key), b),
            );
            let (x, y) = (&x[0], &y[0]);
            let ordering = match (x, y) {
                (Json::Null, Json::Null) => Ordering::Equal,
                (Json::Null, _) => Ordering::Greater,
                (_, Json::Null) => Ordering::Less,
                (Json::String(x), Json::String(y)) => {
                    let o = x.cmp(y);
                    if key.descending { o.reverse() } else { o }
                }
                _ => Ordering::Equal,
            };
            if ordering != Ordering::Equal {
                return ordering;
            }
        }
        a.id.cmp(&b.id)
    });
}

/// A page of an organization's alumni read with `last` / `before`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AlumniRangeKey {
    pub organization_id: i64,
    pub after: Option<(String, i64)>,
    pub before: Option<(String, i64)>,
    pub limit: i64,
    pub backward: bool,
}

impl Loader<AlumniRangeKey> for Db {
    type Value = Vec<Person>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[AlumniRangeKey],
    ) -> Result<HashMap<AlumniRangeKey, Self::Value>, ApiError> {
        let mut conn = self.conn().await?;
        type Batch = (Option<(String, i64)>, Option<(String, i64)>, i64, bool);
        let mut batches: HashMap<Batch, Vec<i64>> = HashMap::new();
        for key in keys {
            batches
                .entry((
                    key.after.clone(),
                    key.before.clone(),
                    key.limit,
                    key.backward,
                ))
                .or_default()
                .push(key.organization_id);
        }
        let mut pages: HashMap<AlumniRangeKey, Self::Value> =
            keys.iter().map(|k| (k.clone(), Vec::new())).collect();
        for ((after, before, limit, backward), roots) in batches {
            let rows = db::filter::alumni_pages(
                &mut conn,
                &roots,
                after.clone(),
                before.clone(),
                limit,
                backward,
            )
            .await?;
            for row in rows {
                let key = AlumniRangeKey {
                    organization_id: row.root_id,
                    after: after.clone(),
                    before: before.clone(),
                    limit,
                    backward,
                };
                let person = Person::from(row.person);
                pages.entry(key).or_default().push(person);
            }
        }
        Ok(pages)
    }
}

/// `Organization.alumni` with `last` or `before` (by name, then id).
pub async fn alumni(
    ctx: &Context<'_>,
    organization_id: i64,
    args: &PageArgs,
    total: TotalCount,
) -> ApiResult<PersonConnection> {
    let list = List::Alumni {
        organization: organization_id,
    };
    let order = vec![text_key("name", false)];
    let paged = paged(list, order.clone(), &order, args)?;
    let keyset = |k: &Option<Keyset>| -> Option<(String, i64)> {
        let k = k.as_ref()?;
        match k.values.first() {
            Some(Some(Value::Text(name))) => Some((name.clone(), k.id)),
            _ => None,
        }
    };
    let key = AlumniRangeKey {
        organization_id,
        after: keyset(&paged.page.after),
        before: keyset(&paged.page.before),
        limit: paged.page.limit,
        backward: paged.page.backward,
    };
    let (people, total) = total
        .beside(ctx, async {
            Ok(ctx.loader()?.load_one(key).await?.unwrap_or_default())
        })
        .await?;
    connection(
        &paged,
        args,
        people,
        total,
        |p| place(vec![text_value(&p.name)], p.id),
        |p| Ok(Eager(p)),
    )
}

/// Keeps the first `first` items of a list that grows with the data
/// (`units`, `founders`, `leaders`, a flow's `people`, `stayed`, `left`):
/// all when omitted, 1 to 100 otherwise.
pub fn take_first<T>(mut items: Vec<T>, first: Option<i32>) -> ApiResult<Vec<T>> {
    if let Some(n) = first {
        if !(1..=super::pagination::MAX_PAGE_SIZE).contains(&n) {
            return Err(ApiError::BadUserInput(format!(
                "`first` must be between 1 and {}, got {n}",
                super::pagination::MAX_PAGE_SIZE
            )));
        }
        items.truncate(usize::try_from(n).unwrap_or(usize::MAX));
    }
    Ok(items)
}

/// A ranked (search) list's page with `last` / `before`: its size, the
/// ranks it lies between, and its direction.
fn ranked_page(list: List, args: &PageArgs) -> ApiResult<Paged> {
    // The ranks are decoded apart: a search cursor is a score and an id.
    let bare = PageArgs {
        after: None,
        before: None,
        ..args.clone()
    };
    let mut paged = paged(list, Vec::new(), &[], &bare)?;
    paged.name = list.name();
    Ok(paged)
}

/// A search page's `after` and `before` cursors, as ranks.
fn ranks(
    list: List,
    args: &PageArgs,
) -> ApiResult<(Option<db::filter::Rank>, Option<db::filter::Rank>)> {
    let name = list.name();
    Ok((
        Cursor::decode_named(&name, "after", args.after.as_deref())?,
        Cursor::decode_named(&name, "before", args.before.as_deref())?,
    ))
}

/// `people(search:)` with `last` or `before`.
pub async fn people_matching(
    ctx: &Context<'_>,
    query: String,
    args: &PageArgs,
) -> ApiResult<PersonConnection> {
    let list = List::PeopleMatching;
    let paged = ranked_page(list, args)?;
    let (after, before) = ranks(list, args)?;
    let (rows, total) = TotalCount::PeopleMatching(query.clone())
        .beside(ctx, async {
            Ok(db::filter::people_matching(
                &mut *ctx.pool()?.get().await?,
                &query,
                after,
                before,
                paged.page.limit,
                paged.page.backward,
            )
            .await?)
        })
        .await?;
    connection(
        &paged,
        args,
        rows,
        total,
        |r| vec![Json::from(r.score), Json::from(r.person.id)],
        |r| Ok(Eager(Person::from(r.person))),
    )
}

/// `organizations(search:)` with `last` or `before`.
pub async fn organizations_matching(
    ctx: &Context<'_>,
    query: String,
    kind: Option<OrganizationKind>,
    args: &PageArgs,
) -> ApiResult<OrganizationConnection> {
    let list = List::OrganizationsMatching;
    let paged = ranked_page(list, args)?;
    let kind = kind.map(OrganizationKind::as_db);
    let (after, before) = ranks(list, args)?;
    let (rows, total) = TotalCount::OrganizationsMatching {
        query: query.clone(),
        kind,
    }
    .beside(ctx, async {
        Ok(db::filter::organizations_matching(
            &mut *ctx.pool()?.get().await?,
            &query,
            kind,
            after,
            before,
            paged.page.limit,
            paged.page.backward,
        )
        .await?)
    })
    .await?;
    connection(
        &paged,
        args,
        rows,
        total,
        |r| vec![Json::from(r.score), Json::from(r.organization.id)],
        |r| Organization::try_from(r.organization).map(Eager),
    )
}
