//! Clients that hang up mid-request, in bulk: thousands of writes whose sockets are reset at random moments
//! after the request was sent, so the origin's handlers are interrupted at every possible point (before the
//! transaction, inside it, between commit and answer).
//!
//! Afterwards the origin must be exactly as healthy as before: no transaction left open, every pooled
//! connection usable, every write that was answered present, nothing dead-lettered, and new requests
//! served at once.

use std::{
    collections::BTreeMap,
    str::FromStr,
    sync::Arc,
    time::{Duration, Instant},
};

use rand::Rng;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::{mysql::MySqlConnectOptions, Connection, MySqlConnection};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    sync::Mutex,
};

use rookery_origin::{
    fanout::topology::{self, Names},
    testing::{eventually, spawn_app_with, TestApp},
};

use crate::services;

const CLIENTS: usize = 16;
const WRITES_PER_CLIENT: usize = 150;
/// Sockets are reset at a random moment up to this many times a write's usual latency after the request
/// was written: the first bursts hang up mostly while the work runs, the last mostly after the answer
/// (so that many answered writes can be checked).
const HANG_UP_SPREADS: [u32; 4] = [1, 1, 1, 3];

/// What the clients saw: writes answered before the hang-up, by kind.
#[derive(Default)]
struct Answered {
    tweets: Vec<u64>,
    likes: Vec<(u64, u64)>,
    follows: Vec<(u64, u64)>,
    hung_up: usize,
    statuses: BTreeMap<u16, usize>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn clients_hanging_up_mid_request_leave_no_trace_on_the_pool() {
    let _exclusive = services::exclusive().await;
    // A small pool makes a lost connection show at once.
    let app = spawn_app_with(|config| config.db.max_connections = 8).await;
    let mut users = Vec::new();
    for n in 0..CLIENTS {
        users.push(app.signup(&format!("hangup_{n:02}")).await);
    }
    let mut targets = Vec::new();
    for user in users.iter().take(4) {
        targets.push(app.post_tweet(user, "a tweet to like").await["id"].as_u64().expect("an id"));
    }
    let users = Arc::new(users);
    let targets = Arc::new(targets);
    let answered = Arc::new(Mutex::new(Answered::default()));
    let port = app.address.rsplit(':').next().expect("a port").to_owned();
    // A write's latency on this machine and build, measured under the same concurrency, sets the window.
    let calibration = Instant::now();
    let writes =
        users.iter().map(|user| app.post("/api/tweets/", Some(&user.token), json!({"content": "calibrating"})));
    futures::future::join_all(writes).await;
    let latency = calibration.elapsed();
    println!("hang-ups: {CLIENTS} concurrent writes took {latency:.1?}");

    for spread in HANG_UP_SPREADS {
        let max_hang_up = latency * spread;
        let started = Instant::now();
        let mut clients = Vec::new();
        for client in 0..CLIENTS {
            let (users, targets, answered, port) = (users.clone(), targets.clone(), answered.clone(), port.clone());
            let max_hang_up_us = u64::try_from(max_hang_up.as_micros()).expect("a short window");
            clients.push(tokio::spawn(async move {
                for n in 0..WRITES_PER_CLIENT {
                    let me = &users[client];
                    let (kind, path, body) = match n % 5 {
                        0 => {
                            let other = &users[(client + 1 + n / 5) % CLIENTS];
                            (Kind::Follow(me.id, other.id), format!("/api/friendships/{}/follow/", other.id), json!({}))
                        }
                        1 => {
                            let target = targets[n / 5 % targets.len()];
                            (
                                Kind::Like(me.id, target),
                                "/api/likes/".to_owned(),
                                json!({"content_type": "tweet", "object_id": target}),
                            )
                        }
                        _ => (
                            Kind::Tweet,
                            "/api/tweets/".to_owned(),
                            json!({"content": format!("client {client} write {n}")}),
                        ),
                    };
                    let hang_up_after = Duration::from_micros(rand::thread_rng().gen_range(0..=max_hang_up_us));
                    let answer = post_then_hang_up(&port, &me.token, &path, &body, hang_up_after).await;
                    let mut answered = answered.lock().await;
                    match answer {
                        None => answered.hung_up += 1,
                        Some((status, body)) => {
                            *answered.statuses.entry(status).or_default() += 1;
                            if status == 201 {
                                match kind {
                                    Kind::Tweet => answered.tweets.push(body["id"].as_u64().expect("a tweet id")),
                                    Kind::Like(user, tweet) => answered.likes.push((user, tweet)),
                                    Kind::Follow(from, to) => answered.follows.push((from, to)),
                                }
                            }
                        }
                    }
                }
            }));
        }
        for client in clients {
            client.await.expect("a client task");
        }
        let answered = answered.lock().await;
        println!(
        "hang-ups: {} writes in {:.1?}, sockets reset within {max_hang_up:.1?}: so far {} hung up before an answer, answered {:?}",
        CLIENTS * WRITES_PER_CLIENT,
        started.elapsed(),
        answered.hung_up,
        answered.statuses
    );
    }
    let answered = Arc::try_unwrap(answered).ok().expect("every client is done").into_inner();
    assert!(answered.hung_up > CLIENTS * WRITES_PER_CLIENT / 10, "too few hang-ups to test anything");
    assert!(!answered.tweets.is_empty(), "no write was answered at all");
    assert!(
        answered.statuses.keys().all(|status| matches!(status, 201 | 400)),
        "writes answered with {:?}",
        answered.statuses
    );

    // New requests are served at once, by every pooled connection at the same time.
    let probe_started = Instant::now();
    let probes = (0..32).map(|n| {
        let (app, user) = (&app, &users[n % CLIENTS]);
        async move { app.get(&format!("/api/friendships/{}/followers/", user.id), Some(&user.token)).await.0 }
    });
    let statuses = futures::future::join_all(probes).await;
    println!("hang-ups: 32 concurrent MySQL reads afterwards answered in {:.1?}", probe_started.elapsed());
    assert!(statuses.iter().all(|s| *s == StatusCode::OK), "reads after the hang-ups: {statuses:?}");
    let (status, body) =
        app.post("/api/tweets/", Some(&users[0].token), json!({"content": "after the hang-ups"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, ready) = app.admin_get("/readyz").await;
    assert_eq!(status, StatusCode::OK, "{ready}");

    let mut db = connect(&app).await;
    assert_no_open_transaction(&mut db, &app).await;
    assert_present(&mut db, &answered).await;
    assert_fanout_clean(&app, &mut db).await;
}

#[derive(Clone, Copy)]
enum Kind {
    Tweet,
    Like(u64, u64),
    Follow(u64, u64),
}

/// Sends one POST over a fresh socket and resets it (RST, not FIN) after `hang_up_after`; the answer if it
/// arrived whole before that.
async fn post_then_hang_up(
    port: &str,
    token: &str,
    path: &str,
    body: &Value,
    hang_up_after: Duration,
) -> Option<(u16, Value)> {
    let mut socket = TcpStream::connect(format!("127.0.0.1:{port}")).await.expect("the origin accepts");
    let body = body.to_string();
    let request = format!(
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {token}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(request.as_bytes()).await.expect("the request is written");
    let mut received = Vec::new();
    let read = tokio::time::timeout(hang_up_after, socket.read_to_end(&mut received)).await;
    socket.set_zero_linger().expect("SO_LINGER");
    drop(socket);
    match read {
        Ok(Ok(_)) => parse_response(&received),
        _ => None,
    }
}

fn parse_response(raw: &[u8]) -> Option<(u16, Value)> {
    let text = std::str::from_utf8(raw).ok()?;
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let (_, body) = text.split_once("\r\n\r\n")?;
    Some((status, serde_json::from_str(body).unwrap_or(Value::Null)))
}

async fn connect(app: &TestApp) -> MySqlConnection {
    let options = MySqlConnectOptions::from_str(&app.config.db.url).expect("a MySQL URL");
    MySqlConnection::connect_with(&options).await.expect("MySQL")
}

/// No connection of the origin's is inside a transaction once the work has settled (InnoDB's view), and no
/// connection is stuck in a statement.
async fn assert_no_open_transaction(db: &mut MySqlConnection, app: &TestApp) {
    let name = app.config.db.name().expect("a database name");
    let query = "SELECT COUNT(*) FROM information_schema.innodb_trx t \
                 JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id \
                 WHERE p.DB = ? AND p.ID <> CONNECTION_ID()";
    let settled = eventually(Duration::from_secs(10), async || {
        sqlx::query_scalar::<_, i64>(query).bind(name).fetch_one(&mut *db).await.expect("innodb_trx") == 0
    })
    .await;
    let open: Vec<(i64, String, Option<String>)> = sqlx::query_as(
        "SELECT CAST(t.trx_mysql_thread_id AS SIGNED), t.trx_state, t.trx_query FROM information_schema.innodb_trx t \
         JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id WHERE p.DB = ? AND p.ID <> CONNECTION_ID()",
    )
    .bind(name)
    .fetch_all(&mut *db)
    .await
    .expect("innodb_trx");
    assert!(settled, "transactions left open on the origin's connections: {open:?}");
}

/// Every write a client saw answered 201 is in MySQL (committed, so visible to another connection).
async fn assert_present(db: &mut MySqlConnection, answered: &Answered) {
    for id in &answered.tweets {
        let found: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tweets WHERE id = ?")
            .bind(id)
            .fetch_one(&mut *db)
            .await
            .expect("a count");
        assert_eq!(found, 1, "answered tweet {id} is not in MySQL");
    }
    for (user, tweet) in &answered.likes {
        let found: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM likes WHERE user_id = ? AND object_id = ?")
            .bind(user)
            .bind(tweet)
            .fetch_one(&mut *db)
            .await
            .expect("a count");
        assert_eq!(found, 1, "answered like of {tweet} by {user} is not in MySQL");
    }
    for (from, to) in &answered.follows {
        let found: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM friendships WHERE from_user_id = ? AND to_user_id = ?")
                .bind(from)
                .bind(to)
                .fetch_one(&mut *db)
                .await
                .expect("a count");
        assert_eq!(found, 1, "answered follow {from} → {to} is not in MySQL");
    }
    println!(
        "hang-ups: all {} answered tweets, {} likes and {} follows are in MySQL",
        answered.tweets.len(),
        answered.likes.len(),
        answered.follows.len()
    );
}

/// The outbox and the work queues drain, and nothing reached the dead-letter queue.
async fn assert_fanout_clean(app: &TestApp, db: &mut MySqlConnection) {
    let names = Names::new(&app.config.amqp.prefix);
    let connection = lapin::Connection::connect(&app.config.amqp.url, lapin::ConnectionProperties::default())
        .await
        .expect("RabbitMQ");
    let channel = connection.create_channel().await.expect("a channel");
    let drained = eventually(Duration::from_secs(60), async || {
        let outbox: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox").fetch_one(&mut *db).await.expect("a count");
        let plan = topology::ready_messages(&channel, &names.plan).await.expect("the plan queue");
        let deliver = topology::ready_messages(&channel, &names.deliver).await.expect("the deliver queue");
        outbox == 0 && plan == 0 && deliver == 0
    })
    .await;
    assert!(drained, "the outbox or the fanout queues did not drain");
    let dead = topology::ready_messages(&channel, &names.dead).await.expect("the dead-letter queue");
    assert_eq!(dead, 0, "messages were dead-lettered");
    let _ = connection.close(200, "checked").await;
}
