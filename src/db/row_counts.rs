//! How many rows a table holds in all, kept by the table's own triggers
//! (`migrations/*_row_counts`): an unfiltered `totalCount` reads one row
//! instead of counting the table, whatever its size.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::row_counts;

/// The tables whose rows are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    People,
    Organizations,
    Publications,
    Sources,
}

impl Counted {
    fn table_name(self) -> &'static str {
        match self {
            Counted::People => "people",
            Counted::Organizations => "organizations",
            Counted::Publications => "publications",
            Counted::Sources => "sources",
        }
    }
}

/// How many rows `table` holds, as this transaction sees them.
pub async fn of(conn: &mut AsyncPgConnection, table: Counted) -> QueryResult<i64> {
    row_counts::table
        .find(table.table_name())
        .select(row_counts::row_count)
        .first(conn)
        .await
}
