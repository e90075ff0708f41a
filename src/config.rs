//! One typed configuration, read once from the environment (and `.env`).
//! `.env.example` lists every variable with its default.

use std::net::SocketAddr;
use std::time::Duration;

use crate::shutdown::{DEFAULT_DRAIN_SECS, DEFAULT_GRACE_SECS, ShutdownTimes};

mod scale;
pub use scale::{BootstrapToken, ScaleConfig};

/// Where the service listens and what it talks to.
#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`: the PostgreSQL database; created if missing.
    pub database_url: DatabaseUrl,
    /// `TALENTGRAPH_LISTEN_DATABASE_URL`: the same database reached without a
    /// transaction-mode pooler, for the subscriptions' `LISTEN` connection
    /// (a session feature PgBouncer's transaction mode cannot hold); `None`:
    /// `DATABASE_URL`.
    pub listen_database_url: Option<DatabaseUrl>,
    /// `TALENTGRAPH_LISTEN`: the address to serve HTTP on.
    pub listen: SocketAddr,
    /// `TALENTGRAPH_DB_POOL_SIZE`: the most database connections held open.
    pub db_pool_size: usize,
    /// `TALENTGRAPH_HTTP_WORKERS`: HTTP worker threads (default: one per CPU).
    pub http_workers: usize,
    /// `TALENTGRAPH_MAX_CONCURRENT_EXECUTIONS`: the most GraphQL requests
    /// executed (and their answers serialized) at once; the others wait their
    /// turn in arrival order.
    pub max_concurrent_executions: usize,
    /// What the public HTTP face allows: introspection, playground, CORS, rate limits.
    pub http: HttpConfig,
    /// `TALENTGRAPH_REQUEST_TIMEOUT_MS`: the most time one GraphQL request may run.
    pub request_timeout: Duration,
    /// Timeouts applied to the pool and to each of its connections.
    pub db_timeouts: DbTimeouts,
    /// `TALENTGRAPH_LOG_FORMAT`: `text` (default) or `json`, one object per line.
    pub log_format: LogFormat,
    /// `TALENTGRAPH_DEBUG_FAULTS`: lets tests make a resolver panic on purpose.
    /// Honoured only by debug builds; a release binary ignores it.
    pub debug_faults: bool,
    /// `TALENTGRAPH_SHUTDOWN_GRACE_SECS` and `TALENTGRAPH_SHUTDOWN_DRAIN_SECS`:
    /// how long a SIGTERM may take (see [`crate::shutdown`]).
    pub shutdown: ShutdownTimes,
    /// `TALENTGRAPH_WS_*`: the limits of GraphQL over WebSocket.
    pub live: crate::live::LiveConfig,
    /// Replicas, pooler, shared rate limits and the CI kit (`config/scale.rs`).
    pub scale: ScaleConfig,
}

/// A PostgreSQL connection string whose password never reaches a log line,
/// an error or `Debug` output: `Display` and `Debug` both show it with the
/// password as `***`. Only [`DatabaseUrl::expose`] gives it whole, for the
/// code that connects.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        DatabaseUrl(url.into())
    }

    /// The URL with its password, to hand to the PostgreSQL driver and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for DatabaseUrl {
    fn from(url: &str) -> Self {
        DatabaseUrl::new(url)
    }
}

impl From<String> for DatabaseUrl {
    fn from(url: String) -> Self {
        DatabaseUrl(url)
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({:?})", redact(&self.0))
    }
}

/// `url` with every password in it replaced by `***`: the one in
/// `scheme://user:password@host`, and any `password=` parameter, in a URL's
/// query or in the `key=value` form that PostgreSQL accepts too.
fn redact(url: &str) -> String {
    let mut shown = String::with_capacity(url.len());
    let mut rest = url;
    if let Some(scheme_end) = url.find("://") {
        let authority_start = scheme_end + 3;
        let authority_end = url[authority_start..]
            .find(['/', '?', '#'])
            .map_or(url.len(), |i| authority_start + i);
        let authority = &url[authority_start..authority_end];
        shown.push_str(&url[..authority_start]);
        // The host follows the last `@`: a password may hold `@` and `:`.
        match authority.rsplit_once('@') {
            Some((userinfo, host)) => {
                match userinfo.split_once(':') {
                    Some((user, _password)) => {
                        shown.push_str(user);
                        shown.push_str(":***");
                    }
                    None => shown.push_str(userinfo),
                }
                shown.push('@');
                shown.push_str(host);
            }
            None => shown.push_str(authority),
        }
        rest = &url[authority_end..];
    }
    shown.push_str(&redact_password_parameters(rest));
    shown
}

