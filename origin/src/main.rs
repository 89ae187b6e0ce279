//! `origin`: the Rookery origin server and its operations commands.

use clap::{Parser, Subcommand};
use rookery_origin::{
    config::{self, LogFormat},
    db,
    ops::{dead_letters, feeds, seed, switches},
    switches::Switches,
    telemetry,
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
    /// Every setting, usually given as environment variables.
    #[command(flatten)]
    config: Config,
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
    /// Feature switches: behaviours rolled out to a stable share of users.
    Switch {
        #[command(subcommand)]
        command: SwitchCommand,
    },
    /// The dead-letter queue: messages that were rejected or failed too often.
    DeadLetters {
        #[command(subcommand)]
        command: DeadLettersCommand,
    },
}

#[derive(Subcommand)]
enum DeadLettersCommand {
    /// How many messages wait in the dead-letter queue.
    Count,
    /// Put every dead letter back on the queue it died in (safe: every consumer is idempotent).
    Replay,
}

#[derive(Subcommand)]
enum SwitchCommand {
    /// Roll a switch out to PERCENT % of users (0 = nobody, 100 = everybody); every origin process
    /// applies it within 2 s.
    Set {
        name: String,
        #[arg(value_parser = clap::value_parser!(u8).range(0..=100))]
        percent: u8,
    },
    /// Every switch: the ones this version reads (with their defaults) and any others stored.
    List,
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

fn main() -> anyhow::Result<()> {
    // The environment is changed here, before any thread exists.
    let dotenv = config::load_dotenv();
    config::unset_empty_settings();
    let cli = Cli::parse();
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(run(cli, dotenv))
}

async fn run(cli: Cli, dotenv: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    let config = cli.config.resolved()?;
    telemetry::init(config.http.log_format == LogFormat::Json);
    if let Some(path) = dotenv {
        tracing::info!(path = %path.display(), "read settings from a .env file");
    }
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => Application::build(config).await?.run_until_stopped().await,
        Command::Worker => Worker::build(config).await?.run_until_stopped().await,
        Command::Migrate => {
            db::connect_and_migrate(&config).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Feeds { command: FeedsCommand::Rebuild { user, all } } => {
            let state = rookery_origin::state::AppState::connect(config).await?;
            match (user, all) {
                (Some(user), _) => feeds::rebuild_user(&state, UserId(user)).await?,
                (None, true) => {
                    let count = feeds::rebuild_all(&state, true).await?;
                    println!("rebuilt the timelines of {count} users");
                }
                (None, false) => anyhow::bail!("say --user ID or --all"),
            }
            state.node_lease.release().await;
            Ok(())
        }
        Command::Switch { command } => {
            let switches = Switches::new(db::connect_and_migrate(&config).await?);
            match command {
                SwitchCommand::Set { name, percent } => println!("{}", switches::set(&switches, &name, percent).await?),
                SwitchCommand::List => print!("{}", switches::table(&switches.list().await?)),
            }
            Ok(())
        }
        Command::DeadLetters { command: DeadLettersCommand::Count } => {
            println!("{}", dead_letters::count(&config).await?);
            Ok(())
        }
        Command::DeadLetters { command: DeadLettersCommand::Replay } => {
            let outcome = dead_letters::replay(&config).await?;
            println!(
                "replayed {} dead letters; kept {} that do not say where they came from",
                outcome.replayed, outcome.kept
            );
            Ok(())
        }
        Command::Seed(options) => {
            let state = rookery_origin::state::AppState::connect(config).await?;
            let started = std::time::Instant::now();
            let report = seed::run(&state, &options, true).await?;
            state.node_lease.release().await;
            println!(
                "seeded {} users, {} follows, {} tweets in {:.1} s (password of every seeded user: {})",
                report.users.len(),
                report.follows,
                report.tweets,
                started.elapsed().as_secs_f64(),
                seed::SEED_PASSWORD
            );
            if options.tokens > 0 {
                println!(
                    "{} bearer tokens written to {}",
                    options.tokens.min(report.users.len()),
                    options.tokens_out.display()
                );
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
