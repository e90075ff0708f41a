//! The article's data set: "11 of the 14 authors of the 2023 LLaMA paper have
//! left Meta, five of them for Mistral" (`../shared/seed/`, via ListMyStartup.app
//! from Business Insider), and the LLaMA paper's arXiv page.
//!
//! Dates are stored only where a source gives them: the article gives none, so
//! stints carry no dates; the order of a career and a stated length ("after five
//! years") are kept in `career_position` and `reported_years` instead.
//!
//! Seeding adds what is missing, keyed by slug (and sources by URL): a person's
//! stints and a publication's authorships are written with the person or
//! publication, so running it twice changes nothing and never overwrites edits.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::db::authorships::NewAuthorship;
use crate::db::employments::{NewEmployment, NewEmploymentSource};
use crate::db::organizations::NewOrganization;
use crate::db::people::NewPerson;
use crate::db::publications::NewPublication;
use crate::db::schema::{
    authorship_sources, authorships, employment_sources, employments, organizations, people,
    publications, sources,
};
use crate::db::sources::NewSource;

const ARTICLE: &str = "https://www.listmystartup.app/article/metas-ai-exodus-how-mistral-and-others-are-winning-the-talent-war";
const ARXIV: &str = "https://arxiv.org/abs/2302.13971";

struct Org {
    slug: &'static str,
    name: &'static str,
    kind: &'static str,
    parent: Option<&'static str>,
    country: Option<&'static str>,
    website: Option<&'static str>,
}

const ORGANIZATIONS: &[Org] = &[
    Org {
        slug: "meta",
        name: "Meta",
        kind: "company",
        parent: None,
        country: Some("US"),
        website: Some("https://about.meta.com"),
    },
    Org {
        slug: "fair",
        name: "FAIR",
        kind: "research_lab",
        parent: Some("meta"),
        country: None,
        website: Some("https://ai.meta.com/research/"),
    },
    Org {
        slug: "mistral",
        name: "Mistral AI",
        kind: "startup",
        parent: None,
        country: Some("FR"),
        website: Some("https://mistral.ai"),
    },
    Org {
        slug: "thinking-machines-lab",
        name: "Thinking Machines Lab",
        kind: "startup",
        parent: None,
        country: Some("US"),
        website: Some("https://thinkingmachines.ai"),
    },
    Org {
        slug: "cohere",
        name: "Cohere",
        kind: "company",
        parent: None,
        country: Some("CA"),
        website: Some("https://cohere.com"),
    },
    Org {
        slug: "anthropic",
        name: "Anthropic",
        kind: "company",
        parent: None,
        country: Some("US"),
        website: Some("https://www.anthropic.com"),
    },
    Org {
        slug: "google",
        name: "Google",
        kind: "company",
        parent: None,
        country: Some("US"),
        website: Some("https://about.google"),
    },
    Org {
        slug: "google-deepmind",
        name: "Google DeepMind",
        kind: "research_lab",
        parent: Some("google"),
        country: Some("GB"),
        website: Some("https://deepmind.google"),
    },
    Org {
        slug: "microsoft",
        name: "Microsoft",
        kind: "company",
        parent: None,
        country: Some("US"),
        website: Some("https://www.microsoft.com"),
    },
    Org {
        slug: "microsoft-ai",
        name: "Microsoft AI",
        kind: "other",
        parent: Some("microsoft"),
        country: None,
        website: Some("https://microsoft.ai"),
    },
    Org {
        slug: "kyutai",
        name: "Kyutai",
        kind: "nonprofit",
        parent: None,
        country: Some("FR"),
        website: Some("https://kyutai.org"),
    },
];

struct Stint {
    organization: &'static str,
    title: Option<&'static str>,
    is_founder: bool,
    is_current: bool,
    career_position: Option<i32>,
    reported_years: Option<i32>,
    is_leader: bool,
    sources: &'static [&'static str],
}

struct PersonSeed {
    slug: &'static str,
    name: &'static str,
    aliases: &'static [&'static str],
    stints: &'static [Stint],
}

/// A LLaMA author's stint at Meta: attested by the paper's affiliation, and
/// by the article as ended (`left`) or not.
const fn at_meta(left: bool) -> Stint {
    Stint {
        organization: "meta",
        title: None,
        is_founder: false,
        is_current: !left,
        career_position: Some(1),
        reported_years: None,
        is_leader: false,
        sources: &[ARXIV, ARTICLE],
    }
}

