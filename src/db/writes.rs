//! Writes. Every mutation and the importer run in one transaction that starts
//! with [`name_author`] for the audit trail; updates and deletes match the
//! version the client saw, so a stale one touches no row. A mutation takes
//! its connection with [`connection`], so that one cancelled mid-transaction
//! never goes back to the pool still in it. Each table's inserts, updates and
//! deletes are defined here once (by [`versioned!`] and [`inserts!`]), for the
//! mutations and the importer alike.

use std::ops::{Deref, DerefMut};

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};
use diesel_async::pooled_connection::deadpool::{Object, PoolError};
use diesel_async::{
    AnsiTransactionManager, AsyncPgConnection, RunQueryDsl, TransactionManager as _,
};

use super::authorships::AuthorshipRow;
use super::employments::EmploymentRow;
use super::organizations::OrganizationRow;
use super::people::PersonRow;
use super::publications::PublicationRow;
use super::schema::{
    authorship_sources, authorships, employment_sources, employments, organizations, people,
    publications, sources,
};
use super::sources::SourceRow;

/// A pooled connection for a write that goes back to the pool only outside a
/// transaction.
///
/// A mutation's future can be dropped at any `.await`: its client closed the
/// socket, or the request timeout fired. diesel-async's `transaction` then
/// never commits or rolls back, and a connection returned as it is sits
/// *idle in transaction* in the pool, holding the transaction's row locks,
/// until its next checkout notices (or PostgreSQL's idle-in-transaction
/// timeout ends it): other writers wait and time out meanwhile. Dropped
/// inside a transaction, this closes its connection instead; PostgreSQL
/// rolls back as soon as it sees the client gone, and frees the locks. A
/// statement still running is cancelled first (see `db::Watch`).
pub struct WriteConnection(Option<super::DbConn>);

/// A connection from `pool` for one mutation.
pub async fn connection(pool: &super::DbPool) -> Result<WriteConnection, PoolError> {
    Ok(WriteConnection(Some(pool.get().await?)))
}

impl Deref for WriteConnection {
    type Target = AsyncPgConnection;

    fn deref(&self) -> &AsyncPgConnection {
        self.0.as_deref().expect("taken only by drop")
    }
}

impl DerefMut for WriteConnection {
    fn deref_mut(&mut self) -> &mut AsyncPgConnection {
        self.0.as_deref_mut().expect("taken only by drop")
    }
}

impl Drop for WriteConnection {
    fn drop(&mut self) {
        let Some(mut conn) = self.0.take() else {
            return;
        };
        // True inside a transaction, during its BEGIN, COMMIT or ROLLBACK, or
        // after one of those failed: what the pool checks too, but only at
        // the connection's next checkout.
        if AnsiTransactionManager::is_broken_transaction_manager(&mut *conn) {
            tracing::warn!("a write ended inside its transaction: closing its connection");
            drop(Object::take(conn));
        }
    }
}

/// Who makes a change, as the audit trail records it.
#[derive(Debug, Clone)]
pub struct Author {
    pub token_id: Option<i64>,
    /// `token:<id>` or `cli:<command>`.
    pub label: String,
}

impl Author {
    pub fn token(id: i64) -> Self {
        Author {
            token_id: Some(id),
            label: format!("token:{id}"),
        }
    }

    pub fn cli(command: &str) -> Self {
        Author {
            token_id: None,
            label: format!("cli:{command}"),
        }
    }
}

/// Names the author of the current transaction's changes for the audit
/// triggers; the first statement of every write transaction. Scoped to the
/// transaction (`set_config(..., true)`), so a pooled connection forgets it.
pub async fn name_author(conn: &mut AsyncPgConnection, author: &Author) -> QueryResult<()> {
    diesel::sql_query(
        "SELECT set_config('talentgraph.actor', $1, true),
                set_config('talentgraph.token_id', $2, true)",
    )
    .bind::<Text, _>(&author.label)
    .bind::<Nullable<Text>, _>(author.token_id.map(|id| id.to_string()))
    .execute(conn)
    .await?;
    Ok(())
}

/// A table whose rows carry a version: updates and deletes match the version
/// the client saw, and [`Versioned::version_of`] tells a stale version from a
/// missing row when they touch nothing. [`versioned!`] implements it for each
/// table; its row type names it (`PersonRow::update`).
pub trait Versioned: Sized + Send {
    /// The changes an update may make.
    type Changes: Sync;

