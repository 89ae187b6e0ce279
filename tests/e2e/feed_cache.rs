//! Newsfeed pages cached at the edge: hits answered without the origin, read-your-writes for every
//! kind of write, followers' staleness within `FEED_CACHE_SECS`, and no page ever reaching another
//! user or a dead token.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use rookery_origin::testing::{Account, Reply};
use rookery_shared::{
    keys::KeyRing,
    token::{self, Claims},
};
use serde_json::{json, Value};

use crate::harness::{feed_ids, now_secs, spawn_stack_with, Stack};

const FEED_ROUTE: &str = "/api/newsfeeds";

/// A stack whose feed pages live `secs` seconds at the edge (long enough that expiry never decides a
/// test's outcome unless the test is about expiry).
async fn stack(feed_cache_secs: u32, session_cache_secs: u32) -> Stack {
    spawn_stack_with(
        |_| {},
        |vars| {
            vars.feed_cache_secs = feed_cache_secs;
            vars.session_cache_secs = session_cache_secs;
        },
    )
    .await
}

fn x_cache(reply: &Reply) -> &str {
    reply.header("x-cache").unwrap_or("none")
}

async fn origin_feed_reads(stack: &Stack) -> u64 {
    stack.origin.requests_for("GET", FEED_ROUTE).await
}

