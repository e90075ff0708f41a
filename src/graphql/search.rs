//! `Query.search`: one ranked list across people, organizations and publications.

use async_graphql::Union;

use super::organization::Organization;
use super::person::Person;
use super::publication::Publication;

/// Anything `search` can find.
#[derive(Union)]
pub enum SearchResult {
    Person(Person),
    Organization(Organization),
    Publication(Publication),
}

/// Results when `first` is not given.
pub const DEFAULT_RESULTS: i32 = 10;
/// The most results `search` returns.
pub const MAX_RESULTS: i32 = 50;
