//! `Query.sources`: sources filtered by a composable condition and paged by
//! keyset on (url, id), in either direction.

use chrono::{Datelike, NaiveDate};
use diesel::dsl::count_star;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::sources;
use super::sources::SourceRow;

/// A condition on a text column.
#[derive(Debug, Clone, Default)]
pub struct TextCondition {
    pub eq: Option<String>,
    /// Case-insensitive substring.
    pub contains: Option<String>,
    pub starts_with: Option<String>,
    pub is_null: Option<bool>,
}

/// A condition on `published_on`, a partial date: a source dated `2023`
/// may have been published on any day of 2023.
#[derive(Debug, Clone, Default)]
pub struct DateCondition {
    /// May have been published on or after this day.
    pub from: Option<NaiveDate>,
    /// May have been published on or before this day.
    pub to: Option<NaiveDate>,
    pub is_null: Option<bool>,
}

/// Every condition given must hold; `and`, `or` and `not` compose them.
#[derive(Debug, Clone, Default)]
pub struct SourceFilter {
    pub url: Option<TextCondition>,
    pub title: Option<TextCondition>,
    pub publisher: Option<TextCondition>,
    pub published_on: Option<DateCondition>,
    pub and: Vec<SourceFilter>,
    pub or: Vec<SourceFilter>,
    pub not: Option<Box<SourceFilter>>,
}

impl SourceFilter {
    /// Whether it keeps every source: no condition at all (an empty `and`
    /// or `or` adds none).
    fn is_empty(&self) -> bool {
        let SourceFilter {
            url,
            title,
            publisher,
            published_on,
            and,
            or,
            not,
        } = self;
        url.is_none()
            && title.is_none()
            && publisher.is_none()
            && published_on.is_none()
            && and.is_empty()
            && or.is_empty()
            && not.is_none()
    }
}

type Condition = Box<dyn BoxableExpression<sources::table, Pg, SqlType = Bool>>;

fn always() -> Condition {
    Box::new(diesel::dsl::sql::<Bool>("TRUE"))
}

fn never() -> Condition {
    Box::new(diesel::dsl::sql::<Bool>("FALSE"))
}

fn all(conditions: Vec<Condition>) -> Condition {
    conditions
        .into_iter()
        .reduce(|a, b| Box::new(a.and(b)))
        .unwrap_or_else(always)
}

/// `%`, `_` and `\` stand for themselves in a `contains` or `startsWith`.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

macro_rules! text_condition {
    ($name:ident, $column:expr, nullable) => {
        fn $name(condition: &TextCondition) -> Condition {
            let mut parts: Vec<Condition> = Vec::new();
            if let Some(value) = &condition.eq {
                parts.push(Box::new(
                    $column
                        .is_not_null()
                        .and($column.assume_not_null().eq(value.clone())),
                ));
            }
            if let Some(value) = &condition.contains {
                let pattern = format!("%{}%", escape_like(value));
                parts.push(Box::new(
                    $column
                        .is_not_null()
                        .and($column.assume_not_null().ilike(pattern)),
                ));
            }
            if let Some(value) = &condition.starts_with {
                let pattern = format!("{}%", escape_like(value));
                parts.push(Box::new(
                    $column
                        .is_not_null()
                        .and($column.assume_not_null().like(pattern)),
                ));
            }
            match condition.is_null {
                Some(true) => parts.push(Box::new($column.is_null())),
                Some(false) => parts.push(Box::new($column.is_not_null())),
                None => {}
            }
            all(parts)
        }
    };
    ($name:ident, $column:expr) => {
        fn $name(condition: &TextCondition) -> Condition {
            let mut parts: Vec<Condition> = Vec::new();
            if let Some(value) = &condition.eq {
                parts.push(Box::new($column.eq(value.clone())));
            }
            if let Some(value) = &condition.contains {
                parts.push(Box::new($column.ilike(format!("%{}%", escape_like(value)))));
            }
            if let Some(value) = &condition.starts_with {
                parts.push(Box::new($column.like(format!("{}%", escape_like(value)))));
            }
            if condition.is_null == Some(true) {
                parts.push(never());
            }
            all(parts)
        }
    };
}

text_condition!(url_condition, sources::url);
text_condition!(title_condition, sources::title, nullable);
text_condition!(publisher_condition, sources::publisher, nullable);

