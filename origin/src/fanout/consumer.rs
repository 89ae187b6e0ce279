//! What the planner and the delivery worker share: subscribing (again after every reconnect), handling a
//! few messages at once, and settling each message by what its handler says.
//!
//! A message is acknowledged only after its handler succeeded. A handler that failed for a passing reason
//! has its message requeued after a short pause (the queue's delivery limit dead-letters it eventually);
//! a message that can never succeed (not parseable) is rejected straight to the dead-letter queue.

use std::{future::Future, time::Duration};

use anyhow::Context;
use futures::StreamExt;
use lapin::{
    message::Delivery,
    options::{
        BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions,
        BasicRejectOptions, ConfirmSelectOptions,
    },
    types::{AMQPValue, FieldTable},
    BasicProperties, Channel, Connection,
};
use tokio::{task::JoinSet, time::sleep};
use tokio_util::sync::CancellationToken;

use crate::{
    fanout::topology::{self, Names},
    state::AppState,
};

/// How a handler wants its message settled.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Done (or nothing to do): acknowledge.
    Ack,
    /// Failed for a reason that may pass (Redis, MySQL or the broker away): requeue.
    Retry(anyhow::Error),
    /// Can never succeed: dead-letter it.
    Reject(String),
}

/// One queue's consumer settings.
#[derive(Debug, Clone)]
pub(crate) struct Subscription {
    pub queue: String,
    /// Messages the broker sends ahead of acknowledgements.
    pub prefetch: u16,
    /// Messages handled at the same time.
    pub concurrency: usize,
    /// The handler publishes on the channel (the planner): turn on publisher confirms.
    pub confirms: bool,
}

/// Consumes `subscription.queue` until `shutdown`, re-subscribing whenever the broker comes back.
pub(crate) async fn run<H, F>(state: AppState, shutdown: CancellationToken, subscription: Subscription, handler: H)
where
    H: Fn(Channel, Vec<u8>) -> F + Send + Sync + Clone + 'static,
    F: Future<Output = Outcome> + Send + 'static,
{
    let names = Names::new(&state.config.amqp.prefix);
    loop {
        let Some(connection) = state.broker.connected(&shutdown).await else { return };
        match consume_on(&state, &connection, &names, &subscription, &handler, &shutdown).await {
            Ok(()) => return,
            Err(error) => tracing::warn!(
                queue = subscription.queue,
                error = format!("{error:#}"),
                "consumer stopped; subscribing again"
            ),
        }
        tokio::select! {
            () = sleep(Duration::from_millis(500)) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

/// Consumes over one connection. `Ok` on shutdown, `Err` when the channel or consumer failed. Either way
/// every message already being handled is settled before it returns.
async fn consume_on<H, F>(
    state: &AppState,
    connection: &Connection,
    names: &Names,
    subscription: &Subscription,
    handler: &H,
    shutdown: &CancellationToken,
) -> anyhow::Result<()>
where
    H: Fn(Channel, Vec<u8>) -> F + Send + Sync + Clone + 'static,
    F: Future<Output = Outcome> + Send + 'static,
{
    let queue = subscription.queue.as_str();
    let channel = connection.create_channel().await.context("while opening a consumer channel")?;
    channel.basic_qos(subscription.prefetch, BasicQosOptions::default()).await.context("while setting the prefetch")?;
    if subscription.confirms {
        channel.confirm_select(ConfirmSelectOptions::default()).await.context("while enabling publisher confirms")?;
    }
    topology::declare(&channel, names).await?;
    let mut consumer = channel
        .basic_consume(queue, "", BasicConsumeOptions::default(), FieldTable::default())
        .await
        .with_context(|| format!("while subscribing to {queue}"))?;
    tracing::info!(queue, "consuming");

    let mut in_flight = JoinSet::new();
    let result = loop {
        if in_flight.len() >= subscription.concurrency {
            // Full: settle one before taking another.
            log_panic(in_flight.join_next().await);
            continue;
        }
        tokio::select! {
            () = shutdown.cancelled() => break Ok(()),
            done = in_flight.join_next(), if !in_flight.is_empty() => log_panic(done),
            next = consumer.next() => match next {
                Some(Ok(delivery)) => {
                    let work = settle(state.clone(), channel.clone(), queue.to_owned(), delivery, handler.clone(), shutdown.clone());
                    in_flight.spawn(work);
                }
                Some(Err(error)) => break Err(error).context("the consumer failed"),
                None => break Err(anyhow::anyhow!("the broker cancelled the consumer")),
            },
        }
    };
    // Stop new deliveries, finish the ones being handled, then let go of the channel (messages prefetched
    // but not started go back to the queue when it closes).
    let tag = consumer.tag();
    let _ =
        tokio::time::timeout(Duration::from_secs(1), channel.basic_cancel(tag.as_str(), BasicCancelOptions::default()))
            .await;
    while let Some(done) = in_flight.join_next().await {
        log_panic(Some(done));
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), channel.close(200, "consumer stopping")).await;
    result
}

/// Runs the handler on one message and acknowledges, requeues or rejects it.
async fn settle<H, F>(
    state: AppState,
    channel: Channel,
    queue: String,
    delivery: Delivery,
    handler: H,
    shutdown: CancellationToken,
) where
    H: Fn(Channel, Vec<u8>) -> F,
    F: Future<Output = Outcome>,
{
    let Delivery { acker, data, redelivered, properties, .. } = delivery;
    if redelivered {
        state.metrics.redeliveries.with_label_values(&[queue.as_str()]).inc();
    }
    let mut waits = 0;
    let outcome = loop {
        match handler(channel.clone(), data.clone()).await {
            // No connection to be had says nothing about the message: wait and run it again here, without
            // spending one of its delivery attempts (spending them would dead-letter healthy work, e.g.
            // during a Redis failover, which takes seconds).
            Outcome::Retry(error) if is_unreachable(&error) && !shutdown.is_cancelled() && waits < MAX_WAITS => {
                tracing::warn!(
                    queue,
                    waits,
                    error = format!("{error:#}"),
                    "a dependency is unreachable; waiting to run the message again"
                );
                tokio::select! {
                    () = sleep(retry_pause(waits)) => {}
                    () = shutdown.cancelled() => {}
                }
                waits += 1;
            }
            outcome => break outcome,
        }
    };
    let settled = match outcome {
        Outcome::Ack => acker.ack(BasicAckOptions::default()).await,
        Outcome::Retry(error) => {
            let attempts = delivery_count(&properties);
            tracing::warn!(queue, attempts, error = format!("{error:#}"), "message failed; requeueing it");
            // Pause so a short outage does not burn through the delivery limit in milliseconds.
            tokio::select! {
                () = sleep(retry_pause(attempts)) => {}
                () = shutdown.cancelled() => {}
            }
            acker.nack(BasicNackOptions { requeue: true, ..BasicNackOptions::default() }).await
        }
        Outcome::Reject(reason) => {
            tracing::warn!(queue, reason, "rejecting a message to the dead-letter queue");
            state.metrics.dead_lettered.with_label_values(&[queue.as_str()]).inc();
            acker.reject(BasicRejectOptions { requeue: false }).await
        }
    };
    if let Err(error) = settled {
        // The channel is gone; the broker redelivers the message elsewhere.
        tracing::warn!(queue, %error, "could not settle a message");
    }
}

/// In-place waits for a connection before a message is requeued like any failure: about ten minutes at
/// the capped pause, well inside the broker's consumer timeout (30 minutes by default), after which it
/// would take the message back and close the channel.
const MAX_WAITS: u64 = 120;

/// The handler found no free MySQL connection (the pool's wait ran out, or its breaker is open), or Redis
/// did not answer (down, failing over, or its breaker open).
fn is_unreachable(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        matches!(cause.downcast_ref::<sqlx::Error>(), Some(sqlx::Error::PoolTimedOut))
            || cause.downcast_ref::<redis::RedisError>().is_some_and(crate::breaker::is_unavailable)
    })
}

