//! `where:` and `orderBy:` as SQL: each filter becomes a fragment of the one
//! statement that reads its list, with every value a bound parameter.
//!
//! A filter is a tree of predicates ([`Pred`]) over one entity's leaves
//! ([`PersonLeaf`], [`OrganizationLeaf`], [`PublicationLeaf`], [`StintLeaf`]);
//! an order is a list of [`OrderKey`]s closed by the row id, so that it is
//! total and a keyset cursor (the sort key of a row) says exactly where a page
//! resumes, forwards or backwards.
//!
//! The point-in-time predicates reuse the statement text of
//! `Organization.employments(at:)` (`employments::SCOPE_FILTER`) with its
//! parameters bound anew ([`Sql::template`]): one definition of "in progress
//! on day D" for every list.

use chrono::NaiveDate;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Bool, Date, Nullable, Text, Untyped};
use diesel::{QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::ahead::{
    AuthorshipsAhead, ListedAuthorshipRow, ListedOrganizationRow, ListedStintRow,
    OrganizationChildren, WithChildren,
};
use super::columns::ColumnSet;
use super::employments::{AtDay, EmploymentRead, SCOPE_FILTER, ScopedEmploymentRow};
use super::organizations::{OrganizationRead, OrganizationRow};
use super::people::{PersonRead, PersonRow};
use super::publications::PublicationRow;

/// A value bound as a statement parameter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    BigInt(i64),
    BigInts(Vec<i64>),
    Text(String),
    Texts(Vec<String>),
    NullText,
    Bool(bool),
    NullBool,
    Date(NaiveDate),
    NullDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Part {
    Text(String),
    Bind(Value),
}

/// SQL text with bound values in place: written as text, sent as a
/// statement with parameters. Never cached as a prepared statement: its text
/// varies with each filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Sql {
    parts: Vec<Part>,
}

impl Sql {
    pub fn new(text: &str) -> Self {
        let mut sql = Sql::default();
        sql.push(text);
        sql
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        if let Some(Part::Text(last)) = self.parts.last_mut() {
            last.push_str(text);
        } else {
            self.parts.push(Part::Text(text.to_owned()));
        }
        self
    }

    pub fn bind(&mut self, value: Value) -> &mut Self {
        self.parts.push(Part::Bind(value));
        self
    }

    pub fn append(&mut self, other: Sql) -> &mut Self {
        for part in other.parts {
            match part {
                Part::Text(text) => {
                    self.push(&text);
                }
                Part::Bind(value) => {
                    self.bind(value);
                }
            }
        }
        self
    }

    /// `items` joined by `separator`, each in parentheses; `empty` when none.
    fn join(items: Vec<Sql>, separator: &str, empty: &str) -> Sql {
        if items.is_empty() {
            return Sql::new(empty);
        }
        let mut sql = Sql::new("(");
        for (index, item) in items.into_iter().enumerate() {
            if index > 0 {
                sql.push(separator);
            }
            sql.push("(").append(item).push(")");
        }
        sql.push(")");
        sql
    }

    /// Statement text written for positional parameters (`$3`), with each
    /// `$n` bound to `params[n]`: so that one statement's text serves
    /// another with its own parameters.
    pub fn template(text: &str, params: &[(usize, Value)]) -> Sql {
        let mut sql = Sql::default();
        let mut rest = text;
        while let Some(dollar) = rest.find('$') {
            sql.push(&rest[..dollar]);
            let digits = rest[dollar + 1..]
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len() - dollar - 1);
            let number = rest[dollar + 1..dollar + 1 + digits].parse::<usize>().ok();
            match number.and_then(|n| params.iter().find(|(p, _)| *p == n)) {
                Some((_, value)) => {
                    sql.bind(value.clone());
                }
                None => {
                    sql.push(&rest[dollar..dollar + 1 + digits]);
                }
            }
            rest = &rest[dollar + 1 + digits..];
        }
        sql.push(rest);
        sql
    }
}

impl QueryFragment<Pg> for Sql {
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        pass.unsafe_to_cache_prepared();
        for part in &self.parts {
            match part {
                Part::Text(text) => pass.push_sql(text),
                Part::Bind(value) => match value {
                    Value::BigInt(v) => pass.push_bind_param::<BigInt, _>(v)?,
                    Value::BigInts(v) => pass.push_bind_param::<Array<BigInt>, _>(v)?,
                    Value::Text(v) => pass.push_bind_param::<Text, _>(v)?,
                    Value::Texts(v) => pass.push_bind_param::<Array<Text>, _>(v)?,
                    Value::NullText => {
                        pass.push_bind_param::<Nullable<Text>, _>(&None::<String>)?
                    }
                    Value::Bool(v) => pass.push_bind_param::<Bool, _>(v)?,
                    Value::NullBool => pass.push_bind_param::<Nullable<Bool>, _>(&None::<bool>)?,
                    Value::Date(v) => pass.push_bind_param::<Date, _>(v)?,
                    Value::NullDate => {
                        pass.push_bind_param::<Nullable<Date>, _>(&None::<NaiveDate>)?
                    }
                },
            }
        }
        Ok(())
    }
}

