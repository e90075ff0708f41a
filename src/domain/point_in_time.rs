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
//!
//! Attestations are evidence on a date (a paper lists its authors with their
//! affiliation on its publication day): a stint shown going on on day A had
//! started by A and had not ended before A, whatever its own bounds say; a
//! source showing it had ended by day B rules out every day after B. Their
//! sums are kept on the stint (`attested_from`, `attested_until`, `ended_by`)
//! so that the SQL twin, `stint_in_progress_on` in
//! `migrations/*_attestations`, reads one row too.

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
    pub evidence: Evidence,
}

/// What a stint's attestations prove, summed up as the database keeps it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Evidence {
    /// A day by which the stint had certainly started: the last day of its
    /// earliest in-progress attestation.
    pub attested_from: Option<NaiveDate>,
    /// A day on which it had certainly not yet ended: the first day of its
    /// latest in-progress attestation.
    pub attested_until: Option<NaiveDate>,
    /// A day by which it had certainly ended: the last day of its earliest
    /// "ended" attestation.
    pub ended_by: Option<NaiveDate>,
}

impl Evidence {
    /// The summary of `attestations` (each a claim and its date).
    pub fn of<'a>(attestations: impl IntoIterator<Item = (Claim, &'a PartialDate)>) -> Self {
        let mut evidence = Evidence::default();
        for (claim, on) in attestations {
            match claim {
                Claim::InProgress => {
                    evidence.attested_from = min_day(evidence.attested_from, on.last_day());
                    evidence.attested_until = Some(
                        evidence
                            .attested_until
                            .map_or(on.first_day(), |d| d.max(on.first_day())),
                    );
                }
                Claim::Ended => evidence.ended_by = min_day(evidence.ended_by, on.last_day()),
            }
        }
        evidence
    }
}

fn min_day(held: Option<NaiveDate>, day: NaiveDate) -> Option<NaiveDate> {
    Some(held.map_or(day, |d| d.min(day)))
}

/// What an attestation says of its stint on its date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Claim {
    /// The stint was going on (on some day of the date's period).
    InProgress,
    /// The stint had ended by then (by the last day of the date's period).
    Ended,
}

impl Claim {
    /// The value stored in `employment_attestations.claim`.
    pub fn as_db(self) -> &'static str {
        match self {
            Claim::InProgress => "in_progress",
            Claim::Ended => "ended",
        }
    }

    pub fn from_db(value: &str) -> Option<Self> {
        match value {
            "in_progress" => Some(Claim::InProgress),
            "ended" => Some(Claim::Ended),
            _ => None,
        }
    }
}

impl StintBounds {
    /// Whether the stint was going on on `day`.
    pub fn in_progress_on(&self, day: NaiveDate) -> Certainty {
        let evidence = self.evidence;
        let started = if self.started_on.is_some_and(|s| s.last_day() <= day)
            || evidence.attested_from.is_some_and(|d| d <= day)
        {
            Certainty::Certainly
        } else if self.started_on.is_some_and(|s| s.first_day() > day) {
            Certainty::No
        } else {
            Certainty::Possibly
        };
        let not_yet_ended = if self.is_current
            || self.ended_on.is_some_and(|e| e.first_day() >= day)
            || evidence.attested_until.is_some_and(|d| d >= day)
        {
            Certainty::Certainly
        } else if self.ended_on.is_some_and(|e| e.last_day() < day)
            || evidence.ended_by.is_some_and(|d| d < day)
        {
            Certainty::No
        } else {
            Certainty::Possibly
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
            evidence: Evidence::default(),
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

    fn attested(mut stint: StintBounds, attestations: &[(Claim, &str)]) -> StintBounds {
        let dates: Vec<(Claim, PartialDate)> = attestations
            .iter()
            .map(|(claim, on)| (*claim, on.parse().expect("valid partial date")))
            .collect();
        stint.evidence = Evidence::of(dates.iter().map(|(c, d)| (*c, d)));
        stint
    }

    #[test]
    fn a_stint_attested_on_a_day_was_certainly_going_on_that_day() {
        let stint = attested(
            bounds(None, None, false),
            &[(Claim::InProgress, "2023-02-27")],
        );
        assert_eq!(
            stint.in_progress_on(day("2023-02-27")),
            Certainty::Certainly
        );
        // Before and after it, the unknown bounds decide nothing.
        assert_eq!(stint.in_progress_on(day("2023-02-26")), Certainty::Possibly);
        assert_eq!(stint.in_progress_on(day("2023-02-28")), Certainty::Possibly);
    }

    #[test]
    fn an_attestation_bounds_the_unknown_start_and_end() {
        // Started in 2019, ended on an unknown date, seen going on on 2023-02-27:
        // certainly going on from 2020 to that day.
        let stint = attested(
            bounds(Some("2019"), None, false),
            &[(Claim::InProgress, "2023-02-27")],
        );
        assert_eq!(
            stint.in_progress_on(day("2021-06-01")),
            Certainty::Certainly
        );
        assert_eq!(stint.in_progress_on(day("2023-03-01")), Certainty::Possibly);
        // Two attestations: certainly going on between them.
        let stint = attested(
            bounds(None, None, false),
            &[
                (Claim::InProgress, "2021-05-10"),
                (Claim::InProgress, "2023-02-27"),
            ],
        );
        assert_eq!(
            stint.in_progress_on(day("2022-01-01")),
            Certainty::Certainly
        );
        assert_eq!(stint.in_progress_on(day("2021-05-09")), Certainty::Possibly);
    }

    #[test]
    fn a_coarse_attestation_proves_no_single_day() {
        let stint = attested(bounds(None, None, false), &[(Claim::InProgress, "2023")]);
        assert_eq!(stint.in_progress_on(day("2023-06-01")), Certainty::Possibly);
        assert_eq!(stint.in_progress_on(day("2023-12-31")), Certainty::Possibly);
        // Started by the end of 2023 and not over before its start: with a
        // known start before it, the start of 2023 is certain.
        let stint = attested(
            bounds(Some("2020"), None, false),
            &[(Claim::InProgress, "2023")],
        );
        assert_eq!(
            stint.in_progress_on(day("2023-01-01")),
            Certainty::Certainly
        );
    }

    #[test]
    fn a_source_that_says_the_stint_had_ended_rules_out_the_days_after_it() {
        let stint = attested(
            bounds(None, None, false),
            &[(Claim::InProgress, "2023-02-27"), (Claim::Ended, "2025-05")],
        );
        assert_eq!(stint.in_progress_on(day("2025-05-31")), Certainty::Possibly);
        assert_eq!(stint.in_progress_on(day("2025-06-01")), Certainty::No);
        assert_eq!(
            stint.in_progress_on(day("2023-02-27")),
            Certainty::Certainly
        );
    }

    #[test]
    fn evidence_of_the_stint_going_on_wins_over_a_bound_it_contradicts() {
        let stint = attested(
            bounds(Some("2024"), None, false),
            &[(Claim::InProgress, "2023-02-27")],
        );
        assert_eq!(
            stint.in_progress_on(day("2023-02-27")),
            Certainty::Certainly
        );
    }
}
