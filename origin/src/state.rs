//! What every handler can reach.

use std::sync::Arc;

use anyhow::Context;
use tokio::sync::Notify;

use crate::{
    broker::Broker,
    cache::Redis,
    complete,
    config::Config,
    db,
    db::Db,
    ids::IdGenerator,
    media,
    metrics::Metrics,
    node_lease::{self, NodeLease},
    switches::Switches,
};

/// Cloned for every request and task, so it is one pointer: the services sit behind an `Arc`, and
/// `state.db`, `state.redis`, … reach them through `Deref`.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

pub struct Services {
    /// The source of truth for every entity: the pool behind a circuit breaker.
    pub db: Db,
    /// Derived data only: timelines, object caches, session answers. Losing it costs speed, not data.
    pub redis: Redis,
    /// Fanout and notification delivery; writes never wait for it (they go through the outbox).
    pub broker: Arc<Broker>,
    /// Application-generated, time-ordered ids for every table.
    pub ids: Arc<IdGenerator>,
    /// The generator's node id, leased in MySQL; released at shutdown.
    pub node_lease: Arc<NodeLease>,
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

impl AppState {
    /// Connects to MySQL (creating and migrating the database) and prepares the Redis and RabbitMQ clients:
    /// the state the server and `origin worker` share.
    pub async fn connect(config: Config) -> anyhow::Result<Self> {
        config.validate()?;
        let db = db::connect_and_migrate(&config).await?;
        let redis = Redis::new(&config.redis).context("REDIS_URL or REDIS_CLUSTER_URLS is invalid")?;
        let node_lease = NodeLease::acquire(db.clone(), config.db.node_id, node_lease::LEASE_TTL).await?;
        let ids = Arc::new(IdGenerator::new(node_lease.node()));
        node_lease.keep(ids.clone(), node_lease::RENEW_EVERY);
        Ok(Self(Arc::new(Services {
            switches: Arc::new(Switches::new(db.clone())),
            db,
            redis,
            broker: Broker::new(config.amqp.urls()),
            ids,
            node_lease,
            metrics: Arc::new(Metrics::new()?),
            outbox_notify: Arc::new(Notify::new()),
            backlog: Arc::default(),
            media: media::store::open(&config.media)?,
            work: complete::Work::default(),
            config: Arc::new(config),
        })))
    }
}
