//! Flood isolation at the edge: one user floods an endpoint far past its limit, concurrently, while
//! another user reads the same endpoint at an ordinary pace. The flooder gets 429s; the other user gets
//! every answer. The other user's latencies with and without the flood are printed, never asserted.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use reqwest::{Method, StatusCode};
use rookery_origin::testing::Account;

use crate::harness::{spawn_stack_with, Stack};

/// A request through the edge as client `ip`; the status only.
async fn get_as(stack: &Stack, ip: &str, path: &str, token: &str) -> StatusCode {
    stack
        .client
        .request(Method::GET, format!("{}{path}", stack.edge.url))
        .header("cf-connecting-ip", ip)
        .bearer_auth(token)
        .send()
        .await
        .map(|response| response.status())
        .unwrap_or_else(|error| panic!("{path} answers: {error}"))
}

/// `n` reads by `reader`, one every 350 ms (under 3 a second, inside the 5/s limit), with latencies.
async fn ordinary_reads(stack: &Stack, reader: &Account, path: &str, n: usize) -> Vec<(StatusCode, Duration)> {
    let mut answers = Vec::new();
    for _ in 0..n {
        let started = Instant::now();
        let status = get_as(stack, "203.0.113.9", path, &reader.token).await;
        answers.push((status, started.elapsed()));
        tokio::time::sleep(Duration::from_millis(350)).await;
    }
    answers
}

fn percentiles(answers: &[(StatusCode, Duration)]) -> String {
    let mut sorted: Vec<Duration> = answers.iter().map(|(_, d)| *d).collect();
    sorted.sort();
    let at = |p: f64| sorted.get(((sorted.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or_default();
    format!("n={} p50={:?} p90={:?} p99={:?} max={:?}", sorted.len(), at(0.5), at(0.9), at(0.99), at(1.0))
}

#[tokio::test(flavor = "multi_thread")]
async fn one_users_flood_through_the_edge_leaves_another_users_requests_alone() {
    let stack = spawn_stack_with(
        |origin| origin.http.rate_limits = true,
        |edge| {
            edge.rate_limits = true;
            edge.session_cache_secs = 300;
        },
    )
    .await;
    let alice = stack.signup("flood_alice").await;
    let mallory = stack.signup("flood_mallory").await;
    let tweet_id = stack.post_tweet(&alice, "the tweet everyone reads").await;
    let path = format!("/api/tweets/{tweet_id}/");

    let quiet = ordinary_reads(&stack, &alice, &path, 15).await;

    // 64 connections send back to back until the other user is done, at least 800 requests in all.
    const CONNECTIONS: usize = 64;
    const AT_LEAST: usize = 800;
    let done = Arc::new(AtomicBool::new(false));
    let mut flood = tokio::task::JoinSet::new();
    for _ in 0..CONNECTIONS {
        let (client, url, token, done) =
            (stack.client.clone(), format!("{}{path}", stack.edge.url), mallory.token.clone(), done.clone());
        flood.spawn(async move {
            let mut statuses = Vec::new();
            while statuses.len() < AT_LEAST / CONNECTIONS || !done.load(Ordering::SeqCst) {
                let response =
                    client.get(&url).header("cf-connecting-ip", "198.51.100.66").bearer_auth(&token).send().await;
                statuses.push(response.map(|r| r.status()).ok());
            }
            statuses
        });
    }
    let during = ordinary_reads(&stack, &alice, &path, 15).await;
    done.store(true, Ordering::SeqCst);
    let flooded: Vec<StatusCode> = flood
        .join_all()
        .await
        .into_iter()
        .flatten()
        .map(|status| status.expect("the edge answers every flood request"))
        .collect();
    let sent = flooded.len();
    let limited = flooded.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    let ok = flooded.iter().filter(|s| **s == StatusCode::OK).count();
    eprintln!("edge flood: {sent} requests, {ok} answered 200, {limited} answered 429");
    eprintln!("edge, other user without flood: {}", percentiles(&quiet));
    eprintln!("edge, other user during flood:  {}", percentiles(&during));

    assert_eq!(ok + limited, sent, "the flooder got only 200s and 429s: {flooded:?}");
    assert!(sent >= AT_LEAST && limited >= sent / 2, "the flood was limited: {limited} of {sent}");
    for (status, _) in quiet.iter().chain(&during) {
        assert_eq!(*status, StatusCode::OK, "the other user was refused: {quiet:?} {during:?}");
    }
}
