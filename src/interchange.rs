//! Whole data sets as JSON Lines, one entity per line (see
//! `docs/interchange.md`). `talentgraph export` writes every entity;
//! `talentgraph import` (and `seed`, with the article's file) validates every
//! line, resolves references by slug and URL, and applies the lot in one
//! transaction or nothing. Entities that already exist (same slug, URL; for a
//! stint the same person, organization, title and start date; for an
//! authorship the same publication and position) are kept as they are, so
//! importing a file twice changes nothing and never undoes an edit made since
//! (a stint ended through the API stays ended).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use crate::db::attestations::NewAttestation;
use crate::db::authorships::NewAuthorship;
use crate::db::employments::NewEmployment;
use crate::db::organizations::NewOrganization;
use crate::db::people::NewPerson;
use crate::db::publications::NewPublication;
use crate::db::schema::{
    authorship_sources, authorships, employment_sources, employments, organizations, people,
    publications, sources,
};
use crate::db::sources::NewSource;
use crate::db::writes::{self, Author};
use crate::domain::PartialDate;
use crate::domain::point_in_time::Claim;
use crate::domain::validate::{self, Checked, FieldError, MAX_BIO, MAX_NAME, MAX_TITLE};

const KINDS: [&str; 7] = [
    "COMPANY",
    "STARTUP",
    "RESEARCH_LAB",
    "UNIVERSITY",
    "NONPROFIT",
    "GOVERNMENT",
    "OTHER",
];

/// One line of a data set file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Line {
    Source(SourceLine),
    Organization(OrganizationLine),
    Person(PersonLine),
    Publication(PublicationLine),
    Employment(EmploymentLine),
    Authorship(AuthorshipLine),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SourceLine {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_on: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrganizationLine {
    pub slug: String,
    pub name: String,
    /// One of `COMPANY`, `STARTUP`, `RESEARCH_LAB`, `UNIVERSITY`, `NONPROFIT`,
    /// `GOVERNMENT`, `OTHER`.
    pub kind: String,
    /// The parent organization's slug.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub founded_on: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PersonLine {
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bio: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublicationLine {
    pub slug: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EmploymentLine {
    /// The person's slug.
    pub person: String,
    /// The organization's slug.
    pub organization: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default)]
    pub is_founder: bool,
    #[serde(default)]
    pub is_leader: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_on: Option<String>,
    pub is_current: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub career_position: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_years: Option<i32>,
    /// Source URLs: at least one.
    pub sources: Vec<String>,
    /// Evidence on dates, each citing its source.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attestations: Vec<AttestationLine>,
}

/// A source shows the stint going on (or already over) on a date.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttestationLine {
    /// The date, at the precision the source gives.
    pub on: String,
    /// `IN_PROGRESS` (the default, left out) or `ENDED`.
    #[serde(default, skip_serializing_if = "ClaimText::is_in_progress")]
    pub claim: ClaimText,
    /// The source's URL.
    pub source: String,
}

/// An attestation's claim as the interchange format spells it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ClaimText {
    #[default]
    InProgress,
    Ended,
}

impl ClaimText {
    fn is_in_progress(&self) -> bool {
        *self == ClaimText::InProgress
    }

    fn claim(self) -> Claim {
        match self {
            ClaimText::InProgress => Claim::InProgress,
            ClaimText::Ended => Claim::Ended,
        }
    }

    fn of(claim: Claim) -> Self {
        match claim {
            Claim::InProgress => ClaimText::InProgress,
            Claim::Ended => ClaimText::Ended,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthorshipLine {
    /// The publication's slug.
    pub publication: String,
    pub position: i32,
    /// The person's slug.
    pub person: String,
    /// The affiliation's organization slug.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affiliation: Option<String>,
    /// Source URLs: at least one.
    pub sources: Vec<String>,
}

/// What an import added, per kind; all zero when everything was there already.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub organizations: usize,
    pub people: usize,
    pub employments: usize,
    pub publications: usize,
    pub authorships: usize,
    pub sources: usize,
    pub attestations: usize,
}

/// Why an import was refused; nothing was written.
#[derive(Debug)]
pub enum ImportError {
    /// Lines that are malformed, invalid or refer to nothing, each with its
    /// (1-based) line number.
    Invalid(Vec<LineError>),
    Database(diesel::result::Error),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "line {}: {field}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::Invalid(errors) => {
                write!(f, "{} invalid line(s), nothing imported", errors.len())?;
                for error in errors {
                    write!(f, "\n  {error}")?;
                }
                Ok(())
            }
            ImportError::Database(error) => write!(f, "the database refused the import: {error}"),
        }
    }
}

