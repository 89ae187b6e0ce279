//! The contract's rate limits at the edge: for every listed endpoint the request past the limit gets
//! the 429 envelope with `Retry-After` and `RateLimit-*` and never reaches the origin, while another
//! caller's budget is untouched; the origin limits direct calls on its own without counting the
//! edge's traffic.
//!
//! These tests stand in for Cloudflare: they set `CF-Connecting-IP` themselves and run the edge with
//! `TRUST_CF_CONNECTING_IP=true`, which lets a test act as several client IPs. Without that setting (the
//! default, and right wherever Cloudflare does not overwrite the header) a forged header buys nothing.

use std::time::Duration;

use reqwest::{Method, RequestBuilder, StatusCode};
use rookery_origin::testing::{self, Account, Reply};
use rookery_shared::ratelimit::{self, KeyKind, Rule, RULES};
use serde_json::{json, Value};

use crate::harness::{spawn_stack_with, Stack};

async fn limited_stack() -> Stack {
    spawn_stack_with(
        |origin| origin.http.rate_limits = true,
        |edge| {
            edge.rate_limits = true;
            edge.trust_cf_connecting_ip = true;
            // One session check per token for the whole test, so origin counts are exact.
            edge.session_cache_secs = 300;
        },
    )
    .await
}

/// A request through the edge as `ip`, with `token` if given.
fn request_as(
    stack: &Stack,
    ip: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> RequestBuilder {
    let request = testing::request(&stack.client, &stack.edge.url, method, path, token).header("cf-connecting-ip", ip);
    match body {
        Some(body) => request.json(body),
        None => request,
    }
}

/// [`request_as`], sent.
async fn send_as(
    stack: &Stack,
    ip: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply {
    Reply::receive(request_as(stack, ip, method, path, token, body.as_ref())).await
}

/// `n` copies of a request sent at once, as `ip`; the answers in no particular order.
async fn burst(
    stack: &Stack,
    n: u32,
    ip: &str,
    (method, path, body): &(Method, String, Option<Value>),
    token: Option<&str>,
) -> Vec<Reply> {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        set.spawn(Reply::receive(request_as(stack, ip, method.clone(), path, token, body.as_ref())));
    }
    set.join_all().await
}

fn assert_limited(reply: &Reply, max: u32, what: &str) {
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "{what}: {}", reply.body);
    assert_eq!(reply.body, json!({"detail": "Too many requests, try again later."}), "{what}");
    let retry_after: u64 =
        reply.header("retry-after").and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{what}: Retry-After"));
    assert!((1..=60).contains(&retry_after), "{what}: {retry_after}");
    assert_eq!(reply.header("ratelimit-limit"), Some(max.to_string().as_str()), "{what}");
    assert_eq!(reply.header("ratelimit-remaining"), Some("0"), "{what}");
    assert!(reply.header("ratelimit-reset").is_some_and(|v| v.parse::<u64>().is_ok_and(|s| s >= 1)), "{what}");
    assert!(reply.header("x-request-id").is_some(), "{what}");
}

