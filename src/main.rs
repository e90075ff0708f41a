//! The `talentgraph` binary: parse the command line, read the configuration,
//! set up logging (on stderr: stdout carries `schema` output), dispatch.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use talentgraph::auth::{self, Role};
use talentgraph::config::Config;
use talentgraph::db::writes::Author;
use talentgraph::server::Application;
use talentgraph::server::{Readiness, spawn_database_preparation_with};
use talentgraph::shutdown::Signals;
use talentgraph::{db, graphql, healthcheck, interchange, observability, seed};

// Resolving a GraphQL response allocates a small object per field and per
// value: glibc's malloc/free took a quarter of the server's CPU on a large
// answer (perf), mimalloc's about 7% (BENCHMARKS.md). Its 2.x line (the
// `v2` feature) returns freed memory after 10 ms where 3.x waits a second:
// peak resident size under the largest analytic answer at c=32 is 89-91 MB
// against 113-119 MB, at the same throughput.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    version,
    about = "A GraphQL API that records who worked where, when, and how we know it."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve GraphQL and the playground (the default), applying pending
    /// migrations as soon as the database answers.
    Serve {
        /// Load the article's data set before serving (idempotent). Also set by
        /// TALENTGRAPH_SEED=true, for containers whose command cannot be changed.
        #[arg(long, env = "TALENTGRAPH_SEED")]
        seed: bool,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Load the article's data set (idempotent).
    Seed,
    /// Print the GraphQL schema (SDL); `schema.graphql` is this output.
    Schema {
        /// Instead, list what breaks for clients of the schema in this file
        /// (removed fields, changed types, new required arguments) and exit
        /// non-zero if anything does.
        #[arg(long, value_name = "OLD.graphql")]
        check_breaking: Option<std::path::PathBuf>,
    },
    /// Exit 0 if the server on TALENTGRAPH_LISTEN answers GET /healthz with 200
    /// (the container's HEALTHCHECK: the image needs no curl).
    Healthcheck {
        /// Probe /readyz instead: the database answers and no shutdown is under way.
        #[arg(long)]
        ready: bool,
    },
    /// Manage write tokens.
    Token {
        #[command(subcommand)]
        action: TokenCommand,
    },
    /// Load a data set from a JSON Lines file (`-` for stdin): every line is
    /// validated and the whole file is applied, or nothing.
    Import {
        /// The file to read; see docs/interchange.md for its format.
        file: std::path::PathBuf,
    },
    /// Write every entity as JSON Lines to stdout.
    Export,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token and print its secret (once: only its hash is stored).
    Create {
        /// `editor` writes data; `admin` also manages tokens and reads the audit log.
        #[arg(long)]
        role: Role,
        /// What the token is for, e.g. `ci-frontend`.
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// Revoke a token by its number, at once.
    Revoke { id: i64 },
    /// List tokens (never their secrets).
    List,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Printed here rather than returned: returning it prints anyhow's
            // Debug form, which adds a stack backtrace whenever RUST_BACKTRACE
            // is set, and a backtrace tells an operator nothing about a taken
            // port or a bad variable. `{:#}` keeps every cause, on one line.
            eprintln!("Error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let command = cli.command.unwrap_or(Command::Serve { seed: false });
    if let Command::Schema { check_breaking } = &command {
        let Some(old) = check_breaking else {
            print!("{}", graphql::sdl());
            return Ok(());
        };
        let old = std::fs::read_to_string(old)
            .with_context(|| format!("cannot read {}", old.display()))?;
        let changes = talentgraph::schema_diff::breaking_changes(&old, &graphql::sdl())
            .map_err(|error| anyhow::anyhow!(error))?;
        if changes.is_empty() {
            println!("no breaking changes");
            return Ok(());
        }
        for change in &changes {
            println!("BREAKING: {change}");
        }
        anyhow::bail!("{} breaking change(s)", changes.len());
    }
    if let Command::Healthcheck { ready } = command {
        let config = Config::from_env()?;
        let path = if ready { "/readyz" } else { "/healthz" };
        healthcheck::check(config.listen, path, Duration::from_secs(3))?;
        return Ok(());
    }
    let config = Config::from_env()?;
    observability::init_tracing(config.log_format);
    db::connect::use_prepared_statements(config.scale.prepared_statements);
    match command {
        Command::Schema { .. } | Command::Healthcheck { .. } => Ok(()),
        Command::Migrate => prepare_database(&config).await,
        Command::Seed => {
            prepare_database(&config).await?;
            run_seed(&config).await
        }
        Command::Token { action } => {
            prepare_database(&config).await?;
            run_token(&config, action).await
        }
        Command::Import { file } => {
            prepare_database(&config).await?;
            run_import(&config, &file).await
        }
        Command::Export => {
            prepare_database(&config).await?;
            run_export(&config).await
        }
        Command::Serve { seed } => {
            // Serve at once, even while PostgreSQL is down: /readyz says when
            // the database is migrated (and seeded) and the service usable.
            // A malformed URL will never work: refuse it now, not in a retry loop.
            db::maintenance_url(&config.database_url)?;
            // Listening before anything else: a signal is never ignored (as
            // PID 1 in a container) and always drains gracefully.
            let signals = Signals::listen().context("cannot listen for signals")?;
            let seed_file = match &config.scale.seed_file {
                Some(path) => Some(seed::SeedFile::read(path).with_context(|| {
                    format!("cannot read TALENTGRAPH_SEED_FILE {}", path.display())
                })?),
                None => None,
            };
            let app = Application::build_with(&config, Readiness::default())?;
            spawn_database_preparation_with(&config, seed, seed_file, app.readiness.clone());
            tracing::info!(
                port = app.port,
                "serving the playground at http://{}:{}",
                config.listen.ip(),
                app.port
            );
            app.run_until_stopped(signals)
                .await
                .context("the HTTP server failed")
        }
    }
}

async fn prepare_database(config: &Config) -> anyhow::Result<()> {
    db::create_database_if_missing(&config.database_url).await?;
    let applied = db::run_migrations(&config.database_url).await?;
    tracing::info!(count = applied.len(), ?applied, "migrations applied");
    Ok(())
}

async fn run_seed(config: &Config) -> anyhow::Result<()> {
    let mut conn = connect(config).await?;
    let report = seed::seed(&mut conn).await.context("seeding failed")?;
    tracing::info!(?report, "seeded the article's data set");
    Ok(())
}

async fn connect(config: &Config) -> anyhow::Result<diesel_async::AsyncPgConnection> {
    Ok(db::connect(&config.database_url).await?)
}

async fn run_token(config: &Config, action: TokenCommand) -> anyhow::Result<()> {
    let mut conn = connect(config).await?;
    match action {
        TokenCommand::Create { role, name } => {
            talentgraph::domain::validate::text("name", &name, 200)
                .map_err(|e| anyhow::anyhow!("--name {}", e.message))?;
            let secret = auth::new_secret().map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
            let token =
                db::tokens::insert(&mut conn, &name, role.as_db(), &auth::hash(&secret)).await?;
            eprintln!(
                "token {} ({}, {:?}) created; its secret is shown this once:",
                token.id, token.role, token.name
            );
            println!("{secret}");
        }
        TokenCommand::Revoke { id } => match db::tokens::revoke(&mut conn, id).await? {
            Some(token) => eprintln!("token {} ({:?}) is revoked", token.id, token.name),
            None => anyhow::bail!("no token has the number {id}"),
        },
        TokenCommand::List => {
            for token in db::tokens::all(&mut conn).await? {
                let state = match token.revoked_at {
                    Some(at) => format!("revoked {}", at.to_rfc3339()),
                    None => "valid".to_owned(),
                };
                println!("{}\t{}\t{}\t{}", token.id, token.role, token.name, state);
            }
        }
    }
    Ok(())
}

async fn run_import(config: &Config, file: &std::path::Path) -> anyhow::Result<()> {
    let text = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?
    };
    let mut conn = connect(config).await?;
    let report = interchange::import(&mut conn, &text, &Author::cli("import")).await?;
    tracing::info!(?report, "imported {}", file.display());
    Ok(())
}

async fn run_export(config: &Config) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut conn = connect(config).await?;
    let lines = interchange::export(&mut conn).await?;
    let mut out = std::io::stdout().lock();
    out.write_all(interchange::to_jsonl(&lines)?.as_bytes())?;
    out.flush()?;
    Ok(())
}