/// Earlier failed deliveries of this message, as the quorum queue counts them.
fn delivery_count(properties: &BasicProperties) -> u64 {
    let Some(headers) = properties.headers() else { return 0 };
    match headers.inner().get("x-delivery-count") {
        Some(AMQPValue::LongLongInt(n)) => u64::try_from(*n).unwrap_or_default(),
        Some(AMQPValue::LongInt(n)) => u64::try_from(*n).unwrap_or_default(),
        Some(AMQPValue::LongUInt(n)) => u64::from(*n),
        Some(AMQPValue::ShortInt(n)) => u64::try_from(*n).unwrap_or_default(),
        Some(AMQPValue::ShortShortInt(n)) => u64::try_from(*n).unwrap_or_default(),
        Some(AMQPValue::ShortShortUInt(n)) => u64::from(*n),
        _ => 0,
    }
}

/// 200 ms, doubling per attempt, at most 5 s: the delivery limit then spans several seconds of outage.
fn retry_pause(attempts: u64) -> Duration {
    Duration::from_millis(200u64.saturating_mul(1 << attempts.min(5))).min(Duration::from_secs(5))
}

fn log_panic(done: Option<Result<(), tokio::task::JoinError>>) {
    if let Some(Err(error)) = done {
        tracing::error!(%error, "a message handler panicked; the message will be redelivered");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_pause_grows_and_is_capped() {
        assert_eq!(retry_pause(0), Duration::from_millis(200));
        assert_eq!(retry_pause(1), Duration::from_millis(400));
        assert_eq!(retry_pause(4), Duration::from_millis(3200));
        assert_eq!(retry_pause(40), Duration::from_secs(5));
    }

    #[test]
    fn tells_unreachable_dependencies_from_other_failures() {
        let exhausted = anyhow::Error::new(sqlx::Error::PoolTimedOut).context("while reading followers");
        assert!(is_unreachable(&exhausted));
        let redis_gone = redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(is_unreachable(&anyhow::Error::new(redis_gone).context("while pushing to home timelines")));
        let failing_over = redis::RedisError::from((redis::ErrorKind::ClusterDown, "CLUSTERDOWN"));
        assert!(is_unreachable(&anyhow::Error::new(failing_over)));
        // A message that cannot succeed still spends its attempts.
        assert!(!is_unreachable(&anyhow::anyhow!("Redis is unreachable")));
        assert!(!is_unreachable(&anyhow::Error::new(sqlx::Error::RowNotFound)));
        let wrong_type = redis::RedisError::from((redis::ErrorKind::TypeError, "WRONGTYPE"));
        assert!(!is_unreachable(&anyhow::Error::new(wrong_type)));
    }

    #[test]
    fn reads_the_delivery_count_header() {
        let mut headers = FieldTable::default();
        headers.insert("x-delivery-count".into(), AMQPValue::LongLongInt(3));
        assert_eq!(delivery_count(&BasicProperties::default().with_headers(headers)), 3);
        assert_eq!(delivery_count(&BasicProperties::default()), 0);
    }
}
