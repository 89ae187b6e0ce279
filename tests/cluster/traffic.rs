//! The load each fault is injected under: several clients posting tweets, liking each other's and reading
//! their feeds, spread over the origins and the edge, recording what was acknowledged and every error
//! they saw.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use reqwest::{Method, StatusCode};
use rookery_origin::testing::{request, Account};
use serde_json::json;

/// Clients posting at once.
const CLIENTS: usize = 6;
/// Between one client's requests: keeps the load at a few hundred requests a second, which the
/// processes of this run (debug builds, sharing two cores with nine cluster nodes) can serve.
const PAUSE: Duration = Duration::from_millis(20);

/// What the clients saw during one run of [`run`].
#[derive(Debug, Default)]
pub struct Seen {
    /// Tweets acknowledged with 201: (author, tweet id).
    pub tweets: Vec<(u64, u64)>,
    /// Likes acknowledged with 201: (liker, tweet id).
    pub likes: Vec<(u64, u64)>,
    /// Requests answered with an error or not at all: when (since the run began) and what.
    pub errors: Vec<(Duration, String)>,
    pub requests: u64,
}

/// Posts and likes for `duration` through `targets` in turn, running `fault` (blocking) after `fault_at`.
/// Returns what was seen and when the fault ran.
pub async fn run(
    users: &[Account],
    targets: &[String],
    duration: Duration,
    fault_at: Duration,
    fault: impl FnOnce() + Send + 'static,
) -> (Seen, Duration) {
    let started = Instant::now();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let users = Arc::new(users.to_vec());
    let targets = Arc::new(targets.to_vec());
    let mut clients = Vec::new();
    for client_index in 0..CLIENTS {
        let (seen, users, targets) = (seen.clone(), users.clone(), targets.clone());
        clients.push(tokio::spawn(async move {
            let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("a client");
            let mut turn = client_index;
            while started.elapsed() < duration {
                let author = &users[turn % users.len()];
                let target = &targets[turn % targets.len()];
                post(&http, target, author, turn, started, &seen).await;
                if turn % 3 == 0 {
                    like(&http, target, &users[(turn / 3) % users.len()], started, &seen).await;
                }
                if turn % 4 == 1 {
                    read_feed(&http, target, author, started, &seen).await;
                }
                turn += CLIENTS;
                tokio::time::sleep(PAUSE).await;
            }
        }));
    }
    tokio::time::sleep(fault_at).await;
    let fault_ran = started.elapsed();
    tokio::task::spawn_blocking(fault).await.expect("the fault runs");
    for client in clients {
        client.await.expect("a client task");
    }
    let seen = Arc::try_unwrap(seen).expect("the clients are done").into_inner().expect("not poisoned");
    (seen, fault_ran)
}

async fn post(
    http: &reqwest::Client,
    target: &str,
    author: &Account,
    turn: usize,
    started: Instant,
    seen: &Mutex<Seen>,
) {
    let sent = request(http, target, Method::POST, "/api/tweets/", Some(&author.token))
        .json(&json!({ "content": format!("cluster tweet {turn}") }))
        .send()
        .await;
    let id = match expect(sent, StatusCode::CREATED, "POST /api/tweets/") {
        Ok(response) => {
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            body["id"].as_u64().ok_or_else(|| format!("201 without an id: {body}"))
        }
        Err(error) => Err(error),
    };
    let mut seen = seen.lock().expect("not poisoned");
    if let Some(id) = seen.record(started, id) {
        seen.tweets.push((author.id, id));
    }
}

/// Likes the newest acknowledged tweet of someone else's, if there is one.
async fn like(http: &reqwest::Client, target: &str, liker: &Account, started: Instant, seen: &Mutex<Seen>) {
    let tweet = {
        let seen = seen.lock().expect("not poisoned");
        seen.tweets.iter().rev().find(|(author, _)| *author != liker.id).map(|(_, id)| *id)
    };
    let Some(tweet) = tweet else { return };
    let sent = request(http, target, Method::POST, "/api/likes/", Some(&liker.token))
        .json(&json!({ "content_type": "tweet", "object_id": tweet }))
        .send()
        .await;
    let liked = expect(sent, StatusCode::CREATED, "POST /api/likes/");
    let mut seen = seen.lock().expect("not poisoned");
    if seen.record(started, liked).is_some() {
        seen.likes.push((liker.id, tweet));
    }
}

/// Reads the first page of `reader`'s feed.
async fn read_feed(http: &reqwest::Client, target: &str, reader: &Account, started: Instant, seen: &Mutex<Seen>) {
    let sent = request(http, target, Method::GET, "/api/newsfeeds/", Some(&reader.token)).send().await;
    let read = expect(sent, StatusCode::OK, "GET /api/newsfeeds/");
    seen.lock().expect("not poisoned").record(started, read);
}

/// The response if it has `status`; otherwise what went wrong, naming `what` was sent.
fn expect(
    sent: reqwest::Result<reqwest::Response>,
    status: StatusCode,
    what: &str,
) -> Result<reqwest::Response, String> {
    match sent {
        Ok(response) if response.status() == status => Ok(response),
        Ok(response) => Err(format!("{what} {}", response.status())),
        Err(error) => Err(format!("{what}: {error}")),
    }
}

impl Seen {
    /// Counts a request and keeps its error, if it failed, with when it happened.
    fn record<T>(&mut self, started: Instant, outcome: Result<T, String>) -> Option<T> {
        self.requests += 1;
        outcome.map_err(|error| self.errors.push((started.elapsed(), error))).ok()
    }
}

/// What a fault cost, for the report.
pub struct Cost {
    pub fault: &'static str,
    pub seen: Seen,
    pub fault_ran: Duration,
    /// Delivery messages the broker handed out again (a consumer failed or vanished).
    pub redeliveries: f64,
    /// Feed reads served from MySQL because Redis failed, and timelines rebuilt from MySQL.
    pub reads_without_redis: f64,
    pub rebuilds: f64,
    /// From the end of the traffic until every feed was exact.
    pub settled: Duration,
}

impl std::fmt::Display for Cost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let after: Vec<Duration> =
            self.seen.errors.iter().map(|(at, _)| *at).filter(|at| *at >= self.fault_ran).collect();
        let errors_for = after.iter().max().map_or(Duration::ZERO, |last| *last - self.fault_ran);
        write!(
            f,
            "| {} | {} | {} | {} | {:.1} s | {} | {} | {} | {:.1} s |",
            self.fault,
            self.seen.requests,
            self.seen.tweets.len(),
            self.seen.errors.len(),
            errors_for.as_secs_f64(),
            self.redeliveries,
            self.reads_without_redis,
            self.rebuilds,
            self.settled.as_secs_f64()
        )?;
        let mut kinds: Vec<&str> = self.seen.errors.iter().map(|(_, error)| error.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        for kind in kinds.iter().take(3) {
            write!(f, "\n    error: {kind}")?;
        }
        Ok(())
    }
}

pub const COST_HEADER: &str = "| fault | requests | tweets acknowledged | client errors | errors went on for | \
    redelivered messages | feed reads without Redis | timelines rebuilt | feeds exact after |\n\
    |---|---|---|---|---|---|---|---|---|";
