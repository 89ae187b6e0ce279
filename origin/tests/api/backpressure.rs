//! Backpressure and batching in the fanout, through the API: posts slow down and are then refused while
//! the fanout is too far behind, and a burst that queued up is delivered in packed messages, each tweet
//! once, when a worker starts.

use std::time::{Duration, Instant};

use reqwest::{header::RETRY_AFTER, StatusCode};
use rookery_origin::{
    events::Event,
    ids::{created_at_of, IdGenerator},
    outbox,
    testing::{eventually, spawn_app_with, Account, TestApp},
    worker::Worker,
};
use rookery_shared::ids::{TweetId, UserId};
use serde_json::{json, Value};

async fn post_raw(app: &TestApp, author: &Account, content: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/api/tweets/", app.address))
        .bearer_auth(&author.token)
        .json(&json!({ "content": content }))
        .send()
        .await
        .expect("the origin answers")
}

async fn tweets_stored(app: &TestApp) -> i64 {
    let db = sqlx::MySqlPool::connect(&app.config.db.url).await.expect("the test database");
    let count = sqlx::query_scalar("SELECT COUNT(*) FROM tweets").fetch_one(&db).await.expect("a count");
    db.close().await;
    count
}

#[tokio::test]
async fn posting_waits_then_is_refused_while_the_fanout_is_behind_and_resumes_when_it_catches_up() {
    let _broker = crate::fanout::BROKER.read().await;
    // Nobody consumes, so every relayed message stays queued; two queued messages are the bound.
    let app = spawn_app_with(|c| {
        c.fanout.run_consumers = false;
        c.fanout.max_backlog = 2;
        c.http.rate_limits = false;
    })
    .await;
    let author = app.signup("author_bp").await;

    let mut accepted = 0;
    let refused = loop {
        assert!(accepted < 200, "no post was ever refused");
        let started = Instant::now();
        let response = post_raw(&app, &author, &format!("tweet {accepted}")).await;
        match response.status() {
            StatusCode::CREATED => accepted += 1,
            StatusCode::SERVICE_UNAVAILABLE => break (started.elapsed(), response),
            other => panic!("unexpected {other}"),
        }
        // Let the relay publish each post as its own message.
        tokio::time::sleep(Duration::from_millis(150)).await;
    };
    let (waited, response) = refused;
    assert!(waited >= Duration::from_millis(900), "refused after {waited:?}, without waiting for the fanout first");
    assert_eq!(response.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()), Some("1"));
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!(body, json!({"detail": "Too many tweets are waiting to be delivered, try again shortly."}));
    assert!(accepted >= 3, "refused after only {accepted} posts");
    assert_eq!(tweets_stored(&app).await, accepted, "a refused post stored nothing; every accepted one is stored");
    assert!(app.metrics().await.value("rookery_tweets_refused_total") >= 1.0);

    // A worker drains the queues; posting works again.
    let worker = Worker::build(app.config.clone()).await.expect("the worker builds");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(worker.run(async move {
        let _ = stopped.await;
    }));
    let resumed = eventually(Duration::from_secs(60), || async {
        post_raw(&app, &author, "after the worker caught up").await.status() == 201
    })
    .await;
    assert!(resumed, "posting never resumed after the fanout caught up");
    stop.send(()).expect("the worker is running");
    let finished = tokio::time::timeout(Duration::from_secs(20), running).await;
    assert!(matches!(finished, Ok(Ok(Ok(())))), "the worker did not stop cleanly: {finished:?}");
}

