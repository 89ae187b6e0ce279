//! How far the fanout is behind, sampled by every process that relays (the API server and `origin
//! worker` alike): outbox rows not yet published, and messages waiting in the plan and deliver queues.
//!
//! The API uses it for backpressure: while the backlog is above `fanout_max_backlog`, posting a tweet
//! answers 503 with `Retry-After` instead of adding to a queue the consumers cannot drain, so the feed's
//! promise (others' tweets within the fanout's delay) holds for the tweets that were accepted.

use std::{
    sync::atomic::{AtomicI64, Ordering},
    time::Duration,
};

use tokio_util::sync::CancellationToken;

use crate::{
    fanout::topology::{self, Names},
    outbox,
    state::AppState,
};

/// How often the backlog is sampled: often enough that a burst is refused within a fraction of a second
/// of passing the bound.
const SAMPLE_EVERY: Duration = Duration::from_millis(500);

/// The last sample.
#[derive(Debug, Default)]
pub struct Backlog {
    outbox_rows: AtomicI64,
    queued_messages: AtomicI64,
}

impl Backlog {
    /// Outbox rows plus messages ready in the plan and deliver queues, as last sampled.
    pub fn total(&self) -> i64 {
        self.outbox_rows.load(Ordering::Relaxed) + self.queued_messages.load(Ordering::Relaxed)
    }

    /// Whether new tweets should be refused for now (`limit` 0 turns backpressure off).
    pub fn exceeds(&self, limit: u64) -> bool {
        limit > 0 && u64::try_from(self.total()).unwrap_or(0) > limit
    }
}

/// Samples until `shutdown`: keeps [`Backlog`] and the `outbox_*` and `queue_depth` gauges current.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    let names = Names::new(&state.config.amqp_prefix);
    let mut every = tokio::time::interval(SAMPLE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            () = shutdown.cancelled() => return,
        }
        sample_outbox(&state).await;
        sample_queues(&state, &names).await;
    }
}

async fn sample_outbox(state: &AppState) {
    match outbox::store::backlog(&state.db).await {
        Ok((rows, oldest_micros)) => {
            state.backlog.outbox_rows.store(rows, Ordering::Relaxed);
            state.metrics.outbox_backlog.set(rows);
            #[expect(clippy::cast_precision_loss, reason = "an age in microseconds fits a double well enough")]
            state.metrics.outbox_oldest_age.set(oldest_micros as f64 / 1e6);
        }
        Err(error) => tracing::debug!(%error, "could not sample the outbox backlog"),
    }
}

/// Each queue gets a passive declare on a throwaway channel (a queue that is missing closes the channel
/// it was asked on). While the broker is away the queued count keeps its last value.
async fn sample_queues(state: &AppState, names: &Names) {
    let Some(connection) = state.broker.connection() else { return };
    let mut queued = 0;
    for queue in [&names.plan, &names.deliver, &names.notify, &names.dead] {
        let depth = async {
            let channel = connection.create_channel().await?;
            let depth = topology::ready_messages(&channel, queue).await;
            let _ = channel.close(200, "sampled").await;
            depth
        };
        match tokio::time::timeout(Duration::from_secs(2), depth).await {
            Ok(Ok(depth)) => {
                state.metrics.queue_depth.with_label_values(&[queue.as_str()]).set(depth.into());
                if queue == &names.plan || queue == &names.deliver {
                    queued += i64::from(depth);
                }
            }
            Ok(Err(error)) => tracing::debug!(error = format!("{error:#}"), queue, "could not sample a queue"),
            Err(_) => tracing::debug!(queue, "sampling a queue timed out"),
        }
    }
    state.backlog.queued_messages.store(queued, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_counts_rows_and_messages_and_zero_turns_it_off() {
        let backlog = Backlog::default();
        backlog.outbox_rows.store(60, Ordering::Relaxed);
        backlog.queued_messages.store(41, Ordering::Relaxed);
        assert_eq!(backlog.total(), 101);
        assert!(backlog.exceeds(100));
        assert!(!backlog.exceeds(101));
        assert!(!backlog.exceeds(0));
    }
}
