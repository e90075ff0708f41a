//! Partial dates: `2023`, `2023-04` or `2023-04-28` (ISO 8601 reduced precision).
//!
//! A value keeps the precision it was given: `2023` is never turned into
//! `2023-01-01` on the way out. It is stored as the first day of the period it
//! names plus its precision (see `migrations/*_partial_dates`), which makes
//! `first_day` the natural lower bound for ordering and `last_day` the upper one.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Months, NaiveDate};

/// How much of a date is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Precision {
    Year,
    Month,
    Day,
}

impl Precision {
    /// The value stored in a `*_precision` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::Year => "year",
            Precision::Month => "month",
            Precision::Day => "day",
        }
    }
}

impl FromStr for Precision {
    type Err = PartialDateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "year" => Ok(Precision::Year),
            "month" => Ok(Precision::Month),
            "day" => Ok(Precision::Day),
            other => Err(PartialDateError::UnknownPrecision(other.to_owned())),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartialDateError {
    #[error("expected a date as YYYY, YYYY-MM or YYYY-MM-DD, got {0:?}")]
    Format(String),
    /// Where only a full date will do (the `Date` scalar): a reduced
    /// precision is refused, so it is not offered either.
    #[error("expected a full date as YYYY-MM-DD, got {0:?}")]
    NotADay(String),
    #[error("{0:?} is not a date that exists")]
    Impossible(String),
    #[error("unknown date precision {0:?}")]
    UnknownPrecision(String),
    #[error("a stored partial date has a value without a precision or a precision without a value")]
    HalfStored,
    #[error("a stored partial date {0} is not the first day of its {1:?}")]
    Misaligned(NaiveDate, Precision),
}

/// A date known to the year, the month or the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartialDate {
    first_day: NaiveDate,
    precision: Precision,
}

impl PartialDate {
    pub fn year(year: i32) -> Result<Self, PartialDateError> {
        Self::from_parts(year, None, None)
    }

    pub fn month(year: i32, month: u32) -> Result<Self, PartialDateError> {
        Self::from_parts(year, Some(month), None)
    }

    pub fn day(date: NaiveDate) -> Self {
        PartialDate {
            first_day: date,
            precision: Precision::Day,
        }
    }

    fn from_parts(
        year: i32,
        month: Option<u32>,
        day: Option<u32>,
    ) -> Result<Self, PartialDateError> {
        let impossible = || {
            let text = match (month, day) {
                (Some(m), Some(d)) => format!("{year:04}-{m:02}-{d:02}"),
                (Some(m), None) => format!("{year:04}-{m:02}"),
                _ => format!("{year:04}"),
            };
            PartialDateError::Impossible(text)
        };
        if !(1..=9999).contains(&year) {
            return Err(impossible());
        }
        let precision = match (month, day) {
            (None, _) => Precision::Year,
            (Some(_), None) => Precision::Month,
            (Some(_), Some(_)) => Precision::Day,
        };
        let first_day = NaiveDate::from_ymd_opt(year, month.unwrap_or(1), day.unwrap_or(1))
            .ok_or_else(impossible)?;
        Ok(PartialDate {
            first_day,
            precision,
        })
    }

    /// This date as its two stored columns (`<x>_on`, `<x>_on_precision`):
    /// the first day of its period and its precision.
    pub fn columns(self) -> (NaiveDate, &'static str) {
        (self.first_day, self.precision.as_str())
    }

    /// A date that may be absent as its two stored columns, both null for no
    /// date: the one way every write stores a partial date, the inverse of
    /// [`PartialDate::from_columns`].
    pub fn to_columns(date: Option<Self>) -> (Option<NaiveDate>, Option<&'static str>) {
        match date {
            Some(date) => {
                let (day, precision) = date.columns();
                (Some(day), Some(precision))
            }
            None => (None, None),
        }
    }

    /// Rebuilds a value from its two stored columns; both null is "no date".
    pub fn from_columns(
        value: Option<NaiveDate>,
        precision: Option<&str>,
    ) -> Result<Option<Self>, PartialDateError> {
        match (value, precision) {
            (None, None) => Ok(None),
            (Some(first_day), Some(precision)) => {
                let precision: Precision = precision.parse()?;
                let aligned = match precision {
                    Precision::Day => true,
                    Precision::Month => first_day.day() == 1,
                    Precision::Year => first_day.day() == 1 && first_day.month() == 1,
                };
                if !aligned {
                    return Err(PartialDateError::Misaligned(first_day, precision));
                }
                Ok(Some(PartialDate {
                    first_day,
                    precision,
                }))
            }
            _ => Err(PartialDateError::HalfStored),
        }
    }

    pub fn precision(self) -> Precision {
        self.precision
    }

    /// The first day of the period this value names (its stored date).
    pub fn first_day(self) -> NaiveDate {
        self.first_day
    }

    /// The last day of the period this value names: `2023-02` -> 2023-02-28.
    pub fn last_day(self) -> NaiveDate {
        let next = match self.precision {
            Precision::Day => return self.first_day,
            Precision::Month => self.first_day.checked_add_months(Months::new(1)),
            Precision::Year => self.first_day.checked_add_months(Months::new(12)),
        };
        next.and_then(|d| d.pred_opt()).unwrap_or(NaiveDate::MAX)
    }
}

