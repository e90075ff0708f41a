//! `authorships`: a person's place in a publication's author list.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::Prepared;
use super::columns::{self, ColumnSet, Prefixed};
use super::organizations::OrganizationRead;
use super::people::PersonRead;
use super::schema::authorships;

columns::entity! {
    /// A whole `authorships` row. Every read takes all of it.
    row AuthorshipRow, read AuthorshipRead, table authorships, prefix "authorship_";
    always {
        id: i64 => "id",
        publication_id: i64 => "publication",
        person_id: i64 => "person",
        position: i32 => "position",
        affiliation_id: Option<i64> => "affiliation",
        version: i32 => "version",
    }
    columns {}
    other_fields ["sources"]
}

#[derive(Debug, Insertable)]
#[diesel(table_name = authorships)]
pub struct NewAuthorship {
    pub publication_id: i64,
    pub person_id: i64,
    pub position: i32,
    pub affiliation_id: Option<i64>,
}

/// Authorships by id.
pub async fn by_ids(conn: &mut AsyncPgConnection, ids: &[i64]) -> QueryResult<Vec<AuthorshipRow>> {
    authorships::table
        .filter(authorships::id.eq_any(ids))
        .select(AuthorshipRow::as_select())
        .load(conn)
        .await
}

/// The to-one relations an authorship list reads in its own statement:
/// each the columns its readers asked for, `None` when none asked for it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct AuthorshipJoins {
    /// The author (`Authorship.person`).
    pub person: Option<ColumnSet<PersonRead>>,
    /// The organization given (`Authorship.affiliation`).
    pub affiliation: Option<ColumnSet<OrganizationRead>>,
}

impl AuthorshipJoins {
    /// The select list's additions and the joins that read them, for
    /// authorships aliased `a`. LEFT JOINs: an authorship is listed whatever
    /// its relations hold (an affiliation may be NULL; then its columns read
    /// as NULL).
    pub(super) fn sql(self) -> (String, String) {
        let (mut columns, mut joins) = (String::new(), String::new());
        if let Some(person) = self.person {
            columns = format!("{columns}, {}", person.select_prefixed("p"));
            joins.push_str(&super::join_by_id("people", "p", "a.person_id"));
        }
        if let Some(affiliation) = self.affiliation {
            columns = format!("{columns}, {}", affiliation.select_prefixed("o"));
            joins.push_str(&super::join_by_id("organizations", "o", "a.affiliation_id"));
        }
        (columns, joins)
    }

    /// What either reads: one statement for two readers.
    pub fn union(self, other: Self) -> Self {
        AuthorshipJoins {
            person: ColumnSet::union_of(self.person, other.person),
            affiliation: ColumnSet::union_of(self.affiliation, other.affiliation),
        }
    }
}

/// An authorship with the columns of its person and affiliation that were
/// asked for (`None` when not asked, and an affiliation also when there is
/// none).
#[derive(Debug, QueryableByName)]
pub struct JoinedAuthorshipRow {
    #[diesel(embed)]
    pub authorship: AuthorshipRow,
    /// Under the prefix `listed_`.
    #[diesel(embed)]
    pub person: Prefixed<PersonRead>,
    /// Under the prefix `org_`.
    #[diesel(embed)]
    pub affiliation: Prefixed<OrganizationRead>,
}

/// Whose authorships a list reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorshipsBy {
    /// Of publications, in author order.
    Publication,
    /// Of people, by publication.
    Person,
}

/// The authorships of each publication (or person) in `parent_ids`, in
/// the order of [`AuthorshipsBy`], with the relations `joins` asks for read
/// by the same statement: one statement where a lookup per relation took
/// one each.
pub async fn of_parents(
    conn: &mut AsyncPgConnection,
    by: AuthorshipsBy,
    parent_ids: &[i64],
    joins: AuthorshipJoins,
) -> QueryResult<Vec<JoinedAuthorshipRow>> {
    let sql = of_parents_sql(by, parent_ids.len() == 1, joins);
    Prepared(diesel::sql_query(sql).bind::<Array<BigInt>, _>(parent_ids))
        .load(conn)
        .await
}

/// The statement of [`of_parents`]; `$1` holds the parents' ids (`one`:
/// exactly one of them).
fn of_parents_sql(by: AuthorshipsBy, one: bool, joins: AuthorshipJoins) -> String {
    let (parent, order) = match by {
        AuthorshipsBy::Publication => ("a.publication_id", "a.publication_id, a.position"),
        AuthorshipsBy::Person => ("a.person_id", "a.person_id, a.publication_id"),
    };
    let any = super::ids_param(one);
    let (columns, joined) = joins.sql();
    format!(
        "SELECT {}{columns} FROM authorships a{joined} WHERE {parent} = {any} ORDER BY {order}",
        ColumnSet::<AuthorshipRead>::all().select("a"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_joins_only_the_relations_asked_for_and_reads_only_their_fields() {
        let alone = of_parents_sql(
            AuthorshipsBy::Publication,
            false,
            AuthorshipJoins::default(),
        );
        assert!(!alone.contains("JOIN"), "{alone}");
        assert!(!alone.contains(" AS "), "{alone}");

        let person = ColumnSet::<PersonRead>::for_fields(["name", "bio"]);
        let joins = AuthorshipJoins {
            person: Some(person),
            affiliation: None,
        };
        let with_person = of_parents_sql(AuthorshipsBy::Person, true, joins);
        assert!(
            with_person.contains(person.select_prefixed("p")),
            "{with_person}"
        );
        assert!(with_person.contains("FROM people p"), "{with_person}");
        assert!(!with_person.contains("organizations"), "{with_person}");
        assert!(!with_person.contains("aliases"), "{with_person}");

        let affiliation = ColumnSet::<OrganizationRead>::for_fields(["kind"]);
        let joins = AuthorshipJoins {
            person: None,
            affiliation: Some(affiliation),
        };
        let with_affiliation = of_parents_sql(AuthorshipsBy::Publication, false, joins);
        assert!(
            with_affiliation.contains(affiliation.select_prefixed("o")),
            "{with_affiliation}"
        );
        assert!(!with_affiliation.contains("people"), "{with_affiliation}");
        assert!(!with_affiliation.contains("country"), "{with_affiliation}");

        let both = AuthorshipJoins {
            person: Some(person),
            affiliation: None,
        }
        .union(AuthorshipJoins {
            person: Some(ColumnSet::for_fields(["aliases"])),
            affiliation: Some(affiliation),
        });
        assert_eq!(
            both.person,
            Some(ColumnSet::for_fields(["name", "bio", "aliases"]))
        );
        assert_eq!(both.affiliation, Some(affiliation));
    }
}
