//! `Organization.headcount`: how many people were there, as a band between
//! what the dates prove and what they allow.

use async_graphql::{Enum, SimpleObject};
use chrono::{Months, NaiveDate};

use super::error::{ApiError, ApiResult};
use super::scalars::DateScalar;
use crate::db::headcount::HeadcountRow;

/// The spacing of a headcount's days.
#[derive(Debug, Enum, Copy, Clone, Eq, PartialEq, Hash, Default)]
pub enum HeadcountInterval {
    /// One day a year, on the day of the year `from` names.
    #[default]
    Year,
    /// One day every three months.
    Quarter,
    /// One day a month (the 31st becomes the month's last day).
    Month,
}

impl HeadcountInterval {
    fn months(self) -> u32 {
        match self {
            HeadcountInterval::Year => 12,
            HeadcountInterval::Quarter => 3,
            HeadcountInterval::Month => 1,
        }
    }
}

/// Most days one headcount may ask for: 50 years by quarter.
pub const MAX_HEADCOUNT_POINTS: usize = 200;

/// The days of a headcount: `from`, then every interval after it, up to `to`.
pub fn headcount_days(
    from: DateScalar,
    to: DateScalar,
    interval: HeadcountInterval,
) -> ApiResult<Vec<NaiveDate>> {
    if from.0 > to.0 {
        return Err(ApiError::BadUserInput(
            "`from` is after `to`: a headcount runs forward in time".into(),
        ));
    }
    let mut days = Vec::new();
    for step in 0.. {
        let Some(day) = from
            .0
            .checked_add_months(Months::new(step * interval.months()))
        else {
            break;
        };
        if day > to.0 {
            break;
        }
        if days.len() == MAX_HEADCOUNT_POINTS {
            return Err(ApiError::BadUserInput(format!(
                "a headcount has at most {MAX_HEADCOUNT_POINTS} days: shorten the range or use a longer interval"
            )));
        }
        days.push(day);
    }
    Ok(days)
}

/// How many people were inside an organization (its units included) on one day.
#[derive(Debug, Clone, SimpleObject)]
pub struct HeadcountPoint {
    /// The day counted.
    pub on: DateScalar,
    /// People whose recorded dates or attestations prove they were there that day: the lower
    /// bound.
    pub certainly: i32,
    /// People the dates do not rule out (those certainly there included): the upper bound.
    pub possibly: i32,
}

impl From<HeadcountRow> for HeadcountPoint {
    fn from(row: HeadcountRow) -> Self {
        let count = |n: i64| i32::try_from(n).unwrap_or(i32::MAX);
        HeadcountPoint {
            on: DateScalar(row.day),
            certainly: count(row.certainly),
            possibly: count(row.possibly),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> DateScalar {
        DateScalar(s.parse().expect("a day"))
    }

    #[test]
    fn the_days_run_from_from_by_the_interval_up_to_to() {
        let days = headcount_days(
            day("2022-01-31"),
            day("2022-07-31"),
            HeadcountInterval::Quarter,
        )
        .expect("valid");
        let text: Vec<String> = days.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            ["2022-01-31", "2022-04-30", "2022-07-31"],
            "each day is counted from `from`, not from the day before it"
        );
        assert!(
            headcount_days(
                day("2023-01-01"),
                day("2022-01-01"),
                HeadcountInterval::Year
            )
            .is_err()
        );
        assert!(
            headcount_days(
                day("1800-01-01"),
                day("2100-01-01"),
                HeadcountInterval::Month
            )
            .is_err()
        );
    }
}
