//! The origin killed with SIGKILL in the middle of fanning a tweet out to 20,000 followers, then started
//! again: every follower gets the tweet, and none gets it twice.
//!
//! The origin runs as its own process (the binary, configured through the environment) so it can be
//! killed for real: unacknowledged batches go back to their queue and the new process finishes them.

use std::time::Duration;

use futures::{stream, StreamExt};
use lapin::{Connection, ConnectionProperties};
use reqwest::Method;
use rookery_origin::{
    cache::Redis,
    fanout::topology::{self, Names},
    ids::{now_micros, IdGenerator},
    newsfeed::timeline::{self, Kind},
    testing::{self, eventually, Metrics},
    Config,
};
use rookery_shared::ids::{TweetId, UserId};
use serde_json::{json, Value};
use sqlx::MySqlPool;
use tokio::time::Instant;

use crate::{process::OriginProcess, services};

const FOLLOWERS: u64 = 20_000;
/// Small batches make many messages, so the kill lands between them.
const BATCH: u32 = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_fanout_cut_by_sigkill_completes_after_a_restart_and_delivers_once() {
    let _exclusive = services::exclusive().await;
    let mut config = Config::for_tests();
    config.http.listen = ([127, 0, 0, 1], free_port()).into();
    config.http.admin_listen = ([127, 0, 0, 1], free_port()).into();
    config.fanout.batch_size = BATCH;
    config.fanout.hybrid_threshold = 10 * FOLLOWERS;
    let log = std::env::temp_dir().join(format!("{}.log", config.amqp.prefix));
    let run = Run { config: config.clone(), log: log.clone() };

    let mut origin = OriginProcess::start(&config, &log).await;
    let client =
        Client { http: reqwest::Client::new(), base: origin.address.clone(), admin: origin.admin_address.clone() };
    let author = client.signup("the_star").await;
    let mut fans = Vec::new();
    for name in ["fan_ann", "fan_ben", "fan_cat", "fan_dan", "fan_eve"] {
        let fan = client.signup(name).await;
        client.send("POST", &format!("/api/friendships/{}/follow/", author.0), &fan.1, Some(json!({}))).await;
        client.send("GET", "/api/newsfeeds/", &fan.1, None).await;
        fans.push(fan);
    }
    let db = MySqlPool::connect(&config.db.url).await.expect("the test database");
    let redis = Redis::new(&config.redis).expect("a Redis URL");
    let mut followers: Vec<UserId> = add_followers(&db, &redis, &config, UserId(author.0)).await;
    followers.extend(fans.iter().map(|fan| UserId(fan.0)));

    let tweet = client.send("POST", "/api/tweets/", &author.1, Some(json!({"content": "to everyone"}))).await;
    let tweet = TweetId(tweet["id"].as_u64().expect("a tweet id"));
    let posted_at = Instant::now();
    // Kill as soon as the first batches have landed.
    let deliveries = r#"rookery_fanout_deliveries_total{action="add"}"#;
    while client.metric(deliveries).await == 0.0 {
        assert!(posted_at.elapsed() < Duration::from_secs(60), "the fanout never started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    origin.kill();
    let at_kill = holders(&redis, &followers, tweet).await;
    println!(
        "origin killed: SIGKILL {:.1?} after the post, {at_kill} of {} timelines had the tweet",
        posted_at.elapsed(),
        followers.len()
    );
    assert!(at_kill < followers.len(), "the fanout had finished before the kill; nothing was cut");

    let restarted_at = Instant::now();
    let origin = OriginProcess::start(&config, &log).await;
    let client = Client { http: client.http, base: origin.address.clone(), admin: origin.admin_address.clone() };
    let complete =
        eventually(Duration::from_secs(120), || async { holders(&redis, &followers, tweet).await == followers.len() })
            .await;
    assert!(
        complete,
        "only {} of {} timelines got the tweet after the restart",
        holders(&redis, &followers, tweet).await,
        followers.len()
    );
    let redone = client.metric(deliveries).await;
    println!(
        "origin killed: every timeline had the tweet {:.1?} after the restart; the new process wrote {redone} deliveries ({} repeated, absorbed)",
        restarted_at.elapsed(),
        (at_kill as f64 + redone - followers.len() as f64).max(0.0)
    );
    for fan in &fans {
        let page = client.send("GET", "/api/newsfeeds/", &fan.1, None).await;
        let ids: Vec<u64> =
            page["results"].as_array().expect("results").iter().filter_map(|item| item["id"].as_u64()).collect();
        assert_eq!(ids, vec![tweet.0], "fan {}'s feed", fan.0);
    }
    assert_drained(&config, &db).await;
    drop(origin);
    drop(run);
}

/// Inserts `FOLLOWERS` follow rows for `author` (followers without accounts: the fanout reads only the
/// follow table) and opens their home timelines, as if they had read their feeds.
async fn add_followers(db: &MySqlPool, redis: &Redis, config: &Config, author: UserId) -> Vec<UserId> {
    let ids = IdGenerator::new(15);
    let followers: Vec<UserId> = (0..FOLLOWERS).map(|_| UserId(ids.next())).collect();
    for chunk in followers.chunks(1000) {
        let mut insert = sqlx::QueryBuilder::new("INSERT INTO friendships (id, from_user_id, to_user_id, created_at) ");
        insert.push_values(chunk, |mut row, follower| {
            row.push_bind(ids.next()).push_bind(follower.0).push_bind(author.0).push_bind(now_micros());
        });
        insert.build().execute(db).await.expect("follow rows");
    }
    sqlx::query("UPDATE user_stats SET followers_count = followers_count + ? WHERE user_id = ?")
        .bind(FOLLOWERS)
        .bind(author.0)
        .execute(db)
        .await
        .expect("the author's stats");
    let cap = config.fanout.timeline_cap;
    stream::iter(followers.clone())
        .for_each_concurrent(64, |follower| async move {
            let opened = timeline::rebuild(redis, Kind::Home, follower, cap, || async { Ok(Vec::new()) }).await;
            assert!(matches!(opened, Ok(Some(_))), "opening a timeline: {opened:?}");
        })
        .await;
    followers
}

/// How many of `followers`' home timelines hold `tweet`.
async fn holders(redis: &Redis, followers: &[UserId], tweet: TweetId) -> usize {
    let mut conn = redis.conn().await.expect("Redis");
    let mut count = 0;
    for chunk in followers.chunks(2000) {
        let mut pipe = redis::pipe();
        for follower in chunk {
            pipe.zscore(timeline::key(redis, Kind::Home, *follower), tweet.0);
        }
        let scores: Vec<Option<f64>> = pipe.query_async(&mut conn).await.expect("ZSCOREs");
        count += scores.iter().flatten().count();
    }
    count
}

/// The outbox is empty and the plan, deliver and dead-letter queues hold nothing.
async fn assert_drained(config: &Config, db: &MySqlPool) {
    let connection = Connection::connect(&config.amqp.url, ConnectionProperties::default()).await.expect("RabbitMQ");
    let channel = connection.create_channel().await.expect("a channel");
    let names = Names::new(&config.amqp.prefix);
    let (mut outbox, mut queued) = (0_i64, 0);
    let drained = eventually(Duration::from_secs(30), async || {
        outbox = sqlx::query_scalar("SELECT COUNT(*) FROM outbox").fetch_one(db).await.expect("the outbox");
        queued = 0;
        for queue in [&names.plan, &names.deliver, &names.dead] {
            queued += topology::ready_messages(&channel, queue).await.expect("a queue depth");
        }
        outbox == 0 && queued == 0
    })
    .await;
    assert!(drained, "not drained: {outbox} outbox rows, {queued} queued messages");
    let _ = connection.close(200, "checked").await;
}

/// A small HTTP client for the origin process.
struct Client {
    http: reqwest::Client,
    base: String,
    admin: String,
}

impl Client {
    /// Sends a request that must succeed and returns its JSON body.
    async fn send(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
        let method = Method::from_bytes(method.as_bytes()).expect("a method");
        let reply = testing::send(&self.http, &self.base, method, path, Some(token), body).await;
        assert!(reply.status.is_success(), "{path}: {} {}", reply.status, reply.body);
        reply.body
    }

    /// (user id, token) of a new account.
    async fn signup(&self, username: &str) -> (u64, String) {
        let body =
            json!({"username": username, "email": format!("{username}@example.com"), "password": "correct horse"});
        let reply =
            testing::send(&self.http, &self.base, Method::POST, "/api/accounts/signup/", None, Some(body)).await;
        (reply.body["user"]["id"].as_u64().expect("an id"), reply.body["token"].as_str().expect("a token").to_owned())
    }

    /// The value of one series of the origin's `/metrics`, 0 when it has not been recorded yet.
    async fn metric(&self, series: &str) -> f64 {
        Metrics::parse(&testing::scrape(&self.http, &self.admin).await).value(series)
    }
}

/// Removes the test's database, keys and queues when dropped (after the processes are gone).
struct Run {
    config: Config,
    /// The origin's output, kept when the test fails.
    log: std::path::PathBuf,
}

impl Drop for Run {
    fn drop(&mut self) {
        testing::cleanup_blocking(&self.config);
        if std::thread::panicking() {
            eprintln!("the origin's output is in {}", self.log.display());
        } else {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("an address").port()
}
