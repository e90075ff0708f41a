//! "Did this partial date fall between two days?" (`startedBetween`,
//! `endedBetween`, `publishedOn`), read with the certainty rule of
//! `point_in_time`: a date falls *certainly* in the span when its whole
//! period does, *not* when none of its period does, and *possibly* otherwise,
//! an unknown date included. `db::filter::Span` is its SQL twin.

use chrono::NaiveDate;

use super::PartialDate;
use super::point_in_time::Certainty;

/// Days from `from` to `to`, both included; an end left out is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl Span {
    pub fn contains(&self, date: Option<PartialDate>) -> Certainty {
        let Some(date) = date else {
            return Certainty::Possibly;
        };
        let after_from = |day: NaiveDate| self.from.is_none_or(|from| day >= from);
        let before_to = |day: NaiveDate| self.to.is_none_or(|to| day <= to);
        if after_from(date.first_day()) && before_to(date.last_day()) {
            Certainty::Certainly
        } else if after_from(date.last_day()) && before_to(date.first_day()) {
            Certainty::Possibly
        } else {
            Certainty::No
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Option<NaiveDate> {
        Some(super::super::partial_date::parse_full_date(s).expect("a day"))
    }

    fn date(s: &str) -> Option<PartialDate> {
        Some(s.parse().expect("a partial date"))
    }

    #[test]
    fn a_date_is_in_a_span_certainly_possibly_or_not() {
        let span = Span {
            from: day("2020-01-01"),
            to: day("2020-06-30"),
        };
        assert_eq!(span.contains(date("2020-03")), Certainty::Certainly);
        assert_eq!(span.contains(date("2020")), Certainty::Possibly);
        assert_eq!(span.contains(date("2019")), Certainty::No);
        assert_eq!(span.contains(date("2020-07-01")), Certainty::No);
        assert_eq!(span.contains(None), Certainty::Possibly);
        let open = Span {
            from: day("2021-01-01"),
            to: None,
        };
        assert_eq!(open.contains(date("2024")), Certainty::Certainly);
        assert_eq!(open.contains(date("2020-12")), Certainty::No);
    }
}
