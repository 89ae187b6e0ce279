//! Rookery on clusters: two `origin serve` and two `origin worker` processes sharing one MySQL, a Redis
//! Cluster of three masters and three replicas and a three-node RabbitMQ cluster, with the edge under
//! `wrangler dev` in front of one origin. Clients post and like through both origins and the edge while
//! a Redis master, a RabbitMQ node and a worker are killed in turn; afterwards every feed, notification
//! and counter must be exactly what MySQL says, and the test prints what each fault cost.
//!
//! Run by `make test-cluster`, which starts the clusters (`scripts/cluster.sh`) and passes them in
//! `REDIS_CLUSTER_URLS` and `AMQP_URL`.

mod faults;
mod processes;
mod traffic;
mod verify;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use rookery_origin::{
    testing::{self, send, Account},
    Config,
};
use rookery_tests::wrangler::{Edge, EdgeVars};
use serde_json::json;

use crate::processes::Process;

const USERS: usize = 16;
/// Each user follows the next this many users (in a ring).
const FOLLOWS: usize = 8;
/// How long clients post under each fault, and when into that the fault strikes.
const TRAFFIC: Duration = Duration::from_secs(12);
const FAULT_AT: Duration = Duration::from_secs(3);
/// How long the feeds may take to catch up once a fault is over.
const SETTLE: Duration = Duration::from_secs(90);

/// Removes the test's database, keys and queues when the test ends, however it ends.
struct Cleanup(Config);

