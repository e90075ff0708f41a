//! Test support: each test gets a fresh database, copied from a migrated
//! template, and the real app serving it on a random port. The database is
//! dropped when the test's `TestApp` goes out of scope.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU32, Ordering};

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::{Value, json};
use talentgraph::config::{Config, DEFAULT_DATABASE_URL, DatabaseUrl};
use talentgraph::db::{self, StatementCounter};
use talentgraph::server::Application;
use tokio::sync::OnceCell;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub statements: StatementCounter,
    pub database_url: String,
    // Declared before the database: dropped (stopped) first.
    _serving: Serving,
    _database: TestDatabase,
}

/// The app serving on a thread and runtime of its own, so that dropping it
/// can stop it completely (its workers, their spawned batch loads, the
/// change listener) before the test drops its database. Otherwise what is
/// still running reconnects to a database that is gone, which a pooler in
/// front logs as a failed login.
struct Serving {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Serving {
    /// Builds the app for `config` on its own thread; returns once it listens.
    async fn start(config: Config) -> (Self, u16, StatementCounter) {
        let (built_tx, built_rx) = tokio::sync::oneshot::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("a runtime for the app");
            runtime.block_on(async move {
                let app = Application::build(&config).expect("the app builds");
                let handle = app.handle();
                let _ = built_tx.send((app.port, app.statements.clone()));
                let served = tokio::spawn(app.run());
                let _ = stopped.await;
                // Forced: a graceful stop would wait out the keep-alive of
                // client connections the test's runtime, blocked in this
                // drop, cannot close. Each worker then drops its requests
                // and its runtime (with the batch loads spawned on it) as
                // soon as it reads the command, which the pause covers.
                handle.stop(false).await;
                tokio::time::sleep(WORKERS_STOPPING).await;
                served.abort();
            });
            // Dropping the runtime cancels the listener and anything else spawned on it.
        });
        let (port, statements) = built_rx.await.expect("the app builds");
        let serving = Serving {
            stop: Some(stop),
            thread: Some(thread),
        };
        (serving, port, statements)
    }
}

/// What a worker takes to act on a stop command: actix-server does not say
/// when its worker threads have ended.
const WORKERS_STOPPING: std::time::Duration = std::time::Duration::from_millis(100);

impl Drop for Serving {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
            && !std::thread::panicking()
        {
            panic!("the app's thread panicked");
        }
    }
}

/// The server that tests create their databases on (DATABASE_URL's, or the default).
fn server_url() -> String {
    let _ = dotenvy::dotenv();
    std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned())
}

/// The defaults, serving `database_url` on a free port with a small pool.
pub fn test_config(database_url: &str) -> Config {
    let mut config = Config::from_lookup(|_| None).expect("the defaults are valid");
    config.database_url = DatabaseUrl::from(database_url);
    config.listen = "127.0.0.1:0".parse().expect("valid address");
    config.db_pool_size = 4;
    config.http_workers = 1;
    // Behind PgBouncer's transaction mode (scripts/pgbouncer-check.sh) the
    // LISTEN connection goes to PostgreSQL itself, as the README says to.
    if let Ok(direct) = std::env::var("TALENTGRAPH_TEST_LISTEN_SERVER_URL") {
        let name = database_url
            .rsplit('/')
            .next()
            .and_then(|tail| tail.split('?').next())
            .unwrap_or_default();
        config.listen_database_url = Some(DatabaseUrl::from(with_database(&direct, name)));
    }
    // So that the whole suite can run through PgBouncer's transaction mode
    // (scripts/pgbouncer-check.sh).
    config.scale.prepared_statements = prepared_statements();
    config
}

/// `TALENTGRAPH_DB_PREPARED_STATEMENTS` as the suite runs (true unless set).
fn prepared_statements() -> bool {
    std::env::var("TALENTGRAPH_DB_PREPARED_STATEMENTS")
        .map(|value| value.parse().expect("true or false"))
        .unwrap_or(true)
}

/// `AsyncPgConnection::establish`, without prepared statements when the
/// suite runs through a pooler that cannot keep them.
pub async fn establish(url: &str) -> diesel::ConnectionResult<AsyncPgConnection> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    if !prepared_statements() {
        talentgraph::db::connect::use_prepared_statements(false);
        conn.set_prepared_statement_cache_size(diesel::connection::CacheSize::Disabled);
    }
    Ok(conn)
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    db::with_database_name(&DatabaseUrl::from(url), name)
        .expect("DATABASE_URL names a database")
        .expose()
        .to_owned()
}