/// `password=value` parameters with their values replaced, whether separated
/// by `&` (a URL's query) or by spaces (`key=value` pairs, maybe quoted).
fn redact_password_parameters(text: &str) -> String {
    const KEY: &str = "password";
    let mut shown = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let starts_a_parameter =
            i == 0 || text[..i].ends_with(['?', '&']) || text[..i].ends_with(char::is_whitespace);
        let key_here = text
            .get(i..i + KEY.len())
            .is_some_and(|word| word.eq_ignore_ascii_case(KEY));
        if starts_a_parameter && key_here {
            let after_key = &text[i + KEY.len()..];
            let spaces = after_key.len() - after_key.trim_start().len();
            if let Some(value) = after_key.trim_start().strip_prefix('=') {
                let value_start = value.len() - value.trim_start().len();
                let value = value.trim_start();
                let value_len = if let Some(quoted) = value.strip_prefix('\'') {
                    quoted.find('\'').map_or(value.len(), |end| end + 2)
                } else {
                    value
                        .find(|c: char| c == '&' || c.is_whitespace())
                        .unwrap_or(value.len())
                };
                shown.push_str(&text[i..i + KEY.len() + spaces + 1 + value_start]);
                shown.push_str("***");
                i += KEY.len() + spaces + 1 + value_start + value_len;
                continue;
            }
        }
        let Some(c) = text[i..].chars().next() else {
            break;
        };
        shown.push(c);
        i += c.len_utf8();
    }
    shown
}

/// How long the service waits on PostgreSQL. A zero PostgreSQL timeout
/// switches that timeout off, as in PostgreSQL itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbTimeouts {
    /// `TALENTGRAPH_DB_STATEMENT_TIMEOUT_MS`: PostgreSQL's `statement_timeout`.
    pub statement: Duration,
    /// `TALENTGRAPH_DB_LOCK_TIMEOUT_MS`: PostgreSQL's `lock_timeout`.
    pub lock: Duration,
    /// `TALENTGRAPH_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS`: PostgreSQL's
    /// `idle_in_transaction_session_timeout`.
    pub idle_in_transaction: Duration,
    /// `TALENTGRAPH_DB_CONNECT_TIMEOUT_MS`: the most time opening one connection may take.
    pub connect: Duration,
    /// `TALENTGRAPH_DB_POOL_WAIT_TIMEOUT_MS`: the most time a request waits for a
    /// free connection when all are busy (then `SERVICE_BUSY`).
    pub pool_wait: Duration,
}

impl Default for DbTimeouts {
    fn default() -> Self {
        DbTimeouts {
            statement: Duration::from_millis(DEFAULT_DB_STATEMENT_TIMEOUT_MS),
            lock: Duration::from_millis(DEFAULT_DB_LOCK_TIMEOUT_MS),
            idle_in_transaction: Duration::from_millis(DEFAULT_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS),
            connect: Duration::from_millis(DEFAULT_DB_CONNECT_TIMEOUT_MS),
            pool_wait: Duration::from_millis(DEFAULT_DB_POOL_WAIT_TIMEOUT_MS),
        }
    }
}

/// The shape of log lines on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err("expected `text` or `json`".to_owned()),
        }
    }
}

/// What the service exposes to the open internet, and how much of it a client may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// `TALENTGRAPH_INTROSPECTION`: schema introspection and "Did you mean …"
    /// suggestions (on by default: the API is public and explorable).
    pub introspection: bool,
    /// `TALENTGRAPH_PLAYGROUND`: the GraphiQL playground at `/`.
    pub playground: bool,
    /// `TALENTGRAPH_EXPLORE`: the explore pages at `/explore`.
    pub explore: bool,
    /// `TALENTGRAPH_CORS_ORIGINS`: origins (comma-separated, e.g.
    /// `https://app.example.org`) whose pages may call the API from a browser;
    /// empty means same-origin only. Credentials are never allowed.
    pub cors_origins: Vec<String>,
    /// `TALENTGRAPH_RATE_LIMIT_CAPACITY`: the cost points a client may spend in
    /// a burst (see docs/limits.md); 0 switches rate limiting off.
    pub rate_limit_capacity: u64,
    /// `TALENTGRAPH_RATE_LIMIT_REFILL`: cost points a client regains per second.
    pub rate_limit_refill_per_second: u64,
    /// `TALENTGRAPH_TRUST_FORWARDED_FOR`: identify clients by the last address in
    /// `X-Forwarded-For` (set it only behind a proxy that appends it).
    pub trust_forwarded_for: bool,
}

