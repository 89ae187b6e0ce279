//! The fanout around its processes: the broker going away, a separate worker, teardown, and an unfollow
//! racing an in-flight delivery.

use super::*;

/// Restarts RabbitMQ's application when dropped, so a failing test never leaves the broker stopped.
struct BrokerStopped;

impl BrokerStopped {
    fn stop() -> Self {
        rabbitmqctl("stop_app");
        Self
    }
}

impl Drop for BrokerStopped {
    fn drop(&mut self) {
        rabbitmqctl("start_app");
    }
}

fn rabbitmqctl(command: &str) {
    let status = Command::new("rabbitmqctl").arg(command).output().map(|out| out.status);
    assert!(matches!(status, Ok(s) if s.success()), "rabbitmqctl {command} failed: {status:?}");
}

#[tokio::test]
async fn events_written_while_rabbitmq_is_down_are_delivered_once_it_returns() {
    let _broker = BROKER.write().await;
    let f = fanout_app(|_| {}).await;
    let author = f.user("author").await;
    let fans = [f.user("ann").await, f.user("bob").await];
    for fan in fans {
        f.follow(fan, author).await;
        f.open_home(fan).await;
    }
    // One tweet through first: the origin is connected and consuming.
    let first = f.tweet(author).await;
    assert!(
        eventually(PATIENCE, || async { f.home_has(fans[0], first).await && f.home_has(fans[1], first).await }).await,
        "not delivering before the outage"
    );

    let stopped = BrokerStopped::stop();
    assert!(
        eventually(PATIENCE, || async { f.app.admin_get("/readyz").await.1["rabbitmq"] == "down" }).await,
        "the origin never noticed the broker stopped"
    );
    let mut tweets = vec![first];
    for _ in 0..5 {
        tweets.push(f.tweet(author).await);
    }
    // Nothing can leave the outbox now; the relay reports the backlog.
    assert!(
        eventually(PATIENCE, || async { f.metric("rookery_outbox_backlog").await == 5.0 }).await,
        "backlog gauge never showed the 5 rows"
    );
    assert_eq!(f.outbox_rows().await, 5);
    for fan in fans {
        assert_eq!(f.home(fan).await.map(|m| m.len()), Some(2), "only the marker and the first tweet");
    }

    drop(stopped);
    let expected: BTreeSet<String> = tweets.iter().map(|t| t.0.to_string()).chain(["0".to_owned()]).collect();
    for fan in fans {
        assert!(
            eventually(PATIENCE, || async { f.home(fan).await.as_ref() == Some(&expected) }).await,
            "not every tweet arrived after the restart"
        );
    }
    assert_eq!(f.outbox_rows().await, 0);
    f.assert_drained().await;
}

#[tokio::test]
async fn origin_worker_runs_the_fanout_alone_and_stops_cleanly() {
    let _broker = BROKER.read().await;
    // The server relays but does not consume; a separate worker does.
    let f = fanout_app(|c| c.fanout.run_consumers = false).await;
    let author = f.user("author").await;
    let ann = f.user("ann").await;
    f.follow(ann, author).await;
    f.open_home(ann).await;
    let tweet = f.tweet(author).await;
    // Relayed by the server, but nobody plans it yet.
    let channel = amqp_channel(&f.app.config).await;
    assert!(
        eventually(PATIENCE, || async {
            topology::ready_messages(&channel, &f.names.plan).await.expect("the plan queue") == 1
        })
        .await
    );
    assert!(!f.home_has(ann, tweet).await);

    let worker = Worker::build(f.app.config.clone()).await.expect("the worker builds");
    let metrics = worker.state().metrics.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(worker.run(async move {
        let _ = stopped.await;
    }));
    assert!(eventually(PATIENCE, || async { f.home_has(ann, tweet).await }).await, "the worker never delivered");
    assert_eq!(metrics.fanout_plans.with_label_values(&["pushed"]).get(), 1);

    stop.send(()).expect("the worker is running");
    let finished = tokio::time::timeout(Duration::from_secs(10), running).await;
    assert!(matches!(finished, Ok(Ok(Ok(())))), "the worker did not stop cleanly: {finished:?}");
    f.assert_drained().await;
}