/// Where a LLaMA author went after Meta, as the article's table gives it.
const fn now_at(organization: &'static str, title: &'static str, is_founder: bool) -> Stint {
    Stint {
        organization,
        title: Some(title),
        is_founder,
        is_current: true,
        career_position: Some(2),
        reported_years: None,
        is_leader: false,
        sources: &[ARTICLE],
    }
}

const PEOPLE: &[PersonSeed] = &[
    PersonSeed {
        slug: "hugo-touvron",
        name: "Hugo Touvron",
        aliases: &[],
        stints: &[at_meta(false)],
    },
    PersonSeed {
        slug: "thibaut-lavril",
        name: "Thibaut Lavril",
        aliases: &[],
        stints: &[
            at_meta(true),
            now_at("mistral", "AI Research Engineer", false),
        ],
    },
    PersonSeed {
        slug: "gautier-izacard",
        name: "Gautier Izacard",
        aliases: &[],
        stints: &[
            at_meta(true),
            now_at("microsoft-ai", "Technical Staff", false),
        ],
    },
    PersonSeed {
        slug: "xavier-martinet",
        name: "Xavier Martinet",
        aliases: &[],
        stints: &[at_meta(false)],
    },
    PersonSeed {
        slug: "marie-anne-lachaux",
        name: "Marie-Anne Lachaux",
        aliases: &[],
        stints: &[
            at_meta(true),
            now_at("mistral", "Founding Member and AI Research Engineer", false),
        ],
    },
    PersonSeed {
        slug: "timothee-lacroix",
        name: "Timothée Lacroix",
        aliases: &["Timothee Lacroix"],
        stints: &[at_meta(true), now_at("mistral", "Co-founder and CTO", true)],
    },
    PersonSeed {
        slug: "baptiste-roziere",
        name: "Baptiste Rozière",
        aliases: &["Baptiste Roziere"],
        stints: &[at_meta(true), now_at("mistral", "AI Scientist", false)],
    },
    PersonSeed {
        slug: "naman-goyal",
        name: "Naman Goyal",
        aliases: &[],
        stints: &[
            at_meta(true),
            now_at("thinking-machines-lab", "Member of Technical Staff", false),
        ],
    },
    PersonSeed {
        slug: "eric-hambro",
        name: "Eric Hambro",
        aliases: &[],
        stints: &[
            at_meta(true),
            now_at("anthropic", "Member of Technical Staff", false),
        ],
    },
    PersonSeed {
        slug: "faisal-azhar",
        name: "Faisal Azhar",
        aliases: &[],
        stints: &[at_meta(false)],
    },
    PersonSeed {
        slug: "aurelien-rodriguez",
        name: "Aurélien Rodriguez",
        aliases: &["Aurelien Rodriguez"],
        stints: &[
            at_meta(true),
            now_at("cohere", "Director, Foundation Model Training", false),
        ],
    },
    PersonSeed {
        slug: "armand-joulin",
        name: "Armand Joulin",
        aliases: &[],
        stints: &[
            at_meta(true),
            now_at("google-deepmind", "Distinguished Scientist", false),
        ],
    },
    PersonSeed {
        slug: "edouard-grave",
        name: "Edouard Grave",
        aliases: &["Édouard Grave"],
        stints: &[at_meta(true), now_at("kyutai", "Research Scientist", false)],
    },
    PersonSeed {
        slug: "guillaume-lample",
        name: "Guillaume Lample",
        aliases: &[],
        stints: &[
            at_meta(true),
            now_at("mistral", "Co-founder and Chief Scientist", true),
        ],
    },
    PersonSeed {
        slug: "arthur-mensch",
        name: "Arthur Mensch",
        aliases: &[],
        stints: &[Stint {
            organization: "mistral",
            title: Some("Co-founder"),
            is_founder: true,
            is_current: true,
            career_position: None,
            reported_years: None,
            is_leader: false,
            sources: &[ARTICLE],
        }],
    },
    // "Joelle Pineau, who led Meta's Fundamental AI Research group (FAIR) for
    // eight years", has stepped down.
    PersonSeed {
        slug: "joelle-pineau",
        name: "Joelle Pineau",
        aliases: &["Joëlle Pineau"],
        stints: &[Stint {
            organization: "fair",
            title: Some("Head of FAIR"),
            is_founder: false,
            is_current: false,
            career_position: None,
            reported_years: Some(8),
            is_leader: true,
            sources: &[ARTICLE],
        }],
    },
    // "Robert Fergus, a co-founder of FAIR who recently rejoined Meta after
    // five years at Google's DeepMind", replaces her.
    PersonSeed {
        slug: "robert-fergus",
        name: "Robert Fergus",
        aliases: &["Rob Fergus"],
        stints: &[
            Stint {
                organization: "fair",
                title: None,
                is_founder: true,
                is_current: false,
                career_position: Some(1),
                reported_years: None,
                is_leader: false,
                sources: &[ARTICLE],
            },
            Stint {
                organization: "google-deepmind",
                title: None,
                is_founder: false,
                is_current: false,
                career_position: Some(2),
                reported_years: Some(5),
                is_leader: false,
                sources: &[ARTICLE],
            },
            Stint {
                organization: "fair",
                title: Some("Head of FAIR"),
                is_founder: false,
                is_current: true,
                career_position: Some(3),
                reported_years: None,
                is_leader: true,
                sources: &[ARTICLE],
            },
        ],
    },
];

