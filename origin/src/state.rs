//! What every handler can reach.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::{
    broker::Broker, cache::Redis, config::Config, db::Db, ids::IdGenerator, metrics::Metrics, switches::Switches,
};

#[derive(Clone)]
pub struct AppState {
    /// The source of truth for every entity: the pool behind a circuit breaker.
    pub db: Db,
    /// Derived data only: timelines, object caches, session answers. Losing it costs speed, not data.
    pub redis: Redis,
    /// Fanout and notification delivery; writes never wait for it (they go through the outbox).
    pub broker: Arc<Broker>,
    /// Application-generated, time-ordered ids for every table.
    pub ids: Arc<IdGenerator>,
    pub config: Arc<Config>,
    /// This instance's Prometheus registry.
    pub metrics: Arc<Metrics>,
    /// Wakes the outbox relay: call `notify_one()` after committing a transaction that enqueued events, so
    /// they are published at once instead of at the relay's next poll.
    pub outbox_notify: Arc<Notify>,
    /// How far the fanout is behind (sampled); posting refuses new tweets while it is too far.
    pub backlog: Arc<crate::fanout::backlog::Backlog>,
    /// Uploaded images (a local directory or an S3-compatible store); a trait object so deployments pick.
    pub media: Arc<dyn object_store::ObjectStore>,
    /// Feature switches (gradual rollouts), cached per process for a couple of seconds.
    pub switches: Arc<Switches>,
    /// The requests' work, detached from their connections; shutdown waits for it.
    pub work: crate::complete::Work,
}