#[tokio::test]
async fn teardown_is_not_blocked_by_a_transaction_left_open() {
    let _broker = BROKER.read().await;
    let f = fanout_app(|_| {}).await;
    // Like the relay caught mid-round when its origin is stopped: an open transaction holding locks.
    let mut tx = f.db.begin().await.expect("a transaction");
    outbox::store::claim(&mut tx, 10).await.expect("a claim");
    let config = f.app.config.clone();
    let Fanout { app, .. } = f;
    let dropped = std::thread::spawn(move || drop(app));
    assert!(
        eventually(PATIENCE, || async { dropped.is_finished() }).await,
        "dropping the database waited on the open transaction"
    );
    dropped.join().expect("the teardown did not panic");
    assert!(tx.rollback().await.is_err(), "the connection was ended");
    let server = MySqlPool::connect(&config.db.server_url().expect("a server URL")).await.expect("the server");
    let left: Option<String> =
        sqlx::query_scalar("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?")
            .bind(config.db.name().expect("a name"))
            .fetch_optional(&server)
            .await
            .expect("a query");
    assert_eq!(left, None);
}

#[tokio::test]
async fn a_delivery_planned_before_an_unfollow_does_not_bring_the_tweet_back() {
    let _broker = BROKER.read().await;
    let f = fanout_app(|_| {}).await;
    let author = f.app.signup("unf_author").await;
    let reader = f.app.signup("unf_reader").await;
    f.app.follow(&reader, &author).await;
    f.app.feed(&reader, "").await;
    // The tweet exists but its event is not in the outbox: the batch below stands for the delivery that
    // was planned while the reader still followed the author, and arrives after the unfollow.
    let tweet = TweetId(f.ids.next());
    sqlx::query("INSERT INTO tweets (id, user_id, content, created_at) VALUES (?, ?, 'in flight', ?)")
        .bind(tweet)
        .bind(author.id)
        .bind(created_at_of(tweet.0))
        .execute(&f.db)
        .await
        .expect("a tweet");
    let (status, body) = f
        .app
        .post(&format!("/api/friendships/{}/unfollow/", author.id), Some(&reader.token), serde_json::json!({}))
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");

    let in_flight = DeliveryBatch {
        tweet_id: tweet,
        author_id: Some(UserId(author.id)),
        action: Action::Add,
        followers: vec![UserId(reader.id)],
    };
    let channel = amqp_channel(&f.app.config).await;
    publish(&channel, &f.names.deliver, &serde_json::to_vec(&in_flight).expect("json")).await;
    assert!(
        eventually(PATIENCE, || async {
            f.metric(r#"rookery_fanout_delivery_batches_total{action="add"}"#).await == 1.0
        })
        .await,
        "the batch was applied"
    );
    let home = f.home(UserId(reader.id)).await.expect("the reader's home timeline");
    assert!(!home.contains(&tweet.0.to_string()), "the unfollowed author's tweet came back: {home:?}");
    assert!(f.app.collect_ids("/api/newsfeeds/", Some(&reader.token)).await.is_empty());

    // Following again lifts the note: the next delivery of the author's tweets reaches the reader.
    f.app.follow(&reader, &author).await;
    let next = TweetId(f.ids.next());
    sqlx::query("INSERT INTO tweets (id, user_id, content, created_at) VALUES (?, ?, 'after refollowing', ?)")
        .bind(next)
        .bind(author.id)
        .bind(created_at_of(next.0))
        .execute(&f.db)
        .await
        .expect("a tweet");
    let delivery = DeliveryBatch {
        tweet_id: next,
        author_id: Some(UserId(author.id)),
        action: Action::Add,
        followers: vec![UserId(reader.id)],
    };
    publish(&channel, &f.names.deliver, &serde_json::to_vec(&delivery).expect("json")).await;
    assert!(
        eventually(PATIENCE, || async { f.home_has(UserId(reader.id), next).await }).await,
        "a delivery after following again"
    );
    f.assert_drained().await;
}

#[tokio::test]
async fn one_process_holds_the_relay_lease_and_a_standby_takes_over_when_it_lets_go() {
    let _broker = BROKER.read().await;
    let f = fanout_app(|_| {}).await;
    // Another deployment's lease in the same database (the app's own relay holds the app's lease).
    let mut config = f.app.config.clone();
    config.amqp.prefix = format!("{}_lease", config.amqp.prefix);
    let mut first = outbox::lease::Lease::new(&config).expect("a lease");
    let mut second = outbox::lease::Lease::new(&config).expect("a lease");

    assert!(first.held().await, "a free lease is taken");
    assert!(!second.held().await, "a held lease is refused");
    assert!(!second.held().await, "and refused again when asked over the standby's kept connection");
    assert!(first.held().await, "the holder keeps it");

    first.release().await;
    assert!(second.held().await, "the standby takes over once the holder lets go");
    assert!(!first.held().await, "and the first now stands by");
    second.release().await;
}
