use std::{collections::HashSet, time::Duration};

use reqwest::{Method, StatusCode};
use rookery_origin::testing::{eventually, spawn_app, spawn_app_with, Account, TestApp};
use serde_json::{json, Value};

fn ids(page: &Value) -> Vec<u64> {
    page["results"].as_array().expect("results").iter().map(|i| i["id"].as_u64().expect("id")).collect()
}

async fn feed_ids(app: &TestApp, reader: &Account) -> Vec<u64> {
    app.collect_ids("/api/newsfeeds/", Some(&reader.token)).await
}

async fn redis(app: &TestApp) -> redis::aio::MultiplexedConnection {
    redis::Client::open(app.config.redis.url.as_str())
        .expect("redis url")
        .get_multiplexed_async_connection()
        .await
        .expect("redis")
}

/// Deletes every Redis key of this test (its own prefix only).
async fn flush_redis(app: &TestApp) {
    let mut conn = redis(app).await;
    let keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{}*", app.config.redis.prefix)).query_async(&mut conn).await.expect("keys");
    if !keys.is_empty() {
        let _: () = redis::cmd("DEL").arg(keys).query_async(&mut conn).await.expect("del");
    }
}

#[tokio::test]
async fn feed_requires_authentication() {
    let app = spawn_app().await;
    let (status, body) = app.get("/api/newsfeeds/", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, json!({"detail": "Authentication credentials were not provided."}));
}

#[tokio::test]
async fn author_sees_own_tweet_at_once_and_items_carry_the_tweet() {
    let app = spawn_app().await;
    let alice = app.signup("alice_n").await;
    // Warm the timeline first, so the new tweet must come from the write path, not a rebuild.
    assert!(ids(&app.feed(&alice, "").await).is_empty());
    let tweet = app.post_tweet(&alice, "my very own tweet").await;
    let page = app.feed(&alice, "").await;
    let item = &page["results"][0];
    assert_eq!(item["id"], tweet["id"]);
    assert_eq!(item["created_at"], tweet["created_at"]);
    assert_eq!(item["tweet"], tweet);
}

#[tokio::test]
async fn followers_receive_tweets_through_the_fanout() {
    let app = spawn_app().await;
    let author = app.signup("author_n").await;
    let mut followers = Vec::new();
    for i in 0..5 {
        let f = app.signup(&format!("reader_n{i}")).await;
        app.follow(&f, &author).await;
        app.feed(&f, "").await; // their home timelines now exist in Redis
        followers.push(f);
    }
    let id = app.post_tweet(&author, "news for my followers").await["id"].as_u64().expect("id");
    for f in &followers {
        let delivered =
            eventually(Duration::from_secs(10), || async { ids(&app.feed(f, "").await).contains(&id) }).await;
        assert!(delivered, "{} never got the tweet", f.username);
    }
    // And it was pushed, not rebuilt: the follower's Redis timeline holds it.
    let mut conn = redis(&app).await;
    let key = format!("{}tl:h:{{{}}}", app.config.redis.prefix, followers[0].id);
    let score: Option<f64> = redis::cmd("ZSCORE").arg(&key).arg(id).query_async(&mut conn).await.expect("zscore");
    assert!(score.is_some());
}