    /// `None`: no row with this id and version.
    fn update(
        conn: &mut AsyncPgConnection,
        id: i64,
        version: i32,
        changes: &Self::Changes,
    ) -> impl Future<Output = QueryResult<Option<Self>>> + Send;

    /// `None`: no row with this id and version.
    fn delete(
        conn: &mut AsyncPgConnection,
        id: i64,
        version: i32,
    ) -> impl Future<Output = QueryResult<Option<Self>>> + Send;

    /// The row's current version; `None` when there is no row with this id.
    fn version_of(
        conn: &mut AsyncPgConnection,
        id: i64,
    ) -> impl Future<Output = QueryResult<Option<i32>>> + Send;
}

/// Implements [`Versioned`] for one table's row type.
macro_rules! versioned {
    ($table:ident, $row:ty, $changes:ty) => {
        impl Versioned for $row {
            type Changes = $changes;

            async fn update(
                conn: &mut AsyncPgConnection,
                id: i64,
                version: i32,
                changes: &$changes,
            ) -> QueryResult<Option<$row>> {
                // Assigning the version to itself keeps the statement valid when
                // nothing else changes; the version trigger ignores no-op updates.
                diesel::update(
                    $table::table
                        .filter($table::id.eq(id))
                        .filter($table::version.eq(version)),
                )
                .set((changes, $table::version.eq($table::version)))
                .returning(<$row>::as_returning())
                .get_result(conn)
                .await
                .optional()
            }

            async fn delete(
                conn: &mut AsyncPgConnection,
                id: i64,
                version: i32,
            ) -> QueryResult<Option<$row>> {
                diesel::delete(
                    $table::table
                        .filter($table::id.eq(id))
                        .filter($table::version.eq(version)),
                )
                .returning(<$row>::as_returning())
                .get_result(conn)
                .await
                .optional()
            }

            async fn version_of(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<i32>> {
                $table::table
                    .find(id)
                    .select($table::version)
                    .first(conn)
                    .await
                    .optional()
            }
        }
    };
}

/// Defines `$insert`, which adds a row (a unique key already taken is the
/// database's error, for a mutation to refuse), and optionally `$keep`, which
/// adds it unless a unique key is taken (`None`: the row there is kept as it
/// is, for an import to be idempotent). One insert path per table, for the
/// mutations and the importer alike.
macro_rules! inserts {
    ($table:ident, $new:ty, $row:ty, $insert:ident $(, $keep:ident)?) => {
        pub async fn $insert(conn: &mut AsyncPgConnection, new: &$new) -> QueryResult<$row> {
            diesel::insert_into($table::table)
                .values(new)
                .returning(<$row>::as_returning())
                .get_result(conn)
                .await
        }

        $(
            /// `None`: a unique key (slug, URL) is taken; that row is kept as it is.
            pub async fn $keep(
                conn: &mut AsyncPgConnection,
                new: &$new,
            ) -> QueryResult<Option<$row>> {
                diesel::insert_into($table::table)
                    .values(new)
                    .on_conflict_do_nothing()
                    .returning(<$row>::as_returning())
                    .get_result(conn)
                    .await
                    .optional()
            }
        )?
    };
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = organizations)]
pub struct OrganizationChanges {
    pub slug: Option<String>,
    pub name: Option<String>,
    pub kind: Option<String>,
    pub parent_id: Option<Option<i64>>,
    pub country: Option<Option<String>>,
    pub website: Option<Option<String>>,
    pub founded_on: Option<Option<NaiveDate>>,
    pub founded_on_precision: Option<Option<String>>,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = people)]
pub struct PersonChanges {
    pub slug: Option<String>,
    pub name: Option<String>,
    pub aliases: Option<Vec<String>>,
    pub bio: Option<Option<String>>,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = employments)]
pub struct EmploymentChanges {
    pub organization_id: Option<i64>,
    pub title: Option<Option<String>>,
    pub is_founder: Option<bool>,
    pub is_leader: Option<bool>,
    pub started_on: Option<Option<NaiveDate>>,
    pub started_on_precision: Option<Option<String>>,
    pub ended_on: Option<Option<NaiveDate>>,
    pub ended_on_precision: Option<Option<String>>,
    pub is_current: Option<bool>,
    pub career_position: Option<Option<i32>>,
    pub reported_years: Option<Option<i32>>,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = publications)]
