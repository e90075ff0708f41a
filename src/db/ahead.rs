//! Statements that read each listed row's children with it.
//!
//! A list and its rows' child lists took two statements, one after the
//! other: the list, then every child list in a batch. [`WithChildren`] wraps
//! whatever statement lists the parents and joins each listed row's
//! children to it (`LEFT JOIN LATERAL`), keeping the listed rows' order:
//! one statement. The GraphQL layer decides from the selection when to read
//! ahead, and hands the children to the loader (`graphql::loaders`).

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AsQuery, AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Untyped};
use diesel_async::AsyncPgConnection;

use super::authorships::{AuthorshipJoins, AuthorshipRead};
use super::columns::{ColumnSet, Nested, Prefixed};
use super::employments::{EmploymentRead, StintJoins};
use super::organizations::OrganizationRead;
use super::people::PersonRead;
use super::sources::SourceRead;

/// A listing statement `Q` read with each listed row's children. The listed
/// rows keep their statement's columns; each row's `id` must be among them,
/// under that name.
pub struct WithChildren<Q> {
    listed: Q,
    /// The select list, FROM and WHERE of one listed row's children (the
    /// row is `listed`), their columns prefixed apart from the listed ones.
    children: String,
    /// The children's order within a listed row (empty: any).
    order: &'static str,
    at_most: Option<i64>,
    /// Number the listed rows in their statement's order (a list); `false`
    /// for a lookup, whose rows have no order to keep.
    numbered: bool,
}

impl<Q> WithChildren<Q> {
    /// Each listed person with every stint of theirs (unordered) and each
    /// stint's columns `organization` of its organization: rows
    /// [`ListedStintRow`].
    pub fn stints(listed: Q, organization: Option<ColumnSet<OrganizationRead>>) -> Self {
        let (columns, joins) = StintJoins {
            organization,
            person: None,
        }
        .sql();
        let children = format!(
            "SELECT {stint}{columns} FROM employments e{joins} WHERE e.person_id = listed.id",
            stint = ColumnSet::<EmploymentRead>::all().select_prefixed("e"),
        );
        WithChildren {
            listed,
            children,
            order: "",
            at_most: None,
            numbered: true,
        }
    }

    /// Each listed organization with the child list `children`: rows
    /// [`ListedOrganizationRow`].
    pub fn of_organizations(listed: Q, children: OrganizationChildren) -> Self {
        match children {
            OrganizationChildren::Units => Self::units(listed),
            OrganizationChildren::Founders => Self::founders(listed),
        }
    }

    /// Each listed organization with its direct units, whole, by name.
    fn units(listed: Q) -> Self {
        let children = format!(
            "SELECT {unit} FROM organizations u WHERE u.parent_id = listed.id",
            unit = ColumnSet::<OrganizationRead>::all().select_prefixed("u"),
        );
        WithChildren {
            listed,
            children,
            order: "s.org_name, s.org_id",
            at_most: None,
            numbered: true,
        }
    }

    /// Each listed organization with its founders (the people with a
    /// founding stint there), whole, by name, each once.
    fn founders(listed: Q) -> Self {
        // `e.is_founder` itself, not compared with a bound value, so that the
        // partial index on founders serves a generic plan.
        let children = format!(
            "SELECT {person} FROM people p WHERE p.id IN \
             (SELECT e.person_id FROM employments e WHERE e.organization_id = listed.id AND e.is_founder)",
            person = ColumnSet::<PersonRead>::all().select_prefixed("p"),
        );
        WithChildren {
            listed,
            children,
            order: "s.listed_name, s.listed_id",
            at_most: None,
            numbered: true,
        }
    }