impl std::error::Error for ImportError {}

impl From<diesel::result::Error> for ImportError {
    fn from(error: diesel::result::Error) -> Self {
        ImportError::Database(error)
    }
}

/// Stop listing problems after this many: the file needs fixing anyway.
const MAX_REPORTED_ERRORS: usize = 100;

fn partial_date(field: &str, value: &Option<String>) -> Checked<Option<PartialDate>> {
    value
        .as_deref()
        .map(|text| {
            text.parse::<PartialDate>()
                .map_err(|e| FieldError::new(field, e.to_string()))
        })
        .transpose()
}

fn check_sources(field: &str, urls: &[String]) -> Checked {
    if urls.is_empty() {
        return Err(FieldError::new(field, "a fact needs at least one source"));
    }
    for (i, url) in urls.iter().enumerate() {
        validate::url(&format!("{field}.{i}"), url)?;
    }
    Ok(())
}

/// The checks that need no database: the same rules as the mutations.
fn check_line(line: &Line) -> Checked {
    match line {
        Line::Source(s) => {
            validate::url("url", &s.url)?;
            validate::optional_text("title", s.title.as_deref(), MAX_TITLE)?;
            validate::optional_text("publisher", s.publisher.as_deref(), MAX_NAME)?;
            partial_date("publishedOn", &s.published_on)?;
        }
        Line::Organization(o) => {
            validate::slug("slug", &o.slug)?;
            validate::text("name", &o.name, MAX_NAME)?;
            if !KINDS.contains(&o.kind.as_str()) {
                return Err(FieldError::new(
                    "kind",
                    format!("{:?} is not one of {}", o.kind, KINDS.join(", ")),
                ));
            }
            if o.parent.as_deref() == Some(o.slug.as_str()) {
                return Err(FieldError::new(
                    "parent",
                    "an organization cannot be its own unit",
                ));
            }
            validate::country("country", o.country.as_deref())?;
            validate::optional_url("website", o.website.as_deref())?;
            partial_date("foundedOn", &o.founded_on)?;
        }
        Line::Person(p) => {
            validate::slug("slug", &p.slug)?;
            validate::text("name", &p.name, MAX_NAME)?;
            validate::aliases("aliases", &p.aliases)?;
            validate::optional_text("bio", p.bio.as_deref(), MAX_BIO)?;
        }
        Line::Publication(p) => {
            validate::slug("slug", &p.slug)?;
            validate::text("title", &p.title, MAX_TITLE)?;
            validate::optional_text("venue", p.venue.as_deref(), MAX_NAME)?;
            validate::optional_url("url", p.url.as_deref())?;
            partial_date("publishedOn", &p.published_on)?;
        }
        Line::Employment(e) => {
            validate::optional_text("title", e.title.as_deref(), MAX_NAME)?;
            let started = partial_date("startedOn", &e.started_on)?;
            let ended = partial_date("endedOn", &e.ended_on)?;
            validate::date_order("endedOn", started, ended)?;
            validate::current_has_no_end("isCurrent", e.is_current, ended)?;
            validate::positive("careerPosition", e.career_position, 1_000)?;
            validate::positive("reportedYears", e.reported_years, 100)?;
            check_sources("sources", &e.sources)?;
            for (i, attestation) in e.attestations.iter().enumerate() {
                partial_date(
                    &format!("attestations.{i}.on"),
                    &Some(attestation.on.clone()),
                )?;
                validate::url(&format!("attestations.{i}.source"), &attestation.source)?;
            }
        }
        Line::Authorship(a) => {
            validate::positive("position", Some(a.position), 10_000)?;
            check_sources("sources", &a.sources)?;
        }
    }
    Ok(())
}

