//! Delivery itself: batches reach existing timelines once, poison and failing messages are dead-lettered
//! and can be replayed, a Redis outage is waited out without spending attempts, and authors above the
//! threshold are pulled.

use super::*;

#[tokio::test]
async fn events_in_the_outbox_reach_the_followers_existing_home_timelines() {
    let _broker = BROKER.read().await;
    // Two followers a page, so three followers take two delivery batches.
    let f = fanout_app(|c| c.fanout.batch_size = 2).await;
    let author = f.user("author").await;
    let (ann, bob, cat, stranger) =
        (f.user("ann").await, f.user("bob").await, f.user("cat").await, f.user("stranger").await);
    for follower in [ann, bob, cat] {
        f.follow(follower, author).await;
    }
    for reader in [ann, bob, stranger] {
        f.open_home(reader).await;
    }

    let tweet = f.tweet(author).await;
    assert!(
        eventually(PATIENCE, || async { f.home_has(ann, tweet).await && f.home_has(bob, tweet).await }).await,
        "the tweet never reached ann and bob"
    );
    assert!(
        eventually(PATIENCE, || async {
            f.metric(r#"rookery_fanout_delivery_batches_total{action="add"}"#).await == 2.0
        })
        .await
    );
    assert_eq!(f.metric(r#"rookery_fanout_deliveries_total{action="add"}"#).await, 3.0);
    assert_eq!(f.metric(r#"rookery_events_published_total{topic="tweet.created"}"#).await, 1.0);
    // A timeline that did not exist is left for its next read to rebuild, not started half-empty.
    assert_eq!(f.home(cat).await, None);
    assert!(!f.home_has(stranger, tweet).await);
    let expected: BTreeSet<String> = ["0".to_owned(), tweet.0.to_string()].into();
    assert_eq!(f.home(ann).await.as_ref(), Some(&expected), "marker plus the tweet, once");

    f.delete_tweet(author, tweet).await;
    assert!(
        eventually(PATIENCE, || async { !f.home_has(ann, tweet).await && !f.home_has(bob, tweet).await }).await,
        "the tweet was never retracted"
    );
    assert_eq!(f.home(ann).await, Some(["0".to_owned()].into()));
    assert_eq!(f.metric(r#"rookery_fanout_plans_total{outcome="pushed"}"#).await, 2.0);
    f.assert_drained().await;
}

#[tokio::test]
async fn a_delivery_batch_applied_twice_leaves_the_tweet_once() {
    let _broker = BROKER.read().await;
    let f = fanout_app(|_| {}).await;
    let author = f.user("author").await;
    let (ann, bob) = (f.user("ann").await, f.user("bob").await);
    f.open_home(ann).await;
    f.open_home(bob).await;
    // The tweet exists but its event is not in the outbox: only the batches below deliver it.
    let tweet = f.stored_tweet(author).await;

    let batch = serde_json::to_vec(&DeliveryBatch {
        tweet_id: tweet,
        author_id: None,
        action: Action::Add,
        followers: vec![ann, bob],
    })
    .expect("json");
    let channel = amqp_channel(&f.app.config).await;
    publish(&channel, &f.names.deliver, &batch).await;
    publish(&channel, &f.names.deliver, &batch).await;

    assert!(
        eventually(PATIENCE, || async {
            f.metric(r#"rookery_fanout_delivery_batches_total{action="add"}"#).await == 2.0
        })
        .await,
        "both copies applied"
    );
    let expected: BTreeSet<String> = ["0".to_owned(), tweet.0.to_string()].into();
    for reader in [ann, bob] {
        assert_eq!(f.home(reader).await.as_ref(), Some(&expected));
    }
    f.assert_drained().await;
}

#[tokio::test]
async fn poison_messages_land_in_the_dead_letter_queue() {
    let _broker = BROKER.read().await;
    let f = fanout_app(|_| {}).await;
    // An outbox row the planner cannot read, relayed like any other.
    let mut tx = f.db.begin().await.expect("a transaction");
    sqlx::query("INSERT INTO outbox (id, topic, payload, created_at) VALUES (?, 'tweet.created', '{broken', 0)")
        .bind(f.ids.next())
        .execute(&mut *tx)
        .await
        .expect("an outbox row");
    tx.commit().await.expect("commit");
    // And a delivery batch that is not one.
    let channel = amqp_channel(&f.app.config).await;
    publish(&channel, &f.names.deliver, br#"{"tweet_id": "nope"}"#).await;

    assert!(
        eventually(PATIENCE, || async {
            topology::ready_messages(&channel, &f.names.dead).await.expect("the dead queue") == 2
        })
        .await,
        "both poison messages dead-lettered"
    );
    let dead: BTreeSet<Vec<u8>> = drain_queue(&channel, &f.names.dead).await.into_iter().collect();
    assert_eq!(dead, [b"{broken".to_vec(), br#"{"tweet_id": "nope"}"#.to_vec()].into());
    let plan_series = format!(r#"rookery_dead_lettered_total{{queue="{}"}}"#, f.names.plan);
    let deliver_series = format!(r#"rookery_dead_lettered_total{{queue="{}"}}"#, f.names.deliver);
    assert_eq!(f.metric(&plan_series).await, 1.0);
    assert_eq!(f.metric(&deliver_series).await, 1.0);
    f.assert_drained().await;
}

#[tokio::test]
async fn a_batch_that_keeps_failing_is_dead_lettered_after_bounded_retries() {
    let _broker = BROKER.read().await;
    let f = fanout_app(|_| {}).await;
    let author = f.user("author").await;
    let ann = f.user("ann").await;
    // Ann's home timeline key holds a string: every delivery attempt fails with WRONGTYPE, a failure
    // that no wait cures.
    let mut conn = f.redis.conn().await.expect("Redis");
    let home = f.redis.key(format_args!("tl:h:{{{ann}}}"));
    redis::cmd("SET").arg(&home).arg("not a timeline").query_async::<()>(&mut conn).await.expect("SET");
    let tweet = f.stored_tweet(author).await;
    let channel = amqp_channel(&f.app.config).await;
    let batch = serde_json::to_vec(&DeliveryBatch {
        tweet_id: tweet,
        author_id: None,
        action: Action::Add,
        followers: vec![ann],
    })
    .expect("json");
    publish(&channel, &f.names.deliver, &batch).await;

    let dead_lettered = eventually(PATIENCE, || async {
        topology::ready_messages(&channel, &f.names.dead).await.expect("the dead queue") == 1
    })
    .await;
    assert!(dead_lettered, "the failing batch was never dead-lettered");
    assert_eq!(drain_queue(&channel, &f.names.dead).await, vec![batch]);
    let redeliveries = f.metric(&format!(r#"rookery_redeliveries_total{{queue="{}"}}"#, f.names.deliver)).await;
    assert!(redeliveries >= topology::DELIVERY_LIMIT as f64, "retried {redeliveries} times before giving up");
    // Not rejected by the handler: the broker gave up on it.
    assert_eq!(f.metric(&format!(r#"rookery_dead_lettered_total{{queue="{}"}}"#, f.names.deliver)).await, 0.0);
    f.assert_drained().await;
}

#[tokio::test]
async fn replayed_dead_letters_go_back_to_the_queue_they_died_in() {
    let _broker = BROKER.read().await;
    let f = fanout_app(|_| {}).await;
    let author = f.user("author").await;
    let ann = f.user("ann").await;
    f.open_home(ann).await;
    let tweet = f.tweet(author).await;
    let channel = amqp_channel(&f.app.config).await;
    // A poison message, dead-lettered by the handler (the broker records the queue it died in) ...
    publish(&channel, &f.names.deliver, b"{broken").await;
    // ... and a good batch that died while Redis was away, as the broker would have left it.
    let batch = serde_json::to_vec(&DeliveryBatch {
        tweet_id: tweet,
        author_id: None,
        action: Action::Add,
        followers: vec![ann],
    })
    .expect("json");
    let mut headers = FieldTable::default();
    headers.insert("x-first-death-queue".into(), AMQPValue::LongString(f.names.deliver.clone().into()));
    let properties = BasicProperties::default().with_delivery_mode(2).with_headers(headers);
    let confirm = channel
        .basic_publish(&f.names.dead, "", BasicPublishOptions::default(), &batch, properties)
        .await
        .expect("a publish");
    assert!(confirm.await.expect("a confirm").is_ack());
    let config = &f.app.config;
    assert!(
        eventually(PATIENCE, || async { dead_letters::count(config).await.expect("a count") == 2 }).await,
        "two dead letters"
    );
    assert!(!f.home_has(ann, tweet).await);

    let outcome = dead_letters::replay(config).await.expect("a replay");
    assert_eq!(outcome, dead_letters::Replayed { replayed: 2, kept: 0 });
    assert!(
        eventually(PATIENCE, || async { f.home_has(ann, tweet).await }).await,
        "the replayed batch was not delivered"
    );
    let rejected = format!(r#"rookery_dead_lettered_total{{queue="{}"}}"#, f.names.deliver);
    assert!(
        eventually(PATIENCE, || async { f.metric(&rejected).await == 2.0 }).await,
        "the poison message was not handled again"
    );
    // The handler counts the rejection before the broker has moved the message.
    assert!(
        eventually(PATIENCE, || async { dead_letters::count(config).await.expect("a count") == 1 }).await,
        "the poison message is dead again"
    );
    assert_eq!(drain_queue(&channel, &f.names.dead).await, vec![b"{broken".to_vec()]);
    f.assert_drained().await;
}

#[tokio::test]
async fn authors_above_the_threshold_are_not_pushed_but_their_deletions_are() {
    let _broker = BROKER.read().await;
    let f = fanout_app(|c| c.fanout.hybrid_threshold = 2).await;
    let star = f.user("star").await;
    let fans = [f.user("ann").await, f.user("bob").await, f.user("cat").await];
    for fan in fans {
        f.follow(fan, star).await;
        f.open_home(fan).await;
    }

    let tweet = f.tweet(star).await;
    assert!(
        eventually(PATIENCE, || async { f.metric(r#"rookery_fanout_plans_total{outcome="pulled"}"#).await == 1.0 })
            .await,
        "the event was never planned"
    );
    for fan in fans {
        assert!(!f.home_has(fan, tweet).await, "pushed although above the threshold");
    }
    assert_eq!(f.metric(r#"rookery_fanout_delivery_batches_total{action="add"}"#).await, 0.0);

    // Suppose a fan got it while the author was below the threshold: the deletion must still reach them.
    let mut conn = f.redis.conn().await.expect("Redis");
    let _: () = conn.zadd(timeline::key(&f.redis, Kind::Home, fans[1]), tweet.0, tweet.0).await.expect("ZADD");
    f.delete_tweet(star, tweet).await;
    assert!(
        eventually(PATIENCE, || async { !f.home_has(fans[1], tweet).await }).await,
        "the deletion did not reach the fan"
    );
    assert_eq!(f.metric(r#"rookery_fanout_deliveries_total{action="remove"}"#).await, 3.0);
    f.assert_drained().await;
}

#[tokio::test]
async fn a_redis_outage_is_waited_out_without_spending_delivery_attempts() {
    let _broker = BROKER.read().await;
    // Redis is unreachable for this origin: the delivery cannot run, through no fault of its own.
    let f = fanout_app(|c| c.redis.url = "redis://127.0.0.1:1/".into()).await;
    let author = f.user("author").await;
    let ann = f.user("ann").await;
    let tweet = TweetId(f.ids.next());
    sqlx::query("INSERT INTO tweets (id, user_id, content, created_at) VALUES (?, ?, 'waits for Redis', ?)")
        .bind(tweet)
        .bind(author)
        .bind(created_at_of(tweet.0))
        .execute(&f.db)
        .await
        .expect("a tweet");
    let channel = amqp_channel(&f.app.config).await;
    let batch = DeliveryBatch { tweet_id: tweet, author_id: None, action: Action::Add, followers: vec![ann] };
    publish(&channel, &f.names.deliver, &serde_json::to_vec(&batch).expect("json")).await;

    // Requeued like any failure, the batch would have spent its attempts and been dead-lettered in
    // about 6 s (pauses of 0.2 + 0.4 + 0.8 + 1.6 + 3.2 s). It waits in the consumer instead.
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(topology::ready_messages(&channel, &f.names.dead).await.expect("the dead queue"), 0);
    let redeliveries = f.metric(&format!(r#"rookery_redeliveries_total{{queue="{}"}}"#, f.names.deliver)).await;
    assert_eq!(redeliveries, 0.0, "the batch was requeued while Redis was away");
    // Neither dead nor back in the queue: the consumer holds it until Redis answers.
    let ready = topology::ready_messages(&channel, &f.names.deliver).await.expect("the deliver queue");
    assert_eq!(ready, 0, "the batch went back to the queue");
}
