//! How far the fanout is behind, sampled by every process that relays (the API server and `origin
//! worker` alike):
//! - the lag: how old the tweets the delivery workers apply now are (each worker publishes it to Redis
//!   after every message, [`publish_lag`]), and how old the oldest unpublished outbox row is;
//! - the backlog: outbox rows not yet published plus messages waiting in the plan and deliver queues, the
//!   safety net for when no worker delivers at all.
//!
//! The API uses it for backpressure ([`admit`]): while the lag is over `fanout_max_lag` or the backlog
//! over `fanout_max_backlog`, posting a tweet waits (up to a second) for the fanout to catch up, then
//! answers 503 with `Retry-After`. Posting slows down to the rate the fanout delivers at instead of
//! adding to queues it cannot drain, so the feed's promise (others' tweets within the fanout's delay)
//! holds for every tweet that was accepted.

use std::{
    sync::atomic::{AtomicI64, Ordering},
    time::{Duration, Instant},
};

use tokio_util::sync::CancellationToken;

use crate::{
    cache::Redis,
    fanout::topology::{self, Names},
    outbox,
    state::AppState,
};

/// How often the backlog is sampled: often enough that posting slows within a fraction of a second of
/// the fanout falling behind.
const SAMPLE_EVERY: Duration = Duration::from_millis(250);
/// The queue depths (a passive declare per queue) are sampled every this many samples.
const QUEUES_EVERY: u32 = 4;
/// A published lag older than this says nothing any more (no worker delivered since).
const LAG_TTL_MS: u64 = 3_000;
/// How long a post waits for the fanout to catch up before it is refused.
const ADMIT_WAIT: Duration = Duration::from_secs(1);
const ADMIT_POLL: Duration = Duration::from_millis(50);

/// The last sample.
#[derive(Debug, Default)]
pub struct Backlog {
    outbox_rows: AtomicI64,
    queued_messages: AtomicI64,
    /// The larger of the delivery workers' last published lag and the oldest outbox row's age, in ms.
    lag_ms: AtomicI64,
}

/// The bounds posting is held to.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Outbox rows plus queued messages; 0 turns this bound off.
    pub backlog: u64,
    /// Milliseconds; 0 turns this bound off.
    pub lag_ms: u64,
}

impl Backlog {
    /// Outbox rows plus messages ready in the plan and deliver queues, as last sampled.
    pub fn total(&self) -> i64 {
        self.outbox_rows.load(Ordering::Relaxed) + self.queued_messages.load(Ordering::Relaxed)
    }

    /// Whether the fanout is past either bound, as last sampled.
    pub fn exceeds(&self, bounds: Bounds) -> bool {
        let over = |value: i64, bound: u64| bound > 0 && u64::try_from(value).unwrap_or(0) > bound;
        over(self.total(), bounds.backlog) || over(self.lag_ms.load(Ordering::Relaxed), bounds.lag_ms)
    }
}

/// Lets a post through once the fanout is within its bounds; waits up to [`ADMIT_WAIT`] for that, then
/// gives up (the caller answers 503 with `Retry-After`). `Ok(true)` when it had to wait.
pub async fn admit(backlog: &Backlog, bounds: Bounds) -> Result<bool, ()> {
    if !backlog.exceeds(bounds) {
        return Ok(false);
    }
    let deadline = Instant::now() + ADMIT_WAIT;
    while backlog.exceeds(bounds) {
        if Instant::now() >= deadline {
            return Err(());
        }
        tokio::time::sleep(ADMIT_POLL).await;
    }
    Ok(true)
}

/// The key the delivery workers publish their lag under (one key per deployment).
fn lag_key(redis: &Redis) -> String {
    redis.key("fanout:{lag}")
}

/// Publishes how old (ms) the tweets of the message just delivered were. Best effort: a failure only
/// leaves backpressure to the backlog bound.
pub async fn publish_lag(redis: &Redis, lag_ms: i64) {
    let Ok(mut conn) = redis.bulk_conn().await else { return };
    let set: redis::RedisResult<()> =
        redis::cmd("SET").arg(lag_key(redis)).arg(lag_ms).arg("PX").arg(LAG_TTL_MS).query_async(&mut conn).await;
    if let Err(error) = set {
        tracing::debug!(%error, "could not publish the fanout lag");
    }
}

