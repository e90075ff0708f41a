//! `PartialDate` and `Date`: dates as ISO 8601 text, refused at the edge when
//! they do not exist ("2023-02-30", "2023-13").

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;

use crate::domain::partial_date::{self, PartialDate};
use crate::domain::validate::FieldError;

/// A date known to the year, month or day: `"2023"`, `"2023-04"` or
/// `"2023-04-28"` (ISO 8601 reduced precision). Returned exactly at the
/// precision known, never widened to a full date.
///
/// As input, a string that is no date ("2024-02-30") is kept as given and
/// refused by the resolver ([`PartialDateScalar::checked`]), so that the
/// error can name the field it came in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialDateScalar(Result<PartialDate, String>);

impl From<PartialDate> for PartialDateScalar {
    fn from(date: PartialDate) -> Self {
        PartialDateScalar(Ok(date))
    }
}

impl PartialDateScalar {
    /// The date, or why it is none, for the input field `field`.
    pub fn checked(&self, field: &str) -> Result<PartialDate, FieldError> {
        self.0
            .clone()
            .map_err(|message| FieldError::new(field, message))
    }
}

/// A date known to the year, month or day, as an ISO 8601 string of reduced precision:
/// `"2023"`, `"2023-04"` or `"2023-04-28"`. Returned exactly at the precision known, never
/// widened (`"2023"` is not `"2023-01-01"`); a day that does not exist is refused.
#[Scalar(
    name = "PartialDate",
    specified_by_url = "https://www.rfc-editor.org/rfc/rfc3339#appendix-A"
)]
impl ScalarType for PartialDateScalar {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => Ok(PartialDateScalar(
                s.parse()
                    .map_err(|e: partial_date::PartialDateError| e.to_string()),
            )),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    /// Any string: one that is no date is refused by the resolver, which
    /// can name the field.
    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(_))
    }

    fn to_value(&self) -> Value {
        match &self.0 {
            Ok(date) => Value::String(date.to_string()),
            Err(_) => Value::Null,
        }
    }
}

/// A calendar date, `"2023-04-28"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateScalar(pub NaiveDate);

/// A full calendar day as an ISO 8601 string `YYYY-MM-DD`, e.g. `"2023-04-28"`; a day that does
/// not exist (`"2023-02-30"`) is refused.
#[Scalar(
    name = "Date",
    specified_by_url = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
)]
impl ScalarType for DateScalar {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => partial_date::parse_full_date(s)
                .map(DateScalar)
                .map_err(|e| InputValueError::custom(e.to_string())),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    /// Checked before execution, in literals (validation) and variables
    /// (`graphql::input`): a wrong date is the request's error, not a field's.
    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(s) if partial_date::parse_full_date(s).is_ok())
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// A moment, as an RFC 3339 timestamp in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTimeScalar(pub chrono::DateTime<chrono::Utc>);

/// A moment as an RFC 3339 timestamp (`date-time`), e.g. `"2026-12-06T22:11:03.123456+00:00"`:
/// always with a time zone offset; returned in UTC.
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
)]
impl ScalarType for DateTimeScalar {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| DateTimeScalar(t.with_timezone(&chrono::Utc)))
                .map_err(|e| InputValueError::custom(format!("not an RFC 3339 timestamp: {e}"))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(s) if chrono::DateTime::parse_from_rfc3339(s).is_ok())
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339())
    }
}