/// A concrete request for a rule: path with ids filled in, and a body for writes.
fn request_for(rule: &Rule, target: &Account, tweet_id: u64) -> (Method, String, Option<Value>) {
    let method = Method::from_bytes(rule.method.as_bytes()).expect("a method");
    let path = format!(
        "{}/",
        rule.path
            .replace("/friendships/{id}", &format!("/friendships/{}", target.id))
            .replace("{id}", &tweet_id.to_string())
    );
    let path = match rule.scope {
        "comments_list" => format!("{path}?tweet_id={tweet_id}"),
        _ => path,
    };
    let body = match rule.scope {
        "accounts_login" => Some(json!({"username": target.username, "password": "wrong password"})),
        "accounts_signup" => Some(json!({"username": "x", "email": "bad", "password": "p"})),
        "comments_create" | "comments_update" => Some(json!({"tweet_id": tweet_id, "content": "a comment"})),
        "likes_create" | "likes_cancel" => Some(json!({"content_type": "tweet", "object_id": tweet_id})),
        "notifications_update" => Some(json!({"unread": false})),
        _ if method != Method::GET => Some(json!({})),
        _ => None,
    };
    (method, path, body)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_listed_endpoint_refuses_the_request_past_its_limit() {
    let stack = limited_stack().await;
    let alice = stack.signup("limit_alice").await;
    let bob = stack.signup("limit_bobby").await;
    let target = stack.signup("limit_target").await;
    let tweet_id = stack.post_tweet(&target, "something to read").await;
    // Warm both sessions' cached status (an unlimited route), so the origin's counts below are only
    // the limited requests.
    for account in [&alice, &bob] {
        let reply =
            stack.edge(Method::GET, &format!("/api/tweets/?user_id={}", target.id), Some(&account.token), None).await;
        assert_eq!(reply.status, StatusCode::OK);
    }

    for (n, rule) in RULES.iter().enumerate() {
        if rule.scope == "tweets_create" {
            continue; // Two limits: its own test below.
        }
        let max = rule.limits[0].max;
        let request = request_for(rule, &target, tweet_id);
        let (method, path, body) = &request;
        // Each rule gets fresh IPs, so the IP-keyed ones do not share a budget with earlier rules.
        let (ip_a, ip_b) = (format!("198.51.100.{n}"), format!("203.0.113.{n}"));
        let (token_a, token_b) = match rule.key {
            KeyKind::Ip => (None, None),
            KeyKind::User => (Some(alice.token.as_str()), Some(bob.token.as_str())),
        };
        let before = stack.origin.requests_served().await;
        let replies = burst(&stack, max + 1, &ip_a, &request, token_a).await;
        let (refused, admitted): (Vec<&Reply>, Vec<&Reply>) =
            replies.iter().partition(|r| r.status == StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            (admitted.len(), refused.len()),
            (max as usize, 1),
            "{}: {max} admitted, then one refused: {:?}",
            rule.scope,
            replies.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        assert_limited(refused[0], max, rule.scope);
        for reply in &admitted {
            assert_eq!(
                reply.header("ratelimit-limit"),
                Some(max.to_string().as_str()),
                "{}: admitted answers carry the limit",
                rule.scope
            );
        }
        let served = stack.origin.requests_served().await - before;
        assert_eq!(served, u64::from(max), "{}: the refused request never reached the origin", rule.scope);

        // Another caller (another user, or another IP) is not affected.
        let other = send_as(&stack, &ip_b, method.clone(), path, token_b, body.clone()).await;
        assert_ne!(other.status, StatusCode::TOO_MANY_REQUESTS, "{}: another key", rule.scope);
        assert_eq!(
            other.header("ratelimit-remaining"),
            Some((max - 1).to_string().as_str()),
            "{}: another key has its own budget",
            rule.scope
        );
    }
}

async fn post_tweet(stack: &Stack, token: String, n: u32) -> Reply {
    let body = json!({"content": format!("limited tweet {n}")});
    stack.edge(Method::POST, "/api/tweets/", Some(&token), Some(body)).await
}

#[tokio::test(flavor = "multi_thread")]
async fn tweets_are_limited_to_one_a_second_and_five_a_minute_per_user() {
    let stack = limited_stack().await;
    let alice = stack.signup("burst_alice").await;
    let bob = stack.signup("burst_bobby").await;
    let post = |account: &Account, n: u32| post_tweet(&stack, account.token.clone(), n);

    let (first, second) = tokio::join!(post(&alice, 0), post(&alice, 1));
    let both = [first, second];
    let statuses: Vec<StatusCode> = both.iter().map(|r| r.status).collect();
    assert!(
        statuses.contains(&StatusCode::CREATED) && statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "one a second: {statuses:?}"
    );
    let refused = both.iter().find(|r| r.status == StatusCode::TOO_MANY_REQUESTS).expect("a refusal");
    assert_limited(refused, 1, "second tweet in a second");
    assert_eq!(refused.header("ratelimit-policy"), Some("1;w=1, 5;w=60"));

    for n in 2..6 {
        tokio::time::sleep(Duration::from_millis(1050)).await;
        let reply = post(&alice, n).await;
        assert_eq!(reply.status, StatusCode::CREATED, "tweet {n}: {}", reply.body);
    }
    // Idle long enough for the runtime to evict alice's Limiter object from memory (about 10 s): the
    // minute's log is in its storage, so the limit still holds.
    tokio::time::sleep(Duration::from_secs(12)).await;
    let sixth = post(&alice, 6).await;
    assert_limited(&sixth, 5, "sixth tweet in a minute");
    let retry_after: u64 = sixth.header("retry-after").and_then(|v| v.parse().ok()).expect("a number");
    assert!((30..=50).contains(&retry_after), "waits for the first tweet to age out: {retry_after}");

    let other = post(&bob, 0).await;
    assert_eq!(other.status, StatusCode::CREATED, "bob is not limited: {}", other.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_origin_limits_direct_calls_but_not_the_edges_traffic() {
    let stack = limited_stack().await;
    let alice = stack.signup("direct_alice").await;

    // Alice uses up her feed budget at the edge...
    let feed = (Method::GET, "/api/newsfeeds/".to_owned(), None);
    let replies = burst(&stack, 6, "127.0.0.1", &feed, Some(&alice.token)).await;
    assert_eq!(replies.iter().filter(|r| r.status == StatusCode::OK).count(), 5);
    assert_eq!(replies.iter().filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS).count(), 1);

    // ...which the origin did not count: straight to the origin she has a full budget of her own.
    for remaining in ["4", "3", "2", "1", "0"] {
        let reply = stack.origin(Method::GET, "/api/newsfeeds/", Some(&alice.token), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.header("ratelimit-remaining"), Some(remaining));
    }
    let refused = stack.origin(Method::GET, "/api/newsfeeds/", Some(&alice.token), None).await;
    assert_limited(&refused, 5, "the origin's own limit on a direct call");
}

#[tokio::test(flavor = "multi_thread")]
async fn switched_off_the_edge_counts_nothing() {
    let stack = spawn_stack_with(|_| {}, |edge| edge.rate_limits = false).await;
    let request = (Method::GET, "/api/accounts/login_status/".to_owned(), None);
    let replies = burst(&stack, 8, "127.0.0.1", &request, None).await;
    for reply in replies {
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.header("ratelimit-limit"), None);
    }
}

/// Where nothing overwrites `CF-Connecting-IP` the edge does not trust it: a client that writes a new
/// address into each request still shares one IP budget (every anonymous caller does), and the IP the
/// origin is told is not the forged one.
#[tokio::test(flavor = "multi_thread")]
async fn a_forged_cf_connecting_ip_buys_no_fresh_budget() {
    let stack = spawn_stack_with(|origin| origin.http.rate_limits = true, |edge| edge.rate_limits = true).await;
    let path = "/api/accounts/login_status/";
    let max = ratelimit::rule_for("GET", path).expect("a limited route").limits[0].max;
    let mut set = tokio::task::JoinSet::new();
    for n in 0..8 {
        set.spawn(Reply::receive(request_as(&stack, &format!("198.51.100.{n}"), Method::GET, path, None, None)));
    }
    let replies = set.join_all().await;
    let statuses: Vec<StatusCode> = replies.iter().map(|r| r.status).collect();
    let (refused, admitted): (Vec<&Reply>, Vec<&Reply>) =
        replies.iter().partition(|r| r.status == StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        (admitted.len(), refused.len()),
        (max as usize, 8 - max as usize),
        "{max} admitted, then the {}th refused although each claimed another IP: {statuses:?}",
        max + 1
    );
    assert_limited(refused[0], max, "forged addresses");
    for reply in admitted {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body["ip"], "unknown", "{}", reply.body);
    }
}