impl QueryId for Sql {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Sql {
    type SqlType = Untyped;
}

/// A tree of predicates over one entity's leaves.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Pred<L> {
    All(Vec<Pred<L>>),
    Any(Vec<Pred<L>>),
    Not(Box<Pred<L>>),
    Leaf(L),
}

impl<L> Pred<L> {
    /// The SQL of the tree, leaves by `leaf`.
    pub fn to_sql(&self, leaf: &impl Fn(&L) -> Sql) -> Sql {
        self.to_sql_in(&|l, _| leaf(l), false)
    }

    /// The SQL of the tree, leaves by `leaf`, told whether they stand under
    /// an `or` (`in_any`).
    pub fn to_sql_in(&self, leaf: &impl Fn(&L, bool) -> Sql, in_any: bool) -> Sql {
        match self {
            Pred::All(items) => Sql::join(
                items.iter().map(|p| p.to_sql_in(leaf, in_any)).collect(),
                " AND ",
                "TRUE",
            ),
            Pred::Any(items) => Sql::join(
                items.iter().map(|p| p.to_sql_in(leaf, true)).collect(),
                " OR ",
                "FALSE",
            ),
            Pred::Not(inner) => {
                let mut sql = Sql::new("NOT (");
                sql.append(inner.to_sql_in(leaf, in_any)).push(")");
                sql
            }
            Pred::Leaf(l) => {
                let mut sql = Sql::new("(");
                sql.append(leaf(l, in_any)).push(")");
                sql
            }
        }
    }

    /// Whether the tree holds, leaves by `leaf` (for lists filtered in memory).
    pub fn holds(&self, leaf: &impl Fn(&L) -> bool) -> bool {
        match self {
            Pred::All(items) => items.iter().all(|p| p.holds(leaf)),
            Pred::Any(items) => items.iter().any(|p| p.holds(leaf)),
            Pred::Not(inner) => !inner.holds(leaf),
            Pred::Leaf(l) => leaf(l),
        }
    }
}

/// An entity named by id or by its natural key, resolved inside the
/// statement (an unknown one matches nothing).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    Id(i64),
    Slug(String),
}

impl Key {
    /// The row id, as an SQL expression, of the entity in `table`.
    fn id_sql(&self, table: &str) -> Sql {
        match self {
            Key::Id(id) => {
                let mut sql = Sql::new("");
                sql.bind(Value::BigInt(*id)).push("::bigint");
                sql
            }
            Key::Slug(slug) => {
                let mut sql = Sql::new(&format!("(SELECT id FROM {table} WHERE slug = "));
                sql.bind(Value::Text(slug.clone())).push(")");
                sql
            }
        }
    }

    /// The organization and, with `units`, every unit of it at any depth: a
    /// subquery of ids (see the migration of `organization_tree`).
    fn organization_tree(&self, units: bool) -> Sql {
        let mut sql = Sql::new(if units {
            "SELECT organization_tree("
        } else {
            "SELECT ("
        });
        sql.append(self.id_sql("organizations")).push(")");
        sql
    }
}

/// A text column's test.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TextMatch {
    Eq(String),
    In(Vec<String>),
}

impl TextMatch {
    fn to_sql(&self, column: &str) -> Sql {
        let mut sql = Sql::new(column);
        match self {
            TextMatch::Eq(v) => sql.push(" = ").bind(Value::Text(v.clone())),
            TextMatch::In(v) => sql.push(" = ANY(").bind(Value::Texts(v.clone())).push(")"),
        };
        sql
    }

    pub fn matches(&self, value: Option<&str>) -> bool {
        match (self, value) {
            (_, None) => false,
            (TextMatch::Eq(v), Some(value)) => v == value,
            (TextMatch::In(v), Some(value)) => v.iter().any(|v| v == value),
        }
    }
}

/// A period of days, either end open, and how sure a partial date must be
/// to fall in it (see `domain::span`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Span {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub certain: bool,
}

