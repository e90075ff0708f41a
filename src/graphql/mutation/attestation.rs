//! Writes to a stint's attestations: evidence that it was going on (or had
//! ended) on a date, according to a source.

use async_graphql::{Context, ID, InputObject, Object};

use super::employment::EmploymentPayload;
use super::{Writer, checked_date, node_id};
use crate::db;
use crate::db::attestations::NewAttestation;
use crate::domain::PartialDate;
use crate::domain::point_in_time::Claim;
use crate::domain::validate::FieldError;
use crate::graphql::attestation::AttestationClaim;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::ids::NodeKind;
use crate::graphql::scalars::PartialDateScalar;

/// Evidence for a stint on a date, according to a source.
#[derive(InputObject)]
pub struct AttestationInput {
    /// The stint (an `Employment` id).
    pub employment_id: ID,
    /// The source that shows it (a `Source` id).
    pub source_id: ID,
    /// What the source shows: the stint going on (the default) or already over.
    #[graphql(default_with = "AttestationClaim::InProgress")]
    pub claim: AttestationClaim,
    /// The date the source shows it on: `2023`, `2023-04` or `2023-04-28`. Omit to use the
    /// source's own publication date; a source without one then needs a date here.
    pub on: Option<PartialDateScalar>,
}

#[derive(Default)]
pub struct AttestationMutations;

struct Checked {
    employment_id: i64,
    source_id: i64,
    claim: Claim,
    on: Option<PartialDate>,
}

fn check(input: &AttestationInput) -> ApiResult<Checked> {
    Ok(Checked {
        employment_id: node_id(
            "input.employmentId",
            &input.employment_id,
            NodeKind::Employment,
        )?,
        source_id: node_id("input.sourceId", &input.source_id, NodeKind::Source)?,
        claim: input.claim.into(),
        on: checked_date("input.on", input.on.clone())?,
    })
}

/// The attestation's date: the one given, or its source's publication date.
async fn date_of(
    conn: &mut diesel_async::AsyncPgConnection,
    checked: &Checked,
) -> ApiResult<PartialDate> {
    if let Some(on) = checked.on {
        return Ok(on);
    }
    let source = db::sources::by_ids(conn, &[checked.source_id])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::NotFound("input.sourceId: no such source".into()))?;
    PartialDate::from_columns(
        source.published_on,
        source.published_on_precision.as_deref(),
    )?
    .ok_or_else(|| {
        FieldError::new(
            "input.on",
            "the source has no publication date: give the date it shows the stint on",
        )
        .into()
    })
}

async fn stint(
    conn: &mut diesel_async::AsyncPgConnection,
    id: i64,
) -> ApiResult<db::employments::EmploymentRow> {
    db::employments::by_ids(conn, &[id])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::NotFound("input.employmentId: no such employment".into()))
}

#[Object]
impl AttestationMutations {
    /// Records that a source shows a stint going on (or already over) on a date; recording the
    /// same evidence twice keeps one. The point-in-time rule uses it at once, and the stint's
    /// version increases. Needs an editor token.
    async fn add_attestation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The stint, the source, what it shows and on which date.")]
        input: AttestationInput,
    ) -> ApiResult<EmploymentPayload> {
        let writer = Writer::editor(ctx).await?;
        let checked = check(&input)?;
        let row = writer
            .run(async |conn| {
                stint(conn, checked.employment_id).await?;
                let (on_date, on_date_precision) = date_of(conn, &checked).await?.columns();
                db::attestations::insert(
                    conn,
                    &[NewAttestation {
                        employment_id: checked.employment_id,
                        source_id: checked.source_id,
                        claim: checked.claim.as_db(),
                        on_date,
                        on_date_precision,
                    }],
                )
                .await?;
                stint(conn, checked.employment_id).await
            })
            .await?;
        Ok(EmploymentPayload {
            employment: row.try_into()?,
        })
    }

    /// Removes an attestation, named by its stint, source, claim and date (omitted: the
    /// source's publication date). Needs an editor token.
    async fn remove_attestation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The attestation to remove, as it was recorded.")] input: AttestationInput,
    ) -> ApiResult<EmploymentPayload> {
        let writer = Writer::editor(ctx).await?;
        let checked = check(&input)?;
        let row = writer
            .run(async |conn| {
                stint(conn, checked.employment_id).await?;
                let (on_date, on_date_precision) = date_of(conn, &checked).await?.columns();
                let removed = db::attestations::delete(
                    conn,
                    &NewAttestation {
                        employment_id: checked.employment_id,
                        source_id: checked.source_id,
                        claim: checked.claim.as_db(),
                        on_date,
                        on_date_precision,
                    },
                )
                .await?;
                if removed == 0 {
                    return Err(ApiError::NotFound(
                        "input: the stint has no such attestation".into(),
                    ));
                }
                stint(conn, checked.employment_id).await
            })
            .await?;
        Ok(EmploymentPayload {
            employment: row.try_into()?,
        })
    }
}
