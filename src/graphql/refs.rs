//! References to entities: one `@oneOf` input per entity, naming it by its
//! global id or by its natural key (slug or URL), so that an argument can take
//! whichever the client holds.

use async_graphql::{ID, OneofObject};

/// An organization, by exactly one of its global id or its slug.
#[derive(Debug, Clone, PartialEq, Eq, Hash, OneofObject)]
pub enum OrganizationRef {
    /// The organization's global id (`Organization.id`).
    Id(ID),
    /// The organization's slug, e.g. `meta` or `fair`.
    Slug(String),
}

/// A person, by exactly one of their global id or their slug.
#[derive(Debug, Clone, PartialEq, Eq, Hash, OneofObject)]
pub enum PersonRef {
    /// The person's global id (`Person.id`).
    Id(ID),
    /// The person's slug, e.g. `guillaume-lample`.
    Slug(String),
}

/// A publication, by exactly one of its global id or its slug.
#[derive(Debug, Clone, PartialEq, Eq, Hash, OneofObject)]
pub enum PublicationRef {
    /// The publication's global id (`Publication.id`).
    Id(ID),
    /// The publication's slug, e.g. `llama-2023`.
    Slug(String),
}

/// A source, by exactly one of its global id or its URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, OneofObject)]
pub enum SourceRef {
    /// The source's global id (`Source.id`).
    Id(ID),
    /// The source's URL, exactly as recorded.
    Url(String),
}