impl Span {
    /// The SQL twin of `domain::span::Span::contains` for the partial date in
    /// `column` / `column_precision`.
    fn to_sql(self, column: &str) -> Sql {
        let date = |sql: &mut Sql, value: Option<NaiveDate>| {
            sql.bind(value.map_or(Value::NullDate, Value::Date))
                .push("::date");
        };
        let last_day = format!("partial_date_last_day({column}, {column}_precision)");
        let mut sql = Sql::new("");
        if self.certain {
            sql.push(&format!("{column} IS NOT NULL AND ("));
            date(&mut sql, self.from);
            sql.push(&format!(" IS NULL OR {column} >= "));
            date(&mut sql, self.from);
            sql.push(") AND (");
            date(&mut sql, self.to);
            sql.push(&format!(" IS NULL OR {last_day} <= "));
            date(&mut sql, self.to);
            sql.push(")");
        } else {
            sql.push(&format!("{column} IS NULL OR (("));
            date(&mut sql, self.to);
            sql.push(&format!(" IS NULL OR {column} <= "));
            date(&mut sql, self.to);
            sql.push(") AND (");
            date(&mut sql, self.from);
            sql.push(&format!(" IS NULL OR {last_day} >= "));
            date(&mut sql, self.from);
            sql.push("))");
        }
        sql
    }
}

/// "In progress on day D" for the stint aliased `e`: the statement text of
/// `Organization.employments(at:)`, with its day and certainty bound here.
fn in_progress(at: AtDay) -> Sql {
    Sql::template(
        SCOPE_FILTER,
        &[
            (3, Value::NullBool),
            (4, Value::Date(at.day)),
            (5, Value::Bool(at.certain)),
        ],
    )
}

/// A test on a person (aliased `p`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PersonLeaf {
    Name(TextMatch),
    Slug(TextMatch),
    /// A stint at the organization (or, with `include_units`, a unit of it),
    /// in progress on a day when one is given.
    EmployedAt {
        organization: Key,
        at: Option<AtDay>,
        include_units: bool,
    },
    /// A current stint inside the organization's tree.
    CurrentlyAt(Key),
    /// Was inside the organization's tree and no stint inside it is current:
    /// `Organization.alumni`.
    FormerlyAt(Key),
    AuthorOf(Key),
}

/// A person test. Those about other tables read a set of person ids:
/// joined to `p` (`EXISTS`) on their own, which the planner turns into an
/// index-driven semi-join; under an `or`, as an array computed once
/// (`p.id = ANY(ARRAY(...))`), so that the alternatives combine as a
/// `BitmapOr` of primary-key lookups instead of a test of every person.
fn person_leaf(leaf: &PersonLeaf, in_any: bool) -> Sql {
    // (the person id column, the rest of the subquery after SELECT).
    let (column, mut from) = match leaf {
        PersonLeaf::Name(m) => return m.to_sql("p.name"),
        PersonLeaf::Slug(m) => return m.to_sql("p.slug"),
        PersonLeaf::EmployedAt {
            organization,
            at,
            include_units,
        } => {
            let mut sql = Sql::new(" FROM employments e WHERE e.organization_id IN (");
            sql.append(organization.organization_tree(*include_units))
                .push(")");
            if let Some(at) = at {
                sql.push(" AND ").append(in_progress(*at));
            }
            ("e.person_id", sql)
        }
        PersonLeaf::CurrentlyAt(key) | PersonLeaf::FormerlyAt(key) => {
            let current = matches!(leaf, PersonLeaf::CurrentlyAt(_));
            // tree_members holds one row per person and organization on the
            // chain above each of their stints: units roll up by design.
            let mut sql = Sql::new(&format!(
                " FROM tree_members m WHERE {}m.is_current AND m.tree_id = ",
                if current { "" } else { "NOT " }
            ));
            sql.append(key.id_sql("organizations"));
            ("m.person_id", sql)
        }
        PersonLeaf::AuthorOf(key) => {
            let mut sql = Sql::new(" FROM authorships a WHERE a.publication_id = ");
            sql.append(key.id_sql("publications"));
            ("a.person_id", sql)
        }
    };
    if in_any {
        let mut sql = Sql::new(&format!("p.id = ANY(ARRAY(SELECT {column}"));
        sql.append(from).push("))");
        sql
    } else {
        let mut sql = Sql::new("EXISTS (SELECT 1");
        from.push(&format!(" AND {column} = p.id)"));
        sql.append(from);
        sql
    }
}

/// A test on an organization (aliased `o`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OrganizationLeaf {
    Name(TextMatch),
    Slug(TextMatch),
    /// `organizations.kind` values.
    Kind(Vec<String>),
    Country(TextMatch),
    /// The organization itself or any unit of it, at any depth.
    Within(Key),
    /// Someone's stint at it (not at a unit) in progress on the day.
    HasStaffAt(AtDay),
}

