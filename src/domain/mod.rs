//! Rules that are neither SQL nor GraphQL: what a partial date is, how stints are
//! ordered in a career.

pub mod chronology;
pub mod partial_date;
pub mod point_in_time;
pub mod span;
pub mod validate;

pub use partial_date::{PartialDate, PartialDateError, Precision};
