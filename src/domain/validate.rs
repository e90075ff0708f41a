//! What a writable value must look like, checked before anything is written.
//! Shared by the GraphQL mutations and the JSON Lines importer, which both
//! report a [`FieldError`] with the path of the offending field; the database
//! constraints repeat the same rules as a last line of defence.

use super::PartialDate;

/// A refused value: which field (`name`, `to.startedOn`) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same error, one level deeper: `input` + `name` -> `input.name`.
    pub fn within(self, parent: &str) -> Self {
        FieldError {
            field: format!("{parent}.{}", self.field),
            message: self.message,
        }
    }
}

pub type Checked<T = ()> = Result<T, FieldError>;

pub const MAX_SLUG: usize = 100;
pub const MAX_NAME: usize = 200;
pub const MAX_TITLE: usize = 500;
pub const MAX_BIO: usize = 5000;
pub const MAX_URL: usize = 2000;
pub const MAX_ALIASES: usize = 50;

/// Lowercase ASCII words joined by single hyphens: `guillaume-lample`.
pub fn slug(field: &str, value: &str) -> Checked {
    let well_formed = !value.is_empty()
        && value.len() <= MAX_SLUG
        && value.split('-').all(|word| {
            !word.is_empty() && word.bytes().all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9'))
        });
    if well_formed {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            format!(
                "{value:?} is not a slug: use lowercase letters, digits and single hyphens, at most {MAX_SLUG} characters"
            ),
        ))
    }
}

/// Non-empty, no surrounding whitespace, at most `max` characters.
pub fn text(field: &str, value: &str, max: usize) -> Checked {
    if value.trim().is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if value.trim() != value {
        return Err(FieldError::new(
            field,
            "must not start or end with whitespace",
        ));
    }
    let length = value.chars().count();
    if length > max {
        return Err(FieldError::new(
            field,
            format!("is {length} characters long; the limit is {max}"),
        ));
    }
    Ok(())
}

pub fn optional_text(field: &str, value: Option<&str>, max: usize) -> Checked {
    value.map_or(Ok(()), |v| text(field, v, max))
}

pub fn aliases(field: &str, values: &[String]) -> Checked {
    if values.len() > MAX_ALIASES {
        return Err(FieldError::new(
            field,
            format!("at most {MAX_ALIASES} aliases"),
        ));
    }
    for (i, alias) in values.iter().enumerate() {
        text(&format!("{field}.{i}"), alias, MAX_NAME)?;
    }
    Ok(())
}

/// An absolute http(s) URL without whitespace.
pub fn url(field: &str, value: &str) -> Checked {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !value.chars().any(char::is_whitespace) => {
            if value.len() > MAX_URL {
                Err(FieldError::new(
                    field,
                    format!("is longer than {MAX_URL} characters"),
                ))
            } else {
                Ok(())
            }
        }
        _ => Err(FieldError::new(
            field,
            format!("{value:?} is not an absolute http(s) URL"),
        )),
    }
}

pub fn optional_url(field: &str, value: Option<&str>) -> Checked {
    value.map_or(Ok(()), |v| url(field, v))
}

/// ISO 3166-1 alpha-2, upper case: `FR`.
pub fn country(field: &str, value: Option<&str>) -> Checked {
    match value {
        Some(code) if !(code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase())) => {
            Err(FieldError::new(
                field,
                format!("{code:?} is not a two-letter country code like \"FR\""),
            ))
        }
        _ => Ok(()),
    }
}

/// The end may not be before the start, compared at the precision given: a
/// stint that started on 2023-04-28 may end in "2023-04".
pub fn date_order(
    end_field: &str,
    start: Option<PartialDate>,
    end: Option<PartialDate>,
) -> Checked {
    match (start, end) {
        (Some(start), Some(end)) if end.last_day() < start.first_day() => Err(FieldError::new(
            end_field,
            format!("{end} is before the start, {start}"),
        )),
        _ => Ok(()),
    }
}

/// A stint that is going on has no end date.
pub fn current_has_no_end(field: &str, is_current: bool, end: Option<PartialDate>) -> Checked {
    if is_current && end.is_some() {
        Err(FieldError::new(
            field,
            "a current stint has no end date: set isCurrent to false or leave endedOn out",
        ))
    } else {
        Ok(())
    }
}

pub fn positive(field: &str, value: Option<i32>, max: i32) -> Checked {
    match value {
        Some(n) if !(1..=max).contains(&n) => Err(FieldError::new(
            field,
            format!("must be between 1 and {max}"),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for good in ["meta", "google-deepmind", "a1-b2"] {
            assert_eq!(slug("slug", good), Ok(()), "{good}");
        }
        let long = "a".repeat(MAX_SLUG + 1);
        for bad in ["", "Meta", "a--b", "-a", "a-", "a b", "é", long.as_str()] {
            assert!(slug("slug", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn texts() {
        assert!(text("name", "Ada", 10).is_ok());
        assert_eq!(
            text("name", "  ", 10).map_err(|e| e.field),
            Err("name".into())
        );
        assert!(text("name", " Ada", 10).is_err());
        assert!(text("name", "Ada Lovelace", 5).is_err());
        assert!(
            text("name", "Aurélien", 8).is_ok(),
            "counts characters, not bytes"
        );
    }

    #[test]
    fn urls_and_countries() {
        assert!(url("url", "https://arxiv.org/abs/2302.13971").is_ok());
        for bad in ["arxiv.org", "https://", "ftp://x", "https://a b"] {
            assert!(url("url", bad).is_err(), "{bad}");
        }
        assert!(country("country", Some("FR")).is_ok());
        assert!(country("country", Some("fr")).is_err());
        assert!(country("country", Some("FRA")).is_err());
    }

    #[test]
    fn end_before_start_at_the_precision_given() {
        let d = |s: &str| s.parse::<PartialDate>().ok();
        assert!(date_order("endedOn", d("2023-04-28"), d("2023-04")).is_ok());
        assert!(date_order("endedOn", d("2023"), d("2023-01-01")).is_ok());
        let error = date_order("endedOn", d("2023-05"), d("2023-04-30"));
        assert_eq!(error.map_err(|e| e.field), Err("endedOn".into()));
        assert!(date_order("endedOn", None, d("2020")).is_ok());
    }
}