fn organization_leaf(leaf: &OrganizationLeaf) -> Sql {
    match leaf {
        OrganizationLeaf::Name(m) => m.to_sql("o.name"),
        OrganizationLeaf::Slug(m) => m.to_sql("o.slug"),
        OrganizationLeaf::Kind(kinds) => {
            let mut sql = Sql::new("o.kind = ANY(");
            sql.bind(Value::Texts(kinds.clone())).push(")");
            sql
        }
        OrganizationLeaf::Country(m) => m.to_sql("o.country"),
        OrganizationLeaf::Within(key) => {
            let mut sql = Sql::new("o.id IN (");
            sql.append(key.organization_tree(true)).push(")");
            sql
        }
        OrganizationLeaf::HasStaffAt(at) => {
            let mut sql =
                Sql::new("EXISTS (SELECT 1 FROM employments e WHERE e.organization_id = o.id AND ");
            sql.append(in_progress(*at)).push(")");
            sql
        }
    }
}

/// A test on a publication (aliased `pub`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PublicationLeaf {
    Title(TextMatch),
    Slug(TextMatch),
    Venue(TextMatch),
    PublishedOn(Span),
}

fn publication_leaf(leaf: &PublicationLeaf) -> Sql {
    match leaf {
        PublicationLeaf::Title(m) => m.to_sql("pub.title"),
        PublicationLeaf::Slug(m) => m.to_sql("pub.slug"),
        PublicationLeaf::Venue(m) => m.to_sql("pub.venue"),
        PublicationLeaf::PublishedOn(span) => span.to_sql("pub.published_on"),
    }
}

/// A test on a stint (aliased `e`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StintLeaf {
    Title(TextMatch),
    IsFounder(bool),
    IsLeader(bool),
    IsCurrent(bool),
    InProgressOn(AtDay),
    StartedBetween(Span),
    /// Ended (not current) with an end in the span.
    EndedBetween(Span),
}

fn stint_leaf(leaf: &StintLeaf) -> Sql {
    let flag = |column: &str, value: bool| {
        let mut sql = Sql::new(&format!("e.{column} = "));
        sql.bind(Value::Bool(value));
        sql
    };
    match leaf {
        StintLeaf::Title(m) => m.to_sql("e.title"),
        StintLeaf::IsFounder(v) => flag("is_founder", *v),
        StintLeaf::IsLeader(v) => flag("is_leader", *v),
        StintLeaf::IsCurrent(v) => flag("is_current", *v),
        StintLeaf::InProgressOn(at) => in_progress(*at),
        StintLeaf::StartedBetween(span) => span.to_sql("e.started_on"),
        StintLeaf::EndedBetween(span) => {
            let mut sql = Sql::new("NOT e.is_current AND (");
            sql.append(span.to_sql("e.ended_on")).push(")");
            sql
        }
    }
}

/// The type of a sort column, for reading a cursor back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    Text,
    Date,
}

/// One column of an order: an expression on the list's alias.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrderKey {
    /// The column, unqualified (`name`, `started_on`).
    pub column: &'static str,
    pub descending: bool,
    pub nullable: bool,
    pub ty: KeyType,
}

/// Where a page starts or ends: a row's values of the order's columns, then
/// its id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Keyset {
    pub values: Vec<Option<Value>>,
    pub id: i64,
}

/// An order, a page's bounds, its size and direction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Page {
    pub order: Vec<OrderKey>,
    pub after: Option<Keyset>,
    pub before: Option<Keyset>,
    /// Rows to read (one more than shown tells whether there are more).
    pub limit: i64,
    /// Read from the end (`last`): the rows come back in reverse order.
    pub backward: bool,
}

impl Page {
    /// `ORDER BY` on `alias`, reversed when reading backward; unknown values
    /// always sort last in the list's own order.
    fn order_by(&self, alias: &str) -> String {
        let mut terms: Vec<String> = self
            .order
            .iter()
            .map(|key| {
                let descending = key.descending != self.backward;
                // Nulls last forwards is nulls first backwards.
                let nulls = if self.backward { "FIRST" } else { "LAST" };
                format!(
                    "{alias}.{} {} NULLS {nulls}",
                    key.column,
                    if descending { "DESC" } else { "ASC" }
                )
            })
            .collect();
        terms.push(format!(
            "{alias}.id {}",
            if self.backward { "DESC" } else { "ASC" }
        ));
        terms.join(", ")
    }

    /// The keyset bounds on `alias`.
    fn bounds(&self, alias: &str) -> Sql {
        let mut parts = Vec::new();
        if let Some(after) = &self.after {
            parts.push(self.keyset(alias, after, true));
        }
        if let Some(before) = &self.before {
            parts.push(self.keyset(alias, before, false));
        }
        Sql::join(parts, " AND ", "TRUE")
    }