impl FromStr for PartialDate {
    type Err = PartialDateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let format_error = || PartialDateError::Format(s.to_owned());
        const WIDTHS: [usize; 3] = [4, 2, 2];
        let parts: Vec<&str> = s.split('-').collect();
        if parts.len() > WIDTHS.len() {
            return Err(format_error());
        }
        let mut numbers = [None; 3];
        for ((part, width), number) in parts.iter().zip(WIDTHS).zip(&mut numbers) {
            if part.len() != width || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format_error());
            }
            *number = Some(part.parse::<u16>().map_err(|_| format_error())?);
        }
        let [year, month, day] = numbers;
        let year = year.ok_or_else(format_error)?;
        PartialDate::from_parts(i32::from(year), month.map(u32::from), day.map(u32::from))
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.first_day;
        match self.precision {
            Precision::Year => write!(f, "{:04}", d.year()),
            Precision::Month => write!(f, "{:04}-{:02}", d.year(), d.month()),
            Precision::Day => write!(f, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day()),
        }
    }
}

/// Parses a full calendar date, `YYYY-MM-DD` and nothing less.
pub fn parse_full_date(s: &str) -> Result<NaiveDate, PartialDateError> {
    let not_a_day = || PartialDateError::NotADay(s.to_owned());
    let parsed: PartialDate = s.parse().map_err(|error| match error {
        PartialDateError::Format(_) => not_a_day(),
        other => other,
    })?;
    if parsed.precision != Precision::Day {
        return Err(not_a_day());
    }
    Ok(parsed.first_day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<PartialDate, PartialDateError> {
        s.parse()
    }

    #[test]
    fn each_precision_round_trips_unchanged() {
        for text in ["2023", "2023-04", "2023-04-28", "0001", "9999-12-31"] {
            assert_eq!(parse(text).map(|d| d.to_string()), Ok(text.to_owned()));
        }
    }

    #[test]
    fn a_year_is_not_widened_to_its_first_day() {
        let year = parse("2023").expect("valid");
        assert_eq!(year.precision(), Precision::Year);
        assert_eq!(year.to_string(), "2023");
        assert_ne!(year, parse("2023-01-01").expect("valid"));
    }

    #[test]
    fn days_and_months_that_do_not_exist_are_impossible() {
        for text in [
            "2023-02-30",
            "2023-13",
            "2023-00",
            "2023-04-31",
            "2023-02-29",
            "0000",
        ] {
            assert!(
                matches!(parse(text), Err(PartialDateError::Impossible(_))),
                "{text}"
            );
        }
        assert!(parse("2024-02-29").is_ok(), "leap day");
    }

    #[test]
    fn malformed_text_is_a_format_error() {
        for text in [
            "",
            "23",
            "2023-4",
            "2023-04-5",
            "2023/04",
            "2023-04-28-1",
            "2023-",
            "+2023",
            "２０２３",
            "2023-04-28T00:00",
        ] {
            assert!(
                matches!(parse(text), Err(PartialDateError::Format(_))),
                "{text:?}"
            );
        }
    }

    #[test]
    fn last_day_covers_the_whole_period() {
        assert_eq!(
            parse("2023").expect("valid").last_day().to_string(),
            "2023-12-31"
        );
        assert_eq!(
            parse("2023-02").expect("valid").last_day().to_string(),
            "2023-02-28"
        );
        assert_eq!(
            parse("2024-02").expect("valid").last_day().to_string(),
            "2024-02-29"
        );
        assert_eq!(
            parse("2023-04-28").expect("valid").last_day().to_string(),
            "2023-04-28"
        );
    }

    #[test]
    fn stored_columns_must_agree() {
        let april = NaiveDate::from_ymd_opt(2023, 4, 1);
        assert_eq!(
            PartialDate::from_columns(april, Some("month")).map(|d| d.map(|d| d.to_string())),
            Ok(Some("2023-04".to_owned()))
        );
        assert_eq!(PartialDate::from_columns(None, None), Ok(None));
        assert!(PartialDate::from_columns(april, None).is_err());
        assert!(PartialDate::from_columns(april, Some("year")).is_err());
        assert!(PartialDate::from_columns(april, Some("week")).is_err());
    }

    #[test]
    fn a_date_is_stored_as_its_first_day_and_precision_and_read_back_unchanged() {
        for (text, day, precision) in [
            ("2023", "2023-01-01", "year"),
            ("2023-04", "2023-04-01", "month"),
            ("2023-04-28", "2023-04-28", "day"),
        ] {
            let date = parse(text).expect("valid");
            let (stored_day, stored_precision) = PartialDate::to_columns(Some(date));
            assert_eq!(stored_day.map(|d| d.to_string()).as_deref(), Some(day));
            assert_eq!(stored_precision, Some(precision));
            assert_eq!(date.columns(), (date.first_day(), precision));
            assert_eq!(
                PartialDate::from_columns(stored_day, stored_precision),
                Ok(Some(date)),
                "{text}"
            );
        }
        assert_eq!(PartialDate::to_columns(None), (None, None));
        assert_eq!(PartialDate::from_columns(None, None), Ok(None));
    }

    #[test]
    fn full_dates_need_a_day() {
        assert!(parse_full_date("2023-04-28").is_ok());
        assert!(parse_full_date("2023-04").is_err());
        assert!(parse_full_date("2023-02-30").is_err());
    }

    #[test]
    fn a_full_date_refused_asks_for_a_day_and_offers_no_shorter_form() {
        for bad in ["2023-04", "2023", "yesterday", "2023-4-28"] {
            let message = parse_full_date(bad).expect_err(bad).to_string();
            assert_eq!(
                message,
                format!("expected a full date as YYYY-MM-DD, got {bad:?}"),
                "{bad}"
            );
        }
    }
}
