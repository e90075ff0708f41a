//! The article's data set: "11 of the 14 authors of the 2023 LLaMA paper have
//! left Meta, five of them for Mistral" (`../shared/seed/`, via ListMyStartup.app
//! from Business Insider), and the LLaMA paper's arXiv page.
//!
//! It is `data/article.jsonl`, loaded through the same importer as
//! `talentgraph import`. Dates are stored only where a source gives them: the
//! article gives none, so stints carry no dates; the order of a career and a
//! stated length ("after five years") are kept in `careerPosition` and
//! `reportedYears` instead. The paper's arXiv page is dated 2023-02-27 and lists
//! every author with Meta's affiliation: each author's Meta stint records that
//! as an attestation citing the paper, so who was at Meta that day is certain
//! (docs/dates.md). The article has no date of its own, so the departures it
//! reports bound no end date. Importing keeps what exists, so seeding twice
//! changes nothing and never overwrites edits.

use diesel_async::AsyncPgConnection;

use crate::db::writes::Author;
use crate::interchange::{self, ImportError, ImportReport};

/// The article's data set, in the interchange format.
pub const ARTICLE_DATA_SET: &str = include_str!("../data/article.jsonl");

/// What a seeding run added.
pub type SeedReport = ImportReport;

/// Loads the article's data set in one transaction.
pub async fn seed(conn: &mut AsyncPgConnection) -> Result<SeedReport, ImportError> {
    interchange::import(conn, ARTICLE_DATA_SET, &Author::cli("seed")).await
}

/// A data set named by `TALENTGRAPH_SEED_FILE`, read once at start.
#[derive(Debug, Clone)]
pub struct SeedFile {
    pub path: std::path::PathBuf,
    pub text: std::sync::Arc<str>,
}

impl SeedFile {
    /// Reads the file now, so that a path that cannot be read stops the
    /// process at start instead of leaving it unready.
    pub fn read(path: &std::path::Path) -> std::io::Result<Self> {
        Ok(SeedFile {
            path: path.to_owned(),
            text: std::fs::read_to_string(path)?.into(),
        })
    }

    /// Imports it (all or nothing; what exists is kept, so a restart adds nothing).
    pub async fn load(&self, conn: &mut AsyncPgConnection) -> Result<SeedReport, ImportError> {
        interchange::import(conn, &self.text, &Author::cli("seed-file")).await
    }
}

/// Stores the admin token `TALENTGRAPH_BOOTSTRAP_TOKEN` names (only its
/// hash), unless it is there already or was revoked. `true` if stored now.
pub async fn bootstrap_token(
    conn: &mut AsyncPgConnection,
    secret: &str,
) -> diesel::QueryResult<bool> {
    let stored = crate::db::tokens::insert_if_missing(
        conn,
        "bootstrap (TALENTGRAPH_BOOTSTRAP_TOKEN)",
        crate::auth::Role::Admin.as_db(),
        &crate::auth::hash(secret),
    )
    .await?;
    Ok(stored.is_some())
}