    /// Each listed publication with its authorships in author order, each
    /// authorship's relations `ahead.joins` asks for, and the grandchild
    /// lists `ahead` asks for: rows [`ListedAuthorshipRow`].
    ///
    /// Two grandchild lists would multiply each other's rows if both were
    /// joined to the authorship; each authorship instead reads one row per
    /// kind of list (`VALUES (1), (2)`, a number per list asked) and each
    /// kind joins only its own list, so that an authorship's rows are its
    /// stints plus its sources.
    pub fn authorships(listed: Q, ahead: AuthorshipsAhead) -> Self {
        let (columns, joined) = ahead.joins.sql();
        let stints = ahead.author_stints.map(|joins| {
            let organization = joins
                .organization
                .map_or_else(String::new, |set| format!(", {}", set.select_nested("eo")));
            let joined = if joins.organization.is_some() {
                super::join_by_id("organizations", "eo", "e.organization_id")
            } else {
                String::new()
            };
            (
                format!(
                    "SELECT {stint}{organization} FROM employments e{joined} WHERE",
                    stint = ColumnSet::<EmploymentRead>::all().select_prefixed("e"),
                ),
                " e.person_id = a.person_id",
            )
        });
        let sources = ahead.sources.then(|| {
            (
                format!(
                    "SELECT {source} FROM authorship_sources l{joined} WHERE",
                    source = ColumnSet::<SourceRead>::all().select_prefixed("s"),
                    joined = super::join_by_id("sources", "s", "l.source_id"),
                ),
                " l.authorship_id = a.id",
            )
        });
        let lists: Vec<_> = stints.into_iter().chain(sources).collect();
        let mut grandchildren = String::new();
        let mut grandchild_columns = String::new();
        let kinds = lists.len() > 1;
        if kinds {
            let values: Vec<String> = (1..=lists.len()).map(|kind| format!("({kind})")).collect();
            grandchildren.push_str(&format!(
                " CROSS JOIN LATERAL (VALUES {}) k(kind)",
                values.join(", ")
            ));
        }
        for (kind, (select, condition)) in (1..).zip(&lists) {
            // `OFFSET 0` keeps the kind test inside the list's subquery, a
            // filter PostgreSQL checks once before reading the list; pulled
            // up into the join, it was checked after reading both lists for
            // both kinds (twice the work: 476 buffers where 276 do).
            let (only, fence) = if kinds {
                (format!(" k.kind = {kind} AND"), " OFFSET 0")
            } else {
                (String::new(), "")
            };
            grandchildren.push_str(&format!(
                " LEFT JOIN LATERAL ({select}{only}{condition}{fence}) g{kind} ON true"
            ));
            grandchild_columns.push_str(&format!(", g{kind}.*"));
        }
        let children = format!(
            "SELECT {authorship}{columns}{grandchild_columns} FROM authorships a{joined}{grandchildren} \
             WHERE a.publication_id = listed.id",
            authorship = ColumnSet::<AuthorshipRead>::all().select_prefixed("a"),
        );
        WithChildren {
            listed,
            children,
            order: "s.authorship_position, s.authorship_id",
            at_most: None,
            numbered: true,
        }
    }

    /// Each listed row with the sources it cites through `link`, a table of
    /// (`owner`, source_id) rows, by source id: rows [`ListedSourceRow`].
    pub fn sources(listed: Q, link: &str, owner: &str) -> Self {
        let children = format!(
            "SELECT {source} FROM {link} l{joined} WHERE l.{owner} = listed.id",
            source = ColumnSet::<SourceRead>::all().select_prefixed("s"),
            joined = super::join_by_id("sources", "s", "l.source_id"),
        );
        WithChildren {
            listed,
            children,
            order: "s.source_id",
            at_most: None,
            numbered: true,
        }
    }

    /// For a lookup: the listed rows need no order, and each row's
    /// `listed_ordinal` is its id. Numbering and sorting them cost a
    /// person lookup by slug 0.1 ms of its 0.18 ms in PostgreSQL.
    pub fn unnumbered(self) -> Self {
        WithChildren {
            numbered: false,
            ..self
        }
    }

