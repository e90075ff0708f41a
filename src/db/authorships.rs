//! `authorships`: a person's place in a publication's author list.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::columns;
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

/// The authorships of each publication, in author order.
pub async fn by_ids(conn: &mut AsyncPgConnection, ids: &[i64]) -> QueryResult<Vec<AuthorshipRow>> {
    authorships::table
        .filter(authorships::id.eq_any(ids))
        .select(AuthorshipRow::as_select())
        .load(conn)
        .await
}

pub async fn of_publications(
    conn: &mut AsyncPgConnection,
    publication_ids: &[i64],
) -> QueryResult<Vec<AuthorshipRow>> {
    authorships::table
        .filter(authorships::publication_id.eq_any(publication_ids))
        .order((authorships::publication_id, authorships::position))
        .select(AuthorshipRow::as_select())
        .load(conn)
        .await
}

/// The authorships of each person, by publication then position.
pub async fn of_people(
    conn: &mut AsyncPgConnection,
    person_ids: &[i64],
) -> QueryResult<Vec<AuthorshipRow>> {
    authorships::table
        .filter(authorships::person_id.eq_any(person_ids))
        .order((authorships::person_id, authorships::publication_id))
        .select(AuthorshipRow::as_select())
        .load(conn)
        .await
}