/// The feed item for `tweet_id`.
fn item(page: &Value, tweet_id: u64) -> &Value {
    page["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|item| item["id"] == tweet_id)
        .unwrap_or_else(|| panic!("tweet {tweet_id} in {page}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repeated_read_is_answered_by_the_edge_without_the_origin() {
    let stack = stack(30, 30).await;
    let alice = stack.signup("cache_alice").await;
    let tweet = stack.post_tweet(&alice, "hello from the edge").await;

    let first = stack.feed(&alice, "").await;
    assert_eq!(x_cache(&first), "MISS");
    assert_eq!(feed_ids(&first.body), vec![tweet]);
    let reads = origin_feed_reads(&stack).await;
    assert_eq!(reads, 1);

    for _ in 0..3 {
        let again = stack.feed(&alice, "").await;
        assert_eq!(x_cache(&again), "HIT");
        assert_eq!(again.body, first.body);
        assert_eq!(again.header("content-type"), Some("application/json"));
        assert!(again.header("x-request-id").is_some());
    }
    assert_eq!(origin_feed_reads(&stack).await, reads, "hits never reach the origin");

    // Another query is another page.
    let older = stack.feed(&alice, "created_at__lt=2000-01-01T00:00:00Z").await;
    assert_eq!(x_cache(&older), "MISS");
    assert_eq!(feed_ids(&older.body), Vec::<u64>::new());
    assert_eq!(x_cache(&stack.feed(&alice, "created_at__lt=2000-01-01T00:00:00Z").await), "HIT");
    assert_eq!(origin_feed_reads(&stack).await, reads + 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_readers_posts_deletes_follows_and_unfollows_show_on_the_next_read() {
    let stack = stack(30, 30).await;
    let alice = stack.signup("ryw_alice").await;
    let bob = stack.signup("ryw_bobby").await;
    let bobs = stack.post_tweet(&bob, "bob was here first").await;

    // Post.
    stack.feed(&alice, "").await;
    let own = stack.post_tweet(&alice, "my own new tweet").await;
    let page = stack.feed(&alice, "").await;
    assert_eq!(x_cache(&page), "MISS", "a post moves the feed on");
    assert_eq!(feed_ids(&page.body), vec![own]);

    // Follow: bob's tweet is merged in.
    assert_eq!(x_cache(&stack.feed(&alice, "").await), "HIT");
    stack.follow(&alice, &bob).await;
    let page = stack.feed(&alice, "").await;
    assert_eq!(feed_ids(&page.body), vec![own, bobs], "follow");

    // Delete: the tweet disappears.
    assert_eq!(x_cache(&stack.feed(&alice, "").await), "HIT");
    let deleted = stack.edge(Method::DELETE, &format!("/api/tweets/{own}/"), Some(&alice.token), None).await;
    assert_eq!(deleted.status, StatusCode::OK, "delete: {}", deleted.body);
    let page = stack.feed(&alice, "").await;
    assert_eq!(feed_ids(&page.body), vec![bobs], "delete");

    // Unfollow: bob's tweets leave.
    assert_eq!(x_cache(&stack.feed(&alice, "").await), "HIT");
    let unfollow = stack
        .edge(Method::POST, &format!("/api/friendships/{}/unfollow/", bob.id), Some(&alice.token), Some(json!({})))
        .await;
    assert_eq!(unfollow.status, StatusCode::OK, "unfollow: {}", unfollow.body);
    let page = stack.feed(&alice, "").await;
    assert_eq!(feed_ids(&page.body), Vec::<u64>::new(), "unfollow");

    // A write the origin refused changes nothing, and the page stays cached.
    let refused = stack.edge(Method::POST, "/api/tweets/", Some(&alice.token), Some(json!({"content": "x"}))).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(x_cache(&stack.feed(&alice, "").await), "HIT");
}

/// Likes and comments arrived in the origin after the feed cache; until an origin serves them (404),
/// there is nothing to read back, and the test says so instead of failing.
#[tokio::test(flavor = "multi_thread")]
async fn the_readers_likes_and_comments_show_on_the_next_read() {
    let stack = stack(30, 30).await;
    let alice = stack.signup("ryw_liker").await;
    let bob = stack.signup("ryw_author").await;
    let bobs = stack.post_tweet(&bob, "like and comment me").await;
    stack.follow(&alice, &bob).await;
    stack.feed(&alice, "").await;

    // Like: has_liked and the count change for the liker.
    assert_eq!(x_cache(&stack.feed(&alice, "").await), "HIT");
    let like = stack
        .edge(
            Method::POST,
            "/api/likes/",
            Some(&alice.token),
            Some(json!({"content_type": "tweet", "object_id": bobs})),
        )
        .await;
    if like.status == StatusCode::NOT_FOUND {
        eprintln!("skipped: this origin does not serve /api/likes/ yet");
        return;
    }
    assert_eq!(like.status, StatusCode::CREATED, "like: {}", like.body);
    let page = stack.feed(&alice, "").await;
    assert_eq!(item(&page.body, bobs)["tweet"]["has_liked"], true, "like");
    assert_eq!(item(&page.body, bobs)["tweet"]["likes_count"], 1);

    // Cancel the like.
    assert_eq!(x_cache(&stack.feed(&alice, "").await), "HIT");
    let cancel = stack
        .edge(
            Method::POST,
            "/api/likes/cancel/",
            Some(&alice.token),
            Some(json!({"content_type": "tweet", "object_id": bobs})),
        )
        .await;
    assert_eq!(cancel.status, StatusCode::OK, "cancel: {}", cancel.body);
    let page = stack.feed(&alice, "").await;
    assert_eq!(item(&page.body, bobs)["tweet"]["has_liked"], false, "cancel");
    assert_eq!(item(&page.body, bobs)["tweet"]["likes_count"], 0);

    // Comment: the count changes.
    assert_eq!(x_cache(&stack.feed(&alice, "").await), "HIT");
    let comment = stack
        .edge(
            Method::POST,
            "/api/comments/",
            Some(&alice.token),
            Some(json!({"tweet_id": bobs, "content": "nice one"})),
        )
        .await;
    if comment.status == StatusCode::NOT_FOUND {
        eprintln!("skipped: this origin does not serve /api/comments/ yet");
        return;
    }
    assert_eq!(comment.status, StatusCode::CREATED, "comment: {}", comment.body);
    let page = stack.feed(&alice, "").await;
    assert_eq!(item(&page.body, bobs)["tweet"]["comments_count"], 1, "comment");
}

#[tokio::test(flavor = "multi_thread")]
async fn followers_see_a_new_tweet_within_the_bound() {
    const FEED_CACHE_SECS: u32 = 3;
    // The fanout to a follower's timeline is asynchronous; on this machine it takes well under a
    // second, so the bound tested is the cache's plus that allowance.
    const FANOUT_ALLOWANCE: Duration = Duration::from_secs(2);
    let stack = stack(FEED_CACHE_SECS, 30).await;
    let author = stack.signup("fresh_author").await;
    let reader = stack.signup("fresh_reader").await;
    stack.follow(&reader, &author).await;

    let before = stack.feed(&reader, "").await;
    assert_eq!(feed_ids(&before.body), Vec::<u64>::new());
    assert_eq!(x_cache(&stack.feed(&reader, "").await), "HIT");

    let posted = Instant::now();
    let tweet = stack.post_tweet(&author, "news for my followers").await;
    let bound = Duration::from_secs(FEED_CACHE_SECS.into()) + FANOUT_ALLOWANCE;
    let mut stale_hits = 0;
    loop {
        let page = stack.feed(&reader, "").await;
        if feed_ids(&page.body) == vec![tweet] {
            break;
        }
        if x_cache(&page) == "HIT" {
            stale_hits += 1;
        }
        assert!(posted.elapsed() <= bound, "the follower still did not see the tweet after {:?}", posted.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen_after = posted.elapsed();
    eprintln!("follower saw the tweet after {seen_after:?} ({stale_hits} stale hits first)");
    assert!(stale_hits > 0, "the page was cached when the tweet was posted");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_is_never_served_to_another_user_or_session() {
    let stack = stack(30, 30).await;
    let alice = stack.signup("iso_alice").await;
    let bob = stack.signup("iso_bobby").await;
    let alices = stack.post_tweet(&alice, "alice's private feed").await;
    let bobs = stack.post_tweet(&bob, "bob's private feed").await;

    assert_eq!(feed_ids(&stack.feed(&alice, "").await.body), vec![alices]);
    assert_eq!(x_cache(&stack.feed(&alice, "").await), "HIT");
    let bob_page = stack.feed(&bob, "").await;
    assert_eq!(x_cache(&bob_page), "MISS");
    assert_eq!(feed_ids(&bob_page.body), vec![bobs]);

    // A second login of alice has its own session and its own pages.
    let login = stack
        .edge(
            Method::POST,
            "/api/accounts/login/",
            None,
            Some(json!({"username": alice.username, "password": "correct horse"})),
        )
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let second = Account { token: login.body["token"].as_str().expect("a token").to_owned(), ..alice.clone() };
    let page = stack.feed(&second, "").await;
    assert_eq!(x_cache(&page), "MISS");
    assert_eq!(feed_ids(&page.body), vec![alices]);

    // Anonymous reads are refused by the origin and never cached.
    for _ in 0..2 {
        let anonymous = stack.edge(Method::GET, "/api/newsfeeds/", None, None).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
        assert_eq!(anonymous.header("x-cache"), None);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn logged_out_expired_and_forged_tokens_never_read_the_cache() {
    // Session answers are not cached, so a logout made directly at the origin counts at once too.
    let stack = stack(30, 0).await;
    let alice = stack.signup("dead_alice").await;
    stack.post_tweet(&alice, "cached before logout").await;
    stack.feed(&alice, "").await;
    assert_eq!(x_cache(&stack.feed(&alice, "").await), "HIT");
    let claims = token::verify(&stack.origin.config.auth.token_keys, &alice.token, now_secs()).expect("a valid token");

    // Same user and session, but expired; and the same claims under another secret.
    let expired = token::sign(&stack.origin.config.auth.token_keys, &Claims { expires_at: now_secs() - 1, ..claims });
    let forged = token::sign(&KeyRing::single("not-the-secret"), &claims);
    for (what, bad) in [("expired", expired), ("forged", forged)] {
        let reply = stack.edge(Method::GET, "/api/newsfeeds/", Some(&bad), None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{what}: {}", reply.body);
        assert_eq!(reply.header("x-cache"), None, "{what}");
    }

    // Logout through the edge.
    let logout = stack.edge(Method::POST, "/api/accounts/logout/", Some(&alice.token), Some(json!({}))).await;
    assert_eq!(logout.status, StatusCode::OK);
    let after = stack.edge(Method::GET, "/api/newsfeeds/", Some(&alice.token), None).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{}", after.body);
    assert_eq!(after.header("x-cache"), None);

    // Logout directly at the origin.
    let bob = stack.signup("dead_bobby").await;
    stack.feed(&bob, "").await;
    assert_eq!(x_cache(&stack.feed(&bob, "").await), "HIT");
    let logout = stack.origin(Method::POST, "/api/accounts/logout/", Some(&bob.token), Some(json!({}))).await;
    assert_eq!(logout.status, StatusCode::OK);
    let after = stack.edge(Method::GET, "/api/newsfeeds/", Some(&bob.token), None).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{}", after.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn anonymous_public_reads_are_shared_briefly_and_signed_in_reads_never_are() {
    const PUBLIC_CACHE_SECS: u32 = 3;
    let stack = spawn_stack_with(
        |_| {},
        |vars| {
            vars.public_cache_secs = PUBLIC_CACHE_SECS;
            vars.session_cache_secs = 30;
        },
    )
    .await;
    let alice = stack.signup("public_alice").await;
    let tweet = stack.post_tweet(&alice, "read me without a token").await;
    let detail = format!("/api/tweets/{tweet}/");
    let detail_reads = || stack.origin.requests_for("GET", "/api/tweets/{id}");

    let first = stack.edge(Method::GET, &detail, None, None).await;
    assert_eq!((first.status, x_cache(&first)), (StatusCode::OK, "MISS"));
    assert_eq!(first.body["has_liked"], false);
    let again = stack.edge(Method::GET, &detail, None, None).await;
    assert_eq!((again.status, x_cache(&again)), (StatusCode::OK, "HIT"));
    assert_eq!(again.body, first.body);
    assert_eq!(detail_reads().await, 1, "the hit never reached the origin");

    let list = format!("/api/tweets/?user_id={}", alice.id);
    assert_eq!(x_cache(&stack.edge(Method::GET, &list, None, None).await), "MISS");
    assert_eq!(x_cache(&stack.edge(Method::GET, &list, None, None).await), "HIT");

    // Signed in, the origin answers every time.
    for _ in 0..2 {
        let own = stack.edge(Method::GET, &detail, Some(&alice.token), None).await;
        assert_eq!(own.status, StatusCode::OK);
        assert_eq!(own.header("x-cache"), None);
    }
    assert_eq!(detail_reads().await, 3);

    // The author deletes it: gone for her at once, and for anonymous readers within the bound.
    let deleted = stack.edge(Method::DELETE, &detail, Some(&alice.token), None).await;
    assert_eq!(deleted.status, StatusCode::OK);
    let deleted_at = Instant::now();
    let own = stack.edge(Method::GET, &detail, Some(&alice.token), None).await;
    assert_eq!(own.status, StatusCode::NOT_FOUND);
    loop {
        let anonymous = stack.edge(Method::GET, &detail, None, None).await;
        if anonymous.status == StatusCode::NOT_FOUND {
            assert_eq!(x_cache(&anonymous), "MISS", "a 404 is never served from the cache");
            break;
        }
        assert!(
            deleted_at.elapsed() <= Duration::from_secs(u64::from(PUBLIC_CACHE_SECS) + 1),
            "anonymous readers still see the deleted tweet after {:?}",
            deleted_at.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Not stored: the next anonymous read asks the origin again.
    let after = stack.edge(Method::GET, &detail, None, None).await;
    assert_eq!((after.status, x_cache(&after)), (StatusCode::NOT_FOUND, "MISS"));
}