    /// Rows strictly after (or before) `keyset` in the list's order.
    fn keyset(&self, alias: &str, keyset: &Keyset, after: bool) -> Sql {
        // All ascending with no nulls to place: one row comparison, which
        // an index on the columns answers directly.
        let plain = self.order.iter().all(|k| !k.nullable && !k.descending)
            && keyset.values.iter().all(Option::is_some);
        if plain {
            let columns: Vec<String> = self
                .order
                .iter()
                .map(|k| format!("{alias}.{}", k.column))
                .chain([format!("{alias}.id")])
                .collect();
            let mut sql = Sql::new(&format!("({}) ", columns.join(", ")));
            sql.push(if after { "> (" } else { "< (" });
            for value in keyset.values.iter().flatten() {
                sql.bind(value.clone()).push(", ");
            }
            sql.bind(Value::BigInt(keyset.id)).push(")");
            return sql;
        }
        self.expanded(alias, keyset, after)
    }

    /// The keyset comparison spelled out column by column: OR over each
    /// column of (the earlier ones equal, this one past the bound).
    fn expanded(&self, alias: &str, keyset: &Keyset, after: bool) -> Sql {
        let mut alternatives = Vec::new();
        let mut equal_so_far: Vec<Sql> = Vec::new();
        for (key, value) in self.order.iter().zip(&keyset.values) {
            let column = format!("{alias}.{}", key.column);
            // Past the bound in the list's order (nulls last).
            let past = match (value, after) {
                (None, true) => None,
                (None, false) => Some(Sql::new(&format!("{column} IS NOT NULL"))),
                (Some(v), _) => {
                    let greater = after != key.descending;
                    let mut sql =
                        Sql::new(&format!("{column} {} ", if greater { ">" } else { "<" }));
                    sql.bind(v.clone());
                    if after && key.nullable {
                        let mut or_null = Sql::new("(");
                        or_null.append(sql).push(&format!(" OR {column} IS NULL)"));
                        sql = or_null;
                    }
                    Some(sql)
                }
            };
            if let Some(past) = past {
                let mut all = equal_so_far.clone();
                all.push(past);
                alternatives.push(Sql::join(all, " AND ", "TRUE"));
            }
            equal_so_far.push(match value {
                None => Sql::new(&format!("{column} IS NULL")),
                Some(v) => {
                    let mut sql = Sql::new(&format!("{column} = "));
                    sql.bind(v.clone());
                    sql
                }
            });
        }
        let mut last = equal_so_far;
        let mut id = Sql::new(&format!("{alias}.id {} ", if after { ">" } else { "<" }));
        id.bind(Value::BigInt(keyset.id));
        last.push(id);
        alternatives.push(Sql::join(last, " AND ", "TRUE"));
        Sql::join(alternatives, " OR ", "FALSE")
    }
}

#[derive(Debug, QueryableByName)]
struct Counted {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// A page of people.
pub async fn people(
    conn: &mut AsyncPgConnection,
    filter: &Pred<PersonLeaf>,
    page: &Page,
) -> QueryResult<Vec<PersonRow>> {
    people_statement(filter, page).load(conn).await
}

/// [`people`] with every stint of each person, and each stint's columns
/// `organization` of its organization ([`WithChildren::stints`]).
pub async fn people_with_stints(
    conn: &mut AsyncPgConnection,
    filter: &Pred<PersonLeaf>,
    page: &Page,
    organization: Option<ColumnSet<OrganizationRead>>,
) -> QueryResult<Vec<ListedStintRow<PersonRow>>> {
    super::ahead::load(
        conn,
        WithChildren::stints(people_statement(filter, page), organization),
    )
    .await
}

/// The statement [`people`] sends, for `EXPLAIN`.
pub fn people_statement(filter: &Pred<PersonLeaf>, page: &Page) -> Sql {
    let mut sql = Sql::new(&format!(
        "SELECT {} FROM people p WHERE ",
        ColumnSet::<PersonRead>::all().select("p")
    ));
    sql.append(filter.to_sql_in(&person_leaf, false))
        .push(" AND ")
        .append(page.bounds("p"));
    sql.push(&format!(" ORDER BY {} LIMIT ", page.order_by("p")))
        .bind(Value::BigInt(page.limit));
    sql
}

pub async fn people_count(
    conn: &mut AsyncPgConnection,
    filter: &Pred<PersonLeaf>,
) -> QueryResult<i64> {
    let mut sql = Sql::new("SELECT count(*) AS count FROM people p WHERE ");
    sql.append(filter.to_sql_in(&person_leaf, false));
    Ok(sql.get_result::<Counted>(conn).await?.count)
}

/// Every column of an organization aliased `o`, as [`OrganizationRow`] reads them.
fn organization_columns() -> &'static str {
    ColumnSet::<OrganizationRead>::all().select("o")
}

/// A page of organizations.
pub async fn organizations(
    conn: &mut AsyncPgConnection,
    filter: &Pred<OrganizationLeaf>,
    page: &Page,
) -> QueryResult<Vec<OrganizationRow>> {
    organizations_statement(filter, page).load(conn).await
}