pub const DEFAULT_RATE_LIMIT_CAPACITY: u64 = 1_000_000;
pub const DEFAULT_RATE_LIMIT_REFILL: u64 = 100_000;

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            introspection: true,
            playground: true,
            explore: true,
            cors_origins: Vec::new(),
            rate_limit_capacity: DEFAULT_RATE_LIMIT_CAPACITY,
            rate_limit_refill_per_second: DEFAULT_RATE_LIMIT_REFILL,
            trust_forwarded_for: false,
        }
    }
}

impl HttpConfig {
    fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let defaults = HttpConfig::default();
        let flag = |name: &'static str, default: bool| -> Result<bool, ConfigError> {
            match lookup(name).map(|v| v.trim().to_ascii_lowercase()) {
                None => Ok(default),
                Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => Ok(true),
                Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => Ok(false),
                Some(value) => Err(ConfigError::Invalid {
                    name,
                    value,
                    reason: "expected true or false".into(),
                }),
            }
        };
        let cors_origins = lookup("TALENTGRAPH_CORS_ORIGINS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(|origin| {
                // A wildcard would let any page read responses; list origins instead.
                if origin == "*"
                    || !(origin.starts_with("http://") || origin.starts_with("https://"))
                {
                    Err(ConfigError::Invalid {
                        name: "TALENTGRAPH_CORS_ORIGINS",
                        value: origin.to_owned(),
                        reason: "list origins such as https://app.example.org; no wildcard".into(),
                    })
                } else {
                    Ok(origin.trim_end_matches('/').to_owned())
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(HttpConfig {
            introspection: flag("TALENTGRAPH_INTROSPECTION", defaults.introspection)?,
            playground: flag("TALENTGRAPH_PLAYGROUND", defaults.playground)?,
            explore: flag("TALENTGRAPH_EXPLORE", defaults.explore)?,
            cors_origins,
            rate_limit_capacity: parse(
                "TALENTGRAPH_RATE_LIMIT_CAPACITY",
                lookup("TALENTGRAPH_RATE_LIMIT_CAPACITY"),
                &defaults.rate_limit_capacity.to_string(),
            )?,
            rate_limit_refill_per_second: parse(
                "TALENTGRAPH_RATE_LIMIT_REFILL",
                lookup("TALENTGRAPH_RATE_LIMIT_REFILL"),
                &defaults.rate_limit_refill_per_second.to_string(),
            )?,
            trust_forwarded_for: flag(
                "TALENTGRAPH_TRUST_FORWARDED_FOR",
                defaults.trust_forwarded_for,
            )?,
        })
    }
}

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/talentgraph";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DB_POOL_SIZE: usize = 16;
/// GraphQL executions at once per core, by default. Eight, not four: a
/// person read by slug is two short round trips, and with four per core
/// the cores waited on PostgreSQL (BENCHMARKS.md, step 12).
pub const DEFAULT_EXECUTIONS_PER_CORE: usize = 8;
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 10_000;
/// Well above the slowest analytic query on the benchmark's 100,000 people.
pub const DEFAULT_DB_STATEMENT_TIMEOUT_MS: u64 = 5_000;
/// Reads take no explicit locks: waiting this long means a migration or a
/// manual `LOCK` is in the way, and the request should give up early.
pub const DEFAULT_DB_LOCK_TIMEOUT_MS: u64 = 2_000;
pub const DEFAULT_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: u64 = 10_000;
pub const DEFAULT_DB_CONNECT_TIMEOUT_MS: u64 = 2_000;
pub const DEFAULT_DB_POOL_WAIT_TIMEOUT_MS: u64 = 2_000;

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
        let database_url = DatabaseUrl::new(
            lookup("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
        );
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
        // Executing is CPU work between database round trips: a few requests
        // per core keep the cores busy, and each one waiting instead of
        // executing holds no answer in memory.
        let max_concurrent_executions: usize = parse(
            "TALENTGRAPH_MAX_CONCURRENT_EXECUTIONS",
            lookup("TALENTGRAPH_MAX_CONCURRENT_EXECUTIONS"),
            &(default_workers * DEFAULT_EXECUTIONS_PER_CORE).to_string(),
        )?;
        let http = HttpConfig::from_lookup(&lookup)?;
        let millis = |name: &'static str, default: u64, allow_zero: bool| {
            let value: u64 = parse(name, lookup(name), &default.to_string())?;
            if value == 0 && !allow_zero {
                return Err(ConfigError::Invalid {
                    name,
                    value: "0".into(),
                    reason: "must be at least 1".into(),
                });
            }
            Ok(Duration::from_millis(value))
        };
        let request_timeout = millis(
            "TALENTGRAPH_REQUEST_TIMEOUT_MS",
            DEFAULT_REQUEST_TIMEOUT_MS,
            false,
        )?;
        let db_timeouts = DbTimeouts {
            statement: millis(
                "TALENTGRAPH_DB_STATEMENT_TIMEOUT_MS",
                DEFAULT_DB_STATEMENT_TIMEOUT_MS,
                true,
            )?,
            lock: millis(
                "TALENTGRAPH_DB_LOCK_TIMEOUT_MS",
                DEFAULT_DB_LOCK_TIMEOUT_MS,
                true,
            )?,
            idle_in_transaction: millis(
                "TALENTGRAPH_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS",
                DEFAULT_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
                true,
            )?,
            connect: millis(
                "TALENTGRAPH_DB_CONNECT_TIMEOUT_MS",
                DEFAULT_DB_CONNECT_TIMEOUT_MS,
                false,
            )?,
            pool_wait: millis(
                "TALENTGRAPH_DB_POOL_WAIT_TIMEOUT_MS",
                DEFAULT_DB_POOL_WAIT_TIMEOUT_MS,
                false,
            )?,
        };
        let log_format = parse(
            "TALENTGRAPH_LOG_FORMAT",
            lookup("TALENTGRAPH_LOG_FORMAT"),
            "text",
        )?;
        let debug_faults = parse(
            "TALENTGRAPH_DEBUG_FAULTS",
            lookup("TALENTGRAPH_DEBUG_FAULTS"),
            "false",
        )?;
        let grace: u64 = parse(
            "TALENTGRAPH_SHUTDOWN_GRACE_SECS",
            lookup("TALENTGRAPH_SHUTDOWN_GRACE_SECS"),
            &DEFAULT_GRACE_SECS.to_string(),
        )?;
        let drain: u64 = parse(
            "TALENTGRAPH_SHUTDOWN_DRAIN_SECS",
            lookup("TALENTGRAPH_SHUTDOWN_DRAIN_SECS"),
            &DEFAULT_DRAIN_SECS.to_string(),
        )?;
        // The drain must leave in-flight requests at least a second.
        if drain >= grace {
            return Err(ConfigError::Invalid {
                name: "TALENTGRAPH_SHUTDOWN_DRAIN_SECS",
                value: drain.to_string(),
                reason: format!("must be less than TALENTGRAPH_SHUTDOWN_GRACE_SECS ({grace})"),
            });
        }
        let live = crate::live::LiveConfig::from_lookup(&lookup)?;
        let scale = ScaleConfig::from_lookup(&lookup)?;
        let listen_database_url = lookup("TALENTGRAPH_LISTEN_DATABASE_URL")
            .filter(|url| !url.trim().is_empty())
            .map(DatabaseUrl::new);
        Ok(Config {
            live,
            database_url,
            listen_database_url,
            listen,
            db_pool_size,
            http_workers: http_workers.max(1),
            max_concurrent_executions: max_concurrent_executions.max(1),
            http,
            request_timeout,
            db_timeouts,
            log_format,
            debug_faults,
            shutdown: ShutdownTimes {
                grace: Duration::from_secs(grace),
                drain: Duration::from_secs(drain),
            },
            scale,
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
        assert_eq!(config.database_url.expose(), DEFAULT_DATABASE_URL);
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(config.db_pool_size, DEFAULT_DB_POOL_SIZE);
        // Inside `docker stop`'s 10 s, with a second to spare for the runtime.
        assert!(config.shutdown.grace <= Duration::from_secs(9));
        assert!(config.shutdown.drain < config.shutdown.grace);
    }

    #[test]
    fn a_drain_as_long_as_the_grace_period_is_refused() {
        let error = config(&[
            ("TALENTGRAPH_SHUTDOWN_GRACE_SECS", "5"),
            ("TALENTGRAPH_SHUTDOWN_DRAIN_SECS", "5"),
        ])
        .expect_err("nothing left for in-flight requests");
        assert!(
            error
                .to_string()
                .starts_with("TALENTGRAPH_SHUTDOWN_DRAIN_SECS=\"5\""),
            "{error}"
        );
    }

    #[test]
    fn shutdown_times_are_read_in_seconds() {
        let config = config(&[
            ("TALENTGRAPH_SHUTDOWN_GRACE_SECS", "25"),
            ("TALENTGRAPH_SHUTDOWN_DRAIN_SECS", "0"),
        ])
        .expect("valid");
        assert_eq!(config.shutdown.grace, Duration::from_secs(25));
        assert_eq!(config.shutdown.drain, Duration::ZERO);
        assert_eq!(config.shutdown.in_flight_secs(), 25);
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
    fn timeouts_are_read_in_milliseconds_and_zero_switches_postgres_ones_off() {
        let read = config(&[
            ("TALENTGRAPH_REQUEST_TIMEOUT_MS", "250"),
            ("TALENTGRAPH_DB_STATEMENT_TIMEOUT_MS", "0"),
            ("TALENTGRAPH_LOG_FORMAT", "JSON"),
        ])
        .expect("valid");
        assert_eq!(read.request_timeout, Duration::from_millis(250));
        assert_eq!(read.db_timeouts.statement, Duration::ZERO);
        assert_eq!(read.log_format, LogFormat::Json);
        assert!(config(&[("TALENTGRAPH_REQUEST_TIMEOUT_MS", "0")]).is_err());
        assert!(config(&[("TALENTGRAPH_DB_POOL_WAIT_TIMEOUT_MS", "soon")]).is_err());
        assert!(config(&[("TALENTGRAPH_LOG_FORMAT", "xml")]).is_err());
    }

    #[test]
    fn the_public_face_is_configurable_and_never_a_cors_wildcard() {
        let defaults = config(&[]).expect("defaults are valid").http;
        assert_eq!(defaults, HttpConfig::default());
        assert!(defaults.introspection && defaults.playground && defaults.explore);
        let http = config(&[
            ("TALENTGRAPH_INTROSPECTION", "false"),
            ("TALENTGRAPH_PLAYGROUND", "off"),
            ("TALENTGRAPH_EXPLORE", "false"),
            (
                "TALENTGRAPH_CORS_ORIGINS",
                "https://a.example.org, http://localhost:3000/",
            ),
        ])
        .expect("valid")
        .http;
        assert!(!http.introspection && !http.playground && !http.explore);
        assert_eq!(
            http.cors_origins,
            ["https://a.example.org", "http://localhost:3000"]
        );
        assert!(config(&[("TALENTGRAPH_CORS_ORIGINS", "*")]).is_err());
        assert!(config(&[("TALENTGRAPH_INTROSPECTION", "maybe")]).is_err());
    }

    #[test]
    fn the_database_password_never_shows_in_debug_or_display() {
        let url = "postgres://app:s3cr3t-pw@db.internal:5433/talentgraph?sslmode=disable";
        let config = config(&[("DATABASE_URL", url)]).expect("valid");
        assert_eq!(config.database_url.expose(), url);
        for shown in [
            format!("{config:?}"),
            format!("{config:#?}"),
            format!("{}", config.database_url),
            format!("{:?}", config.database_url),
        ] {
            assert!(!shown.contains("s3cr3t"), "{shown}");
        }
        assert_eq!(
            config.database_url.to_string(),
            "postgres://app:***@db.internal:5433/talentgraph?sslmode=disable"
        );
    }

    #[test]
    fn passwords_are_redacted_wherever_a_connection_string_can_hold_one() {
        for (url, shown) in [
            (
                "postgres://postgres@127.0.0.1:5432/talentgraph",
                "postgres://postgres@127.0.0.1:5432/talentgraph",
            ),
            ("postgresql://u:p%40ss@h/db", "postgresql://u:***@h/db"),
            ("postgres://u:a:b@c@h:1/db", "postgres://u:***@h:1/db"),
            (
                "postgres://u@h/db?application_name=x&password=hunter2&sslmode=disable",
                "postgres://u@h/db?application_name=x&password=***&sslmode=disable",
            ),
            (
                "host=h user=u password=hunter2 dbname=db",
                "host=h user=u password=*** dbname=db",
            ),
            (
                "host=h PASSWORD = 'hunter 2' dbname=db",
                "host=h PASSWORD = *** dbname=db",
            ),
        ] {
            assert_eq!(DatabaseUrl::from(url).to_string(), shown, "{url}");
        }
    }

    #[test]
    fn a_pool_of_zero_is_refused() {
        assert!(config(&[("TALENTGRAPH_DB_POOL_SIZE", "0")]).is_err());
    }
}
