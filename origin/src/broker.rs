//! The RabbitMQ connection, kept alive by a supervisor task that reconnects with backoff.
//!
//! Nothing on the request path waits for RabbitMQ: writes go to the MySQL outbox first, and the relay and
//! consumers (which take their channels from here) pick the work up whenever a connection is live.

use std::{sync::Arc, time::Duration};

use lapin::{Connection, ConnectionProperties};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

pub struct Broker {
    url: String,
    current: watch::Sender<Option<Arc<Connection>>>,
}

impl Broker {
    pub fn new(url: &str) -> Arc<Self> {
        let (current, _) = watch::channel(None);
        Arc::new(Self { url: url.to_owned(), current })
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
            let connect = Connection::connect(&self.url, connection_properties());
            match tokio::time::timeout(Duration::from_secs(5), connect).await {
                Ok(Ok(conn)) => {
                    tracing::info!("connected to RabbitMQ");
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
                Ok(Err(error)) => tracing::warn!(%error, "RabbitMQ unreachable; retrying"),
                Err(_) => tracing::warn!("connecting to RabbitMQ timed out; retrying"),
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
