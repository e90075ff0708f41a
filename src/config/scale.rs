//! The settings for running several copies of the service: read replicas,
//! a connection pooler in front of PostgreSQL, rate limits kept in Redis,
//! and what a CI pipeline hands a fresh container (a data set, an admin
//! token).

use std::path::PathBuf;
use std::time::Duration;

use super::{ConfigError, DatabaseUrl, parse};

pub const DEFAULT_MAX_REPLICA_LAG_MS: u64 = 5_000;
pub const DEFAULT_REPLICA_CHECK_INTERVAL_MS: u64 = 1_000;
pub const DEFAULT_REDIS_KEY_PREFIX: &str = "talentgraph:rate:";
/// The shortest bootstrap token taken: long enough that guessing it is hopeless.
pub const MIN_BOOTSTRAP_TOKEN_LEN: usize = 20;

#[derive(Debug, Clone)]
pub struct ScaleConfig {
    /// `TALENTGRAPH_READ_DATABASE_URLS`: streaming replicas that queries run on.
    pub read_database_urls: Vec<DatabaseUrl>,
    /// `TALENTGRAPH_MAX_REPLICA_LAG_MS`: a replica further behind is skipped.
    pub max_replica_lag: Duration,
    /// `TALENTGRAPH_REPLICA_CHECK_INTERVAL_MS`: how often each replica's
    /// health and lag are read.
    pub replica_check_interval: Duration,
    /// `TALENTGRAPH_DB_PREPARED_STATEMENTS`: keep statements prepared per
    /// connection (`false` behind PgBouncer's transaction mode before 1.21).
    pub prepared_statements: bool,
    /// `TALENTGRAPH_REDIS_URL`: where the rate-limit buckets live, shared by
    /// every copy of the service.
    pub redis_url: Option<String>,
    /// `TALENTGRAPH_REDIS_KEY_PREFIX`: the buckets' key prefix in Redis.
    pub redis_key_prefix: String,
    /// `TALENTGRAPH_SEED_FILE`: a JSON Lines data set loaded at start.
    pub seed_file: Option<PathBuf>,
    /// `TALENTGRAPH_BOOTSTRAP_TOKEN`: an admin secret taken from the environment.
    pub bootstrap_token: Option<BootstrapToken>,
}

impl Default for ScaleConfig {
    fn default() -> Self {
        ScaleConfig {
            read_database_urls: Vec::new(),
            max_replica_lag: Duration::from_millis(DEFAULT_MAX_REPLICA_LAG_MS),
            replica_check_interval: Duration::from_millis(DEFAULT_REPLICA_CHECK_INTERVAL_MS),
            prepared_statements: true,
            redis_url: None,
            redis_key_prefix: DEFAULT_REDIS_KEY_PREFIX.to_owned(),
            seed_file: None,
            bootstrap_token: None,
        }
    }
}

/// A secret that never shows in `Debug` output or a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct BootstrapToken(String);

impl BootstrapToken {
    pub fn new(secret: impl Into<String>) -> Self {
        BootstrapToken(secret.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for BootstrapToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BootstrapToken(***)")
    }
}

impl ScaleConfig {
    pub(super) fn from_lookup(
        lookup: &impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let defaults = ScaleConfig::default();
        let non_empty = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let read_database_urls = non_empty("TALENTGRAPH_READ_DATABASE_URLS")
            .map(|urls| {
                urls.split(',')
                    .map(str::trim)
                    .filter(|url| !url.is_empty())
                    .map(DatabaseUrl::from)
                    .collect()
            })
            .unwrap_or_default();
        let millis = |name: &'static str, default: u64| -> Result<Duration, ConfigError> {
            let value: u64 = parse(name, lookup(name), &default.to_string())?;
            if value == 0 {
                return Err(ConfigError::Invalid {
                    name,
                    value: "0".into(),
                    reason: "must be at least 1".into(),
                });
            }
            Ok(Duration::from_millis(value))
        };
        let bootstrap_token = match non_empty("TALENTGRAPH_BOOTSTRAP_TOKEN") {
            Some(secret) if secret.chars().count() < MIN_BOOTSTRAP_TOKEN_LEN => {
                return Err(ConfigError::Invalid {
                    name: "TALENTGRAPH_BOOTSTRAP_TOKEN",
                    value: "***".into(),
                    reason: format!("must be at least {MIN_BOOTSTRAP_TOKEN_LEN} characters"),
                });
            }
            Some(secret) => Some(BootstrapToken::new(secret)),
            None => None,
        };
        Ok(ScaleConfig {
            read_database_urls,
            max_replica_lag: millis("TALENTGRAPH_MAX_REPLICA_LAG_MS", DEFAULT_MAX_REPLICA_LAG_MS)?,
            replica_check_interval: millis(
                "TALENTGRAPH_REPLICA_CHECK_INTERVAL_MS",
                DEFAULT_REPLICA_CHECK_INTERVAL_MS,
            )?,
            prepared_statements: parse(
                "TALENTGRAPH_DB_PREPARED_STATEMENTS",
                lookup("TALENTGRAPH_DB_PREPARED_STATEMENTS"),
                "true",
            )?,
            redis_url: non_empty("TALENTGRAPH_REDIS_URL"),
            redis_key_prefix: non_empty("TALENTGRAPH_REDIS_KEY_PREFIX")
                .unwrap_or(defaults.redis_key_prefix),
            seed_file: non_empty("TALENTGRAPH_SEED_FILE").map(PathBuf::from),
            bootstrap_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn scale(vars: &[(&str, &str)]) -> Result<ScaleConfig, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ScaleConfig::from_lookup(&|name: &str| vars.get(name).cloned())
    }

    #[test]
    fn replicas_are_a_comma_separated_list_and_lag_is_in_milliseconds() {
        let config = scale(&[
            (
                "TALENTGRAPH_READ_DATABASE_URLS",
                "postgres://a/x, postgres://u:pw@b/x,",
            ),
            ("TALENTGRAPH_MAX_REPLICA_LAG_MS", "250"),
            ("TALENTGRAPH_DB_PREPARED_STATEMENTS", "false"),
        ])
        .expect("valid");
        let shown: Vec<String> = config
            .read_database_urls
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(shown, ["postgres://a/x", "postgres://u:***@b/x"]);
        assert_eq!(config.max_replica_lag, Duration::from_millis(250));
        assert!(!config.prepared_statements);
        assert!(scale(&[]).expect("defaults").read_database_urls.is_empty());
    }

    #[test]
    fn a_short_bootstrap_token_is_refused_without_being_shown() {
        let error =
            scale(&[("TALENTGRAPH_BOOTSTRAP_TOKEN", "short-secret")]).expect_err("too short");
        assert!(!error.to_string().contains("short-secret"), "{error}");
        let config = scale(&[(
            "TALENTGRAPH_BOOTSTRAP_TOKEN",
            "a-pipeline-secret-of-30-chars",
        )])
        .expect("long enough");
        assert!(!format!("{config:?}").contains("pipeline-secret"));
    }
}
