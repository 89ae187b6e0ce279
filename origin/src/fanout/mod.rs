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

pub mod backlog;
pub(crate) mod consumer;
pub mod delivery;
mod planner;
mod store;
pub mod topology;

use tokio_util::sync::CancellationToken;

use crate::state::AppState;
use consumer::Subscription;
use topology::Names;

/// Plan messages fetched ahead (each up to a hundred events) and planned at once.
const PLAN_PREFETCH: u16 = 4;
/// Delivery messages fetched ahead (each up to `fanout_batch_size` timeline writes, one Redis pipeline)
/// and applied at once: enough to keep Redis busy while other messages wait on MySQL or the network.
const DELIVER_PREFETCH: u16 = 16;
const DELIVER_CONCURRENCY: usize = 8;

/// Runs the planner and the delivery worker until `shutdown`; each finishes the messages it is handling
/// before returning, and both follow the broker through reconnects.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    let names = Names::new(&state.config.amqp.prefix);
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
    tokio::join!(planner, delivery);
}