/// Samples until `shutdown`: keeps [`Backlog`] and the `outbox_*` and `queue_depth` gauges current.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    let names = Names::new(&state.config.amqp.prefix);
    let mut every = tokio::time::interval(SAMPLE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for round in 0u32.. {
        tokio::select! {
            _ = every.tick() => {}
            () = shutdown.cancelled() => return,
        }
        let oldest_ms = sample_outbox(&state).await;
        let delivered_ms = read_lag(&state.redis).await;
        let lag_ms = oldest_ms.max(delivered_ms);
        state.backlog.lag_ms.store(lag_ms, Ordering::Relaxed);
        #[expect(clippy::cast_precision_loss, reason = "milliseconds of lag fit a double")]
        state.metrics.fanout_sampled_lag.set(lag_ms as f64 / 1e3);
        if round % QUEUES_EVERY == 0 {
            sample_queues(&state, &names).await;
        }
    }
}

/// The last lag a delivery worker published (0 when none did lately or Redis is away).
async fn read_lag(redis: &Redis) -> i64 {
    let Ok(mut conn) = redis.conn().await else { return 0 };
    let lag: redis::RedisResult<Option<i64>> = redis::cmd("GET").arg(lag_key(redis)).query_async(&mut conn).await;
    lag.ok().flatten().unwrap_or(0)
}

/// The outbox rows counted at least, when the backlog bound is small or off.
const COUNT_AT_LEAST: u64 = 10_000;

/// Samples the outbox; returns its oldest row's age in ms (0 when empty or unknown).
async fn sample_outbox(state: &AppState) -> i64 {
    // Counting stops past twice the bound (and at least [`COUNT_AT_LEAST`]): enough to refuse posts and
    // for the gauge to show a backlog, and a sample costs the same however far behind the relay is.
    let cap = state.config.fanout.max_backlog.max(COUNT_AT_LEAST).saturating_mul(2);
    match outbox::store::backlog(&state.db, cap).await {
        Ok((rows, oldest_micros)) => {
            state.backlog.outbox_rows.store(rows, Ordering::Relaxed);
            state.metrics.outbox_backlog.set(rows);
            #[expect(clippy::cast_precision_loss, reason = "an age in microseconds fits a double well enough")]
            state.metrics.outbox_oldest_age.set(oldest_micros as f64 / 1e6);
            oldest_micros / 1000
        }
        Err(error) => {
            tracing::debug!(%error, "could not sample the outbox backlog");
            0
        }
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
    fn the_bounds_count_rows_and_messages_or_the_lag_and_zero_turns_them_off() {
        let backlog = Backlog::default();
        backlog.outbox_rows.store(60, Ordering::Relaxed);
        backlog.queued_messages.store(41, Ordering::Relaxed);
        assert_eq!(backlog.total(), 101);
        let off = Bounds { backlog: 0, lag_ms: 0 };
        assert!(backlog.exceeds(Bounds { backlog: 100, ..off }));
        assert!(!backlog.exceeds(Bounds { backlog: 101, ..off }));
        assert!(!backlog.exceeds(off));
        backlog.lag_ms.store(1_500, Ordering::Relaxed);
        assert!(backlog.exceeds(Bounds { lag_ms: 1_000, ..off }));
        assert!(!backlog.exceeds(Bounds { lag_ms: 1_500, ..off }));
    }

    #[tokio::test]
    async fn admission_waits_for_the_fanout_then_gives_up() {
        let backlog = Backlog::default();
        let bounds = Bounds { backlog: 10, lag_ms: 0 };
        assert_eq!(admit(&backlog, bounds).await, Ok(false));
        backlog.queued_messages.store(11, Ordering::Relaxed);
        let started = tokio::time::Instant::now();
        assert_eq!(admit(&backlog, bounds).await, Err(()));
        assert!(started.elapsed() >= ADMIT_WAIT);
    }
}
