//! The Redis connection: one multiplexed connection per process, reconnecting by itself, to one server or
//! to a Redis Cluster (`REDIS_CLUSTER_URLS`; see [`backend`] and [`slots`]).
//!
//! Redis only ever holds derived data (timelines, object caches, session answers), so every caller must
//! cope with it being unreachable: the connection fails fast (short timeouts, one retry, then a
//! [`crate::breaker`] that fails every command at once for a moment) and the caller falls back to MySQL.

use std::{sync::Arc, time::Duration};

use redis::{
    aio::{ConnectionManager, ConnectionManagerConfig},
    cluster::{ClusterClient, ClusterClientBuilder},
};
use tokio::sync::OnceCell;

use crate::{
    breaker::{Breaker, GuardedConnection},
    config::RedisConfig,
};

mod backend;
pub mod slots;
pub use backend::Backend;

/// What an invalidated object-cache key holds for a moment (see [`Redis::invalidate`]).
const INVALIDATED: &str = "!";
/// Longer than any read takes between loading a row from MySQL and filling the cache with it.
pub const INVALIDATION_MS: u64 = 5_000;

/// How long writes wait for replicas to confirm them (see [`Redis::confirm_replicated`]): far above a
/// healthy replica's answer, short enough that a missing replica only slows deliveries.
const WAIT_TIMEOUT_MS: u64 = 250;

/// Where the connections go.
#[derive(Clone)]
enum Server {
    Single(redis::Client),
    /// Some of a cluster's nodes (the client discovers the others).
    Cluster(Vec<redis::ConnectionInfo>),
}

#[derive(Clone)]
pub struct Redis {
    server: Server,
    manager: Arc<OnceCell<Backend>>,
    /// A second connection for the fanout's large pipelines (see [`Redis::bulk_conn`]).
    bulk: Arc<OnceCell<Backend>>,
    breaker: Arc<Breaker>,
    prefix: Arc<str>,
    /// With a cluster: replicas a delivery waits for.
    wait_replicas: u32,
}

impl Redis {
    pub fn new(config: &RedisConfig) -> anyhow::Result<Self> {
        let nodes = config.cluster_nodes();
        let server = if nodes.is_empty() {
            Server::Single(redis::Client::open(config.url.as_str())?)
        } else {
            Server::Cluster(
                nodes
                    .iter()
                    .map(|url| redis::IntoConnectionInfo::into_connection_info(url.as_str()))
                    .collect::<Result<_, _>>()?,
            )
        };
        Ok(Self {
            server,
            manager: Arc::new(OnceCell::new()),
            bulk: Arc::new(OnceCell::new()),
            breaker: Arc::new(Breaker::default()),
            prefix: config.prefix.as_str().into(),
            wait_replicas: config.wait_replicas,
        })
    }

    pub fn is_cluster(&self) -> bool {
        matches!(self.server, Server::Cluster(_))
    }

    /// The shared connection, established on first use. Cloning a manager is cheap; commands from all
    /// clones are pipelined over one socket.
    pub async fn conn(&self) -> redis::RedisResult<GuardedConnection> {
        self.guarded(&self.manager, Duration::from_millis(500)).await
    }

    /// The connection for bulk work: fanout deliveries, a thousand timeline writes a pipeline. Redis
    /// answers one socket's commands in order, so on the shared connection a request's session check
    /// would queue behind every delivery pipeline in flight; on its own socket it is served between them.
    /// Its replies may take longer under load, hence the longer timeout.
    pub async fn bulk_conn(&self) -> redis::RedisResult<GuardedConnection> {
        self.guarded(&self.bulk, Duration::from_secs(5)).await
    }

    async fn guarded(
        &self,
        cell: &OnceCell<Backend>,
        response_timeout: Duration,
    ) -> redis::RedisResult<GuardedConnection> {
        // Only a look: the command itself is where the breaker admits its probe.
        if self.breaker.is_open() {
            return Err(redis::RedisError::from((
                redis::ErrorKind::IoError,
                "Redis is unreachable; not trying again yet",
            )));
        }
        let backend = cell.get_or_try_init(|| self.connect(response_timeout)).await.cloned();
        if backend.is_err() {
            self.breaker.record(&backend);
        }
        Ok(GuardedConnection { inner: backend?, breaker: self.breaker.clone() })
    }

    async fn connect(&self, response_timeout: Duration) -> redis::RedisResult<Backend> {
        const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
        match &self.server {
            Server::Single(client) => {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(CONNECT_TIMEOUT)
                    .set_response_timeout(response_timeout)
                    .set_number_of_retries(1)
                    .set_max_delay(1000);
                ConnectionManager::new_with_config(client.clone(), config).await.map(Backend::Single)
            }
            Server::Cluster(nodes) => {
                // A few quick retries ride out a moved slot or a reconnect; a failover takes longer,
                // and its callers fall back to MySQL or retry the delivery later.
                let client: ClusterClient = ClusterClientBuilder::new(nodes.clone())
                    .connection_timeout(CONNECT_TIMEOUT)
                    .response_timeout(response_timeout)
                    .retries(3)
                    .min_retry_wait(50)
                    .max_retry_wait(500)
                    .build()?;
                client.get_async_connection().await.map(Backend::Cluster)
            }
        }
    }

