//! The `talentgraph` binary: parse the command line, read the configuration,
//! set up logging (on stderr: stdout carries `schema` output), dispatch.

use anyhow::Context;
use clap::{Parser, Subcommand};
use talentgraph::config::Config;
use talentgraph::server::Application;
use talentgraph::{db, graphql, seed};

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
    /// Apply pending migrations, then serve GraphQL and the playground (the default).
    Serve {
        /// Load the article's data set before serving (idempotent).
        #[arg(long)]
        seed: bool,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Load the article's data set (idempotent).
    Seed,
    /// Print the GraphQL schema (SDL); `schema.graphql` is this output.
    Schema,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve { seed: false });
    if let Command::Schema = command {
        print!("{}", graphql::sdl());
        return Ok(());
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let config = Config::from_env()?;
    match command {
        Command::Schema => Ok(()),
        Command::Migrate => prepare_database(&config).await,
        Command::Seed => {
            prepare_database(&config).await?;
            run_seed(&config).await
        }
        Command::Serve { seed } => {
            prepare_database(&config).await?;
            if seed {
                run_seed(&config).await?;
            }
            let app = Application::build(&config)?;
            tracing::info!(
                port = app.port,
                "serving the playground at http://{}",
                config.listen
            );
            app.run().await.context("the HTTP server failed")
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
    use diesel_async::AsyncConnection;
    let mut conn = diesel_async::AsyncPgConnection::establish(&config.database_url).await?;
    let report = seed::seed(&mut conn).await.context("seeding failed")?;
    tracing::info!(?report, "seeded the article's data set");
    Ok(())
}
