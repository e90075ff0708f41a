//! Opening a connection to PostgreSQL.
//!
//! diesel-async's `establish` would do, but when it fails it says "error
//! connecting to server" and nothing else: not where, not why. Here the
//! socket is opened by hand and handed to tokio-postgres, so a failure names
//! the host and port it tried and the reason, as the operating system or the
//! server gave it: `cannot connect to PostgreSQL at 127.0.0.1:1: connection
//! refused`.
//!
//! It also reads the server through [`super::sqlstate::Tagged`], so that
//! every error keeps its SQLSTATE on its way through diesel.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use diesel_async::AsyncPgConnection;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::error::SqlState;

use super::sqlstate::{self, Tagged};
use crate::config::DatabaseUrl;

/// Whether connections keep statements prepared (`TALENTGRAPH_DB_PREPARED_STATEMENTS`).
/// One setting for the process: a pooler in transaction mode sits in front
/// of every connection it opens, the pool's and the one-off ones alike
/// (migrations, seeding, probes).
static PREPARED_STATEMENTS: AtomicBool = AtomicBool::new(true);

/// Switches prepared statements off (or on) for connections opened from now on.
pub fn use_prepared_statements(on: bool) {
    PREPARED_STATEMENTS.store(on, Ordering::Relaxed);
}

/// PostgreSQL's default port, as libpq and tokio-postgres assume it.
const DEFAULT_PORT: u16 = 5432;

/// Where a connection goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Tcp {
        host: String,
        port: u16,
    },
    /// The directory of the server's socket, and its port (part of the
    /// socket's file name).
    Unix {
        directory: PathBuf,
        port: u16,
    },
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Target::Tcp { host, port } => write!(f, "{host}:{port}"),
            Target::Unix { directory, port } => {
                write!(
                    f,
                    "{}",
                    directory.join(format!(".s.PGSQL.{port}")).display()
                )
            }
        }
    }
}

/// A connection that could not be opened: where it was going and why.
#[derive(Debug, thiserror::Error)]
#[error("cannot connect to PostgreSQL at {target}: {reason}")]
pub struct ConnectError {
    /// `host:port` (or a socket's path); the redacted URL when it named none.
    target: String,
    reason: String,
    /// The server's SQLSTATE, when the server refused (a missing database,
    /// a wrong password).
    code: Option<SqlState>,
}

impl ConnectError {
    fn new(target: impl fmt::Display, reason: impl Into<String>) -> Self {
        ConnectError {
            target: target.to_string(),
            reason: reason.into(),
            code: None,
        }
    }

    /// The server answered that the database does not exist (3D000).
    pub fn is_missing_database(&self) -> bool {
        self.code == Some(SqlState::INVALID_CATALOG_NAME)
    }
}

/// Opens a connection to the database `url` names, trying each of its hosts
/// in turn (as libpq does); the error is the last host's.
pub async fn connect(url: &DatabaseUrl) -> Result<AsyncPgConnection, ConnectError> {
    Ok(open(url).await?.0)
}

/// Asks PostgreSQL to cancel whatever statement a connection is running.
pub struct Canceller {
    token: tokio_postgres::CancelToken,
    target: Target,
    keepalive: bool,
}

impl Canceller {
    /// Sends the cancel request from a task of its own, over a connection of
    /// its own (PostgreSQL's protocol for it), and returns at once. A no-op
    /// outside a tokio runtime.
    pub fn cancel_in_background(self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            let cancel = async {
                let socket = open_socket(&self.target, self.keepalive).await?;
                self.token
                    .cancel_query_raw(WaitForClose(socket), tokio_postgres::NoTls)
                    .await
                    .map_err(io::Error::other)
            };
            match tokio::time::timeout(CANCEL_TIMEOUT, cancel).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    tracing::warn!(target = %self.target, %error, "could not cancel a statement");
                }
                Err(_) => tracing::warn!(target = %self.target, "cancelling a statement timed out"),
            }
        });
    }
}

/// A cancel request's socket that, once the request is written, waits for
/// the server to close it (as libpq does) instead of closing it first.
///
/// PgBouncer 1.18 (Debian 12's) exits with "bad client state: 0" when a
/// cancel client goes away before PgBouncer has finished forwarding the
/// request (pgbouncer issue #801, fixed in 1.19): tokio-postgres closes
/// at once, which killed the pooler in front of every connection.
struct WaitForClose(Stream);