#[tokio::test]
async fn a_queued_burst_is_delivered_in_packed_messages_each_tweet_once() {
    let _broker = crate::fanout::BROKER.read().await;
    let app = spawn_app_with(|c| c.fanout.run_consumers = false).await;
    let (ann, bob, cat) = (app.signup("ann_pk").await, app.signup("bob_pk").await, app.signup("cat_pk").await);
    let reader = app.signup("reader_pk").await;
    for author in [&ann, &bob, &cat] {
        app.follow(&reader, author).await;
    }
    app.feed(&reader, "").await;
    // Thirty tweets and their events in one transaction, so the relay publishes them as one message.
    let db = sqlx::MySqlPool::connect(&app.config.db.url).await.expect("the test database");
    let ids = IdGenerator::new(15);
    let mut tx = db.begin().await.expect("a transaction");
    let mut posted = Vec::new();
    for i in 0..30 {
        let author = UserId([&ann, &bob, &cat][i % 3].id);
        let tweet = TweetId(ids.next());
        sqlx::query("INSERT INTO tweets (id, user_id, content, created_at) VALUES (?, ?, ?, ?)")
            .bind(tweet)
            .bind(author)
            .bind(format!("burst {i}"))
            .bind(created_at_of(tweet.0))
            .execute(&mut *tx)
            .await
            .expect("a tweet");
        outbox::store::enqueue(&mut tx, &ids, &Event::TweetCreated { tweet_id: tweet, author_id: author })
            .await
            .expect("its event");
        posted.push(tweet.0);
    }
    tx.commit().await.expect("commit");
    db.close().await;
    let worker = Worker::build(app.config.clone()).await.expect("the worker builds");
    let metrics = worker.state().metrics.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(worker.run(async move {
        let _ = stopped.await;
    }));
    assert!(
        eventually(Duration::from_secs(60), || async {
            metrics.fanout_deliveries.with_label_values(&["add"]).get() >= 30
        })
        .await,
        "the burst was never delivered"
    );
    let mut ids = app.collect_ids("/api/newsfeeds/", Some(&reader.token)).await;
    ids.sort_unstable();
    posted.sort_unstable();
    assert_eq!(ids, posted, "every tweet of the burst once");
    // Thirty tweets for one follower, planned together: one delivery message.
    assert_eq!(metrics.fanout_batches.with_label_values(&["add"]).get(), 1);
    assert_eq!(metrics.fanout_plans.with_label_values(&["pushed"]).get(), 30);
    stop.send(()).expect("the worker is running");
    let finished = tokio::time::timeout(Duration::from_secs(20), running).await;
    assert!(matches!(finished, Ok(Ok(Ok(())))), "the worker did not stop cleanly: {finished:?}");
}

#[tokio::test]
async fn posting_is_held_back_while_deliveries_lag_past_the_bound() {
    let _broker = crate::fanout::BROKER.read().await;
    // Any real delivery takes longer than a millisecond, so each one puts the fanout past this bound.
    let app = spawn_app_with(|c| {
        c.fanout.max_lag_ms = 1;
        // Retries here are many; the post limit is not what is tested.
        c.http.rate_limits = false;
    })
    .await;
    let author = app.signup("author_lag").await;
    let reader = app.signup("reader_lag").await;
    app.follow(&reader, &author).await;
    app.feed(&reader, "").await;
    assert_eq!(post_raw(&app, &author, "the first").await.status(), StatusCode::CREATED);
    assert!(
        eventually(Duration::from_secs(30), || async {
            app.metrics().await.value("rookery_fanout_delivery_lag_seconds_count") >= 1.0
        })
        .await,
        "the first tweet was never delivered"
    );
    let refused = eventually(Duration::from_secs(10), || async {
        post_raw(&app, &author, "held back").await.status() == StatusCode::SERVICE_UNAVAILABLE
    })
    .await;
    assert!(refused, "posting went on while the published lag was past the bound");
    // The published lag expires when nothing is delivered any more; posting resumes.
    assert!(
        eventually(Duration::from_secs(30), || async {
            post_raw(&app, &author, "later on").await.status() == StatusCode::CREATED
        })
        .await,
        "posting never resumed"
    );
    assert!(app.metrics().await.value("rookery_tweets_refused_total") >= 1.0);
}