    /// Only the first `limit` listed rows, for a statement that lists in
    /// order and has no limit of its own.
    ///
    /// A page's `LIMIT $1` inside the join made PostgreSQL plan the
    /// statement anew at every call (0.36 ms, for 0.5 ms of work): a generic
    /// plan assumes a tenth of the table. Here the listing is cut at a fixed
    /// bound, the limit rounded up to a power of two (a few statement texts),
    /// and the rows past `limit` stop the row numbering early (a run
    /// condition), so that the generic plan costs what a custom one does.
    pub fn at_most(self, limit: i64) -> Self {
        WithChildren {
            at_most: Some(limit),
            ..self
        }
    }
}

/// A row of a [`WithChildren`] statement: a listed row `R` with one of
/// its children `C` (all `None` for a listed row without children).
///
/// A listed row repeats on each of its children's rows; it is decoded from
/// the first of them only ([`load`]): on a page of publications with their
/// authors, decoding each publication again for each of its authorships
/// was 6.6% of the server's instructions.
#[derive(Debug)]
pub struct Listed<R, C> {
    /// The listed row's place in its statement's order, from 1 (its id, for
    /// an [unnumbered](WithChildren::unnumbered) lookup).
    pub ordinal: i64,
    /// The listed row, on the first of a run of its rows; `None` on the
    /// rows after it that repeat it.
    pub listed: Option<R>,
    pub child: C,
}

/// Runs a [`WithChildren`] statement (prepared or not): its rows as
/// [`Listed`], the listed row decoded once for each run of its rows.
pub async fn load<T, R, C>(conn: &mut AsyncPgConnection, query: T) -> QueryResult<Vec<Listed<R, C>>>
where
    T: AsQuery + Send,
    T::Query: QueryFragment<Pg> + QueryId + Send,
    R: QueryableByName<Pg>,
    C: QueryableByName<Pg>,
{
    use diesel::row::NamedRow;
    use diesel_async::AsyncConnectionCore;
    use futures_util::TryStreamExt;

    // Whole before decoding: the decoded rows then go into a vector of
    // their exact length, where growing it while rows came in copied each
    // (near a kilobyte on the authorships' rows) three times over.
    let rows: Vec<_> = AsyncConnectionCore::load(conn, query)
        .await?
        .try_collect()
        .await?;
    let mut listed = Vec::with_capacity(rows.len());
    let mut previous = None;
    for row in &rows {
        let ordinal = NamedRow::get::<BigInt, i64>(row, "listed_ordinal")
            .map_err(diesel::result::Error::DeserializationError)?;
        let head = if previous == Some(ordinal) {
            None
        } else {
            Some(R::build(row).map_err(diesel::result::Error::DeserializationError)?)
        };
        previous = Some(ordinal);
        let child = C::build(row).map_err(diesel::result::Error::DeserializationError)?;
        listed.push(Listed {
            ordinal,
            listed: head,
            child,
        });
    }
    Ok(listed)
}

/// A row of [`WithChildren::stints`]: one stint of the listed person, or
/// `None` for a person without stints.
pub type ListedStintRow<R> = Listed<R, StintChild>;

/// The child part of a [`ListedStintRow`].
#[derive(Debug, QueryableByName)]
pub struct StintChild {
    /// Under the prefix `stint_`.
    #[diesel(embed)]
    pub stint: Prefixed<EmploymentRead>,
    /// Under the prefix `org_`.
    #[diesel(embed)]
    pub organization: Prefixed<OrganizationRead>,
}

/// Which child list of each listed organization a statement reads with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrganizationChildren {
    Units,
    Founders,
}

/// A row of [`WithChildren::of_organizations`]: one child of the listed
/// organization, or neither for an organization without any.
pub type ListedOrganizationRow<R> = Listed<R, OrganizationChild>;

