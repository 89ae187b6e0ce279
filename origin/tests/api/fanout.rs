//! The asynchronous newsfeed path against the real services: outbox → relay → RabbitMQ → planner →
//! delivery batches → Redis home timelines.
//!
//! Data is written with SQL and the store functions (not the HTTP API) so each test controls exactly
//! which events exist. One test stops RabbitMQ; the others hold [`BROKER`] for reading so they never run
//! during that outage.

use std::{
    collections::BTreeSet,
    process::Command,
    time::{Duration, Instant},
};

use lapin::{
    options::{BasicAckOptions, BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions},
    types::{AMQPValue, FieldTable},
    BasicProperties, Channel, Connection, ConnectionProperties,
};
use redis::AsyncCommands;
use rookery_origin::{
    cache::Redis,
    events::Event,
    fanout::{
        delivery::{Action, DeliveryBatch},
        topology::{self, Names},
    },
    friendships,
    ids::{created_at_of, IdGenerator},
    newsfeed::timeline::{self, Kind},
    ops::dead_letters,
    outbox,
    worker::Worker,
    Config,
};
use rookery_shared::ids::{TweetId, UserId};
use sqlx::MySqlPool;
use tokio::sync::RwLock;

use crate::helpers::{spawn_app_with, TestApp};

/// Held for writing by the test that stops RabbitMQ, for reading by every other test here.
pub(crate) static BROKER: RwLock<()> = RwLock::const_new(());

/// How long any asynchronous effect may take before the test fails. Generous: with the whole suite
/// running, the broker declares and deletes hundreds of quorum queues at once on two cores.
const PATIENCE: Duration = Duration::from_secs(60);

/// A running origin plus direct handles on its MySQL database and Redis keys.
struct Fanout {
    app: TestApp,
    db: MySqlPool,
    redis: Redis,
    /// A node id the origin does not use, so ids written here never collide with its own.
    ids: IdGenerator,
    names: Names,
}

async fn fanout_app(adjust: impl FnOnce(&mut Config)) -> Fanout {
    let app = spawn_app_with(adjust).await;
    let db = MySqlPool::connect(&app.config.database_url).await.expect("the test database");
    let redis = Redis::new(&app.config.redis_url, &app.config.redis_prefix).expect("a Redis URL");
    let names = Names::new(&app.config.amqp_prefix);
    Fanout { app, db, redis, ids: IdGenerator::new(15), names }
}

impl Fanout {
    async fn user(&self, name: &str) -> UserId {
        let id = self.ids.next();
        sqlx::query("INSERT INTO users (id, username, email, password_hash, created_at) VALUES (?, ?, ?, 'x', ?)")
            .bind(id)
            .bind(name)
            .bind(format!("{name}@example.com"))
            .bind(created_at_of(id))
            .execute(&self.db)
            .await
            .expect("a user");
        sqlx::query("INSERT INTO user_stats (user_id) VALUES (?)").bind(id).execute(&self.db).await.expect("stats");
        UserId(id)
    }

    async fn follow(&self, follower: UserId, followee: UserId) {
        let id = self.ids.next();
        let mut tx = self.db.begin().await.expect("a transaction");
        assert!(friendships::store::insert(&mut tx, id, follower, followee, created_at_of(id))
            .await
            .expect("a follow"));
        tx.commit().await.expect("commit");
    }

    /// Gives `user` an (empty, complete) home timeline, as a first read would.
    async fn open_home(&self, user: UserId) {
        let built =
            timeline::rebuild(&self.redis, Kind::Home, user, self.app.config.timeline_cap, || async { Ok(Vec::new()) })
                .await
                .expect("a rebuild");
        assert!(built.is_some(), "no concurrent rebuild");
    }

    /// Inserts a tweet and its `tweet.created` event in one transaction, as the write path does.
    async fn tweet(&self, author: UserId) -> TweetId {
        let tweet = TweetId(self.ids.next());
        let mut tx = self.db.begin().await.expect("a transaction");
        sqlx::query("INSERT INTO tweets (id, user_id, content, created_at) VALUES (?, ?, 'hello there', ?)")
            .bind(tweet)
            .bind(author)
            .bind(created_at_of(tweet.0))
            .execute(&mut *tx)
            .await
            .expect("a tweet");
        outbox::store::enqueue(&mut tx, &self.ids, &Event::TweetCreated { tweet_id: tweet, author_id: author })
            .await
            .expect("an outbox row");
        tx.commit().await.expect("commit");
        tweet
    }

    async fn delete_tweet(&self, author: UserId, tweet: TweetId) {
        let mut tx = self.db.begin().await.expect("a transaction");
        sqlx::query("DELETE FROM tweets WHERE id = ?").bind(tweet).execute(&mut *tx).await.expect("a deletion");
        outbox::store::enqueue(&mut tx, &self.ids, &Event::TweetDeleted { tweet_id: tweet, author_id: author })
            .await
            .expect("an outbox row");
        tx.commit().await.expect("commit");
    }

