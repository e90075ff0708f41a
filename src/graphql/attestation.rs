//! `Attestation`: a source shows a stint going on (or already over) on a date.

use async_graphql::{Enum, Object};

use super::error::{ApiError, ApiResult};
use super::scalars::PartialDateScalar;
use super::source::Source;
use crate::db::attestations::AttestationRow;
use crate::db::sources::SourceRow;
use crate::domain::PartialDate;
use crate::domain::point_in_time::Claim;

/// What an attestation says of its stint on its date.
#[derive(Debug, Enum, Copy, Clone, Eq, PartialEq)]
pub enum AttestationClaim {
    /// The stint was going on on that date (on some day of it, for a month or a year): a paper
    /// listing its author with the organization's affiliation on its publication day.
    InProgress,
    /// The stint had ended by that date (by its last day, for a month or a year): an article
    /// saying someone has left, on its publication day.
    Ended,
}

impl From<AttestationClaim> for Claim {
    fn from(claim: AttestationClaim) -> Self {
        match claim {
            AttestationClaim::InProgress => Claim::InProgress,
            AttestationClaim::Ended => Claim::Ended,
        }
    }
}

impl From<Claim> for AttestationClaim {
    fn from(claim: Claim) -> Self {
        match claim {
            Claim::InProgress => AttestationClaim::InProgress,
            Claim::Ended => AttestationClaim::Ended,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Attestation {
    pub claim: Claim,
    pub on: PartialDate,
    pub source: Source,
}

impl TryFrom<(AttestationRow, SourceRow)> for Attestation {
    type Error = ApiError;

    fn try_from((row, source): (AttestationRow, SourceRow)) -> ApiResult<Self> {
        let claim = Claim::from_db(&row.claim).ok_or_else(|| {
            ApiError::internal(format!("unknown attestation claim {}", row.claim))
        })?;
        let on = PartialDate::from_columns(Some(row.on_date), Some(&row.on_date_precision))?
            .ok_or_else(|| ApiError::internal("an attestation without a date"))?;
        Ok(Attestation {
            claim,
            on,
            source: Source::try_from(source)?,
        })
    }
}

/// Evidence on a date: according to `source`, the stint was going on on `on` (or had ended by
/// it), whatever its own start and end dates say or leave unknown. The point-in-time rule uses
/// it (docs/dates.md).
#[Object]
impl Attestation {
    /// What the source shows: the stint going on, or already over.
    async fn claim(&self) -> AttestationClaim {
        self.claim.into()
    }

    /// The date the source shows it on, at the precision known (usually the source's own
    /// publication date).
    async fn on(&self) -> PartialDateScalar {
        PartialDateScalar::from(self.on)
    }

    /// The source that shows it.
    async fn source(&self) -> &Source {
        &self.source
    }
}