pub struct PublicationChanges {
    pub slug: Option<String>,
    pub title: Option<String>,
    pub published_on: Option<Option<NaiveDate>>,
    pub published_on_precision: Option<Option<String>>,
    pub venue: Option<Option<String>>,
    pub url: Option<Option<String>>,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = authorships)]
pub struct AuthorshipChanges {
    pub person_id: Option<i64>,
    pub position: Option<i32>,
    pub affiliation_id: Option<Option<i64>>,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = sources)]
pub struct SourceChanges {
    pub url: Option<String>,
    pub title: Option<Option<String>>,
    pub publisher: Option<Option<String>>,
    pub published_on: Option<Option<NaiveDate>>,
    pub published_on_precision: Option<Option<String>>,
}

versioned!(organizations, OrganizationRow, OrganizationChanges);
versioned!(people, PersonRow, PersonChanges);
versioned!(employments, EmploymentRow, EmploymentChanges);
versioned!(publications, PublicationRow, PublicationChanges);
versioned!(authorships, AuthorshipRow, AuthorshipChanges);
versioned!(sources, SourceRow, SourceChanges);

inserts!(
    organizations,
    super::organizations::NewOrganization<'_>,
    OrganizationRow,
    insert_organization,
    insert_organization_unless_taken
);
inserts!(
    people,
    super::people::NewPerson<'_>,
    PersonRow,
    insert_person,
    insert_person_unless_taken
);
inserts!(
    employments,
    super::employments::NewEmployment<'_>,
    EmploymentRow,
    insert_employment
);
inserts!(
    publications,
    super::publications::NewPublication<'_>,
    PublicationRow,
    insert_publication,
    insert_publication_unless_taken
);
inserts!(
    authorships,
    super::authorships::NewAuthorship,
    AuthorshipRow,
    insert_authorship
);
inserts!(
    sources,
    super::sources::NewSource<'_>,
    SourceRow,
    insert_source,
    insert_source_unless_taken
);

/// Adds citations to an employment; ones it already has are kept as they are.
pub async fn cite_for_employment(
    conn: &mut AsyncPgConnection,
    employment_id: i64,
    source_ids: &[i64],
) -> QueryResult<usize> {
    let rows: Vec<_> = source_ids
        .iter()
        .map(|&source_id| {
            (
                employment_sources::employment_id.eq(employment_id),
                employment_sources::source_id.eq(source_id),
            )
        })
        .collect();
    diesel::insert_into(employment_sources::table)
        .values(rows)
        .on_conflict_do_nothing()
        .execute(conn)
        .await
}

/// Makes `source_ids` the employment's citations, exactly.
pub async fn replace_employment_sources(
    conn: &mut AsyncPgConnection,
    employment_id: i64,
    source_ids: &[i64],
) -> QueryResult<()> {
    diesel::delete(
        employment_sources::table
            .filter(employment_sources::employment_id.eq(employment_id))
            .filter(employment_sources::source_id.ne_all(source_ids)),
    )
    .execute(conn)
    .await?;
    cite_for_employment(conn, employment_id, source_ids).await?;
    Ok(())
}

pub async fn cite_for_authorship(
    conn: &mut AsyncPgConnection,
    authorship_id: i64,
    source_ids: &[i64],
) -> QueryResult<usize> {
    let rows: Vec<_> = source_ids
        .iter()
        .map(|&source_id| {
            (
                authorship_sources::authorship_id.eq(authorship_id),
                authorship_sources::source_id.eq(source_id),
            )
        })
        .collect();
    diesel::insert_into(authorship_sources::table)
        .values(rows)
        .on_conflict_do_nothing()
        .execute(conn)
        .await
}

pub async fn replace_authorship_sources(
    conn: &mut AsyncPgConnection,
    authorship_id: i64,
    source_ids: &[i64],
) -> QueryResult<()> {
    diesel::delete(
        authorship_sources::table
            .filter(authorship_sources::authorship_id.eq(authorship_id))
            .filter(authorship_sources::source_id.ne_all(source_ids)),
    )
    .execute(conn)
    .await?;
    cite_for_authorship(conn, authorship_id, source_ids).await?;
    Ok(())
}
