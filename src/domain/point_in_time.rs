//! "Was this stint going on on day D?" when its dates are partial or unknown.
//!
//! The rule (also in `docs/dates.md`): each bound is compared at its own
//! precision. A start of `2023` is certainly before D when the whole year is
//! (2023-12-31 <= D), certainly after when the whole year is (2023-01-01 > D),
//! and undecided when D falls inside 2023; an end is read the same way, and the
//! end day itself still counts as in the stint. A missing start, or an ended
//! stint with no end date, decides nothing; a current stint has not ended.
//! A stint was *certainly* in progress when both bounds are certain, was
//! *not* when either bound rules it out, and *possibly* otherwise.

use chrono::NaiveDate;

use super::PartialDate;

/// How sure the dates make an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Certainty {
    /// The dates rule it out.
    No,
    /// The dates neither prove nor rule it out.
    Possibly,
    /// The dates prove it.
    Certainly,
}

/// A stint's bounds as far as point-in-time questions care.
#[derive(Debug, Clone, Copy)]
pub struct StintBounds {
    pub started_on: Option<PartialDate>,
    pub ended_on: Option<PartialDate>,
    pub is_current: bool,
}

impl StintBounds {
    /// Whether the stint was going on on `day`.
    pub fn in_progress_on(&self, day: NaiveDate) -> Certainty {
        let started = match self.started_on {
            None => Certainty::Possibly,
            Some(start) if start.last_day() <= day => Certainty::Certainly,
            Some(start) if start.first_day() > day => Certainty::No,
            Some(_) => Certainty::Possibly,
        };
        let not_yet_ended = match (self.is_current, self.ended_on) {
            (true, _) => Certainty::Certainly,
            (false, None) => Certainty::Possibly,
            (false, Some(end)) if end.first_day() >= day => Certainty::Certainly,
            (false, Some(end)) if end.last_day() < day => Certainty::No,
            (false, Some(_)) => Certainty::Possibly,
        };
        started.min(not_yet_ended)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        super::super::partial_date::parse_full_date(s).expect("valid day")
    }

    fn bounds(start: Option<&str>, end: Option<&str>, is_current: bool) -> StintBounds {
        let parse = |s: &str| s.parse::<PartialDate>().expect("valid partial date");
        StintBounds {
            started_on: start.map(parse),
            ended_on: end.map(parse),
            is_current,
        }
    }

    #[test]
    fn day_precision_bounds_are_inclusive() {
        let stint = bounds(Some("2020-03-01"), Some("2023-04-28"), false);
        assert_eq!(
            stint.in_progress_on(day("2020-03-01")),
            Certainty::Certainly
        );
        assert_eq!(
            stint.in_progress_on(day("2023-04-28")),
            Certainty::Certainly
        );
        assert_eq!(stint.in_progress_on(day("2020-02-29")), Certainty::No);
        assert_eq!(stint.in_progress_on(day("2023-04-29")), Certainty::No);
    }

    #[test]
    fn a_day_inside_a_month_or_year_bound_is_only_possible() {
        let stint = bounds(Some("2020-03"), Some("2023"), false);
        assert_eq!(stint.in_progress_on(day("2020-03-15")), Certainty::Possibly);
        assert_eq!(
            stint.in_progress_on(day("2020-04-01")),
            Certainty::Certainly
        );
        assert_eq!(stint.in_progress_on(day("2023-06-01")), Certainty::Possibly);
        assert_eq!(stint.in_progress_on(day("2024-01-01")), Certainty::No);
        assert_eq!(stint.in_progress_on(day("2020-02-29")), Certainty::No);
    }

    #[test]
    fn unknown_bounds_decide_nothing_but_current_means_not_ended() {
        assert_eq!(
            bounds(None, None, false).in_progress_on(day("2023-01-01")),
            Certainty::Possibly
        );
        assert_eq!(
            bounds(None, None, true).in_progress_on(day("2023-01-01")),
            Certainty::Possibly
        );
        assert_eq!(
            bounds(Some("2019"), None, true).in_progress_on(day("2023-01-01")),
            Certainty::Certainly
        );
        assert_eq!(
            bounds(Some("2019"), None, false).in_progress_on(day("2023-01-01")),
            Certainty::Possibly
        );
        assert_eq!(
            bounds(None, Some("2018"), false).in_progress_on(day("2023-01-01")),
            Certainty::No
        );
    }
}