impl AsyncRead for WaitForClose {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for WaitForClose {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    /// Reads until the server closes (it sends nothing back).
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut scratch = [0u8; 64];
        loop {
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut self.0).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if buf.filled().is_empty() => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(())) => continue,
                // Reset instead of closed: the request was delivered all the same.
                Poll::Ready(Err(_)) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// How long a cancel request may take before it is given up.
const CANCEL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// [`connect`], with what it takes to cancel the connection's statements.
pub(super) async fn open(
    url: &DatabaseUrl,
) -> Result<(AsyncPgConnection, Canceller), ConnectError> {
    let mut config = tokio_postgres::Config::from_str(url.expose())
        .map_err(|error| ConnectError::new(url, format!("DATABASE_URL is invalid: {error}")))?;
    if config.get_ssl_mode() == SslMode::Require {
        return Err(ConnectError::new(
            url,
            "sslmode=require asks for TLS, which talentgraph does not speak: \
             use sslmode=disable or prefer, or a TLS-terminating proxy",
        ));
    }
    // Names our sessions in pg_stat_activity, unless the URL names them.
    if config.get_application_name().is_none() {
        config.application_name("talentgraph");
    }
    let targets = targets(&config);
    let mut last = ConnectError::new(url, "DATABASE_URL names no host");
    for target in targets {
        match connect_to(&config, &target).await {
            Ok(opened) => return Ok(opened),
            Err(error) => last = error,
        }
    }
    Err(last)
}

/// A connection whose notifications (`LISTEN`) arrive on the returned
/// channel: diesel never reads them, so the connection's driver task is ours
/// here and forwards them. The channel closes when the connection is lost.
pub async fn connect_listening(
    url: &DatabaseUrl,
) -> Result<
    (
        AsyncPgConnection,
        tokio::sync::mpsc::UnboundedReceiver<tokio_postgres::Notification>,
    ),
    ConnectError,
> {
    let mut config = tokio_postgres::Config::from_str(url.expose())
        .map_err(|error| ConnectError::new(url, format!("DATABASE_URL is invalid: {error}")))?;
    if config.get_application_name().is_none() {
        config.application_name("talentgraph-listener");
    }
    let mut last = ConnectError::new(url, "DATABASE_URL names no host");
    for target in targets(&config) {
        let opening = async {
            let socket = open_socket(&target, true)
                .await
                .map_err(|error| ConnectError::new(&target, io_reason(&error)))?;
            let (client, mut connection) = config
                .connect_raw(Tagged::new(socket), tokio_postgres::NoTls)
                .await
                .map_err(|error| postgres_refusal(&target, &error))?;
            let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
            tokio::spawn(async move {
                loop {
                    let message =
                        futures_util::future::poll_fn(|cx| connection.poll_message(cx)).await;
                    match message {
                        Some(Ok(tokio_postgres::AsyncMessage::Notification(note))) => {
                            if sender.send(note).is_err() {
                                break;
                            }
                        }
                        Some(Ok(_)) => {}
                        Some(Err(error)) => {
                            tracing::warn!(%error, "the LISTEN connection failed");
                            break;
                        }
                        None => break,
                    }
                }
            });
            AsyncPgConnection::try_from(client)
                .await
                .map(|conn| (conn, receiver))
                .map_err(|error| ConnectError::new(&target, error.to_string()))
        };
        let opened = match config.get_connect_timeout() {
            Some(limit) => tokio::time::timeout(*limit, opening)
                .await
                .unwrap_or_else(|_| Err(ConnectError::new(&target, "timed out"))),
            None => opening.await,
        };
        match opened {
            Ok(opened) => return Ok(opened),
            Err(error) => last = error,
        }
    }
    Err(last)
}

/// Every host of `config` with its port: one port for all hosts, or one each.
fn targets(config: &tokio_postgres::Config) -> Vec<Target> {
    let ports = config.get_ports();
    let port = |i: usize| match ports {
        [] => DEFAULT_PORT,
        [port] => *port,
        _ => ports.get(i).copied().unwrap_or(DEFAULT_PORT),
    };
    let addresses = config.get_hostaddrs();
    config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| match host {
            // `hostaddr` skips the name lookup, as in libpq.
            Host::Tcp(name) => Target::Tcp {
                host: addresses
                    .get(i)
                    .map_or_else(|| name.clone(), ToString::to_string),
                port: port(i),
            },
            Host::Unix(directory) => Target::Unix {
                directory: directory.clone(),
                port: port(i),
            },
        })
        .collect()
}