impl Drop for Cleanup {
    fn drop(&mut self) {
        testing::cleanup_blocking(&self.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn feeds_notifications_and_counters_survive_a_lost_redis_master_rabbitmq_node_and_worker() {
    let config = Config::for_tests();
    assert!(
        config.redis.cluster_urls.is_some() && config.amqp.urls().len() >= 3,
        "needs REDIS_CLUSTER_URLS and a three-node AMQP_URL: run `make test-cluster`"
    );
    let _cleanup = Cleanup(config.clone());

    // Consumers run in the workers only, as a split deployment has them.
    let serve = [("RUN_CONSUMERS", "off")];
    let origin_1 = Process::start("origin-1", "serve", &config, &serve).await;
    let origin_2 = Process::start("origin-2", "serve", &config, &serve).await;
    let mut worker_1 = Process::start("worker-1", "worker", &config, &[]).await;
    let worker_2 = Process::start("worker-2", "worker", &config, &[]).await;
    let db = sqlx::MySqlPool::connect(&config.db.url).await.expect("the test database, which the origin created");
    let port: u16 = origin_1.url.rsplit(':').next().and_then(|p| p.parse().ok()).expect("a port");
    let mut vars = EdgeVars::for_origin(&config, port, 1);
    vars.feed_cache_secs = 1;
    let edge = Edge::start(vars).await;

    // Four processes, four node ids, none set by hand.
    let leased: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM node_leases WHERE holder <> ''")
        .fetch_one(&db)
        .await
        .expect("node leases");
    assert_eq!(leased, 4, "each process leases its own node id");

    let http = reqwest::Client::new();
    let users = sign_up_and_follow(&http, &origin_1.url, &origin_2.url).await;
    let targets = vec![origin_1.url.clone(), origin_2.url.clone(), edge.url.clone()];
    let run = Run { db: &db, users: &users, targets: &targets, origins: [&origin_1, &origin_2] };
    let mut costs = Vec::new();
    // Every reader's timeline exists in Redis before the faults (a first read builds it), so deliveries
    // push into it rather than leave it to a rebuild.
    verify::feeds_settle(&db, &origin_2.url, &users, SETTLE).await;

    // 1. A Redis master dies; its replica takes over; the old master comes back as its replica.
    costs.push(
        run.phase("Redis master killed", &[&worker_1, &worker_2], || {
            let port = faults::kill_redis_master();
            std::thread::sleep(Duration::from_secs(6));
            faults::restart_redis(&port);
        })
        .await,
    );
    // Both workers consume: the broker shares the deliveries out.
    for worker in [&worker_1, &worker_2] {
        let delivered = worker.counter("rookery_fanout_deliveries_total", None).await;
        assert!(delivered > 0.0, "{} delivered nothing:\n{}", worker.name, worker.log_tail());
    }

    // 2. The RabbitMQ node every process connected to first dies, then comes back.
    costs.push(
        run.phase("RabbitMQ node killed", &[&worker_1, &worker_2], || {
            faults::kill_rabbit(1);
            std::thread::sleep(Duration::from_secs(6));
            faults::restart_rabbit(1);
        })
        .await,
    );

    // 3. A worker is SIGKILLed mid-fanout: the other relays and consumes what it left.
    let pid = worker_1.pid();
    costs.push(
        run.phase("worker SIGKILLed", &[&worker_2], move || {
            let _ = std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        })
        .await,
    );
    worker_1.kill();

    // Through the edge too, for the first few readers (its feed cache lives a second).
    verify::feeds_settle(&db, &edge.url, &users[..4], SETTLE).await;
    let acknowledged: Vec<(u64, u64)> = costs.iter().flat_map(|cost| cost.seen.tweets.iter().copied()).collect();
    verify::likes_notified_once(&db, &acknowledged, SETTLE).await;
    verify::counters_match(&db).await;
    println!("\nwhat each fault cost (clients posting for {TRAFFIC:?}, the fault {FAULT_AT:?} in):");
    println!("{}", traffic::COST_HEADER);
    for cost in &costs {
        println!("{cost}");
    }
    drop((edge, worker_2, origin_2, origin_1));
}

/// What every phase shares.
struct Run<'a> {
    db: &'a sqlx::MySqlPool,
    users: &'a [Account],
    targets: &'a [String],
    origins: [&'a Process; 2],
}

impl Run<'_> {
    /// Clients post and like for [`TRAFFIC`] while `fault` strikes [`FAULT_AT`] in; then every feed must
    /// become exact. Returns what it cost.
    async fn phase(
        &self,
        fault: &'static str,
        workers: &[&Process],
        strike: impl FnOnce() + Send + 'static,
    ) -> traffic::Cost {
        let before = self.counters(workers).await;
        let (seen, fault_ran) = traffic::run(self.users, self.targets, TRAFFIC, FAULT_AT, strike).await;
        let settled = verify::feeds_settle(self.db, &self.origins[1].url, self.users, SETTLE).await;
        let after = self.counters(workers).await;
        traffic::Cost {
            fault,
            seen,
            fault_ran,
            redeliveries: after[0] - before[0],
            reads_without_redis: after[1] - before[1],
            rebuilds: after[2] - before[2],
            settled,
        }
    }

    /// Redeliveries on `workers`; feed reads without Redis and rebuilds on the origins.
    async fn counters(&self, workers: &[&Process]) -> [f64; 3] {
        let mut totals = [0.0; 3];
        for worker in workers {
            totals[0] += worker.counter("rookery_redeliveries_total", None).await;
        }
        for origin in self.origins {
            let reads = "rookery_timeline_reads_total";
            totals[1] += origin.counter(reads, Some(("source", &["redis_down"]))).await;
            totals[2] += origin.counter(reads, Some(("source", &["rebuild"]))).await;
        }
        totals
    }
}

/// Signs `USERS` users up and has each follow the next `FOLLOWS` of them.
async fn sign_up_and_follow(http: &reqwest::Client, origin_1: &str, origin_2: &str) -> Vec<Account> {
    let mut users = Vec::new();
    for n in 0..USERS {
        let username = format!("cluster{n}");
        let body =
            json!({"username": username, "email": format!("{username}@example.com"), "password": "correct horse"});
        let reply = send(http, origin_1, Method::POST, "/api/accounts/signup/", None, Some(body)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "signup: {}", reply.body);
        users.push(Account {
            id: reply.body["user"]["id"].as_u64().expect("an id"),
            username,
            token: reply.body["token"].as_str().expect("a token").to_owned(),
        });
    }
    for (n, follower) in users.iter().enumerate() {
        for step in 1..=FOLLOWS {
            let followee = &users[(n + step) % USERS];
            let path = format!("/api/friendships/{}/follow/", followee.id);
            let reply = send(http, origin_2, Method::POST, &path, Some(&follower.token), Some(json!({}))).await;
            assert_eq!(reply.status, StatusCode::CREATED, "follow: {}", reply.body);
        }
    }
    users
}
