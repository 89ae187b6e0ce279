//! Prometheus metrics, one registry per application instance (so tests running several origins in one
//! process see only their own counts), rendered at `GET /metrics`.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request, State},
    http::{header, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use prometheus::{
    Encoder, Gauge, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

use crate::state::AppState;

pub struct Metrics {
    pub registry: Registry,
    /// Requests by method, route template and status: rates and error ratios.
    pub http_requests: IntCounterVec,
    /// Latency by method, route template and status (a fast 4xx must not hide a slow 200).
    pub http_duration: HistogramVec,
    /// Outbox rows not yet confirmed by the broker (sampled by every relaying process).
    pub outbox_backlog: IntGauge,
    /// The fanout lag posting is held to, as last sampled (the larger of the delivery workers' published
    /// lag and the oldest outbox row's age), in seconds.
    pub fanout_sampled_lag: Gauge,
    /// Tweets refused with 503 because the fanout stayed past its bounds.
    pub tweets_refused: IntCounter,
    /// Tweets that waited for the fanout to come back within its bounds before being accepted.
    pub tweets_delayed: IntCounter,
    /// Age of the oldest outbox row, in seconds (0 when empty).
    pub outbox_oldest_age: Gauge,
    /// Events the broker confirmed, by topic.
    pub events_published: IntCounterVec,
    /// What the planner decided per event: `pushed`, `pulled` (author above the threshold) or `gone`.
    pub fanout_plans: IntCounterVec,
    /// Timeline writes: followers × tweets, by action (`add`, `remove`).
    pub fanout_deliveries: IntCounterVec,
    /// Delivery messages applied, by action.
    pub fanout_batches: IntCounterVec,
    /// Messages this process rejected to the dead-letter queue, by queue.
    pub dead_lettered: IntCounterVec,
    /// Messages ready in each work queue and in the dead-letter queue, by queue name (sampled with a
    /// passive declare by processes that run the consumers).
    pub queue_depth: IntGaugeVec,
    /// Seconds from a tweet's creation to its delivery batch reaching home timelines: the fanout lag
    /// end to end (outbox, relay, planner, delivery queue).
    pub fanout_lag: Histogram,
    /// Messages received again after a failed attempt, by queue.
    pub redeliveries: IntCounterVec,
    /// Timeline reads by kind (`home`, `user`) and source: `hit` (Redis answered), `rebuild` (missing,
    /// rebuilt from MySQL), `mysql` (Redis could not answer the window), `redis_down`.
    pub timeline_reads: IntCounterVec,
    /// Direct requests refused with 429, by rate-limit scope (edge traffic is limited at the edge).
    pub rate_limited: IntCounterVec,
    /// Direct requests let through unchecked because Redis could not answer (the limiter fails open).
    pub rate_limit_unchecked: IntCounter,
    /// Redis cache lookups by cache (`tweet`, `user`, `session`, `pulled_authors`) and result (`hit`,
    /// `miss`); an unreachable Redis counts as misses. Hit ratio = hit / (hit + miss).
    pub cache_lookups: IntCounterVec,
}

impl Metrics {
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new_custom(Some("rookery".into()), None)?;
        let http_requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by method, route and status"),
            &["method", "route", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency by method, route and status")
                .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]),
            &["method", "route", "status"],
        )?;
        let outbox_backlog = IntGauge::new(
            "outbox_backlog",
            "Outbox rows waiting for the relay (counted up to twice FANOUT_MAX_BACKLOG, at least 20,000)",
        )?;
        let fanout_sampled_lag = Gauge::new(
            "fanout_sampled_lag_seconds",
            "The fanout lag posting is held to (latest delivery lag or oldest outbox row), as last sampled",
        )?;
        let tweets_refused =
            IntCounter::new("tweets_refused_total", "Tweets refused (503): the fanout stayed past its bounds")?;
        let tweets_delayed =
            IntCounter::new("tweets_delayed_total", "Tweets that waited for the fanout to catch up before acceptance")?;
        let outbox_oldest_age =
            Gauge::new("outbox_oldest_age_seconds", "Age of the oldest outbox row waiting for the relay")?;
        let events_published = IntCounterVec::new(
            Opts::new("events_published_total", "Events confirmed by RabbitMQ, by topic"),
            &["topic"],
        )?;
        let fanout_plans = IntCounterVec::new(
            Opts::new("fanout_plans_total", "Events the fanout planner handled, by outcome"),
            &["outcome"],
        )?;
        let fanout_deliveries = IntCounterVec::new(
            Opts::new("fanout_deliveries_total", "Home-timeline writes (followers x tweets), by action"),
            &["action"],
        )?;
        let fanout_batches = IntCounterVec::new(
            Opts::new("fanout_delivery_batches_total", "Fanout delivery messages applied, by action"),
            &["action"],
        )?;
        let dead_lettered = IntCounterVec::new(
            Opts::new("dead_lettered_total", "Messages rejected to the dead-letter queue, by queue"),
            &["queue"],
        )?;
        let queue_depth = IntGaugeVec::new(
            Opts::new("queue_depth", "Messages ready in a RabbitMQ work or dead-letter queue, by queue"),
            &["queue"],
        )?;
        let fanout_lag = Histogram::with_opts(
            HistogramOpts::new(
                "fanout_delivery_lag_seconds",
                "Seconds from a tweet's creation to its delivery to followers' home timelines",
            )
            .buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0,
                60.0, 300.0,
            ]),
        )?;
        let redeliveries = IntCounterVec::new(
            Opts::new("redeliveries_total", "Messages received again after a failed attempt, by queue"),
            &["queue"],
        )?;
        let timeline_reads = IntCounterVec::new(
            Opts::new("timeline_reads_total", "Timeline reads by kind and by what answered them"),
            &["kind", "source"],
        )?;
        let rate_limited = IntCounterVec::new(
            Opts::new("rate_limited_total", "Direct requests refused by the rate limits, by scope"),
            &["scope"],
        )?;
        let rate_limit_unchecked = IntCounter::new(
            "rate_limit_unchecked_total",
            "Direct requests admitted without a rate-limit check because Redis was unavailable",
        )?;
        let cache_lookups = IntCounterVec::new(
            Opts::new("cache_lookups_total", "Redis cache lookups by cache and result (hit or miss)"),
            &["cache", "result"],
        )?;
        registry.register(Box::new(cache_lookups.clone()))?;
        registry.register(Box::new(queue_depth.clone()))?;
        registry.register(Box::new(fanout_lag.clone()))?;
        registry.register(Box::new(rate_limited.clone()))?;
        registry.register(Box::new(rate_limit_unchecked.clone()))?;
        registry.register(Box::new(timeline_reads.clone()))?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        registry.register(Box::new(outbox_backlog.clone()))?;
        registry.register(Box::new(tweets_refused.clone()))?;
        registry.register(Box::new(fanout_sampled_lag.clone()))?;
        registry.register(Box::new(tweets_delayed.clone()))?;
        registry.register(Box::new(outbox_oldest_age.clone()))?;
        registry.register(Box::new(events_published.clone()))?;
        registry.register(Box::new(fanout_plans.clone()))?;
        registry.register(Box::new(fanout_deliveries.clone()))?;
        registry.register(Box::new(fanout_batches.clone()))?;
        registry.register(Box::new(dead_lettered.clone()))?;
        registry.register(Box::new(redeliveries.clone()))?;
        Ok(Self {
            registry,
            http_requests,
            http_duration,
            outbox_backlog,
            tweets_refused,
            fanout_sampled_lag,
            tweets_delayed,
            outbox_oldest_age,
            events_published,
            fanout_plans,
            fanout_deliveries,
            fanout_batches,
            dead_lettered,
            queue_depth,
            fanout_lag,
            redeliveries,
            timeline_reads,
            rate_limited,
            rate_limit_unchecked,
            cache_lookups,
        })
    }

    /// Counts one batch of lookups in `cache`: `hits` answered by Redis, `misses` that went to MySQL.
    pub fn cache_lookups(&self, cache: &str, hits: usize, misses: usize) {
        if hits > 0 {
            self.cache_lookups.with_label_values(&[cache, "hit"]).inc_by(hits as u64);
        }
        if misses > 0 {
            self.cache_lookups.with_label_values(&[cache, "miss"]).inc_by(misses as u64);
        }
    }

    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        let encoder = TextEncoder::new();
        if let Err(error) = encoder.encode(&self.registry.gather(), &mut buffer) {
            tracing::error!(%error, "could not encode metrics");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}

/// Counts and times every request by its route template (not the raw path, which would explode the
/// label space).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route =
        request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let metrics = &state.metrics;
    let status = response.status();
    let labels = [method.as_str(), route.as_str(), status.as_str()];
    metrics.http_requests.with_label_values(&labels).inc();
    metrics.http_duration.with_label_values(&labels).observe(started.elapsed().as_secs_f64());
    response
}

/// Prometheus metrics
///
/// Request counts and latencies by route, and the background tasks' gauges, in the text exposition
/// format.
pub async fn render(State(state): State<AppState>) -> impl IntoResponse {
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render())
}
