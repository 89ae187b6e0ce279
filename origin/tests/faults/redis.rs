//! Redis flushed, then stopped and started, under a steady read load: every read answers 200 with the
//! right page (from MySQL while Redis is gone), a post made during the outage is kept, and the rebuilt
//! timelines equal the ones from before.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use redis::AsyncCommands;
use rookery_origin::{
    cache::Redis,
    newsfeed::timeline::{self, Kind},
    testing::{eventually, spawn_app},
};
use rookery_shared::ids::UserId;
use serde_json::Value;
use tokio::time::{sleep, Instant};

use crate::{
    load::{between, summary, Load},
    services::{self, Service, Stopped},
};

const PAGE: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reads_go_on_through_a_redis_flush_and_restart_and_timelines_rebuild_identically() {
    let _exclusive = services::exclusive().await;
    let app = Arc::new(spawn_app().await);
    let redis = Redis::new(&app.config.redis).expect("a Redis URL");
    let mut authors = Vec::new();
    for name in ["author_ada", "author_bea", "author_cyd"] {
        authors.push(app.signup(name).await);
    }
    let mut readers = Vec::new();
    for name in ["reader_rex", "reader_sam", "reader_tia", "reader_uma", "reader_vic", "reader_wes"] {
        let reader = app.signup(name).await;
        for author in &authors {
            app.follow(&reader, author).await;
        }
        app.feed(&reader, "").await;
        readers.push(reader);
    }
    let mut posted = Vec::new();
    for round in 0..10 {
        for author in &authors {
            posted.push(app.post_tweet(author, &format!("round {round}")).await["id"].as_u64().expect("an id"));
        }
    }
    posted.reverse();
    let before = eventually(Duration::from_secs(30), || async {
        for reader in &readers {
            if app.collect_ids("/api/newsfeeds/", Some(&reader.token)).await != posted {
                return false;
            }
        }
        true
    })
    .await;
    assert!(before, "the feeds never held every tweet");
    let mut timelines = BTreeMap::new();
    for reader in &readers {
        timelines.insert(reader.id, home_timeline(&redis, reader.id).await.expect("an open timeline"));
    }

    let reads = {
        let (app, readers) = (app.clone(), readers.clone());
        Load::start(Duration::from_millis(20), move |seq| {
            let (app, reader) = (app.clone(), readers[(seq % 6) as usize].clone());
            async move {
                let (status, body) = app.get("/api/newsfeeds/", Some(&reader.token)).await;
                (status.as_u16(), serde_json::json!({"reader": reader.id, "page": body}))
            }
        })
    };
    sleep(Duration::from_secs(3)).await;
    let flushed_at = Instant::now();
    delete_prefix(&redis).await;
    sleep(Duration::from_secs(5)).await;
    let outage = Stopped::stop(Service::Redis).await;
    let down_at = Instant::now();
    let (status, during) =
        app.post("/api/tweets/", Some(&authors[0].token), serde_json::json!({"content": "while Redis is away"})).await;
    assert_eq!(status, 201, "a post while Redis is down: {during}");
    let during = during["id"].as_u64().expect("an id");
    sleep(Duration::from_secs(10)).await;
    outage.start().await;
    let up_at = Instant::now();
    sleep(Duration::from_secs(5)).await;
    let reads = reads.finish().await;

    println!("redis faults: feed reads before the flush {}", summary(&between(&reads, reads[0].sent, flushed_at)));
    println!("redis faults: feed reads after the flush {}", summary(&between(&reads, flushed_at, down_at)));
    println!("redis faults: feed reads while Redis is down {}", summary(&between(&reads, down_at, up_at)));
    println!("redis faults: feed reads after the restart {}", summary(&between(&reads, up_at, Instant::now())));
    assert!(between(&reads, down_at, up_at).len() >= 100, "too few reads while Redis was down");
    let first_page = &posted[..PAGE];
    let with_during: Vec<u64> = std::iter::once(during).chain(posted.iter().copied()).take(PAGE).collect();
    for read in &reads {
        assert_eq!(read.status, 200, "read {} failed: {}", read.seq, read.body);
        let ids = page_ids(&read.body["page"]);
        assert!(ids == first_page || ids == with_during, "read {} returned a wrong page: {ids:?}", read.seq);
    }

    // Every feed, read again in full, holds the tweets from before plus the one posted during the outage,
    // and the timelines rebuilt from MySQL equal the ones from before plus that tweet.
    // The handle from before the outage holds a dead socket; a new one connects afresh.
    let redis = Redis::new(&app.config.redis).expect("a Redis URL");
    let mut expected = vec![during];
    expected.extend(&posted);
    for reader in &readers {
        let feed = app.collect_ids("/api/newsfeeds/", Some(&reader.token)).await;
        assert_eq!(feed, expected, "{}'s feed after the restart", reader.username);
        let mut want = timelines[&reader.id].clone();
        want.insert(0, during.to_string());
        let rebuilt = eventually(Duration::from_secs(10), || async {
            home_timeline(&redis, reader.id).await.as_ref() == Some(&want)
        })
        .await;
        assert!(
            rebuilt,
            "{}'s timeline was not rebuilt as before: {:?}",
            reader.username,
            home_timeline(&redis, reader.id).await
        );
    }
}

/// A home timeline's members, highest score first (markers included), or `None` if it does not exist.
async fn home_timeline(redis: &Redis, user: u64) -> Option<Vec<String>> {
    let mut conn = redis.conn().await.expect("Redis");
    let key = timeline::key(redis, Kind::Home, UserId(user));
    let members: Vec<String> = conn.zrevrange(&key, 0, -1).await.expect("ZREVRANGE");
    (!members.is_empty()).then_some(members)
}

/// Deletes every key of this origin's deployment, as `FLUSHDB` would on a Redis of its own.
async fn delete_prefix(redis: &Redis) {
    let mut conn = redis.conn().await.expect("Redis");
    let keys: Vec<String> = {
        let mut iter = conn.scan_match::<_, String>(format!("{}*", redis.prefix())).await.expect("SCAN");
        let mut keys = Vec::new();
        while let Some(key) = iter.next_item().await {
            keys.push(key);
        }
        keys
    };
    assert!(!keys.is_empty(), "nothing cached before the flush");
    let mut conn = redis.conn().await.expect("Redis");
    let _: () = conn.del(keys).await.expect("DEL");
}

fn page_ids(page: &Value) -> Vec<u64> {
    page["results"]
        .as_array()
        .map(|items| items.iter().filter_map(|item| item["id"].as_u64()).collect())
        .unwrap_or_default()
}