/// The child part of a [`ListedOrganizationRow`].
#[derive(Debug, QueryableByName)]
pub struct OrganizationChild {
    /// A unit, under the prefix `org_` ([`OrganizationChildren::Units`]).
    #[diesel(embed)]
    pub unit: Prefixed<OrganizationRead>,
    /// A founder, under the prefix `listed_`
    /// ([`OrganizationChildren::Founders`]).
    #[diesel(embed)]
    pub founder: Prefixed<PersonRead>,
}

/// What a read-ahead of each listed publication's authorships reads with
/// them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthorshipsAhead {
    /// Each authorship's to-one relations.
    pub joins: AuthorshipJoins,
    /// Each author's stints (every one, as `Person.employments` loads
    /// them), with these relations; `None`: not read.
    pub author_stints: Option<StintJoins>,
    /// Each authorship's sources.
    pub sources: bool,
}

/// A row of [`WithChildren::authorships`]: one authorship of the listed
/// publication (repeated for each of its grandchildren), or `None` for a
/// publication without authors.
pub type ListedAuthorshipRow<R> = Listed<R, AuthorshipChild>;

/// The child part of a [`ListedAuthorshipRow`].
#[derive(Debug, QueryableByName)]
pub struct AuthorshipChild {
    /// Under the prefix `authorship_`.
    #[diesel(embed)]
    pub authorship: Prefixed<AuthorshipRead>,
    /// Under the prefix `listed_`.
    #[diesel(embed)]
    pub person: Prefixed<PersonRead>,
    /// Under the prefix `org_`.
    #[diesel(embed)]
    pub affiliation: Prefixed<OrganizationRead>,
    /// One of the author's stints ([`AuthorshipsAhead::author_stints`]),
    /// under the prefix `stint_`.
    #[diesel(embed)]
    pub author_stint: Prefixed<EmploymentRead>,
    /// That stint's organization, under `in_org_`.
    #[diesel(embed)]
    pub author_stint_organization: Nested<OrganizationRead>,
    /// One of the authorship's sources ([`AuthorshipsAhead::sources`]),
    /// under the prefix `source_`.
    #[diesel(embed)]
    pub source: Prefixed<SourceRead>,
}

/// A row of [`WithChildren::sources`]: one source the listed row cites, or
/// `None` for a row citing none.
pub type ListedSourceRow<R> = Listed<R, SourceChild>;

/// The child part of a [`ListedSourceRow`].
#[derive(Debug, QueryableByName)]
pub struct SourceChild {
    /// Under the prefix `source_`.
    #[diesel(embed)]
    pub source: Prefixed<SourceRead>,
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for WithChildren<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // `row_number() OVER ()` numbers the rows as the listing statement
        // returns them, so that its order survives the join.
        out.push_sql(if self.numbered {
            "SELECT listed.*, s.* FROM (SELECT row_number() OVER () AS listed_ordinal, l.* FROM ("
        } else {
            "SELECT listed.*, s.* FROM (SELECT l.id AS listed_ordinal, l.* FROM ("
        });
        self.listed.walk_ast(out.reborrow())?;
        if let Some(limit) = self.at_most {
            let bound = u64::try_from(limit).unwrap_or(0).next_power_of_two();
            out.push_sql(&format!(" LIMIT {bound}"));
        }
        out.push_sql(") l) listed LEFT JOIN LATERAL (");
        out.push_sql(&self.children);
        out.push_sql(") s ON true");
        if let Some(limit) = &self.at_most {
            out.push_sql(" WHERE listed.listed_ordinal <= ");
            out.push_bind_param::<BigInt, _>(limit)?;
        }
        let listed_order = self.numbered.then_some("listed.listed_ordinal");
        let order: Vec<&str> = listed_order
            .into_iter()
            .chain((!self.order.is_empty()).then_some(self.order))
            .collect();
        if !order.is_empty() {
            out.push_sql(&format!(" ORDER BY {}", order.join(", ")));
        }
        Ok(())
    }
}

// No static id: `super::Prepared` keys the statement by its text.
impl<Q> QueryId for WithChildren<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q> Query for WithChildren<Q> {
    type SqlType = Untyped;
}
