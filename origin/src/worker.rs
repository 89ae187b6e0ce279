//! The background tasks (RabbitMQ connection, outbox relay, fanout consumers) and `origin worker`, which
//! runs them without the HTTP server.
//!
//! Shutdown order matters: the relay and the consumers stop first and finish what they hold (a batch
//! being confirmed, messages being applied), and only then is the broker connection closed, so their last
//! confirms and acknowledgements can still reach RabbitMQ.

use std::future::Future;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::{config::Config, fanout, notifications, outbox::relay, startup, state::AppState};

/// The running background tasks of one process.
pub struct Background {
    shutdown: CancellationToken,
    tasks: JoinSet<()>,
    broker_stop: CancellationToken,
    broker: JoinSet<()>,
}

impl Background {
    /// Starts the broker supervisor and the relay, and the fanout consumers when `consumers`. They stop
    /// when `shutdown` fires or [`Background::finish`] is called.
    pub fn start(state: &AppState, shutdown: CancellationToken, consumers: bool) -> Self {
        let broker_stop = CancellationToken::new();
        let mut broker = JoinSet::new();
        broker.spawn(state.broker.clone().supervise(broker_stop.clone()));
        let mut tasks = JoinSet::new();
        tasks.spawn(relay::run(state.clone(), shutdown.clone()));
        if consumers {
            tasks.spawn(fanout::run(state.clone(), shutdown.clone()));
            tasks.spawn(notifications::consumer::run(state.clone(), shutdown.clone()));
        }
        Self { shutdown, tasks, broker_stop, broker }
    }

    /// Stops the tasks, waits for their in-flight work, then closes the broker connection.
    pub async fn finish(mut self) {
        self.shutdown.cancel();
        while let Some(done) = self.tasks.join_next().await {
            if let Err(error) = done {
                tracing::error!(%error, "a background task panicked");
            }
        }
        self.broker_stop.cancel();
        while self.broker.join_next().await.is_some() {}
    }
}

/// `origin worker`: the relay and the fanout consumers, no HTTP.
pub struct Worker {
    state: AppState,
}

impl Worker {
    /// Connects to MySQL (creating and migrating the database) and prepares Redis and RabbitMQ clients.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Ok(Self { state: startup::connect(config).await? })
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Works until ctrl-c or SIGTERM.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run(startup::shutdown_signal()).await
    }

    /// Works until `signal` completes, then drains in-flight work and returns.
    pub async fn run(self, signal: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let background = Background::start(&self.state, CancellationToken::new(), true);
        tracing::info!("origin worker running");
        signal.await;
        background.finish().await;
        tracing::info!("origin worker stopped");
        Ok(())
    }
}