/// Parses and checks every line; all the problems, or the lines with their numbers.
pub fn parse(text: &str) -> Result<Vec<(usize, Line)>, ImportError> {
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Line>(raw) {
            Ok(line) => match check_line(&line) {
                Ok(()) => lines.push((number, line)),
                Err(e) => errors.push(LineError {
                    line: number,
                    field: Some(e.field),
                    message: e.message,
                }),
            },
            Err(e) => errors.push(LineError {
                line: number,
                field: None,
                message: format!("not a data set line: {e}"),
            }),
        }
        if errors.len() >= MAX_REPORTED_ERRORS {
            break;
        }
    }
    if errors.is_empty() {
        Ok(lines)
    } else {
        Err(ImportError::Invalid(errors))
    }
}

/// Dates were checked by `parse`; read again here without a second error path.
fn date_of(value: &Option<String>) -> Option<PartialDate> {
    value.as_deref().and_then(|t| t.parse().ok())
}

/// Ids by natural key, for the keys a file mentions.
struct Keys {
    sources: HashMap<String, i64>,
    organizations: HashMap<String, i64>,
    people: HashMap<String, i64>,
    publications: HashMap<String, i64>,
}

/// Imports `text` in one transaction, attributed to `author`.
pub async fn import(
    conn: &mut AsyncPgConnection,
    text: &str,
    author: &Author,
) -> Result<ImportReport, ImportError> {
    let lines = parse(text)?;
    conn.transaction(async |conn| -> Result<ImportReport, ImportError> {
        writes::name_author(conn, author).await?;
        // Two importers at once would race on "is it there yet?".
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('talentgraph.import'))")
            .execute(conn)
            .await?;
        apply(conn, &lines).await
    })
    .await
}