    /// The members of `user`'s home timeline (tweet ids and markers), `None` if it does not exist.
    async fn home(&self, user: UserId) -> Option<BTreeSet<String>> {
        let mut conn = self.redis.conn().await.expect("Redis");
        let key = timeline::key(&self.redis, Kind::Home, user);
        let exists: bool = conn.exists(&key).await.expect("EXISTS");
        let members: Vec<String> = conn.zrange(&key, 0, -1).await.expect("ZRANGE");
        exists.then(|| members.into_iter().collect())
    }

    async fn home_has(&self, user: UserId, tweet: TweetId) -> bool {
        self.home(user).await.is_some_and(|members| members.contains(&tweet.0.to_string()))
    }

    async fn outbox_rows(&self) -> i64 {
        outbox::store::backlog(&self.db).await.expect("the backlog").0
    }

    /// The value of one series of the origin's `/metrics`, 0 when it has not been recorded yet.
    async fn metric(&self, series: &str) -> f64 {
        let text = self.app.metrics_text().await;
        metric_value(&text, series)
    }

    /// Waits until the outbox is empty and the work queues hold nothing ready: the teardown check.
    async fn assert_drained(&self) {
        let channel = amqp_channel(&self.app.config).await;
        let drained = eventually(|| async {
            let plan = topology::ready_messages(&channel, &self.names.plan).await.expect("the plan queue");
            let deliver = topology::ready_messages(&channel, &self.names.deliver).await.expect("the deliver queue");
            self.outbox_rows().await == 0 && plan == 0 && deliver == 0
        })
        .await;
        assert!(drained, "outbox or work queues not drained: {} outbox rows", self.outbox_rows().await);
    }
}

fn metric_value(text: &str, series: &str) -> f64 {
    text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok()).unwrap_or(0.0)
}

