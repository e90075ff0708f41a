//! `Source`: where a fact comes from.

use async_graphql::{ID, Object};

use super::error::ApiResult;
use super::ids::{self, NodeKind};
use super::scalars::PartialDateScalar;
use crate::db::sources::SourceRow;
use crate::domain::PartialDate;

#[derive(Debug, Clone)]
pub struct Source {
    pub id: i64,
    pub url: String,
    pub title: Option<String>,
    pub publisher: Option<String>,
    pub published_on: Option<PartialDate>,
    pub version: i32,
}

impl TryFrom<SourceRow> for Source {
    type Error = super::error::ApiError;

    fn try_from(row: SourceRow) -> ApiResult<Self> {
        Ok(Source {
            published_on: PartialDate::from_columns(
                row.published_on,
                row.published_on_precision.as_deref(),
            )?,
            id: row.id,
            version: row.version,
            url: row.url,
            title: row.title,
            publisher: row.publisher,
        })
    }
}

/// Where a fact comes from: an article, a paper's page, a press release.
#[Object]
impl Source {
    /// Global id: opaque, unique across all types; `Query.node` fetches the entity by it.
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::Source, self.id)
    }

    /// Increases with every change; updates and deletes must name the version
    /// they were based on, so that nobody overwrites a change they never saw.
    async fn version(&self) -> i32 {
        self.version
    }

    /// Where the fact can be checked; unique among sources.
    async fn url(&self) -> &str {
        &self.url
    }

    /// The article's or page's title; null when not recorded.
    async fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// Who published it (a newspaper, a company blog, arXiv); null when not recorded.
    async fn publisher(&self) -> Option<&str> {
        self.publisher.as_deref()
    }

    /// When the source was published, at the precision known.
    async fn published_on(&self) -> Option<PartialDateScalar> {
        self.published_on.map(PartialDateScalar::from)
    }
}

pub fn sources(rows: Option<Vec<SourceRow>>) -> ApiResult<Vec<Source>> {
    rows.unwrap_or_default()
        .into_iter()
        .map(Source::try_from)
        .collect()
}