async fn connect_to(
    config: &tokio_postgres::Config,
    target: &Target,
) -> Result<(AsyncPgConnection, Canceller), ConnectError> {
    let opening = async {
        let socket = open_socket(target, config.get_keepalives())
            .await
            .map_err(|error| ConnectError::new(target, io_reason(&error)))?;
        let (client, connection) = config
            .connect_raw(Tagged::new(socket), tokio_postgres::NoTls)
            .await
            .map_err(|error| postgres_refusal(target, &error))?;
        // The connection ends when its client is dropped; its error, if any,
        // reaches the client's next statement too.
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "a PostgreSQL connection ended");
            }
        });
        let canceller = Canceller {
            token: client.cancel_token(),
            target: target.clone(),
            keepalive: config.get_keepalives(),
        };
        let mut conn = AsyncPgConnection::try_from(client)
            .await
            .map_err(|error| ConnectError::new(target, error.to_string()))?;
        if !PREPARED_STATEMENTS.load(Ordering::Relaxed) {
            // Every statement then goes unnamed, in one round trip, and
            // leaves nothing on the server (vendor/diesel-async/PATCHES.md).
            use diesel_async::AsyncConnection as _;
            conn.set_prepared_statement_cache_size(diesel::connection::CacheSize::Disabled);
        }
        Ok((conn, canceller))
    };
    match config.get_connect_timeout() {
        Some(limit) => tokio::time::timeout(*limit, opening)
            .await
            .unwrap_or_else(|_| Err(ConnectError::new(target, "timed out"))),
        None => opening.await,
    }
}

/// A socket to PostgreSQL, TCP or Unix.
trait Socket: AsyncRead + AsyncWrite + Send + Unpin {}

impl<S: AsyncRead + AsyncWrite + Send + Unpin> Socket for S {}

/// The socket a connection runs over.
struct Stream(Box<dyn Socket>);

impl AsyncRead for Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}

async fn open_socket(target: &Target, keepalive: bool) -> io::Result<Stream> {
    match target {
        Target::Tcp { host, port } => {
            let mut last = io::Error::new(
                io::ErrorKind::NotFound,
                "the host name resolves to no address",
            );
            for address in tokio::net::lookup_host((host.as_str(), *port)).await? {
                let socket = if address.is_ipv4() {
                    tokio::net::TcpSocket::new_v4()?
                } else {
                    tokio::net::TcpSocket::new_v6()?
                };
                socket.set_keepalive(keepalive)?;
                match socket.connect(address).await {
                    Ok(stream) => {
                        // Statements are small writes answered at once:
                        // Nagle's delay would only add latency.
                        stream.set_nodelay(true)?;
                        return Ok(Stream(Box::new(stream)));
                    }
                    Err(error) => last = error,
                }
            }
            Err(last)
        }
        #[cfg(unix)]
        Target::Unix { directory, port } => {
            let path = directory.join(format!(".s.PGSQL.{port}"));
            Ok(Stream(Box::new(
                tokio::net::UnixStream::connect(path).await?,
            )))
        }
        #[cfg(not(unix))]
        Target::Unix { .. } => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "Unix sockets are not supported on this system",
        )),
    }
}

/// What the operating system said, in a few words: `connection refused`.
fn io_reason(error: &io::Error) -> String {
    use io::ErrorKind::*;
    match error.kind() {
        ConnectionRefused | ConnectionReset | ConnectionAborted | TimedOut | PermissionDenied
        | HostUnreachable | NetworkUnreachable | AddrNotAvailable => error.kind().to_string(),
        NotFound if error.raw_os_error().is_some() => "no such socket".to_owned(),
        _ => error.to_string(),
    }
}

/// Why the server, or the conversation with it, refused the connection.
fn postgres_refusal(target: &Target, error: &tokio_postgres::Error) -> ConnectError {
    if let Some(refusal) = error.as_db_error() {
        return ConnectError {
            target: target.to_string(),
            reason: format!(
                "{} (SQLSTATE {})",
                sqlstate::untagged(refusal.message()),
                refusal.code().code()
            ),
            code: Some(refusal.code().clone()),
        };
    }
    let io = std::error::Error::source(error).and_then(|source| source.downcast_ref::<io::Error>());
    match io {
        Some(io) => ConnectError::new(target, io_reason(io)),
        None => ConnectError::new(target, error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets_of(url: &str) -> Vec<String> {
        let config = tokio_postgres::Config::from_str(url).expect("a valid URL");
        targets(&config).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn each_host_is_named_with_its_port() {
        assert_eq!(targets_of("postgres://u@db/x"), ["db:5432"]);
        assert_eq!(targets_of("postgres://u@db:6543/x"), ["db:6543"]);
        assert_eq!(targets_of("postgres://u@a:1,b:2/x"), ["a:1", "b:2"]);
        assert_eq!(targets_of("postgres://u@[::1]:7/x"), ["[::1]:7"]);
        assert_eq!(
            targets_of("postgres://u@%2Fvar%2Frun%2Fpostgresql/x"),
            ["/var/run/postgresql/.s.PGSQL.5432"]
        );
    }

    #[tokio::test]
    async fn a_refused_connection_names_host_port_and_reason() {
        let error = connect(&DatabaseUrl::from("postgres://u:pw@127.0.0.1:1/x"))
            .await
            .err()
            .expect("nothing listens on port 1");
        assert_eq!(
            error.to_string(),
            "cannot connect to PostgreSQL at 127.0.0.1:1: connection refused"
        );
        assert!(!error.is_missing_database());
    }
}
