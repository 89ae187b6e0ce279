//! The RabbitMQ connection, kept alive by a supervisor task that reconnects with backoff. `AMQP_URL` may
//! list several nodes of a cluster (comma-separated): a lost connection is made again to the next node
//! that answers.
//!
//! Nothing on the request path waits for RabbitMQ: writes go to the MySQL outbox first, and the relay and
//! consumers (which take their channels from here) pick the work up whenever a connection is live.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use lapin::{Connection, ConnectionProperties};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// How long one node may take to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Broker {
    urls: Vec<String>,
    /// The node tried next: the one connected last, so a reconnect goes back to it first.
    next: AtomicUsize,
    current: watch::Sender<Option<Arc<Connection>>>,
}

impl Broker {
    pub fn new(urls: Vec<String>) -> Arc<Self> {
        let (current, _) = watch::channel(None);
        Arc::new(Self { urls, next: AtomicUsize::new(0), current })
    }

    /// The live connection, if there is one now.
    pub fn connection(&self) -> Option<Arc<Connection>> {
        self.current.borrow().clone().filter(|c| c.status().connected())
    }

    /// Follows connection changes: `None` while disconnected.
    pub fn watch(&self) -> watch::Receiver<Option<Arc<Connection>>> {
        self.current.subscribe()
    }

    /// Waits until a connection is live or `shutdown` fires.
    pub async fn connected(&self, shutdown: &CancellationToken) -> Option<Arc<Connection>> {
        let mut rx = self.watch();
        loop {
            if let Some(conn) = rx.borrow_and_update().clone().filter(|c| c.status().connected()) {
                return Some(conn);
            }
            tokio::select! {
                changed = rx.changed() => if changed.is_err() { return None },
                () = shutdown.cancelled() => return None,
            }
        }
    }

    /// Keeps a connection open until `shutdown`, reconnecting after failures.
    pub async fn supervise(self: Arc<Self>, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(200);
        while !shutdown.is_cancelled() {
            let attempt = tokio::select! {
                attempt = connect_any(&self.urls, self.next.load(Ordering::Relaxed)) => attempt,
                () = shutdown.cancelled() => return,
            };
            match attempt {
                Ok((conn, index)) => {
                    self.next.store(index, Ordering::Relaxed);
                    tracing::info!(node = %redacted(&self.urls[index]), "connected to RabbitMQ");
                    backoff = Duration::from_millis(200);
                    let (lost_tx, mut lost_rx) = mpsc::unbounded_channel();
                    conn.on_error(move |error| {
                        let _ = lost_tx.send(error);
                    });
                    let conn = Arc::new(conn);
                    self.current.send_replace(Some(conn.clone()));
                    tokio::select! {
                        error = lost_rx.recv() => {
                            tracing::warn!(error = ?error, "lost the RabbitMQ connection; reconnecting");
                        }
                        () = shutdown.cancelled() => {
                            self.current.send_replace(None);
                            let _ = conn.close(200, "shutting down").await;
                            return;
                        }
                    }
                    self.current.send_replace(None);
                }
                Err(error) => tracing::warn!(error = format!("{error:#}"), "RabbitMQ unreachable; retrying"),
            }
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                () = shutdown.cancelled() => return,
            }
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }
}

/// Connection settings that run lapin's tasks and sockets on the current tokio runtime, so the process has
/// one executor and one reactor (lapin otherwise starts its own thread pool and `async-io` reactor).
/// Call it inside the runtime.
pub fn connection_properties() -> ConnectionProperties {
    ConnectionProperties::default()
        .with_executor(tokio_executor_trait::Tokio::current())
        .with_reactor(tokio_reactor_trait::Tokio)
}

/// Connects to the first node of `urls` that answers, starting at `start` and going round once. Returns
/// the connection and which node it is.
pub async fn connect_any(urls: &[String], start: usize) -> anyhow::Result<(Connection, usize)> {
    let mut last = anyhow::anyhow!("AMQP_URL names no node");
    for offset in 0..urls.len() {
        let index = (start + offset) % urls.len();
        let url = &urls[index];
        match tokio::time::timeout(CONNECT_TIMEOUT, Connection::connect(url, connection_properties())).await {
            Ok(Ok(conn)) => return Ok((conn, index)),
            Ok(Err(error)) => {
                tracing::debug!(node = %redacted(url), %error, "RabbitMQ node unreachable");
                last = anyhow::Error::new(error).context(format!("node {}", redacted(url)));
            }
            Err(_) => last = anyhow::anyhow!("node {} did not answer in time", redacted(url)),
        }
    }
    Err(last)
}

fn redacted(url: &str) -> String {
    crate::redact::redact_url(url)
}
