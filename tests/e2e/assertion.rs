//! The edge assertion is bound to the query string and the body: the origin honours it for requests
//! with either, so they keep working through the edge exactly as before. The origin's own rate limits
//! make that visible: it skips them only for requests whose assertion verifies (signature and body
//! digest), so a burst it would refuse from a direct caller passes when it comes through the edge.

use std::time::{Duration, Instant};

use reqwest::{multipart, Method, StatusCode};
use rookery_origin::testing::{Account, Reply};
use serde_json::json;

use crate::harness::{feed_ids, spawn_stack_with, Stack};

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0A, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00,
    0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// Limits at the origin only; no edge cache, so every read reaches the origin.
async fn stack() -> Stack {
    spawn_stack_with(
        |origin| origin.http.rate_limits = true,
        |edge| {
            edge.rate_limits = false;
            edge.feed_cache_secs = 0;
            edge.session_cache_secs = 300;
        },
    )
    .await
}

/// The requests sent at once; the answers in no particular order.
async fn all_at_once(requests: Vec<reqwest::RequestBuilder>) -> Vec<Reply> {
    let mut set = tokio::task::JoinSet::new();
    for request in requests {
        set.spawn(Reply::receive(request));
    }
    set.join_all().await
}

fn photo_tweet(stack: &Stack, author: &Account, n: u32) -> reqwest::RequestBuilder {
    let part = multipart::Part::bytes(PNG.to_vec()).file_name("a.png").mime_str("image/png").expect("a part");
    let form = multipart::Form::new().text("content", format!("photo tweet {n}")).part("files", part);
    stack.client.post(format!("{}/api/tweets/", stack.edge.url)).bearer_auth(&author.token).multipart(form)
}

#[tokio::test(flavor = "multi_thread")]
async fn bodies_reach_the_origin_under_a_valid_assertion() {
    let stack = stack().await;
    let alice = stack.signup("bound_alice").await;

    // Tweets are limited to 1 a second and 5 a minute per user, logins to 3 a second per IP: the
    // origin would refuse most of these if it did not take the edge's assertion, which names each
    // body's digest.
    let photos = all_at_once((0..3).map(|n| photo_tweet(&stack, &alice, n)).collect()).await;
    for reply in &photos {
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let urls = reply.body["photo_urls"].as_array().expect("photo_urls");
        assert_eq!(urls.len(), 1, "{}", reply.body);
    }
    let tweets = (0..4).map(|n| {
        stack
            .client
            .post(format!("{}/api/tweets/", stack.edge.url))
            .bearer_auth(&alice.token)
            .json(&json!({"content": format!("a json tweet {n}")}))
    });
    let login = json!({"username": alice.username, "password": "correct horse"});
    let logins = (0..5).map(|_| stack.client.post(format!("{}/api/accounts/login/", stack.edge.url)).json(&login));
    let replies = all_at_once(tweets.chain(logins).collect()).await;
    let statuses: Vec<StatusCode> = replies.iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 4, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 5, "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn queries_reach_the_origin_under_a_valid_assertion() {
    let stack = stack().await;
    let alice = stack.signup("query_alice").await;

    // The IP in login_status is the edge's word (here "unknown"); the origin would report the peer
    // it saw if it ignored an assertion signed without this query.
    let reply = stack.edge(Method::GET, "/api/accounts/login_status/?from=e2e&x=a%20b", None, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["ip"], "unknown", "{}", reply.body);

    let mut ids = Vec::new();
    for n in 0..21 {
        ids.push(stack.post_tweet(&alice, &format!("tweet number {n}")).await);
    }
    ids.reverse();

    // A user's tweets, a page of 20 and then the rest by cursor.
    let list = format!("/api/tweets/?user_id={}", alice.id);
    let first = stack.edge(Method::GET, &list, Some(&alice.token), None).await;
    assert_eq!(feed_ids(&first.body), ids[..20], "{}", first.body);
    let cursor = first.body["next_cursor"].as_str().expect("a cursor");
    let rest = stack.edge(Method::GET, &format!("{list}&cursor={cursor}"), Some(&alice.token), None).await;
    assert_eq!(feed_ids(&rest.body), ids[20..], "{}", rest.body);
    assert_eq!(rest.body["has_next_page"], false);

    // The author's own feed gets every tweet; wait for the last one.
    let deadline = Instant::now() + Duration::from_secs(30);
    let first = loop {
        let page = stack.feed(&alice, "").await;
        if feed_ids(&page.body).first() == ids.first() || Instant::now() > deadline {
            break page;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(feed_ids(&first.body), ids[..20], "{}", first.body);
    let cursor = first.body["next_cursor"].as_str().expect("a cursor");

    // Newsfeed reads are limited to 5 a second per user at the origin: six at once with a cursor all
    // pass, so each one's assertion verified with its query.
    let url = format!("{}/api/newsfeeds/?cursor={cursor}", stack.edge.url);
    let reads = (0..6).map(|_| stack.client.get(&url).bearer_auth(&alice.token));
    for page in all_at_once(reads.collect()).await {
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert_eq!(feed_ids(&page.body), ids[20..], "{}", page.body);
    }
}