/// The LLaMA paper's authors, in author order.
const LLAMA_AUTHORS: [&str; 14] = [
    "hugo-touvron",
    "thibaut-lavril",
    "gautier-izacard",
    "xavier-martinet",
    "marie-anne-lachaux",
    "timothee-lacroix",
    "baptiste-roziere",
    "naman-goyal",
    "eric-hambro",
    "faisal-azhar",
    "aurelien-rodriguez",
    "armand-joulin",
    "edouard-grave",
    "guillaume-lample",
];

/// What a seeding run added.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub organizations: usize,
    pub people: usize,
    pub employments: usize,
    pub publications: usize,
    pub authorships: usize,
    pub sources: usize,
}

/// Loads the article's data set in one transaction.
pub async fn seed(conn: &mut AsyncPgConnection) -> QueryResult<SeedReport> {
    conn.transaction(async |conn| {
        {
            // Two seeders at once would otherwise race on "is it there yet?".
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('talentgraph.seed'))")
                .execute(conn)
                .await?;
            let mut report = SeedReport::default();
            let source_ids = seed_sources(conn, &mut report).await?;
            let org_ids = seed_organizations(conn, &mut report).await?;
            let person_ids = seed_people(conn, &org_ids, &source_ids, &mut report).await?;
            seed_llama(conn, &org_ids, &person_ids, &source_ids, &mut report).await?;
            Ok(report)
        }
    })
    .await
}

type Ids = HashMap<&'static str, i64>;

async fn seed_sources(conn: &mut AsyncPgConnection, report: &mut SeedReport) -> QueryResult<Ids> {
    let new_sources = [
        NewSource {
            url: ARTICLE,
            title: Some("Meta's AI Exodus: How Mistral and Others Are Winning the Talent War"),
            publisher: Some("ListMyStartup.app, from Business Insider"),
            published_on: None,
            published_on_precision: None,
        },
        NewSource {
            url: ARXIV,
            title: Some("LLaMA: Open and Efficient Foundation Language Models"),
            publisher: Some("arXiv"),
            published_on: NaiveDate::from_ymd_opt(2023, 2, 27),
            published_on_precision: Some("day"),
        },
    ];
    report.sources = diesel::insert_into(sources::table)
        .values(&new_sources[..])
        .on_conflict(sources::url)
        .do_nothing()
        .execute(conn)
        .await?;
    let rows: Vec<(i64, String)> = sources::table
        .filter(sources::url.eq_any([ARTICLE, ARXIV]))
        .select((sources::id, sources::url))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, url)| {
            [ARTICLE, ARXIV]
                .into_iter()
                .find(|u| *u == url)
                .map(|u| (u, id))
        })
        .collect())
}

async fn seed_organizations(
    conn: &mut AsyncPgConnection,
    report: &mut SeedReport,
) -> QueryResult<Ids> {
    let mut ids = Ids::new();
    // Parents come before their units in ORGANIZATIONS.
    for org in ORGANIZATIONS {
        let inserted = diesel::insert_into(organizations::table)
            .values(NewOrganization {
                slug: org.slug,
                name: org.name,
                kind: org.kind,
                parent_id: org.parent.and_then(|p| ids.get(p).copied()),
                country: org.country,
                website: org.website,
                founded_on: None,
                founded_on_precision: None,
            })
            .on_conflict(organizations::slug)
            .do_nothing()
            .execute(conn)
            .await?;
        report.organizations += inserted;
        let id = organizations::table
            .filter(organizations::slug.eq(org.slug))
            .select(organizations::id)
            .first(conn)
            .await?;
        ids.insert(org.slug, id);
    }
    Ok(ids)
}

