//! `origin`: the Rookery origin server and its operations commands.

use clap::{Parser, Subcommand};
use rookery_origin::{
    db,
    ops::{feeds, seed},
    startup, telemetry,
    worker::Worker,
    Application, Config,
};
use rookery_shared::ids::UserId;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Timeline maintenance.
    Feeds {
        #[command(subcommand)]
        command: FeedsCommand,
    },
    /// Fill the database with demo or benchmark data (users, a skewed follow graph, tweets).
    Seed(seed::SeedOptions),
}

#[derive(Subcommand)]
enum FeedsCommand {
    /// Rebuild Redis timelines from MySQL.
    Rebuild {
        /// Only this user's timelines.
        #[arg(long, conflicts_with = "all")]
        user: Option<u64>,
        /// Every user's timelines.
        #[arg(long)]
        all: bool,
    },
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
        Command::Feeds { command: FeedsCommand::Rebuild { user, all } } => {
            let state = startup::connect(config).await?;
            match (user, all) {
                (Some(user), _) => feeds::rebuild_user(&state, UserId(user)).await?,
                (None, true) => {
                    let count = feeds::rebuild_all(&state, true).await?;
                    println!("rebuilt the timelines of {count} users");
                }
                (None, false) => anyhow::bail!("say --user ID or --all"),
            }
            Ok(())
        }
        Command::Seed(options) => {
            let state = startup::connect(config).await?;
            let started = std::time::Instant::now();
            let report = seed::run(&state, &options, true).await?;
            println!(
                "seeded {} users, {} follows, {} tweets in {:.1} s (password of every seeded user: {})",
                report.users.len(),
                report.follows,
                report.tweets,
                started.elapsed().as_secs_f64(),
                seed::SEED_PASSWORD
            );
            if options.tokens > 0 {
                println!("{} bearer tokens written to {}", options.tokens.min(report.users.len()), options.tokens_out.display());
            }
            Ok(())
        }
    }
}