/// A name that changes whenever a migration does, so a stale template is never used.
fn template_name() -> String {
    let mut files: Vec<_> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .expect("migrations folder")
        .flat_map(|dir| dir.ok())
        .flat_map(|dir| {
            std::fs::read_dir(dir.path())
                .into_iter()
                .flatten()
                .flatten()
        })
        .map(|file| file.path())
        .collect();
    files.sort();
    let mut hasher = DefaultHasher::new();
    for file in files {
        file.hash(&mut hasher);
        std::fs::read(&file).unwrap_or_default().hash(&mut hasher);
    }
    format!("talentgraph_template_{:016x}", hasher.finish())
}

async fn maintenance_conn() -> AsyncPgConnection {
    let (url, _) = db::maintenance_url(&DatabaseUrl::from(server_url()))
        .expect("DATABASE_URL names a database");
    establish(url.expose())
        .await
        .unwrap_or_else(|e| panic!("tests need PostgreSQL at {url}: {e}"))
}

/// Creates the migrated template once per machine: test processes (nextest
/// runs one per test) take turns through an advisory lock, and a template is
/// renamed into place only once it is complete.
async fn template() -> &'static str {
    static TEMPLATE: OnceCell<String> = OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            let name = template_name();
            let mut conn = maintenance_conn().await;
            diesel::sql_query("SELECT pg_advisory_lock(7250001)")
                .execute(&mut conn)
                .await
                .expect("advisory lock");
            let exists = diesel::sql_query(format!(
                "SELECT 1 FROM pg_database WHERE datname = '{name}'"
            ))
            .execute(&mut conn)
            .await
            .expect("look up template")
                > 0;
            if !exists {
                let building = format!("{name}_building");
                for sql in [
                    format!("DROP DATABASE IF EXISTS {building}"),
                    format!("CREATE DATABASE {building}"),
                ] {
                    diesel::sql_query(sql)
                        .execute(&mut conn)
                        .await
                        .expect("create template");
                }
                db::run_migrations(&DatabaseUrl::from(with_database(&server_url(), &building)))
                    .await
                    .expect("migrations apply to an empty database");
                diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("rename template");
            }
            diesel::sql_query("SELECT pg_advisory_unlock(7250001)")
                .execute(&mut conn)
                .await
                .expect("advisory unlock");
            name
        })
        .await
}

/// The longest test database name: PostgreSQL cuts a name past 63 bytes
/// silently, and tests derive names of their own from it (`seed.rs` adds
/// `_cli`), which must stay distinct.
const MAX_NAME_BYTES: usize = 48;

/// A database for one test, dropped (with any connections left) on drop.
pub struct TestDatabase {
    name: String,
}