/// Polls `check` every 50 ms until it holds or [`PATIENCE`] runs out.
async fn eventually<F, Fut>(mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// A publisher-confirm channel of the test's own, with the topology declared (so publishing cannot race
/// the origin's own declarations).
async fn amqp_channel(config: &Config) -> Channel {
    let connection = Connection::connect(&config.amqp_url, ConnectionProperties::default()).await.expect("RabbitMQ");
    let channel = connection.create_channel().await.expect("a channel");
    channel.confirm_select(ConfirmSelectOptions::default()).await.expect("confirms");
    topology::declare(&channel, &Names::new(&config.amqp_prefix)).await.expect("the topology");
    // The connection closes when its last channel handle is dropped.
    channel
}

async fn publish(channel: &Channel, queue: &str, body: &[u8]) {
    let confirm = channel
        .basic_publish(
            "",
            queue,
            BasicPublishOptions { mandatory: true, ..Default::default() },
            body,
            BasicProperties::default().with_delivery_mode(2),
        )
        .await
        .expect("a publish");
    assert!(confirm.await.expect("a confirm").is_ack());
}

/// Takes every message waiting in `queue`.
async fn drain_queue(channel: &Channel, queue: &str) -> Vec<Vec<u8>> {
    let mut bodies = Vec::new();
    while let Some(message) = channel.basic_get(queue, BasicGetOptions::default()).await.expect("a basic.get") {
        message.delivery.acker.ack(BasicAckOptions::default()).await.expect("an ack");
        bodies.push(message.delivery.data);
    }
    bodies
}

#[tokio::test]
async fn events_in_the_outbox_reach_the_followers_existing_home_timelines() {
    let _broker = BROKER.read().await;
    // Two followers a page, so three followers take two delivery batches.
    let f = fanout_app(|c| c.fanout_batch_size = 2).await;
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
        eventually(|| async { f.home_has(ann, tweet).await && f.home_has(bob, tweet).await }).await,
        "the tweet never reached ann and bob"
    );
    assert!(
        eventually(|| async { f.metric(r#"rookery_fanout_delivery_batches_total{action="add"}"#).await == 2.0 }).await
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
        eventually(|| async { !f.home_has(ann, tweet).await && !f.home_has(bob, tweet).await }).await,
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
    let tweet = TweetId(f.ids.next());
    sqlx::query("INSERT INTO tweets (id, user_id, content, created_at) VALUES (?, ?, 'twice over', ?)")
        .bind(tweet)
        .bind(author)
        .bind(created_at_of(tweet.0))
        .execute(&f.db)
        .await
        .expect("a tweet");

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
        eventually(|| async { f.metric(r#"rookery_fanout_delivery_batches_total{action="add"}"#).await == 2.0 }).await,
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
        eventually(|| async { topology::ready_messages(&channel, &f.names.dead).await.expect("the dead queue") == 2 })
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
    // Redis is unreachable for this origin: every delivery attempt fails.
    let f = fanout_app(|c| c.redis_url = "redis://127.0.0.1:1/".into()).await;
    let author = f.user("author").await;
    let ann = f.user("ann").await;
    let tweet = TweetId(f.ids.next());
    sqlx::query("INSERT INTO tweets (id, user_id, content, created_at) VALUES (?, ?, 'never lands', ?)")
        .bind(tweet)
        .bind(author)
        .bind(created_at_of(tweet.0))
        .execute(&f.db)
        .await
        .expect("a tweet");
    let channel = amqp_channel(&f.app.config).await;
    let batch = serde_json::to_vec(&DeliveryBatch {
        tweet_id: tweet,
        author_id: None,
        action: Action::Add,
        followers: vec![ann],
    })
    .expect("json");
    publish(&channel, &f.names.deliver, &batch).await;

    let dead_lettered =
        eventually(|| async { topology::ready_messages(&channel, &f.names.dead).await.expect("the dead queue") == 1 })
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
        eventually(|| async { dead_letters::count(config).await.expect("a count") == 2 }).await,
        "two dead letters"
    );
    assert!(!f.home_has(ann, tweet).await);

    let outcome = dead_letters::replay(config).await.expect("a replay");
    assert_eq!(outcome, dead_letters::Replayed { replayed: 2, kept: 0 });
    assert!(eventually(|| async { f.home_has(ann, tweet).await }).await, "the replayed batch was not delivered");
    let rejected = format!(r#"rookery_dead_lettered_total{{queue="{}"}}"#, f.names.deliver);
    assert!(
        eventually(|| async { f.metric(&rejected).await == 2.0 }).await,
        "the poison message was not handled again"
    );
    // The handler counts the rejection before the broker has moved the message.
    assert!(
        eventually(|| async { dead_letters::count(config).await.expect("a count") == 1 }).await,
        "the poison message is dead again"
    );
    assert_eq!(drain_queue(&channel, &f.names.dead).await, vec![b"{broken".to_vec()]);
    f.assert_drained().await;
}

#[tokio::test]
async fn authors_above_the_threshold_are_not_pushed_but_their_deletions_are() {
    let _broker = BROKER.read().await;
    let f = fanout_app(|c| c.hybrid_threshold = 2).await;
    let star = f.user("star").await;
    let fans = [f.user("ann").await, f.user("bob").await, f.user("cat").await];
    for fan in fans {
        f.follow(fan, star).await;
        f.open_home(fan).await;
    }

    let tweet = f.tweet(star).await;
    assert!(
        eventually(|| async { f.metric(r#"rookery_fanout_plans_total{outcome="pulled"}"#).await == 1.0 }).await,
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
    assert!(eventually(|| async { !f.home_has(fans[1], tweet).await }).await, "the deletion did not reach the fan");
    assert_eq!(f.metric(r#"rookery_fanout_deliveries_total{action="remove"}"#).await, 3.0);
    f.assert_drained().await;
}

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
        eventually(|| async { f.home_has(fans[0], first).await && f.home_has(fans[1], first).await }).await,
        "not delivering before the outage"
    );

    let stopped = BrokerStopped::stop();
    assert!(
        eventually(|| async { f.app.admin_get("/readyz").await.1["rabbitmq"] == "down" }).await,
        "the origin never noticed the broker stopped"
    );
    let mut tweets = vec![first];
    for _ in 0..5 {
        tweets.push(f.tweet(author).await);
    }
    // Nothing can leave the outbox now; the relay reports the backlog.
    assert!(
        eventually(|| async { f.metric("rookery_outbox_backlog").await == 5.0 }).await,
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
            eventually(|| async { f.home(fan).await.as_ref() == Some(&expected) }).await,
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
    let f = fanout_app(|c| c.run_consumers = false).await;
    let author = f.user("author").await;
    let ann = f.user("ann").await;
    f.follow(ann, author).await;
    f.open_home(ann).await;
    let tweet = f.tweet(author).await;
    // Relayed by the server, but nobody plans it yet.
    let channel = amqp_channel(&f.app.config).await;
    assert!(
        eventually(|| async { topology::ready_messages(&channel, &f.names.plan).await.expect("the plan queue") == 1 })
            .await
    );
    assert!(!f.home_has(ann, tweet).await);

    let worker = Worker::build(f.app.config.clone()).await.expect("the worker builds");
    let metrics = worker.state().metrics.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(worker.run(async move {
        let _ = stopped.await;
    }));
    assert!(eventually(|| async { f.home_has(ann, tweet).await }).await, "the worker never delivered");
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
    let deadline = Instant::now() + PATIENCE;
    while !dropped.is_finished() {
        assert!(Instant::now() < deadline, "dropping the database waited on the open transaction");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    dropped.join().expect("the teardown did not panic");
    assert!(tx.rollback().await.is_err(), "the connection was ended");
    let server = MySqlPool::connect(&config.server_url().expect("a server URL")).await.expect("the server");
    let left: Option<String> =
        sqlx::query_scalar("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?")
            .bind(config.database_name().expect("a name"))
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
        eventually(|| async { f.metric(r#"rookery_fanout_delivery_batches_total{action="add"}"#).await == 1.0 }).await,
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
        eventually(|| async { f.home_has(UserId(reader.id), next).await }).await,
        "a delivery after following again"
    );
    f.assert_drained().await;
}
