//! The binary as a container runs it: how it refuses to start on a taken
//! address, how it stops on a signal, and its `healthcheck` subcommand. Signal handling lives in `main`, so these tests
//! start the real `talentgraph` executable on a fresh database and signal it
//! with `kill`, as `docker stop` would.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, TestDatabase};

const BINARY: &str = env!("CARGO_BIN_EXE_talentgraph");
/// Generous bounds for a busy 2-core machine; none is what a test asserts.
const START_TIMEOUT: Duration = Duration::from_secs(60);
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// `talentgraph serve` in a child process, killed (if still running) and its
/// database dropped when the test ends.
struct Served {
    child: Child,
    address: SocketAddr,
    logs: Arc<Mutex<String>>,
    // Declared last: dropped after the process is gone.
    _database: TestDatabase,
}

impl Served {
    async fn start(args: &[&str], env: &[(&str, &str)]) -> Served {
        let database = TestDatabase::create().await;
        let mut child = Command::new(BINARY)
            .args(args)
            .env("DATABASE_URL", database.url())
            .env("TALENTGRAPH_LISTEN", "127.0.0.1:0")
            .env("TALENTGRAPH_HTTP_WORKERS", "2")
            .env("RUST_LOG", "info")
            .env_remove("TALENTGRAPH_SEED")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        // Read the log as it comes (a full pipe would block the server), and
        // learn the port it bound from its "serving" line.
        let stderr = child.stderr.take().expect("stderr is piped");
        let logs = Arc::new(Mutex::new(String::new()));
        let (port_tx, port_rx) = tokio::sync::oneshot::channel();
        let log_sink = logs.clone();
        std::thread::spawn(move || {
            let mut port_tx = Some(port_tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("serving the playground")
                    && let Some(port) = port_in(&line)
                    && let Some(tx) = port_tx.take()
                {
                    let _ = tx.send(port);
                }
                let mut logs = log_sink.lock().expect("log lock");
                logs.push_str(&line);
                logs.push('\n');
            }
        });
        let mut served = Served {
            child,
            address: SocketAddr::from(([127, 0, 0, 1], 0)),
            logs,
            _database: database,
        };
        let port = match tokio::time::timeout(START_TIMEOUT, port_rx).await {
            Ok(Ok(port)) => port,
            _ => panic!("the server never said where it serves:\n{}", served.logs()),
        };
        served.address.set_port(port);
        served.wait_until_ready().await;
        served
    }