impl TestDatabase {
    /// A fresh, migrated, empty database.
    pub async fn create() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let template = template().await;
        // Named after the test too (libtest names its thread so), so that a
        // server or pooler log line about a database says which test it was.
        let test: String = std::thread::current()
            .name()
            .unwrap_or_default()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        let mut name = format!(
            "talentgraph_test_{}_{}_{test}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
        );
        name.truncate(MAX_NAME_BYTES);
        let mut conn = maintenance_conn().await;
        diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .execute(&mut conn)
            .await
            .expect("create test database");
        TestDatabase { name }
    }

    pub fn url(&self) -> String {
        with_database(&server_url(), &self.name)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs outside async; a short-lived runtime on its own thread does the work.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut conn = maintenance_conn().await;
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .map_err(std::io::Error::other)
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(_))) {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

impl TestApp {
    /// The app on an empty, migrated database.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// The app on an empty, migrated database, with `configure` adjusting the
    /// test defaults (4 connections, 1 worker, the rest as in production).
    pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> Self {
        let database = TestDatabase::create().await;
        let database_url = with_database(&server_url(), &database.name);
        let mut config = test_config(&database_url);
        configure(&mut config);
        let (serving, port, statements) = Serving::start(config).await;
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
            statements,
            database_url,
            _serving: serving,
            _database: database,
        }
    }

    /// The app on a database loaded with the article's data set.
    pub async fn spawn_seeded() -> Self {
        let app = Self::spawn().await;
        talentgraph::seed::seed(&mut app.conn().await)
            .await
            .expect("the article's data set loads");
        app
    }

    pub async fn conn(&self) -> AsyncPgConnection {
        establish(&self.database_url)
            .await
            .expect("connect to the test database")
    }

    /// How many rows `table` holds, by `count(*)`.
    pub async fn rows_in(&self, table: &str) -> i64 {
        use diesel_async::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Rows {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let rows: Rows = diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
            .get_result(&mut self.conn().await)
            .await
            .unwrap_or_else(|e| panic!("count the rows of {table}: {e}"));
        rows.n
    }

    /// Runs a SQL script on the test database (fixtures).
    pub async fn sql(&self, script: &str) {
        use diesel_async::SimpleAsyncConnection;
        self.conn()
            .await
            .batch_execute(script)
            .await
            .unwrap_or_else(|e| panic!("fixture SQL failed: {e}\n{script}"));
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// POSTs a query and returns the whole JSON response.
    pub async fn graphql(&self, query: &str) -> Value {
        self.graphql_with(query, json!({})).await
    }

    pub async fn graphql_with(&self, query: &str, variables: Value) -> Value {
        let response = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("the request reaches the app");
        response.json().await.expect("the response is JSON")
    }

    /// A fresh bearer token with `role` (`editor` or `admin`), as
    /// `talentgraph token create` makes one.
    pub async fn token(&self, role: &str) -> String {
        let secret = talentgraph::auth::new_secret().expect("randomness");
        talentgraph::db::tokens::insert(
            &mut self.conn().await,
            &format!("test {role}"),
            role,
            &talentgraph::auth::hash(&secret),
        )
        .await
        .expect("insert a token");
        secret
    }

    /// A GraphQL request with `Authorization: Bearer <token>`.
    pub async fn graphql_as(&self, token: &str, query: &str, variables: Value) -> Value {
        let response = self
            .client
            .post(self.url("/graphql"))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("the request reaches the app");
        response.json().await.expect("the response is JSON")
    }

    /// The body exactly as sent (key order is part of the contract), for a
    /// request as `token` if given; with `stock`, resolved by async-graphql's
    /// own executor instead of the fast path (armed apps only, see
    /// `config.debug_faults`).
    pub async fn raw(
        &self,
        token: Option<&str>,
        query: &str,
        variables: &Value,
        stock: bool,
    ) -> String {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if stock {
            request = request.header(talentgraph::observability::STOCK_EXECUTION_HEADER, "1");
        }
        request
            .send()
            .await
            .expect("the request reaches the app")
            .text()
            .await
            .expect("a body")
    }

    /// Sends a GraphQL POST as `token` over a socket of its own and returns
    /// the socket unread: a test can then drop it mid-request, as a client
    /// that goes away does.
    pub async fn post_on_own_socket(&self, token: &str, body: &str) -> tokio::net::TcpStream {
        use tokio::io::AsyncWriteExt;
        let address = self.address.trim_start_matches("http://").to_owned();
        let mut socket = tokio::net::TcpStream::connect(&address)
            .await
            .expect("connect");
        let request = format!(
            "POST /graphql HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
             Authorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        socket.write_all(request.as_bytes()).await.expect("send");
        socket
    }

    /// POSTs a query that must succeed and returns its `data`.
    pub async fn data(&self, query: &str) -> Value {
        let response = self.graphql(query).await;
        assert!(
            response.get("errors").is_none(),
            "unexpected errors: {response:#}"
        );
        response["data"].clone()
    }

    /// SQL statements the app sent while running `query`.
    pub async fn statements_for(&self, query: &str) -> u64 {
        let before = self.statements.get();
        self.data(query).await;
        self.statements.get() - before
    }
}

/// The `extensions.code` of each error in a response.
/// A body as sent, less its `extensions.cost` (which changes with every
/// request): the rest keeps its bytes and key order.
pub fn without_cost(body: &str) -> String {
    let mut value: Value = serde_json::from_str(body).expect("a JSON body");
    if let Some(object) = value.as_object_mut() {
        let emptied = object
            .get_mut("extensions")
            .and_then(Value::as_object_mut)
            .map(|extensions| {
                extensions.shift_remove("cost");
                extensions.is_empty()
            });
        if emptied == Some(true) {
            object.shift_remove("extensions");
        }
    }
    serde_json::to_string(&value).expect("JSON")
}

pub fn error_codes(response: &Value) -> Vec<String> {
    response["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    e["extensions"]["code"]
                        .as_str()
                        .unwrap_or("<none>")
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The strings at `field` of each element of the array `list`.
pub fn strings(list: &Value, field: impl Fn(&Value) -> &Value) -> Vec<String> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .map(|item| field(item).as_str().unwrap_or("<null>").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until a session of `conn`'s database waits for a lock (a request the
/// test holds inside PostgreSQL); panics after 30 s.
pub async fn wait_for_a_lock_wait(conn: &mut AsyncPgConnection) {
    wait_for_lock_waits(conn, 1).await;
}

/// Waits until `sessions` sessions of `conn`'s database wait for a lock at
/// once; panics after 30 s with the most seen.
pub async fn wait_for_lock_waits(conn: &mut AsyncPgConnection, sessions: i64) {
    #[derive(diesel::QueryableByName)]
    struct Waiting {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut most = 0;
    while std::time::Instant::now() < deadline {
        // Inside a transaction (the caller holds its lock in one),
        // pg_stat_activity is read once and kept: drop that copy each time.
        diesel::sql_query("SELECT pg_stat_clear_snapshot()")
            .execute(conn)
            .await
            .expect("clear the statistics snapshot");
        let row: Waiting = diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .get_result(conn)
        .await
        .expect("activity");
        most = most.max(row.n);
        if row.n >= sessions {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("{sessions} sessions never waited on a lock at once (at most {most})");
}
