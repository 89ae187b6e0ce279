//! The asynchronous half of the push-model newsfeed: tweet events from the outbox relay become writes to
//! followers' Redis home timelines.
//!
//! Two consumers, each on its own quorum queue ([`topology`]):
//! - the [`planner`] reads `tweet.created` / `tweet.deleted`, decides whether the author is pushed (at or
//!   below `hybrid_threshold` followers) and publishes one delivery batch per page of followers;
//! - the [`delivery`] worker applies a batch to the followers' existing home timelines.
//!
//! Every step is idempotent and acknowledges only after its effect is durable, so redeliveries (after a
//! crash, a broker restart or a retry) are harmless. What keeps failing ends in `{prefix}.dead`. This
//! module never serves reads; the read side (and pulling high-follower authors) is `newsfeed`'s.

pub(crate) mod consumer;
pub mod delivery;
mod planner;
mod store;
pub mod topology;

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::state::AppState;
use consumer::Subscription;
use topology::Names;

/// Plan messages fetched ahead; each can publish many batches, so few are enough.
const PLAN_PREFETCH: u16 = 4;
/// Delivery batches fetched ahead and applied at once (each is one Redis pipeline).
const DELIVER_PREFETCH: u16 = 16;
const DELIVER_CONCURRENCY: usize = 8;
/// How often the queues' depths are sampled.
const QUEUE_SAMPLE_EVERY: Duration = Duration::from_secs(2);

/// Runs the planner and the delivery worker until `shutdown`; each finishes the messages it is handling
/// before returning, and both follow the broker through reconnects.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    let names = Names::new(&state.config.amqp_prefix);
    let plan = Subscription {
        queue: names.plan.clone(),
        prefetch: PLAN_PREFETCH,
        concurrency: PLAN_PREFETCH.into(),
        confirms: true,
    };
    let deliver = Subscription {
        queue: names.deliver.clone(),
        prefetch: DELIVER_PREFETCH,
        concurrency: DELIVER_CONCURRENCY,
        confirms: false,
    };
    let planner = {
        let (state, names) = (state.clone(), names.clone());
        consumer::run(state.clone(), shutdown.clone(), plan, move |channel, data| {
            planner::handle(state.clone(), names.clone(), channel, data)
        })
    };
    let delivery = {
        let state = state.clone();
        consumer::run(state.clone(), shutdown.clone(), deliver, move |_, data| delivery::handle(state.clone(), data))
    };
    tokio::join!(planner, delivery, sample_queues(&state, &names, &shutdown));
}

/// Keeps the `queue_depth` gauges of the work queues and the dead-letter queue current: how far the
/// consumers are behind. Each queue gets a passive declare on its own throwaway channel (a queue that is
/// missing closes the channel it was asked on).
async fn sample_queues(state: &AppState, names: &Names, shutdown: &CancellationToken) {
    let mut every = tokio::time::interval(QUEUE_SAMPLE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            () = shutdown.cancelled() => return,
        }
        let Some(connection) = state.broker.connection() else { continue };
        for queue in [&names.plan, &names.deliver, &names.notify, &names.dead] {
            let depth = async {
                let channel = connection.create_channel().await?;
                let depth = topology::ready_messages(&channel, queue).await;
                let _ = channel.close(200, "sampled").await;
                depth
            };
            match tokio::time::timeout(Duration::from_secs(2), depth).await {
                Ok(Ok(depth)) => state.metrics.queue_depth.with_label_values(&[queue.as_str()]).set(depth.into()),
                Ok(Err(error)) => tracing::debug!(error = format!("{error:#}"), queue, "could not sample a queue"),
                Err(_) => tracing::debug!(queue, "sampling a queue timed out"),
            }
        }
    }
}
