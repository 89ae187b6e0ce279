//! The asynchronous newsfeed path against the real services: outbox → relay → RabbitMQ → planner →
//! delivery batches → Redis home timelines.
//!
//! Data is written with SQL and the store functions (not the HTTP API) so each test controls exactly
//! which events exist. One test stops RabbitMQ; the others hold [`BROKER`] for reading so they never run
//! during that outage.

use std::{collections::BTreeSet, process::Command, time::Duration};

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
    testing::{eventually, spawn_app_with, TestApp},
    worker::Worker,
    Config,
};
use rookery_shared::ids::{TweetId, UserId};
use sqlx::MySqlPool;
use tokio::sync::RwLock;

mod delivery;
mod lifecycle;

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
    let db = MySqlPool::connect(&app.config.db.url).await.expect("the test database");
    let redis = Redis::new(&app.config.redis).expect("a Redis URL");
    let names = Names::new(&app.config.amqp.prefix);
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
        let built = timeline::rebuild(&self.redis, Kind::Home, user, self.app.config.fanout.timeline_cap, || async {
            Ok(Vec::new())
        })
        .await
        .expect("a rebuild");
        assert!(built.is_some(), "no concurrent rebuild");
    }

    /// Inserts a tweet and its `tweet.created` event in one transaction, as the write path does.
    /// A tweet row alone, without an outbox event: for tests that publish their own delivery batches.
    async fn stored_tweet(&self, author: UserId) -> TweetId {
        let tweet = TweetId(self.ids.next());
        insert_tweet(&self.db, tweet, author).await;
        tweet
    }

    async fn tweet(&self, author: UserId) -> TweetId {
        let tweet = TweetId(self.ids.next());
        let mut tx = self.db.begin().await.expect("a transaction");
        insert_tweet(&mut *tx, tweet, author).await;
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
        outbox::store::backlog(&self.db, u64::MAX).await.expect("the backlog").0
    }

    /// The value of one series of the origin's `/metrics`, 0 when it has not been recorded yet.
    async fn metric(&self, series: &str) -> f64 {
        self.app.metrics().await.value(series)
    }

    /// Waits until the outbox is empty and the work queues hold nothing ready: the teardown check.
    async fn assert_drained(&self) {
        let channel = amqp_channel(&self.app.config).await;
        let drained = eventually(PATIENCE, || async {
            let plan = topology::ready_messages(&channel, &self.names.plan).await.expect("the plan queue");
            let deliver = topology::ready_messages(&channel, &self.names.deliver).await.expect("the deliver queue");
            self.outbox_rows().await == 0 && plan == 0 && deliver == 0
        })
        .await;
        assert!(drained, "outbox or work queues not drained: {} outbox rows", self.outbox_rows().await);
    }
}

async fn insert_tweet(db: impl sqlx::MySqlExecutor<'_>, tweet: TweetId, author: UserId) {
    sqlx::query("INSERT INTO tweets (id, user_id, content, created_at) VALUES (?, ?, 'hello there', ?)")
        .bind(tweet)
        .bind(author)
        .bind(created_at_of(tweet.0))
        .execute(db)
        .await
        .expect("a tweet");
}

/// A publisher-confirm channel of the test's own, with the topology declared (so publishing cannot race
/// the origin's own declarations).
async fn amqp_channel(config: &Config) -> Channel {
    let connection = Connection::connect(&config.amqp.url, ConnectionProperties::default()).await.expect("RabbitMQ");
    let channel = connection.create_channel().await.expect("a channel");
    channel.confirm_select(ConfirmSelectOptions::default()).await.expect("confirms");
    topology::declare(&channel, &Names::new(&config.amqp.prefix)).await.expect("the topology");
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
