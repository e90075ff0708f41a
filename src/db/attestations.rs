//! `employment_attestations`: evidence that a stint was going on (or had
//! ended) on a date, according to a source.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{employment_attestations, sources};
use super::sources::SourceRow;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = employment_attestations, check_for_backend(diesel::pg::Pg))]
pub struct AttestationRow {
    pub employment_id: i64,
    pub claim: String,
    pub on_date: NaiveDate,
    pub on_date_precision: String,
    pub source_id: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = employment_attestations)]
pub struct NewAttestation<'a> {
    pub employment_id: i64,
    pub source_id: i64,
    pub claim: &'a str,
    pub on_date: NaiveDate,
    pub on_date_precision: &'a str,
}

/// The attestations of each stint with their sources, in date order.
pub async fn of_employments(
    conn: &mut AsyncPgConnection,
    employment_ids: &[i64],
) -> QueryResult<Vec<(AttestationRow, SourceRow)>> {
    employment_attestations::table
        .inner_join(sources::table)
        .filter(employment_attestations::employment_id.eq_any(employment_ids))
        .order((
            employment_attestations::employment_id,
            employment_attestations::on_date,
            employment_attestations::on_date_precision,
            employment_attestations::claim,
            sources::url,
        ))
        .select((AttestationRow::as_select(), SourceRow::as_select()))
        .load(conn)
        .await
}

/// Every attestation (for the export).
pub async fn all(conn: &mut AsyncPgConnection) -> QueryResult<Vec<AttestationRow>> {
    employment_attestations::table
        .select(AttestationRow::as_select())
        .load(conn)
        .await
}

/// Records attestations; one already recorded is kept as it is. Returns how
/// many were new.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    new: &[NewAttestation<'_>],
) -> QueryResult<usize> {
    if new.is_empty() {
        return Ok(0);
    }
    diesel::insert_into(employment_attestations::table)
        .values(new)
        .on_conflict_do_nothing()
        .execute(conn)
        .await
}

/// Removes one attestation; returns how many rows went (0 or 1).
pub async fn delete(conn: &mut AsyncPgConnection, old: &NewAttestation<'_>) -> QueryResult<usize> {
    diesel::delete(
        employment_attestations::table
            .filter(employment_attestations::employment_id.eq(old.employment_id))
            .filter(employment_attestations::source_id.eq(old.source_id))
            .filter(employment_attestations::claim.eq(old.claim))
            .filter(employment_attestations::on_date.eq(old.on_date))
            .filter(employment_attestations::on_date_precision.eq(old.on_date_precision)),
    )
    .execute(conn)
    .await
}
