//! What a Redis connection is under the breaker: one server's reconnecting connection, or a cluster's.
//!
//! A cluster connection routes each command by its key's slot. Pipelines are split by slot first (see
//! [`super::slots`]): the parts go out concurrently and their replies are put back in the pipeline's
//! order, so callers write the same pipelines for a single server and for a cluster.

use futures::future::try_join_all;
use redis::{
    aio::{ConnectionLike, ConnectionManager},
    cluster_async::ClusterConnection,
    cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr},
    Cmd, Pipeline, RedisFuture, RedisResult, Value,
};

use super::slots::{self, Part};

#[derive(Clone)]
pub enum Backend {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl Backend {
    /// Sends a keyless command (`WAIT`) to the master of `slot` only; on one server, to the server.
    pub async fn on_slot(&mut self, cmd: &Cmd, slot: u16) -> RedisResult<Value> {
        match self {
            Self::Single(conn) => conn.req_packed_command(cmd).await,
            Self::Cluster(conn) => {
                let master = SingleNodeRoutingInfo::SpecificNode(Route::new(slot, SlotAddr::Master));
                conn.route_command(cmd, RoutingInfo::SingleNode(master)).await
            }
        }
    }
}

impl ConnectionLike for Backend {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(conn) => conn.req_packed_command(cmd),
            Self::Cluster(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(conn) => conn.req_packed_commands(pipeline, offset, count),
            Self::Cluster(conn) => {
                if pipeline.is_transaction() {
                    // A transaction cannot be split; its keys must share a slot.
                    conn.req_packed_commands(pipeline, offset, count)
                } else {
                    Box::pin(split_pipeline(conn.clone(), pipeline))
                }
            }
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(conn) => conn.get_db(),
            Self::Cluster(conn) => conn.get_db(),
        }
    }
}

/// Sends each slot's part of `pipeline` as its own pipeline, all at once, and answers with every reply
/// in the pipeline's order. The first failure fails the whole, as one pipeline's would.
async fn split_pipeline(conn: ClusterConnection, pipeline: &Pipeline) -> RedisResult<Vec<Value>> {
    let sent = slots::split(pipeline).into_iter().map(|part| {
        let mut conn = conn.clone();
        async move {
            match part {
                Part::Slot { pipeline, positions } => {
                    let replies = conn.req_packed_commands(&pipeline, 0, positions.len()).await?;
                    Ok::<_, redis::RedisError>(positions.into_iter().zip(replies).collect::<Vec<_>>())
                }
                Part::Alone { cmd, position } => Ok(vec![(position, conn.req_packed_command(&cmd).await?)]),
            }
        }
    });
    let mut replies = vec![Value::Nil; pipeline.len()];
    for (position, reply) in try_join_all(sent).await?.into_iter().flatten() {
        replies[position] = reply;
    }
    Ok(replies)
}