fn id_of(ids: &Ids, key: &str) -> QueryResult<i64> {
    ids.get(key).copied().ok_or_else(|| {
        diesel::result::Error::QueryBuilderError(format!("seed data names unknown {key:?}").into())
    })
}

async fn seed_people(
    conn: &mut AsyncPgConnection,
    org_ids: &Ids,
    source_ids: &Ids,
    report: &mut SeedReport,
) -> QueryResult<Ids> {
    let mut ids = Ids::new();
    for person in PEOPLE {
        let inserted: Option<i64> = diesel::insert_into(people::table)
            .values(NewPerson {
                slug: person.slug,
                name: person.name,
                aliases: person.aliases.to_vec(),
                bio: None,
            })
            .on_conflict(people::slug)
            .do_nothing()
            .returning(people::id)
            .get_result(conn)
            .await
            .optional()?;
        let id = match inserted {
            Some(id) => {
                report.people += 1;
                for stint in person.stints {
                    insert_stint(conn, id, stint, org_ids, source_ids).await?;
                    report.employments += 1;
                }
                id
            }
            None => {
                people::table
                    .filter(people::slug.eq(person.slug))
                    .select(people::id)
                    .first(conn)
                    .await?
            }
        };
        ids.insert(person.slug, id);
    }
    Ok(ids)
}

async fn insert_stint(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    stint: &Stint,
    org_ids: &Ids,
    source_ids: &Ids,
) -> QueryResult<()> {
    let employment_id: i64 = diesel::insert_into(employments::table)
        .values(NewEmployment {
            person_id,
            organization_id: id_of(org_ids, stint.organization)?,
            title: stint.title,
            is_founder: stint.is_founder,
            started_on: None,
            started_on_precision: None,
            ended_on: None,
            ended_on_precision: None,
            is_current: stint.is_current,
            career_position: stint.career_position,
            reported_years: stint.reported_years,
            is_leader: stint.is_leader,
        })
        .returning(employments::id)
        .get_result(conn)
        .await?;
    let citations = stint
        .sources
        .iter()
        .map(|url| {
            Ok(NewEmploymentSource {
                employment_id,
                source_id: id_of(source_ids, url)?,
            })
        })
        .collect::<QueryResult<Vec<_>>>()?;
    diesel::insert_into(employment_sources::table)
        .values(citations)
        .execute(conn)
        .await?;
    Ok(())
}

async fn seed_llama(
    conn: &mut AsyncPgConnection,
    org_ids: &Ids,
    person_ids: &Ids,
    source_ids: &Ids,
    report: &mut SeedReport,
) -> QueryResult<()> {
    let inserted: Option<i64> = diesel::insert_into(publications::table)
        .values(NewPublication {
            slug: "llama-2023",
            title: "LLaMA: Open and Efficient Foundation Language Models",
            published_on: NaiveDate::from_ymd_opt(2023, 2, 27),
            published_on_precision: Some("day"),
            venue: Some("arXiv"),
            url: Some(ARXIV),
        })
        .on_conflict(publications::slug)
        .do_nothing()
        .returning(publications::id)
        .get_result(conn)
        .await
        .optional()?;
    let Some(publication_id) = inserted else {
        return Ok(());
    };
    report.publications += 1;
    let meta = id_of(org_ids, "meta")?;
    let arxiv = id_of(source_ids, ARXIV)?;
    for (index, slug) in LLAMA_AUTHORS.iter().enumerate() {
        let authorship_id: i64 = diesel::insert_into(authorships::table)
            .values(NewAuthorship {
                publication_id,
                person_id: id_of(person_ids, slug)?,
                position: i32::try_from(index + 1).unwrap_or(i32::MAX),
                affiliation_id: Some(meta),
            })
            .returning(authorships::id)
            .get_result(conn)
            .await?;
        diesel::insert_into(authorship_sources::table)
            .values((
                authorship_sources::authorship_id.eq(authorship_id),
                authorship_sources::source_id.eq(arxiv),
            ))
            .execute(conn)
            .await?;
        report.authorships += 1;
    }
    Ok(())
}
