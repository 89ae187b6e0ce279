//! `origin`: the Rookery origin server and its operations commands.

use clap::{Parser, Subcommand};
use rookery_origin::{db, telemetry, worker::Worker, Application, Config};

#[derive(Parser)]
#[command(name = "origin", version, about = "The Rookery origin server and its operations commands")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (the default).
    Serve,
    /// Run the outbox relay and the fanout consumers without the HTTP API, until ctrl-c or SIGTERM.
    Worker,
    /// Create the database if missing and apply the migrations, then exit.
    Migrate,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::from_env()?;
    telemetry::init(config.log_json);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => Application::build(config).await?.run_until_stopped().await,
        Command::Worker => Worker::build(config).await?.run_until_stopped().await,
        Command::Migrate => {
            db::connect_and_migrate(&config).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
    }
}
