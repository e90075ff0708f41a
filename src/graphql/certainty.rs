//! What a `certainty:` argument may ask for. The `Certainty` enum is also
//! what `Employment.inProgressOn` answers, so it holds `NO`; as an argument
//! `NO` means nothing useful ("stints that were not in progress") and was
//! refused at run time. `RequiredCertainty` holds only what a filter can
//! mean, so a code generator's type rules the mistake out.

use async_graphql::Enum;

use super::error::{ApiError, ApiResult};
use super::person::Certainty;

/// How sure the dates must make a stint's being in progress on `at` for it to be listed.
#[derive(Debug, Enum, Copy, Clone, Eq, PartialEq, Default)]
pub enum RequiredCertainty {
    /// Only stints the dates prove were in progress.
    Certainly,
    /// Also stints whose dates are too coarse or missing to tell.
    #[default]
    Possibly,
}

impl From<RequiredCertainty> for Certainty {
    fn from(required: RequiredCertainty) -> Self {
        match required {
            RequiredCertainty::Certainly => Certainty::Certainly,
            RequiredCertainty::Possibly => Certainty::Possibly,
        }
    }
}

/// The certainty asked for by the deprecated `certainty:` or by
/// `atCertainty:` (not both); POSSIBLY when neither.
pub fn asked(old: Option<Certainty>, new: Option<RequiredCertainty>) -> ApiResult<Certainty> {
    match (old, new) {
        (Some(_), Some(_)) => Err(ApiError::BadUserInput(
            "give `atCertainty` or `certainty`, not both".into(),
        )),
        (Some(old), None) => Ok(old),
        (None, new) => Ok(new.unwrap_or_default().into()),
    }
}