#[tokio::test]
async fn follow_backfills_and_unfollow_removes() {
    let app = spawn_app().await;
    let reader = app.signup("reader_n").await;
    let writer = app.signup("writer_n").await;
    let own = app.post_tweet(&reader, "reader's own tweet").await["id"].as_u64().expect("id");
    let mut earlier = Vec::new();
    for i in 0..3 {
        earlier
            .push(app.post_tweet(&writer, &format!("written before the follow {i}")).await["id"].as_u64().expect("id"));
    }
    assert_eq!(feed_ids(&app, &reader).await, vec![own]);

    app.follow(&reader, &writer).await;
    let mut expected: Vec<u64> = earlier.iter().rev().copied().collect();
    expected.push(own);
    assert_eq!(feed_ids(&app, &reader).await, expected, "backfilled at once");

    let (status, _) =
        app.post(&format!("/api/friendships/{}/unfollow/", writer.id), Some(&reader.token), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(feed_ids(&app, &reader).await, vec![own], "removed at once");
}

#[tokio::test]
async fn deleted_tweets_leave_every_feed() {
    let app = spawn_app().await;
    let author = app.signup("author_n").await;
    let reader = app.signup("reader_n").await;
    app.follow(&reader, &author).await;
    app.feed(&reader, "").await;
    let id = app.post_tweet(&author, "a regrettable tweet").await["id"].as_u64().expect("id");
    assert!(eventually(Duration::from_secs(10), || async { feed_ids(&app, &reader).await.contains(&id) }).await);
    let (status, _) = app.request(Method::DELETE, &format!("/api/tweets/{id}/"), Some(&author.token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!feed_ids(&app, &reader).await.contains(&id), "gone from the page at once");
    assert!(!feed_ids(&app, &author).await.contains(&id));
    // And the fanout takes it out of the follower's Redis timeline.
    let key = format!("{}tl:h:{{{}}}", app.config.redis.prefix, reader.id);
    let retracted = eventually(Duration::from_secs(10), || async {
        let mut conn = redis(&app).await;
        let score: Option<f64> = redis::cmd("ZSCORE").arg(&key).arg(id).query_async(&mut conn).await.expect("zscore");
        score.is_none()
    })
    .await;
    assert!(retracted);
}

#[tokio::test]
async fn feed_pages_through_45_items_with_every_parameter() {
    let app = spawn_app().await;
    let reader = app.signup("reader_n").await;
    let writers = [app.signup("writer_a").await, app.signup("writer_b").await];
    for w in &writers {
        app.follow(&reader, w).await;
    }
    app.feed(&reader, "").await;
    let mut posted = Vec::new();
    for i in 0..45 {
        let author = if i % 3 == 0 { &reader } else { &writers[i % 2] };
        posted.push(app.post_tweet(author, &format!("feed item number {i}")).await);
    }
    let newest_first: Vec<u64> = posted.iter().rev().map(|t| t["id"].as_u64().expect("id")).collect();
    assert!(
        eventually(Duration::from_secs(10), || async { feed_ids(&app, &reader).await == newest_first }).await,
        "every item once, newest first"
    );

    let pivot = posted[20]["created_at"].as_str().expect("created_at");
    let newer = app.feed(&reader, &format!("created_at__gt={pivot}")).await;
    let expected: Vec<u64> = posted
        .iter()
        .rev()
        .filter(|t| t["created_at"].as_str() > Some(pivot))
        .map(|t| t["id"].as_u64().expect("id"))
        .collect();
    assert_eq!(ids(&newer), expected);
    assert_eq!(newer["has_next_page"], false);
    let older = app.feed(&reader, &format!("created_at__lt={pivot}")).await;
    let expected: Vec<u64> = posted
        .iter()
        .rev()
        .filter(|t| t["created_at"].as_str() < Some(pivot))
        .take(20)
        .map(|t| t["id"].as_u64().expect("id"))
        .collect();
    assert_eq!(ids(&older), expected);
}

#[tokio::test]
async fn pages_beyond_the_redis_cap_come_from_mysql() {
    let app = spawn_app_with(|c| c.fanout.timeline_cap = 40).await;
    let reader = app.signup("reader_n").await;
    let mut posted = Vec::new();
    for i in 0..70 {
        posted.push(app.post_tweet(&reader, &format!("a long history {i}")).await["id"].as_u64().expect("id"));
    }
    posted.reverse();
    assert_eq!(feed_ids(&app, &reader).await, posted);
    assert_eq!(app.collect_ids(&format!("/api/tweets/?user_id={}", reader.id), None).await, posted);
}

#[tokio::test]
async fn feeds_are_identical_after_redis_is_flushed() {
    let app = spawn_app().await;
    let reader = app.signup("reader_n").await;
    let writer = app.signup("writer_n").await;
    app.follow(&reader, &writer).await;
    app.feed(&reader, "").await;
    for i in 0..30 {
        let author = if i % 2 == 0 { &reader } else { &writer };
        app.post_tweet(author, &format!("before the flush {i}")).await;
    }
    assert!(eventually(Duration::from_secs(10), || async { feed_ids(&app, &reader).await.len() == 30 }).await);
    let before = feed_ids(&app, &reader).await;
    assert_eq!(before.len(), 30);
    flush_redis(&app).await;
    assert_eq!(feed_ids(&app, &reader).await, before, "rebuilt from MySQL");
    assert_eq!(feed_ids(&app, &reader).await, before, "and served from the rebuilt timeline");
    let text = app.metrics_text().await;
    assert!(text.contains(r#"rookery_timeline_reads_total{kind="home",source="rebuild"}"#), "{text}");
}

#[tokio::test]
async fn high_follower_authors_are_pulled_at_read_time() {
    let app = spawn_app_with(|c| c.fanout.hybrid_threshold = 1).await;
    let star = app.signup("star_n1").await;
    let fans = [app.signup("fan_n_01").await, app.signup("fan_n_02").await];
    for fan in &fans {
        app.follow(fan, &star).await;
        app.feed(fan, "").await;
    }
    let id = app.post_tweet(&star, "a tweet to millions").await["id"].as_u64().expect("id");
    for fan in &fans {
        assert_eq!(ids(&app.feed(fan, "").await), vec![id], "merged at read time");
    }
    // Give the fanout a chance to (wrongly) push, then check that it did not.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let mut conn = redis(&app).await;
    let key = format!("{}tl:h:{{{}}}", app.config.redis.prefix, fans[0].id);
    let score: Option<f64> = redis::cmd("ZSCORE").arg(&key).arg(id).query_async(&mut conn).await.expect("zscore");
    assert!(score.is_none(), "not pushed");
    let unique: HashSet<u64> = ids(&app.feed(&fans[0], "").await).into_iter().collect();
    assert_eq!(unique.len(), 1);
}