    fn database_url(&self) -> String {
        self._database.url()
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    fn logs(&self) -> String {
        self.logs.lock().expect("log lock").clone()
    }

    async fn wait_until_ready(&self) {
        let client = fresh_connections();
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(response) = client.get(self.url("/readyz")).send().await
                && response.status() == StatusCode::OK
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("/readyz never answered 200:\n{}", self.logs());
    }

    /// Sends a signal the way `docker stop` and Ctrl-C do.
    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args(["-s", name, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -s {name} failed");
    }

    /// The exit status, once the process has exited; panics after `limit`.
    async fn exit_status(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("the child can be waited on") {
                return status;
            }
            if Instant::now() >= deadline {
                panic!("still running after {limit:?}:\n{}", self.logs());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Polls `/readyz` on new connections until it answers 503; panics if
    /// it cannot be reached or stays ready for `limit`.
    async fn wait_until_unready(&self, limit: Duration) -> String {
        let client = fresh_connections();
        let deadline = Instant::now() + limit;
        loop {
            let response = client
                .get(self.url("/readyz"))
                .send()
                .await
                .unwrap_or_else(|e| panic!("/readyz unreachable while draining: {e}"));
            if response.status() == StatusCode::SERVICE_UNAVAILABLE {
                return response.text().await.expect("a body");
            }
            assert!(
                Instant::now() < deadline,
                "/readyz still answered {} after {limit:?}",
                response.status()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The port in a log line's `port=8080` field.
fn port_in(line: &str) -> Option<u16> {
    let digits: String = line
        .split("port=")
        .nth(1)?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// A client that opens a new connection for every request, as a load
/// balancer's probe does.
fn fresh_connections() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(IO_TIMEOUT)
        .build()
        .expect("a client")
}

/// A GraphQL request written in full on its own connection, so that the
/// server has it (and is executing it) whatever happens to its listener.
fn send_a_request(address: SocketAddr) -> TcpStream {
    let body = serde_json::to_vec(&json!({
        "query": r#"{ organization(slug: "mistral") { founders { name } } }"#
    }))
    .expect("JSON");
    let mut stream = TcpStream::connect(address).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(40)))
        .expect("timeout");
    write!(
        stream,
        "POST /graphql HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Accept: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .expect("headers sent");
    stream.write_all(&body).expect("body sent");
    stream.flush().expect("flushed");
    stream
}

/// Waits until `count` sessions of this database wait for a lock.
async fn wait_for_lock_waits(conn: &mut diesel_async::AsyncPgConnection, count: i64) {
    use diesel_async::RunQueryDsl;

    #[derive(diesel::QueryableByName)]
    struct Waiting {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        // The caller holds its lock in a transaction, which would keep
        // reading its first snapshot of pg_stat_activity.
        diesel::sql_query("SELECT pg_stat_clear_snapshot()")
            .execute(conn)
            .await
            .expect("clear the statistics snapshot");
        let waiting: Waiting = diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .get_result(conn)
        .await
        .expect("activity");
        if waiting.n >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("fewer than {count} requests reached the lock");
}

#[tokio::test]
async fn sigterm_turns_readiness_off_finishes_every_request_in_flight_and_exits_zero() {
    use diesel_async::RunQueryDsl;

    // One request in flight on each worker: the server hands connections to
    // its workers in turn, and each worker stops on its own, so a worker
    // that dropped what it held would show here (it once did, in about one
    // run in ten, when a worker saw its connection queue close before its
    // stop command arrived).
    const WORKERS: usize = 4;
    // The drain leaves room for a slow machine to see /readyz turn 503
    // before the listener closes; the long grace period and lock timeout,
    // for a loaded test machine.
    let grace = Duration::from_secs(20);
    let workers = WORKERS.to_string();
    let mut server = Served::start(
        &["serve", "--seed"],
        &[
            ("TALENTGRAPH_HTTP_WORKERS", &workers),
            ("TALENTGRAPH_SHUTDOWN_GRACE_SECS", "20"),
            ("TALENTGRAPH_SHUTDOWN_DRAIN_SECS", "3"),
            ("TALENTGRAPH_DB_LOCK_TIMEOUT_MS", "60000"),
            ("TALENTGRAPH_DB_STATEMENT_TIMEOUT_MS", "60000"),
            ("TALENTGRAPH_REQUEST_TIMEOUT_MS", "60000"),
        ],
    )
    .await;

    // Requests in flight: fully sent, and held inside PostgreSQL by a lock
    // this test takes, so they are executing when the signal arrives.
    let mut blocker = crate::support::establish(&server.database_url())
        .await
        .expect("connect");
    diesel::sql_query("BEGIN")
        .execute(&mut blocker)
        .await
        .expect("begin");
    diesel::sql_query("LOCK TABLE organizations IN ACCESS EXCLUSIVE MODE")
        .execute(&mut blocker)
        .await
        .expect("lock");
    let in_flight: Vec<TcpStream> = (0..WORKERS)
        .map(|_| send_a_request(server.address))
        .collect();
    wait_for_lock_waits(&mut blocker, WORKERS as i64).await;

    let signalled = Instant::now();
    server.signal("TERM");

    // Readiness turns off at once, while the listener still accepts.
    assert_eq!(
        server.wait_until_unready(Duration::from_secs(3)).await,
        "shutting down"
    );

    // After the drain, new connections are refused.
    loop {
        match TcpStream::connect_timeout(&server.address, IO_TIMEOUT) {
            // Reset: accepted into the backlog just as the listener closed.
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::ConnectionReset
                ) =>
            {
                break;
            }
            Err(e) => panic!("unexpected connect error while draining: {e}"),
            Ok(_) => {
                assert!(
                    signalled.elapsed() < grace,
                    "still accepting connections at the end of the grace period"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    // Every request in flight still completes, with its real answer, and
    // the server asks each client not to reuse its connection.
    diesel::sql_query("COMMIT")
        .execute(&mut blocker)
        .await
        .expect("unlock");
    for (n, mut stream) in in_flight.into_iter().enumerate() {
        let mut response = String::new();
        // An error here (a reset) is a lost request just as an empty
        // answer is: both fail below with the server's log.
        let _ = stream.read_to_string(&mut response);
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or_else(|| {
            panic!(
                "request {n} of {WORKERS}: an HTTP response: {response:?}\n{}",
                server.logs()
            )
        });
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(
            head.to_ascii_lowercase().contains("connection: close"),
            "{head}"
        );
        let body: Value =
            serde_json::from_str(&crate::support::without_cost(body)).expect("a JSON body");
        assert_eq!(
            body,
            json!({ "data": { "organization": { "founders": [
                { "name": "Arthur Mensch" }, { "name": "Guillaume Lample" }, { "name": "Timothée Lacroix" }
            ] } } })
        );
    }

    let status = server.exit_status(grace * 2).await;
    assert!(status.success(), "exit status {status}:\n{}", server.logs());
    assert!(
        signalled.elapsed() <= grace,
        "exited after {:?}, beyond the {grace:?} grace period",
        signalled.elapsed()
    );
}

#[tokio::test]
async fn sigint_stops_an_idle_server_with_exit_status_zero_within_the_grace_period() {
    let grace = Duration::from_secs(3);
    let mut server = Served::start(
        &["serve"],
        &[
            ("TALENTGRAPH_SHUTDOWN_GRACE_SECS", "3"),
            ("TALENTGRAPH_SHUTDOWN_DRAIN_SECS", "1"),
        ],
    )
    .await;
    let signalled = Instant::now();
    server.signal("INT");
    let status = server.exit_status(grace * 2).await;
    assert!(status.success(), "exit status {status}:\n{}", server.logs());
    assert!(signalled.elapsed() <= grace, "{:?}", signalled.elapsed());
}

#[tokio::test]
async fn a_second_signal_stops_the_server_without_waiting_out_the_drain() {
    let drain = Duration::from_secs(20);
    let mut server = Served::start(
        &["serve"],
        &[
            ("TALENTGRAPH_SHUTDOWN_GRACE_SECS", "25"),
            ("TALENTGRAPH_SHUTDOWN_DRAIN_SECS", "20"),
        ],
    )
    .await;
    let signalled = Instant::now();
    server.signal("INT");
    server.wait_until_unready(drain).await;
    server.signal("INT");
    let status = server.exit_status(drain).await;
    assert!(status.success(), "exit status {status}:\n{}", server.logs());
    assert!(signalled.elapsed() < drain, "{:?}", signalled.elapsed());
}

#[tokio::test]
async fn the_healthcheck_command_passes_while_the_server_answers_and_fails_once_it_is_gone() {
    let app = TestApp::spawn().await;
    let port = app
        .address
        .rsplit(':')
        .next()
        .expect("an address with a port")
        .to_owned();
    // The image listens on 0.0.0.0; the probe knocks on loopback.
    let healthcheck = move |port: String, args: &'static [&'static str]| {
        tokio::task::spawn_blocking(move || {
            Command::new(BINARY)
                .arg("healthcheck")
                .args(args)
                .env("TALENTGRAPH_LISTEN", format!("0.0.0.0:{port}"))
                .env("RUST_BACKTRACE", "0")
                .output()
                .expect("the binary runs")
        })
    };
    for args in [&[][..], &["--ready"][..]] {
        let healthy = healthcheck(port.clone(), args).await.expect("joined");
        assert!(
            healthy.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&healthy.stderr)
        );
    }

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("its address")
        .port();
    let unhealthy = healthcheck(closed.to_string(), &[]).await.expect("joined");
    assert!(!unhealthy.status.success());
    let stderr = String::from_utf8_lossy(&unhealthy.stderr);
    assert!(stderr.contains("/healthz"), "{stderr}");
}

#[tokio::test]
async fn serving_on_an_address_in_use_names_the_address_and_its_variable_and_exits_non_zero() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let address = taken.local_addr().expect("its address");
    let mut child = Command::new(BINARY)
        .arg("serve")
        .env("TALENTGRAPH_LISTEN", address.to_string())
        // Nothing listens on port 1: should the bind wrongly succeed, the
        // server waits for a database instead of touching a real one.
        .env(
            "DATABASE_URL",
            "postgres://postgres@127.0.0.1:1/talentgraph",
        )
        // Set on many machines (this one included); it must not turn an
        // operator's mistake into a stack trace.
        .env("RUST_BACKTRACE", "1")
        .env_remove("TALENTGRAPH_SEED")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let deadline = Instant::now() + START_TIMEOUT;
    while child
        .try_wait()
        .expect("the child can be waited on")
        .is_none()
    {
        if Instant::now() >= deadline {
            let _ = child.kill();
            let output = child.wait_with_output().expect("its output");
            panic!(
                "still running on a taken address:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let output = child.wait_with_output().expect("its output");
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert!(
        output.status.code().is_some_and(|code| code != 0),
        "exit status {}: {stderr}",
        output.status
    );
    assert!(
        stderr.contains(&format!(
            "cannot listen on {address} (TALENTGRAPH_LISTEN): address already in use"
        )),
        "{stderr}"
    );
    assert!(
        !stderr.to_ascii_lowercase().contains("backtrace"),
        "{stderr}"
    );
    drop(taken);
}
