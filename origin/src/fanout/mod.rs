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
/// How often the dead-letter queue's depth is sampled.
const DEAD_SAMPLE_EVERY: Duration = Duration::from_secs(5);

/// Runs the planner and the delivery worker until `shutdown`; each finishes the messages it is handling
/// before returning, and both follow the broker through reconnects.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    let names = Names::new(&state.config.amqp_prefix);
    let plan = Subscription { queue: names.plan.clone(), prefetch: PLAN_PREFETCH, concurrency: PLAN_PREFETCH.into(), confirms: true };
    let deliver =
        Subscription { queue: names.deliver.clone(), prefetch: DELIVER_PREFETCH, concurrency: DELIVER_CONCURRENCY, confirms: false };
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
    tokio::join!(planner, delivery, sample_dead_queue(&state, &names, &shutdown));
}

/// Keeps the `dead_queue_depth` gauge current (a passive declare on a throwaway channel).
async fn sample_dead_queue(state: &AppState, names: &Names, shutdown: &CancellationToken) {
    let mut every = tokio::time::interval(DEAD_SAMPLE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            () = shutdown.cancelled() => return,
        }
        let Some(connection) = state.broker.connection() else { continue };
        let depth = async {
            let channel = connection.create_channel().await?;
            let depth = topology::ready_messages(&channel, &names.dead).await;
            let _ = channel.close(200, "sampled").await;
            depth
        };
        match tokio::time::timeout(Duration::from_secs(2), depth).await {
            Ok(Ok(depth)) => state.metrics.dead_queue_depth.set(depth.into()),
            Ok(Err(error)) => tracing::debug!(error = format!("{error:#}"), "could not sample the dead-letter queue"),
            Err(_) => tracing::debug!("sampling the dead-letter queue timed out"),
        }
    }
}