/// The first day of `day`'s year and of its month.
fn year_and_month_of(day: NaiveDate) -> (NaiveDate, NaiveDate) {
    let year = NaiveDate::from_ymd_opt(day.year(), 1, 1).unwrap_or(day);
    let month = NaiveDate::from_ymd_opt(day.year(), day.month(), 1).unwrap_or(day);
    (year, month)
}

fn date_condition(condition: &DateCondition) -> Condition {
    let day = sources::published_on.assume_not_null();
    let precision = sources::published_on_precision.assume_not_null();
    let mut parts: Vec<Condition> = Vec::new();
    if let Some(from) = condition.from {
        // The period a partial date stands for ends on or after `from` when
        // its first day is on or after the start of `from`'s year (month).
        let (year, month) = year_and_month_of(from);
        parts.push(Box::new(
            sources::published_on.is_not_null().and(
                precision
                    .eq("year")
                    .and(day.ge(year))
                    .or(precision.eq("month").and(day.ge(month)))
                    .or(precision.eq("day").and(day.ge(from))),
            ),
        ));
    }
    if let Some(to) = condition.to {
        parts.push(Box::new(
            sources::published_on.is_not_null().and(day.le(to)),
        ));
    }
    match condition.is_null {
        Some(true) => parts.push(Box::new(sources::published_on.is_null())),
        Some(false) => parts.push(Box::new(sources::published_on.is_not_null())),
        None => {}
    }
    all(parts)
}

/// The SQL condition of `filter`.
pub fn condition(filter: &SourceFilter) -> Condition {
    let mut parts: Vec<Condition> = Vec::new();
    if let Some(c) = &filter.url {
        parts.push(url_condition(c));
    }
    if let Some(c) = &filter.title {
        parts.push(title_condition(c));
    }
    if let Some(c) = &filter.publisher {
        parts.push(publisher_condition(c));
    }
    if let Some(c) = &filter.published_on {
        parts.push(date_condition(c));
    }
    for f in &filter.and {
        parts.push(condition(f));
    }
    if !filter.or.is_empty() {
        let any = filter
            .or
            .iter()
            .map(condition)
            .reduce(|a, b| Box::new(a.or(b)))
            .unwrap_or_else(never);
        parts.push(any);
    }
    if let Some(f) = &filter.not {
        parts.push(Box::new(diesel::dsl::not(condition(f))));
    }
    all(parts)
}

/// Which way a page goes from its cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `first`: ascending (url, id), after `after`.
    Forward,
    /// `last`: descending from `before`; the caller reverses the rows.
    Backward,
}

/// Up to `limit` sources matching `filter` strictly between the keysets
/// `after` and `before`, in (url, id) order from the side `direction` says.
pub async fn page(
    conn: &mut AsyncPgConnection,
    filter: &SourceFilter,
    after: Option<(&str, i64)>,
    before: Option<(&str, i64)>,
    direction: Direction,
    limit: i64,
) -> QueryResult<Vec<SourceRow>> {
    let mut query = sources::table
        .filter(condition(filter))
        .select(SourceRow::as_select())
        .into_boxed();
    // url is unique, so (url, id) compares as url alone would; the id keeps
    // the cursor format of every other list.
    if let Some((url, _)) = after {
        query = query.filter(sources::url.gt(url.to_owned()));
    }
    if let Some((url, _)) = before {
        query = query.filter(sources::url.lt(url.to_owned()));
    }
    query = match direction {
        Direction::Forward => query.order((sources::url.asc(), sources::id.asc())),
        Direction::Backward => query.order((sources::url.desc(), sources::id.desc())),
    };
    query.limit(limit).load(conn).await
}

/// How many sources match `filter`.
pub async fn count(conn: &mut AsyncPgConnection, filter: &SourceFilter) -> QueryResult<i64> {
    if filter.is_empty() {
        return super::row_counts::of(conn, super::row_counts::Counted::Sources).await;
    }
    sources::table
        .filter(condition(filter))
        .select(count_star())
        .first(conn)
        .await
}

/// The source with this URL.
pub async fn by_url(conn: &mut AsyncPgConnection, url: &str) -> QueryResult<Option<SourceRow>> {
    sources::table
        .filter(sources::url.eq(url))
        .select(SourceRow::as_select())
        .first(conn)
        .await
        .optional()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_stand_for_themselves() {
        assert_eq!(escape_like(r"50%_a\b"), r"50\%\_a\\b");
    }
}
