//! One typed configuration, read once from the environment (and `.env`).
//! `.env.example` lists every variable with its default.

use std::net::SocketAddr;

/// Where the service listens and what it talks to.
#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`: the PostgreSQL database; created if missing.
    pub database_url: String,
    /// `TALENTGRAPH_LISTEN`: the address to serve HTTP on.
    pub listen: SocketAddr,
    /// `TALENTGRAPH_DB_POOL_SIZE`: the most database connections held open.
    pub db_pool_size: usize,
    /// `TALENTGRAPH_HTTP_WORKERS`: HTTP worker threads (default: one per CPU).
    pub http_workers: usize,
}

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/talentgraph";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DB_POOL_SIZE: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name}={value:?} is not valid: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
}

impl Config {
    /// Reads `.env` if present (without overriding the real environment), then
    /// the variables themselves.
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env is normal; a malformed one is reported by the variables it fails to set.
        let _ = dotenvy::dotenv();
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds a configuration from any variable source (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let database_url =
            lookup("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        let listen = parse(
            "TALENTGRAPH_LISTEN",
            lookup("TALENTGRAPH_LISTEN"),
            DEFAULT_LISTEN,
        )?;
        let db_pool_size: usize = parse(
            "TALENTGRAPH_DB_POOL_SIZE",
            lookup("TALENTGRAPH_DB_POOL_SIZE"),
            &DEFAULT_DB_POOL_SIZE.to_string(),
        )?;
        if db_pool_size == 0 {
            return Err(ConfigError::Invalid {
                name: "TALENTGRAPH_DB_POOL_SIZE",
                value: "0".into(),
                reason: "must be at least 1".into(),
            });
        }
        let default_workers = std::thread::available_parallelism().map_or(1, usize::from);
        let http_workers: usize = parse(
            "TALENTGRAPH_HTTP_WORKERS",
            lookup("TALENTGRAPH_HTTP_WORKERS"),
            &default_workers.to_string(),
        )?;
        Ok(Config {
            database_url,
            listen,
            db_pool_size,
            http_workers: http_workers.max(1),
        })
    }
}

fn parse<T>(name: &'static str, value: Option<String>, default: &str) -> Result<T, ConfigError>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let value = value.unwrap_or_else(|| default.to_owned());
    value.parse().map_err(|e: T::Err| ConfigError::Invalid {
        name,
        value: value.clone(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let config = config(&[]).expect("defaults are valid");
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(config.db_pool_size, DEFAULT_DB_POOL_SIZE);
    }

    #[test]
    fn a_bad_listen_address_names_the_variable() {
        let error =
            config(&[("TALENTGRAPH_LISTEN", "localhost")]).expect_err("not a socket address");
        assert!(
            error
                .to_string()
                .starts_with("TALENTGRAPH_LISTEN=\"localhost\""),
            "{error}"
        );
    }

    #[test]
    fn a_pool_of_zero_is_refused() {
        assert!(config(&[("TALENTGRAPH_DB_POOL_SIZE", "0")]).is_err());
    }
}
