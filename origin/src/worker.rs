//! The background tasks (RabbitMQ connection, outbox relay, fanout consumers) and `origin worker`, which
//! runs them without the HTTP server.
//!
//! Shutdown order matters: the relay and the consumers stop first and finish what they hold (a batch
//! being confirmed, messages being applied), and only then is the broker connection closed, so their last
//! confirms and acknowledgements can still reach RabbitMQ.

use std::future::{Future, IntoFuture};

use anyhow::Context;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::{config::Config, fanout, health, notifications, outbox::relay, state::AppState};

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
        tasks.spawn(fanout::backlog::run(state.clone(), shutdown.clone()));
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

/// `origin worker`: the relay and the fanout consumers; no public HTTP, only the admin listener
/// (`/healthz`, `/readyz`, `/metrics` on `ADMIN_ADDR`), so its fanout can be watched like the server's.
pub struct Worker {
    state: AppState,
    admin: tokio::net::TcpListener,
}

impl Worker {
    /// Connects to MySQL (creating and migrating the database), prepares Redis and RabbitMQ clients and
    /// binds the admin listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let admin_listen = config.http.admin_listen;
        let admin = tokio::net::TcpListener::bind(admin_listen)
            .await
            .with_context(|| format!("while binding {admin_listen}"))?;
        Ok(Self { state: AppState::connect(config).await?, admin })
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The admin listener's port (useful when `ADMIN_ADDR` asked for port 0).
    pub fn admin_port(&self) -> u16 {
        self.admin.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    /// Works until ctrl-c or SIGTERM.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run(crate::signal::shutdown()).await
    }

    /// Works until `signal` completes, then drains in-flight work and returns. The admin listener stays
    /// up until the work is drained.
    pub async fn run(self, signal: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let Self { state, admin } = self;
        let background = Background::start(&state, CancellationToken::new(), true);
        let admin_stop = CancellationToken::new();
        let admin = axum::serve(admin, health::admin_router(state.clone()))
            .with_graceful_shutdown(admin_stop.clone().cancelled_owned())
            .into_future();
        let admin = tokio::spawn(admin);
        tracing::info!("origin worker running");
        signal.await;
        background.finish().await;
        state.node_lease.release().await;
        admin_stop.cancel();
        admin.await.context("the admin listener panicked")?.context("while serving the admin listener")?;
        tracing::info!("origin worker stopped");
        Ok(())
    }
}
