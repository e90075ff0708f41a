//! The order of stints in a career, when dates are partial or missing.
//!
//! The rule, applied everywhere a person's stints are listed "chronologically":
//!
//! 1. A stint with a `career_position` (stated by a source when no dates are
//!    known: "rejoined Meta after five years at DeepMind") sorts by it, before
//!    stints without one.
//! 2. Then by start date, compared on the first day of its period (`2023`
//!    counts as 2023-01-01, so it sorts before `2023-04`); an unknown start sorts last.
//! 3. Then ended stints before current ones: whatever is current came last.
//! 4. Then by record id, so the order is total and stable.

use std::cmp::Ordering;

use chrono::NaiveDate;

/// What the order of stints depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChronologyKey {
    pub career_position: Option<i32>,
    pub started_on: Option<NaiveDate>,
    pub is_current: bool,
    pub id: i64,
}

impl Ord for ChronologyKey {
    fn cmp(&self, other: &Self) -> Ordering {
        unknown_last(self.career_position, other.career_position)
            .then_with(|| unknown_last(self.started_on, other.started_on))
            .then_with(|| self.is_current.cmp(&other.is_current))
            .then_with(|| self.id.cmp(&other.id))
    }
}

impl PartialOrd for ChronologyKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The order of an organization's leaders, who are different people: by start
/// date (unknown last), then whoever has left before whoever is current, then
/// record id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuccessionKey {
    pub started_on: Option<NaiveDate>,
    pub is_current: bool,
    pub id: i64,
}

impl Ord for SuccessionKey {
    fn cmp(&self, other: &Self) -> Ordering {
        unknown_last(self.started_on, other.started_on)
            .then_with(|| self.is_current.cmp(&other.is_current))
            .then_with(|| self.id.cmp(&other.id))
    }
}

impl PartialOrd for SuccessionKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn unknown_last<T: Ord>(a: Option<T>, b: Option<T>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(
        id: i64,
        position: Option<i32>,
        start: Option<(i32, u32)>,
        current: bool,
    ) -> ChronologyKey {
        ChronologyKey {
            career_position: position,
            started_on: start.and_then(|(y, m)| NaiveDate::from_ymd_opt(y, m, 1)),
            is_current: current,
            id,
        }
    }

    fn sorted(mut keys: Vec<ChronologyKey>) -> Vec<i64> {
        keys.sort();
        keys.into_iter().map(|k| k.id).collect()
    }

    #[test]
    fn stated_career_position_comes_first_and_in_order() {
        let keys = vec![
            key(1, Some(3), None, true),
            key(2, None, Some((2001, 1)), false),
            key(3, Some(1), None, false),
            key(4, Some(2), None, false),
        ];
        assert_eq!(sorted(keys), vec![3, 4, 1, 2]);
    }

    #[test]
    fn known_starts_sort_by_date_and_unknown_starts_last() {
        let keys = vec![
            key(1, None, None, false),
            key(2, None, Some((2023, 4)), false),
            key(3, None, Some((2019, 1)), false),
        ];
        assert_eq!(sorted(keys), vec![3, 2, 1]);
    }

    #[test]
    fn without_dates_an_ended_stint_precedes_the_current_one() {
        let keys = vec![key(1, None, None, true), key(2, None, None, false)];
        assert_eq!(sorted(keys), vec![2, 1]);
    }
}