    /// After writes on `conn`: with a cluster, waits until the configured number of replicas holds them
    /// (`WAIT`). `key` names the one key written, whose master alone is asked; without it, every master
    /// is. A master that dies before its replicas confirm fails this call, and the caller retries the
    /// writes (they are idempotent) or drops what they touched: a master failing over to its replica then
    /// loses none of them. Replicas that do not confirm within [`WAIT_TIMEOUT_MS`] while their master is
    /// alive (a replica down or resyncing) are logged and accepted, so one missing replica slows
    /// deliveries without stopping them; losing those writes takes a second failure, of that master,
    /// before its replica is back. Nothing to wait for on one server.
    ///
    /// `WAIT` holds the connection to that master until the replicas answer (well under a millisecond
    /// on one network).
    pub async fn confirm_replicated(&self, conn: &mut GuardedConnection, key: Option<&str>) -> redis::RedisResult<()> {
        if !self.is_cluster() || self.wait_replicas == 0 {
            return Ok(());
        }
        let mut wait = redis::cmd("WAIT");
        wait.arg(self.wait_replicas).arg(WAIT_TIMEOUT_MS);
        let acked: u32 = match key {
            Some(key) => {
                redis::from_owned_redis_value(conn.inner.on_slot(&wait, slots::key_slot(key.as_bytes())).await?)?
            }
            None => wait.query_async(conn).await?,
        };
        if acked < self.wait_replicas {
            tracing::warn!(acked, wanted = self.wait_replicas, "Redis replicas did not confirm writes in time");
        }
        Ok(())
    }

    /// The full key for `name` under this deployment's prefix.
    pub fn key(&self, name: impl std::fmt::Display) -> String {
        format!("{}{name}", self.prefix)
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub async fn ping(&self) -> redis::RedisResult<()> {
        let mut conn = self.conn().await?;
        redis::cmd("PING").query_async::<String>(&mut conn).await.map(drop)
    }
}

/// JSON object caching: one MGET for many keys, one pipelined SET EX for many values. Failures are
/// reported as misses (reads) or ignored (writes): the caller always has MySQL to fall back on.
impl Redis {
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, keys: &[String]) -> Vec<Option<T>> {
        if keys.is_empty() {
            return Vec::new();
        }
        let fetched: redis::RedisResult<Vec<Option<String>>> = async {
            let mut conn = self.conn().await?;
            redis::cmd("MGET").arg(keys).query_async(&mut conn).await
        }
        .await;
        match fetched {
            Ok(values) => values.into_iter().map(|v| v.and_then(|text| serde_json::from_str(&text).ok())).collect(),
            Err(error) => {
                tracing::debug!(%error, "object cache unavailable");
                keys.iter().map(|_| None).collect()
            }
        }
    }

    /// Caches `entries` as JSON for `ttl_secs`, overwriting what is there.
    pub async fn set_json<T: serde::Serialize>(&self, entries: &[(String, T)], ttl_secs: u64) {
        self.put_json(entries, ttl_secs, false).await;
    }

    /// Like [`Redis::set_json`], but never overwrites: a key that holds a value or an invalidation
    /// marker (see [`Redis::invalidate`]) is left alone.
    pub async fn fill_json<T: serde::Serialize>(&self, entries: &[(String, T)], ttl_secs: u64) {
        self.put_json(entries, ttl_secs, true).await;
    }

    /// One pipeline of `SET … EX` (with `NX` when `only_new`). Best effort: a cache that cannot be
    /// written costs a later miss, nothing else.
    async fn put_json<T: serde::Serialize>(&self, entries: &[(String, T)], ttl_secs: u64, only_new: bool) {
        if entries.is_empty() {
            return;
        }
        let result: redis::RedisResult<()> = async {
            let mut conn = self.conn().await?;
            let mut pipe = redis::pipe();
            for (key, value) in entries {
                if let Ok(text) = serde_json::to_string(value) {
                    let set = pipe.cmd("SET").arg(key).arg(text).arg("EX").arg(ttl_secs);
                    if only_new {
                        set.arg("NX");
                    }
                    set.ignore();
                }
            }
            pipe.query_async(&mut conn).await
        }
        .await;
        if let Err(error) = result {
            tracing::debug!(%error, "could not fill the object cache");
        }
    }

    /// Drops cached objects after a write committed, and keeps them out for [`INVALIDATION_MS`]: the
    /// marker is not JSON (reads miss) and [`Redis::fill_json`] will not replace it, so a reader that
    /// loaded the row before the commit cannot put its stale copy back.
    pub async fn invalidate(&self, keys: &[String]) -> redis::RedisResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn().await?;
        let mut pipe = redis::pipe();
        for key in keys {
            pipe.cmd("SET").arg(key).arg(INVALIDATED).arg("PX").arg(INVALIDATION_MS).ignore();
        }
        pipe.query_async(&mut conn).await
    }

    /// Deletes keys; returns the error so writers can decide whether to retry.
    pub async fn delete(&self, keys: &[String]) -> redis::RedisResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn().await?;
        redis::cmd("DEL").arg(keys).query_async(&mut conn).await
    }
}
