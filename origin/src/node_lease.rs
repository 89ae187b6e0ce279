//! The node id of this process's id generator, leased in MySQL (`node_leases`) so that processes started
//! side by side never share one, with no `NODE_ID` set by hand.
//!
//! A process takes the lowest free id (or the one `NODE_ID` names) when it connects, renews the lease every
//! [`RENEW_EVERY`], and lets it go at shutdown. A lease that is not renewed for [`LEASE_TTL`] (a crashed
//! process, or one cut off from MySQL) is free again. Should this process find its lease taken after such
//! a gap, it takes another free id and its generator switches to it: ids it made meanwhile could not have
//! been stored, since it could not reach MySQL. When all 16 are held, the process refuses to start.

use std::{
    sync::{
        atomic::{AtomicU16, Ordering},
        Arc,
    },
    time::Duration,
};

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::{db::Db, ids::IdGenerator};

/// How long a lease lasts without renewal.
pub const LEASE_TTL: Duration = Duration::from_secs(30);
/// How often the holder renews it: several chances before it lapses.
pub const RENEW_EVERY: Duration = Duration::from_secs(5);

/// The database server's clock in microseconds, so hosts with skewed clocks agree on expiry.
const NOW: &str = "CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED)";

pub struct NodeLease {
    db: Db,
    holder: String,
    node: AtomicU16,
    ttl: Duration,
    stop: CancellationToken,
}

impl std::fmt::Debug for NodeLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeLease").field("node", &self.node()).field("holder", &self.holder).finish_non_exhaustive()
    }
}

impl NodeLease {
    /// Takes a node id (`wanted`, or the lowest free one) for `ttl`. Fails when none is free.
    pub async fn acquire(db: Db, wanted: Option<u16>, ttl: Duration) -> anyhow::Result<Arc<Self>> {
        let holder = holder_name();
        let node = take(&db, &holder, wanted, ttl).await?.with_context(|| match wanted {
            Some(id) => format!("node id {id} (NODE_ID) is leased by another running process"),
            None => "all 16 node ids are leased by running processes; stop one, or wait for a crashed one's \
                     lease to lapse"
                .to_owned(),
        })?;
        tracing::info!(node_id = node, holder, "leased a node id");
        Ok(Arc::new(Self { db, holder, node: AtomicU16::new(node), ttl, stop: CancellationToken::new() }))
    }

    pub fn node(&self) -> u16 {
        self.node.load(Ordering::Relaxed)
    }

    /// Renews the lease every `every` until [`NodeLease::release`], moving `ids` to a new node id if the
    /// lease was lost meanwhile.
    pub fn keep(self: &Arc<Self>, ids: Arc<IdGenerator>, every: Duration) {
        let lease = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = tokio::time::sleep(every) => {}
                    () = lease.stop.cancelled() => return,
                }
                if let Err(error) = lease.renew(&ids).await {
                    tracing::warn!(error = format!("{error:#}"), "could not renew the node id lease");
                }
            }
        });
    }

    /// One renewal. `Ok(true)` when the lease was still ours.
    pub async fn renew(&self, ids: &IdGenerator) -> anyhow::Result<bool> {
        let node = self.node();
        let renewed =
            sqlx::query(&format!("UPDATE node_leases SET expires_at = {NOW} + ? WHERE node_id = ? AND holder = ?"))
                .bind(micros(self.ttl))
                .bind(node)
                .bind(&self.holder)
                .execute(self.db.pool())
                .await?
                .rows_affected()
                == 1;
        if renewed {
            return Ok(true);
        }
        let Some(next) = take(&self.db, &self.holder, None, self.ttl).await? else {
            anyhow::bail!("node id {node} was leased by another process, and no other is free");
        };
        tracing::error!(old = node, new = next, "the node id lease had lapsed and was taken; switched to another id");
        self.node.store(next, Ordering::Relaxed);
        ids.set_node(next);
        Ok(false)
    }

    /// Stops renewing and frees the id for the next process.
    pub async fn release(&self) {
        self.stop.cancel();
        let freed = sqlx::query("UPDATE node_leases SET holder = '', expires_at = 0 WHERE node_id = ? AND holder = ?")
            .bind(self.node())
            .bind(&self.holder)
            .execute(self.db.pool())
            .await;
        if let Err(error) = freed {
            tracing::warn!(%error, "could not free the node id lease; it lapses by itself");
        }
    }
}

/// Takes `wanted` or the lowest free node id, in one statement (two processes starting together cannot
/// take the same row: the update locks it and re-checks the expiry).
async fn take(db: &Db, holder: &str, wanted: Option<u16>, ttl: Duration) -> anyhow::Result<Option<u16>> {
    let which = if wanted.is_some() { "AND node_id = ?" } else { "" };
    let sql = format!(
        "UPDATE node_leases SET holder = ?, expires_at = {NOW} + ? \
         WHERE (expires_at < {NOW} OR holder = ?) {which} ORDER BY node_id LIMIT 1"
    );
    let mut update = sqlx::query(&sql).bind(holder).bind(micros(ttl)).bind(holder);
    if let Some(id) = wanted {
        update = update.bind(id);
    }
    update.execute(db.pool()).await.context("while leasing a node id")?;
    let node: Option<u16> =
        sqlx::query_scalar("SELECT node_id FROM node_leases WHERE holder = ? ORDER BY node_id LIMIT 1")
            .bind(holder)
            .fetch_optional(db.pool())
            .await?;
    Ok(node)
}

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

/// `host:pid:random`: unique per process start, and readable by an operator.
fn holder_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".to_owned());
    format!("{}:{}:{:016x}", host.trim(), std::process::id(), rand::random::<u64>())
}