/// [`organizations`] with each organization's child list `children`
/// ([`WithChildren::of_organizations`]).
pub async fn organizations_with_children(
    conn: &mut AsyncPgConnection,
    filter: &Pred<OrganizationLeaf>,
    page: &Page,
    children: OrganizationChildren,
) -> QueryResult<Vec<ListedOrganizationRow<OrganizationRow>>> {
    super::ahead::load(
        conn,
        WithChildren::of_organizations(organizations_statement(filter, page), children),
    )
    .await
}

/// The statement [`organizations`] sends, for `EXPLAIN`.
pub fn organizations_statement(filter: &Pred<OrganizationLeaf>, page: &Page) -> Sql {
    let mut sql = Sql::new(&format!(
        "SELECT {} FROM organizations o WHERE ",
        organization_columns()
    ));
    sql.append(filter.to_sql(&organization_leaf))
        .push(" AND ")
        .append(page.bounds("o"));
    sql.push(&format!(" ORDER BY {} LIMIT ", page.order_by("o")))
        .bind(Value::BigInt(page.limit));
    sql
}

pub async fn organizations_count(
    conn: &mut AsyncPgConnection,
    filter: &Pred<OrganizationLeaf>,
) -> QueryResult<i64> {
    let mut sql = Sql::new("SELECT count(*) AS count FROM organizations o WHERE ");
    sql.append(filter.to_sql(&organization_leaf));
    Ok(sql.get_result::<Counted>(conn).await?.count)
}

/// A page of publications.
pub async fn publications(
    conn: &mut AsyncPgConnection,
    filter: &Pred<PublicationLeaf>,
    page: &Page,
) -> QueryResult<Vec<PublicationRow>> {
    publications_statement(filter, page).load(conn).await
}

/// [`publications`] with each publication's authorships in author order,
/// and what `ahead` asks for of each authorship
/// ([`WithChildren::authorships`]).
pub async fn publications_with_authorships(
    conn: &mut AsyncPgConnection,
    filter: &Pred<PublicationLeaf>,
    page: &Page,
    ahead: AuthorshipsAhead,
) -> QueryResult<Vec<ListedAuthorshipRow<PublicationRow>>> {
    super::ahead::load(
        conn,
        WithChildren::authorships(publications_statement(filter, page), ahead),
    )
    .await
}

/// The statement [`publications`] sends, for `EXPLAIN`.
pub fn publications_statement(filter: &Pred<PublicationLeaf>, page: &Page) -> Sql {
    let mut sql = Sql::new(
        "SELECT pub.id, pub.slug, pub.title, pub.published_on, pub.published_on_precision, \
         pub.venue, pub.url, pub.created_at, pub.updated_at, pub.version FROM publications pub WHERE ",
    );
    sql.append(filter.to_sql(&publication_leaf))
        .push(" AND ")
        .append(page.bounds("pub"));
    sql.push(&format!(" ORDER BY {} LIMIT ", page.order_by("pub")))
        .bind(Value::BigInt(page.limit));
    sql
}

pub async fn publications_count(
    conn: &mut AsyncPgConnection,
    filter: &Pred<PublicationLeaf>,
) -> QueryResult<i64> {
    let mut sql = Sql::new("SELECT count(*) AS count FROM publications pub WHERE ");
    sql.append(filter.to_sql(&publication_leaf));
    Ok(sql.get_result::<Counted>(conn).await?.count)
}

/// Each root organization and the organizations it stands for (itself, and
/// its units at any depth with `include_units`), as `roots(root_id,
/// organization_ids)`.
fn roots(root_ids: &[i64], include_units: bool) -> Sql {
    let mut sql = Sql::new(
        "WITH RECURSIVE scope (root_id, organization_id) AS (\
         SELECT id, id FROM organizations WHERE id = ANY(",
    );
    sql.bind(Value::BigInts(root_ids.to_vec())).push(
        ") UNION ALL SELECT scope.root_id, o.id FROM organizations o \
         JOIN scope ON o.parent_id = scope.organization_id WHERE ",
    );
    sql.bind(Value::Bool(include_units)).push(
        "), roots AS (SELECT root_id, array_agg(organization_id) AS organization_ids \
         FROM scope GROUP BY root_id) ",
    );
    sql
}

/// A page of each root organization's stints, with their people: one
/// statement for all the roots.
pub async fn stint_pages(
    conn: &mut AsyncPgConnection,
    root_ids: &[i64],
    include_units: bool,
    filter: &Pred<StintLeaf>,
    page: &Page,
) -> QueryResult<Vec<ScopedEmploymentRow>> {
    stint_pages_statement(root_ids, include_units, filter, page)
        .load(conn)
        .await
}

