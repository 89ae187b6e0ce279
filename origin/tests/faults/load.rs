//! Steady request load: a request every `period`, each in its own task so a slow answer never lowers the
//! rate, every answer recorded with the moment it was sent.

use std::{
    collections::BTreeMap,
    future::Future,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use serde_json::Value;
use tokio::{task::JoinHandle, time::Instant};

/// A request that has not answered after this long is recorded with status 0 (no answer).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub struct Sample {
    /// Which request of the load this was (0, 1, 2, ...).
    pub seq: u64,
    pub sent: Instant,
    pub latency: Duration,
    /// 0 when no answer came within [`REQUEST_TIMEOUT`].
    pub status: u16,
    pub body: Value,
}

pub struct Load {
    stop: Arc<AtomicBool>,
    task: JoinHandle<Vec<Sample>>,
}

impl Load {
    /// Sends `request(seq)` every `period` until [`Load::finish`].
    pub fn start<F, Fut>(period: Duration, mut request: F) -> Self
    where
        F: FnMut(u64) -> Fut + Send + 'static,
        Fut: Future<Output = (u16, Value)> + Send + 'static,
    {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut pending = Vec::new();
            let mut seq = 0;
            loop {
                ticks.tick().await;
                if stopping.load(Ordering::Relaxed) {
                    break;
                }
                let answer = request(seq);
                pending.push(tokio::spawn(async move {
                    let sent = Instant::now();
                    let (status, body) =
                        tokio::time::timeout(REQUEST_TIMEOUT, answer).await.unwrap_or((0, Value::Null));
                    Sample { seq, sent, latency: sent.elapsed(), status, body }
                }));
                seq += 1;
            }
            let mut samples = Vec::with_capacity(pending.len());
            for answer in pending {
                samples.push(answer.await.expect("a request task"));
            }
            samples
        });
        Self { stop, task }
    }

    /// Stops sending and returns every sample once all answers are in.
    pub async fn finish(self) -> Vec<Sample> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.expect("the load task")
    }
}

/// Samples sent inside `[from, to)`.
pub fn between(samples: &[Sample], from: Instant, to: Instant) -> Vec<&Sample> {
    samples.iter().filter(|s| s.sent >= from && s.sent < to).collect()
}

/// "n=…, status {200: n, …}, p50 …, p99 …, max …" for a report line.
pub fn summary(samples: &[&Sample]) -> String {
    if samples.is_empty() {
        return "n=0".into();
    }
    let mut statuses = BTreeMap::<u16, usize>::new();
    for sample in samples {
        *statuses.entry(sample.status).or_default() += 1;
    }
    let mut latencies: Vec<Duration> = samples.iter().map(|s| s.latency).collect();
    latencies.sort();
    let at = |q: f64| {
        let index = ((latencies.len() - 1) as f64 * q).round() as usize;
        latencies[index]
    };
    format!(
        "n={}, status {statuses:?}, p50 {:.1?}, p99 {:.1?}, max {:.1?}",
        samples.len(),
        at(0.5),
        at(0.99),
        latencies[latencies.len() - 1]
    )
}