async fn apply(
    conn: &mut AsyncPgConnection,
    lines: &[(usize, Line)],
) -> Result<ImportReport, ImportError> {
    let mut report = ImportReport::default();
    let mut keys = Keys {
        sources: HashMap::new(),
        organizations: HashMap::new(),
        people: HashMap::new(),
        publications: HashMap::new(),
    };
    let mut errors = Vec::new();

    // Sources, people and publications stand alone: insert the missing ones.
    for (_, line) in lines {
        match line {
            Line::Source(s) => {
                let (published_on, published_on_precision) =
                    PartialDate::to_columns(date_of(&s.published_on));
                let added = writes::insert_source_unless_taken(
                    conn,
                    &NewSource {
                        url: &s.url,
                        title: s.title.as_deref(),
                        publisher: s.publisher.as_deref(),
                        published_on,
                        published_on_precision,
                    },
                )
                .await?
                .is_some();
                report.sources += usize::from(added);
            }
            Line::Person(p) => {
                let added = writes::insert_person_unless_taken(
                    conn,
                    &NewPerson {
                        slug: &p.slug,
                        name: &p.name,
                        aliases: p.aliases.iter().map(String::as_str).collect(),
                        bio: p.bio.as_deref(),
                    },
                )
                .await?
                .is_some();
                report.people += usize::from(added);
            }
            Line::Publication(p) => {
                let (published_on, published_on_precision) =
                    PartialDate::to_columns(date_of(&p.published_on));
                let added = writes::insert_publication_unless_taken(
                    conn,
                    &NewPublication {
                        slug: &p.slug,
                        title: &p.title,
                        published_on,
                        published_on_precision,
                        venue: p.venue.as_deref(),
                        url: p.url.as_deref(),
                    },
                )
                .await?
                .is_some();
                report.publications += usize::from(added);
            }
            _ => {}
        }
    }

    // Organizations: parents first, whatever the file's order.
    let organizations: Vec<(usize, &OrganizationLine)> = lines
        .iter()
        .filter_map(|(n, l)| match l {
            Line::Organization(o) => Some((*n, o)),
            _ => None,
        })
        .collect();
    let in_file: HashSet<&str> = organizations.iter().map(|(_, o)| o.slug.as_str()).collect();
    let mut placed: HashSet<&str> = HashSet::new();
    let mut pending = organizations.clone();
    while !pending.is_empty() {
        let (ready, waiting): (Vec<_>, Vec<_>) = pending.into_iter().partition(|(_, o)| {
            o.parent
                .as_deref()
                .is_none_or(|p| !in_file.contains(p) || placed.contains(p))
        });
        if ready.is_empty() {
            for (line, o) in &waiting {
                errors.push(LineError {
                    line: *line,
                    field: Some("parent".into()),
                    message: format!("{:?} is part of a cycle of parents", o.slug),
                });
            }
            return Err(ImportError::Invalid(errors));
        }
        let parents: Vec<String> = ready.iter().filter_map(|(_, o)| o.parent.clone()).collect();
        keys.organizations
            .extend(ids_by_slug(conn, Table::Organizations, &parents).await?);
        for (line, o) in &ready {
            let parent_id = match &o.parent {
                None => None,
                Some(parent) => match keys.organizations.get(parent) {
                    Some(id) => Some(*id),
                    None => {
                        errors.push(LineError {
                            line: *line,
                            field: Some("parent".into()),
                            message: format!("no organization has the slug {parent:?}"),
                        });
                        continue;
                    }
                },
            };
            let (founded_on, founded_on_precision) =
                PartialDate::to_columns(date_of(&o.founded_on));
            let added = writes::insert_organization_unless_taken(
                conn,
                &NewOrganization {
                    slug: &o.slug,
                    name: &o.name,
                    kind: &o.kind.to_ascii_lowercase(),
                    parent_id,
                    country: o.country.as_deref(),
                    website: o.website.as_deref(),
                    founded_on,
                    founded_on_precision,
                },
            )
            .await?
            .is_some();
            report.organizations += usize::from(added);
            placed.insert(o.slug.as_str());
        }
        let slugs: Vec<String> = ready.iter().map(|(_, o)| o.slug.clone()).collect();
        keys.organizations
            .extend(ids_by_slug(conn, Table::Organizations, &slugs).await?);
        pending = waiting;
    }

    // Every key the facts refer to, in one query per table.
    let mut wanted = Wanted::default();
    for (_, line) in lines {
        match line {
            Line::Employment(e) => {
                wanted.people.insert(e.person.clone());
                wanted.organizations.insert(e.organization.clone());
                wanted.sources.extend(e.sources.iter().cloned());
                wanted
                    .sources
                    .extend(e.attestations.iter().map(|a| a.source.clone()));
            }
            Line::Authorship(a) => {
                wanted.people.insert(a.person.clone());
                wanted.publications.insert(a.publication.clone());
                wanted.organizations.extend(a.affiliation.iter().cloned());
                wanted.sources.extend(a.sources.iter().cloned());
            }
            _ => {}
        }
    }
    keys.people = ids_by_slug(conn, Table::People, &Vec::from_iter(wanted.people)).await?;
    keys.publications = ids_by_slug(
        conn,
        Table::Publications,
        &Vec::from_iter(wanted.publications),
    )
    .await?;
    keys.organizations.extend(
        ids_by_slug(
            conn,
            Table::Organizations,
            &Vec::from_iter(wanted.organizations),
        )
        .await?,
    );
    let urls: Vec<String> = wanted.sources.into_iter().collect();
    keys.sources = sources::table
        .filter(sources::url.eq_any(&urls))
        .select((sources::url, sources::id))
        .load::<(String, i64)>(conn)
        .await?
        .into_iter()
        .collect();

    let lookup = |map: &HashMap<String, i64>, line: usize, field: &str, key: &str, what: &str| {
        map.get(key).copied().ok_or_else(|| LineError {
            line,
            field: Some(field.to_owned()),
            message: format!("no {what} has the key {key:?}"),
        })
    };

    for (number, line) in lines {
        match line {
            Line::Employment(e) => {
                let resolved = (|| {
                    let person = lookup(&keys.people, *number, "person", &e.person, "person")?;
                    let organization = lookup(
                        &keys.organizations,
                        *number,
                        "organization",
                        &e.organization,
                        "organization",
                    )?;
                    let sources = e
                        .sources
                        .iter()
                        .enumerate()
                        .map(|(i, url)| {
                            lookup(
                                &keys.sources,
                                *number,
                                &format!("sources.{i}"),
                                url,
                                "source",
                            )
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    let attested = e
                        .attestations
                        .iter()
                        .enumerate()
                        .map(|(i, a)| {
                            lookup(
                                &keys.sources,
                                *number,
                                &format!("attestations.{i}.source"),
                                &a.source,
                                "source",
                            )
                            .map(|source_id| {
                                (source_id, a.claim.claim(), date_of(&Some(a.on.clone())))
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok::<_, LineError>((person, organization, sources, attested))
                })();
                let (person_id, organization_id, source_ids, attested) = match resolved {
                    Ok(r) => r,
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                };
                let (started_on, started_on_precision) =
                    PartialDate::to_columns(date_of(&e.started_on));
                let (ended_on, ended_on_precision) = PartialDate::to_columns(date_of(&e.ended_on));
                let existing: Option<i64> = employments::table
                    .filter(employments::person_id.eq(person_id))
                    .filter(employments::organization_id.eq(organization_id))
                    .filter(employments::title.is_not_distinct_from(e.title.as_deref()))
                    .filter(employments::started_on.is_not_distinct_from(started_on))
                    .select(employments::id)
                    .first(conn)
                    .await
                    .optional()?;
                if existing.is_some() {
                    continue;
                }
                let row = writes::insert_employment(
                    conn,
                    &NewEmployment {
                        person_id,
                        organization_id,
                        title: e.title.as_deref(),
                        is_founder: e.is_founder,
                        started_on,
                        started_on_precision,
                        ended_on,
                        ended_on_precision,
                        is_current: e.is_current,
                        career_position: e.career_position,
                        reported_years: e.reported_years,
                        is_leader: e.is_leader,
                    },
                )
                .await?;
                writes::cite_for_employment(conn, row.id, &source_ids).await?;
                let attestations: Vec<NewAttestation> = attested
                    .iter()
                    .filter_map(|(source_id, claim, on)| {
                        on.map(|on| {
                            let (on_date, on_date_precision) = on.columns();
                            NewAttestation {
                                employment_id: row.id,
                                source_id: *source_id,
                                claim: claim.as_db(),
                                on_date,
                                on_date_precision,
                            }
                        })
                    })
                    .collect();
                report.attestations += crate::db::attestations::insert(conn, &attestations).await?;
                report.employments += 1;
            }
            Line::Authorship(a) => {
                let resolved = (|| {
                    let publication = lookup(
                        &keys.publications,
                        *number,
                        "publication",
                        &a.publication,
                        "publication",
                    )?;
                    let person = lookup(&keys.people, *number, "person", &a.person, "person")?;
                    let affiliation = a
                        .affiliation
                        .as_deref()
                        .map(|slug| {
                            lookup(
                                &keys.organizations,
                                *number,
                                "affiliation",
                                slug,
                                "organization",
                            )
                        })
                        .transpose()?;
                    let sources = a
                        .sources
                        .iter()
                        .enumerate()
                        .map(|(i, url)| {
                            lookup(
                                &keys.sources,
                                *number,
                                &format!("sources.{i}"),
                                url,
                                "source",
                            )
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok::<_, LineError>((publication, person, affiliation, sources))
                })();
                let (publication_id, person_id, affiliation_id, source_ids) = match resolved {
                    Ok(r) => r,
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                };
                // The position keys are deferrable (author lists get reordered), and
                // ON CONFLICT cannot use those: look first, under the import lock.
                let existing: Option<i64> = authorships::table
                    .filter(authorships::publication_id.eq(publication_id))
                    .filter(authorships::position.eq(a.position))
                    .select(authorships::id)
                    .first(conn)
                    .await
                    .optional()?;
                let inserted = match existing {
                    Some(_) => None,
                    None => Some(
                        writes::insert_authorship(
                            conn,
                            &NewAuthorship {
                                publication_id,
                                person_id,
                                position: a.position,
                                affiliation_id,
                            },
                        )
                        .await?
                        .id,
                    ),
                };
                if let Some(id) = inserted {
                    writes::cite_for_authorship(conn, id, &source_ids).await?;
                    report.authorships += 1;
                }
            }
            _ => {}
        }
    }
    if errors.is_empty() {
        Ok(report)
    } else {
        errors.sort_by_key(|e| e.line);
        Err(ImportError::Invalid(errors))
    }
}

#[derive(Default)]
struct Wanted {
    people: BTreeSet<String>,
    organizations: BTreeSet<String>,
    publications: BTreeSet<String>,
    sources: BTreeSet<String>,
}

#[derive(Clone, Copy)]
enum Table {
    Organizations,
    People,
    Publications,
}

async fn ids_by_slug(
    conn: &mut AsyncPgConnection,
    table: Table,
    slugs: &[String],
) -> QueryResult<HashMap<String, i64>> {
    if slugs.is_empty() {
        return Ok(HashMap::new());
    }
    let pairs: Vec<(String, i64)> = match table {
        Table::Organizations => {
            organizations::table
                .filter(organizations::slug.eq_any(slugs))
                .select((organizations::slug, organizations::id))
                .load(conn)
                .await?
        }
        Table::People => {
            people::table
                .filter(people::slug.eq_any(slugs))
                .select((people::slug, people::id))
                .load(conn)
                .await?
        }
        Table::Publications => {
            publications::table
                .filter(publications::slug.eq_any(slugs))
                .select((publications::slug, publications::id))
                .load(conn)
                .await?
        }
    };
    Ok(pairs.into_iter().collect())
}

fn date_text(day: Option<NaiveDate>, precision: Option<String>) -> Option<String> {
    PartialDate::from_columns(day, precision.as_deref())
        .ok()
        .flatten()
        .map(|d| d.to_string())
}

/// Every entity as lines, in an order that depends only on the data: sources
/// by URL, organizations parents first then by slug, people, publications,
/// stints and authorships by their natural keys.
pub async fn export(conn: &mut AsyncPgConnection) -> QueryResult<Vec<Line>> {
    let mut out = Vec::new();

    let source_rows: Vec<crate::db::sources::SourceRow> = sources::table
        .select(crate::db::sources::SourceRow::as_select())
        .order(sources::url)
        .load(conn)
        .await?;
    let urls: HashMap<i64, String> = source_rows.iter().map(|s| (s.id, s.url.clone())).collect();
    out.extend(source_rows.into_iter().map(|s| {
        Line::Source(SourceLine {
            url: s.url,
            title: s.title,
            publisher: s.publisher,
            published_on: date_text(s.published_on, s.published_on_precision),
        })
    }));

    let org_rows: Vec<crate::db::organizations::OrganizationRow> = organizations::table
        .select(crate::db::organizations::OrganizationRow::as_select())
        .order(organizations::slug)
        .load(conn)
        .await?;
    let org_slugs: HashMap<i64, String> = org_rows.iter().map(|o| (o.id, o.slug.clone())).collect();
    let parents: HashMap<i64, Option<i64>> = org_rows.iter().map(|o| (o.id, o.parent_id)).collect();
    let depth = |mut id: i64| {
        let mut depth = 0;
        while let Some(Some(parent)) = parents.get(&id) {
            depth += 1;
            id = *parent;
            if depth > org_rows.len() {
                break;
            }
        }
        depth
    };
    let mut ordered: Vec<(usize, &crate::db::organizations::OrganizationRow)> =
        org_rows.iter().map(|o| (depth(o.id), o)).collect();
    ordered.sort_by(|a, b| (a.0, &a.1.slug).cmp(&(b.0, &b.1.slug)));
    for (_, o) in ordered {
        out.push(Line::Organization(OrganizationLine {
            slug: o.slug.clone(),
            name: o.name.clone(),
            kind: o.kind.to_ascii_uppercase(),
            parent: o.parent_id.and_then(|p| org_slugs.get(&p).cloned()),
            country: o.country.clone(),
            website: o.website.clone(),
            founded_on: date_text(o.founded_on, o.founded_on_precision.clone()),
        }));
    }

    let person_rows: Vec<crate::db::people::PersonRow> = people::table
        .select(crate::db::people::PersonRow::as_select())
        .order(people::slug)
        .load(conn)
        .await?;
    let person_slugs: HashMap<i64, String> =
        person_rows.iter().map(|p| (p.id, p.slug.clone())).collect();
    out.extend(person_rows.into_iter().map(|p| {
        Line::Person(PersonLine {
            slug: p.slug,
            name: p.name,
            aliases: p.aliases,
            bio: p.bio,
        })
    }));

    let publication_rows: Vec<crate::db::publications::PublicationRow> = publications::table
        .select(crate::db::publications::PublicationRow::as_select())
        .order(publications::slug)
        .load(conn)
        .await?;
    let publication_slugs: HashMap<i64, String> = publication_rows
        .iter()
        .map(|p| (p.id, p.slug.clone()))
        .collect();
    out.extend(publication_rows.into_iter().map(|p| {
        Line::Publication(PublicationLine {
            slug: p.slug,
            title: p.title,
            published_on: date_text(p.published_on, p.published_on_precision),
            venue: p.venue,
            url: p.url,
        })
    }));

    let citations = |pairs: Vec<(i64, i64)>| {
        let mut by_fact: HashMap<i64, Vec<String>> = HashMap::new();
        for (fact, source) in pairs {
            if let Some(url) = urls.get(&source) {
                by_fact.entry(fact).or_default().push(url.clone());
            }
        }
        for list in by_fact.values_mut() {
            list.sort();
        }
        by_fact
    };
    let employment_citations = citations(
        employment_sources::table
            .select((
                employment_sources::employment_id,
                employment_sources::source_id,
            ))
            .load(conn)
            .await?,
    );
    let authorship_citations = citations(
        authorship_sources::table
            .select((
                authorship_sources::authorship_id,
                authorship_sources::source_id,
            ))
            .load(conn)
            .await?,
    );

    let mut attestations: HashMap<i64, Vec<AttestationLine>> = HashMap::new();
    for a in crate::db::attestations::all(conn).await? {
        let Some(claim) = Claim::from_db(&a.claim) else {
            return Err(diesel::result::Error::DeserializationError(
                format!("unknown attestation claim {:?}", a.claim).into(),
            ));
        };
        let on = date_text(Some(a.on_date), Some(a.on_date_precision)).unwrap_or_default();
        if let Some(url) = urls.get(&a.source_id) {
            attestations
                .entry(a.employment_id)
                .or_default()
                .push(AttestationLine {
                    on,
                    claim: ClaimText::of(claim),
                    source: url.clone(),
                });
        }
    }
    for list in attestations.values_mut() {
        list.sort();
    }

    let missing = |what: &str, id: i64| {
        diesel::result::Error::DeserializationError(format!("{what} {id} is missing").into())
    };
    let mut stints = Vec::new();
    let employment_rows: Vec<crate::db::employments::EmploymentRow> = employments::table
        .select(crate::db::employments::EmploymentRow::as_select())
        .order(employments::id)
        .load(conn)
        .await?;
    for e in employment_rows {
        let line = EmploymentLine {
            person: person_slugs
                .get(&e.person_id)
                .cloned()
                .ok_or_else(|| missing("person", e.person_id))?,
            organization: org_slugs
                .get(&e.organization_id)
                .cloned()
                .ok_or_else(|| missing("organization", e.organization_id))?,
            title: e.title,
            is_founder: e.is_founder,
            is_leader: e.is_leader,
            started_on: date_text(e.started_on, e.started_on_precision),
            ended_on: date_text(e.ended_on, e.ended_on_precision),
            is_current: e.is_current,
            career_position: e.career_position,
            reported_years: e.reported_years,
            sources: employment_citations.get(&e.id).cloned().unwrap_or_default(),
            attestations: attestations.remove(&e.id).unwrap_or_default(),
        };
        stints.push(line);
    }
    stints.sort_by(|a, b| {
        (
            &a.person,
            &a.career_position,
            &a.started_on,
            &a.organization,
            &a.title,
        )
            .cmp(&(
                &b.person,
                &b.career_position,
                &b.started_on,
                &b.organization,
                &b.title,
            ))
    });
    out.extend(stints.into_iter().map(Line::Employment));

    let mut authors = Vec::new();
    let authorship_rows: Vec<crate::db::authorships::AuthorshipRow> = authorships::table
        .select(crate::db::authorships::AuthorshipRow::as_select())
        .load(conn)
        .await?;
    for a in authorship_rows {
        authors.push(AuthorshipLine {
            publication: publication_slugs
                .get(&a.publication_id)
                .cloned()
                .ok_or_else(|| missing("publication", a.publication_id))?,
            position: a.position,
            person: person_slugs
                .get(&a.person_id)
                .cloned()
                .ok_or_else(|| missing("person", a.person_id))?,
            affiliation: a.affiliation_id.and_then(|o| org_slugs.get(&o).cloned()),
            sources: authorship_citations.get(&a.id).cloned().unwrap_or_default(),
        });
    }
    authors.sort_by(|a, b| (&a.publication, a.position).cmp(&(&b.publication, b.position)));
    out.extend(authors.into_iter().map(Line::Authorship));
    Ok(out)
}

/// The lines as JSON Lines text.
pub fn to_jsonl(lines: &[Line]) -> Result<String, serde_json::Error> {
    let mut text = String::new();
    for line in lines {
        text.push_str(&serde_json::to_string(line)?);
        text.push('\n');
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_line_numbers_and_fields() {
        let text = [
            r#"{"type":"person","slug":"ada","name":"Ada"}"#,
            "",
            r#"{"type":"person","slug":"Not A Slug","name":"Bob"}"#,
            r#"{"type":"employment","person":"ada","organization":"x","isCurrent":true,"sources":[]}"#,
            r#"{"type":"robot"}"#,
            r#"{"type":"employment","person":"ada","organization":"x","isCurrent":false,"startedOn":"2024","endedOn":"2023","sources":["https://a.example"]}"#,
            r#"{"type":"source","url":"https://a.example","publishedOn":"2024-02-30"}"#,
        ]
        .join("\n");
        let Err(ImportError::Invalid(errors)) = parse(&text) else {
            panic!("invalid lines must be refused");
        };
        let found: Vec<(usize, Option<&str>)> = errors
            .iter()
            .map(|e| (e.line, e.field.as_deref()))
            .collect();
        assert_eq!(
            found,
            vec![
                (3, Some("slug")),
                (4, Some("sources")),
                (5, None),
                (6, Some("endedOn")),
                (7, Some("publishedOn")),
            ]
        );
    }

    #[test]
    fn lines_round_trip_through_json() {
        let line = Line::Employment(EmploymentLine {
            person: "ada".into(),
            organization: "meta".into(),
            title: Some("Researcher".into()),
            is_founder: false,
            is_leader: false,
            started_on: Some("2023-04".into()),
            ended_on: None,
            is_current: true,
            career_position: None,
            reported_years: None,
            sources: vec!["https://a.example".into()],
            attestations: vec![AttestationLine {
                on: "2023-02-27".into(),
                claim: ClaimText::InProgress,
                source: "https://a.example".into(),
            }],
        });
        let text = to_jsonl(std::slice::from_ref(&line)).expect("serializable");
        assert!(
            text.starts_with(r#"{"type":"employment","person":"ada""#),
            "{text}"
        );
        let parsed = parse(&text).expect("valid");
        assert_eq!(parsed, vec![(1, line)]);
    }
}