/// The statement [`stint_pages`] sends, for `EXPLAIN`.
pub fn stint_pages_statement(
    root_ids: &[i64],
    include_units: bool,
    filter: &Pred<StintLeaf>,
    page: &Page,
) -> Sql {
    let mut sql = roots(root_ids, include_units);
    sql.push(&format!(
        "SELECT roots.root_id, {stint}, {person} \
         FROM roots CROSS JOIN LATERAL (SELECT e.* FROM employments e \
         WHERE e.organization_id = ANY(roots.organization_ids) AND ",
        stint = ColumnSet::<EmploymentRead>::all().select("e"),
        person = ColumnSet::<PersonRead>::all().select_prefixed("p"),
    ));
    sql.append(filter.to_sql(&stint_leaf))
        .push(" AND ")
        .append(page.bounds("e"));
    sql.push(&format!(" ORDER BY {} LIMIT ", page.order_by("e")))
        .bind(Value::BigInt(page.limit));
    sql.push(&format!(
        ") e JOIN people p ON p.id = e.person_id ORDER BY roots.root_id, {}",
        page.order_by("e")
    ));
    sql
}

#[derive(Debug, QueryableByName)]
pub struct RootCount {
    #[diesel(sql_type = BigInt)]
    pub root_id: i64,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

/// How many stints each root organization's filtered listing has.
pub async fn stint_counts(
    conn: &mut AsyncPgConnection,
    root_ids: &[i64],
    include_units: bool,
    filter: &Pred<StintLeaf>,
) -> QueryResult<Vec<RootCount>> {
    let mut sql = roots(root_ids, include_units);
    sql.push(
        "SELECT roots.root_id, (SELECT count(*) FROM employments e \
         WHERE e.organization_id = ANY(roots.organization_ids) AND ",
    );
    sql.append(filter.to_sql(&stint_leaf))
        .push(") AS count FROM roots");
    sql.load(conn).await
}

/// Each root's alumni (see `analytics::alumni_pages`) between two (name,
/// id) keysets, read from the end when `backward`: `Organization.alumni`
/// with `last` / `before`, one statement for all the roots.
pub async fn alumni_pages(
    conn: &mut AsyncPgConnection,
    root_ids: &[i64],
    after: Option<(String, i64)>,
    before: Option<(String, i64)>,
    limit: i64,
    backward: bool,
) -> QueryResult<Vec<super::analytics::AlumnusRow>> {
    let direction = if backward { "DESC" } else { "ASC" };
    let mut sql = Sql::new(&format!(
        "SELECT r.root_id, {} FROM unnest(",
        ColumnSet::<PersonRead>::all().select("p")
    ));
    sql.bind(Value::BigInts(root_ids.to_vec())).push(
        "::bigint[]) AS r(root_id) CROSS JOIN LATERAL (SELECT m.person_id, m.person_name \
         FROM tree_members m WHERE m.tree_id = r.root_id AND NOT m.is_current",
    );
    if let Some((name, id)) = after {
        sql.push(" AND (m.person_name, m.person_id) > (")
            .bind(Value::Text(name))
            .push(", ")
            .bind(Value::BigInt(id))
            .push(")");
    }
    if let Some((name, id)) = before {
        sql.push(" AND (m.person_name, m.person_id) < (")
            .bind(Value::Text(name))
            .push(", ")
            .bind(Value::BigInt(id))
            .push(")");
    }
    sql.push(&format!(
        " ORDER BY m.person_name {direction}, m.person_id {direction} LIMIT "
    ))
    .bind(Value::BigInt(limit))
    .push(&format!(
        ") m JOIN people p ON p.id = m.person_id \
         ORDER BY r.root_id, m.person_name {direction}, m.person_id {direction}"
    ));
    sql.load(conn).await
}

/// Where a ranked (search) page starts or ends: a score and an id.
pub type Rank = (f64, i64);

#[derive(Debug, QueryableByName)]
pub struct RankedPerson {
    #[diesel(sql_type = diesel::sql_types::Double)]
    pub score: f64,
    #[diesel(embed)]
    pub person: PersonRow,
}

#[derive(Debug, QueryableByName)]
pub struct RankedOrganization {
    #[diesel(sql_type = diesel::sql_types::Double)]
    pub score: f64,
    #[diesel(embed)]
    pub organization: OrganizationRow,
}

/// Search hits (`hits`, best first: score down, then id) between two
/// ranks, read from the end when `backward`.
fn ranked(
    mut sql: Sql,
    after: Option<Rank>,
    before: Option<Rank>,
    limit: i64,
    backward: bool,
) -> Sql {
    // A score goes back as text: Rust writes the shortest decimal that reads
    // back as the same float8, so the bound is exact.
    let bound = |sql: &mut Sql, (score, id): Rank, past: (&str, &str)| {
        sql.push(&format!(" AND (hits.score {} ", past.0))
            .bind(Value::Text(score.to_string()))
            .push("::float8 OR (hits.score = ")
            .bind(Value::Text(score.to_string()))
            .push(&format!("::float8 AND hits.id {} ", past.1))
            .bind(Value::BigInt(id))
            .push("))");
    };
    if let Some(after) = after {
        bound(&mut sql, after, ("<", ">"));
    }
    if let Some(before) = before {
        bound(&mut sql, before, (">", "<"));
    }
    sql.push(if backward {
        " ORDER BY hits.score ASC, hits.id DESC LIMIT "
    } else {
        " ORDER BY hits.score DESC, hits.id ASC LIMIT "
    })
    .bind(Value::BigInt(limit));
    sql
}

/// `people(search:)` between two ranks (for `last` / `before`).
pub async fn people_matching(
    conn: &mut AsyncPgConnection,
    query: &str,
    after: Option<Rank>,
    before: Option<Rank>,
    limit: i64,
    backward: bool,
) -> QueryResult<Vec<RankedPerson>> {
    let mut sql = Sql::new(&format!(
        "SELECT hits.score, {} FROM (",
        ColumnSet::<PersonRead>::all().select("p")
    ));
    sql.append(Sql::template(
        super::search::PEOPLE_HITS,
        &[(1, Value::Text(query.to_owned()))],
    ))
    .push(") hits JOIN people p ON p.id = hits.id WHERE TRUE");
    ranked(sql, after, before, limit, backward).load(conn).await
}

/// `organizations(search:)` between two ranks (for `last` / `before`).
pub async fn organizations_matching(
    conn: &mut AsyncPgConnection,
    query: &str,
    kind: Option<&str>,
    after: Option<Rank>,
    before: Option<Rank>,
    limit: i64,
    backward: bool,
) -> QueryResult<Vec<RankedOrganization>> {
    let mut sql = Sql::new(&format!(
        "SELECT hits.score, {} FROM (",
        organization_columns()
    ));
    let kind = kind.map_or(Value::NullText, |k| Value::Text(k.to_owned()));
    sql.append(Sql::template(
        super::search::ORGANIZATION_HITS,
        &[(1, Value::Text(query.to_owned())), (2, kind)],
    ))
    .push(") hits JOIN organizations o ON o.id = hits.id WHERE TRUE");
    ranked(sql, after, before, limit, backward).load(conn).await
}

#[derive(Debug, QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

/// PostgreSQL's plan for `statement`, with its parameters bound, as text.
pub async fn explain(conn: &mut AsyncPgConnection, statement: Sql) -> QueryResult<String> {
    let mut sql = Sql::new("EXPLAIN ");
    sql.append(statement);
    let lines: Vec<PlanLine> = sql.load(conn).await?;
    Ok(lines
        .into_iter()
        .map(|l| l.line)
        .collect::<Vec<_>>()
        .join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(sql: &Sql) -> String {
        let mut n = 0;
        sql.parts
            .iter()
            .map(|part| match part {
                Part::Text(t) => t.clone(),
                Part::Bind(_) => {
                    n += 1;
                    format!("${n}")
                }
            })
            .collect()
    }

    #[test]
    fn a_template_binds_each_placeholder_and_keeps_the_rest() {
        let sql = Sql::template(
            "a = $3 AND b = $4 OR $4 IS NULL AND c = $12",
            &[(3, Value::Bool(true)), (4, Value::BigInt(7))],
        );
        assert_eq!(text(&sql), "a = $1 AND b = $2 OR $3 IS NULL AND c = $12");
    }

    #[test]
    fn the_point_in_time_rule_is_the_listing_s_with_every_parameter_bound() {
        let sql = in_progress(AtDay {
            day: NaiveDate::from_ymd_opt(2020, 6, 1).expect("a day"),
            certain: true,
        });
        let bound = sql
            .parts
            .iter()
            .filter(|p| matches!(p, Part::Bind(_)))
            .count();
        assert!(bound >= 3, "{sql:?}");
        assert!(
            sql.parts
                .iter()
                .all(|p| !matches!(p, Part::Text(t) if t.contains('$'))),
            "{sql:?}"
        );
    }

    #[test]
    fn keysets_place_unknown_values_last_both_ways() {
        let page = |backward| Page {
            order: vec![OrderKey {
                column: "started_on",
                descending: true,
                nullable: true,
                ty: KeyType::Date,
            }],
            after: None,
            before: None,
            limit: 3,
            backward,
        };
        let at = Keyset {
            values: vec![None],
            id: 4,
        };
        assert_eq!(
            text(&page(false).keyset("e", &at, true)),
            "((((e.started_on IS NULL) AND (e.id > $1))))"
        );
        assert_eq!(
            text(&page(false).keyset("e", &at, false)),
            "((((e.started_on IS NOT NULL))) OR (((e.started_on IS NULL) AND (e.id < $1))))"
        );
        assert_eq!(
            page(true).order_by("e"),
            "e.started_on ASC NULLS FIRST, e.id DESC"
        );
    }
}
