//! RabbitMQ stopped for a minute while users post at a steady rate: posting goes on (the event waits in the
//! MySQL outbox), and once the broker is back every follower's feed holds every accepted tweet once.

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use reqwest::StatusCode;
use rookery_origin::testing::{eventually, spawn_app, Account, TestApp};
use serde_json::json;
use tokio::time::{sleep, Instant};

use crate::{
    load::{between, summary, Load},
    services::{self, Service, Stopped},
};

const OUTAGE: Duration = Duration::from_secs(60);
/// Five posts a second, spread over three authors.
const POST_EVERY: Duration = Duration::from_millis(200);
/// How long the backlog may take to reach every feed once the broker is back.
const RECOVERY_LIMIT: u64 = 120;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_post_accepted_while_rabbitmq_is_down_reaches_every_follower_once() {
    let _exclusive = services::exclusive().await;
    let app = Arc::new(spawn_app().await);
    let mut authors = Vec::new();
    for name in ["author_ada", "author_bea", "author_cyd"] {
        authors.push(app.signup(name).await);
    }
    let mut readers = Vec::new();
    for name in ["reader_rex", "reader_sam", "reader_tia", "reader_uma"] {
        let reader = app.signup(name).await;
        for author in &authors {
            app.follow(&reader, author).await;
        }
        // Opens the reader's timeline, so deliveries are pushed into it rather than rebuilt on read.
        app.feed(&reader, "").await;
        readers.push(reader);
    }

    let posts = {
        let (app, authors) = (app.clone(), authors.clone());
        Load::start(POST_EVERY, move |seq| {
            let (app, author) = (app.clone(), authors[(seq % 3) as usize].clone());
            async move {
                let (status, body) =
                    app.post("/api/tweets/", Some(&author.token), json!({"content": format!("post {seq}")})).await;
                (status.as_u16(), body)
            }
        })
    };
    let reads = {
        let (app, reader) = (app.clone(), readers[0].clone());
        Load::start(Duration::from_millis(500), move |_| {
            let (app, reader) = (app.clone(), reader.clone());
            async move {
                let (status, body) = app.get("/api/newsfeeds/", Some(&reader.token)).await;
                (status.as_u16(), body)
            }
        })
    };

    sleep(Duration::from_secs(5)).await;
    let outage = Stopped::stop(Service::RabbitMq).await;
    let down_at = Instant::now();
    sleep(OUTAGE.saturating_sub(down_at.elapsed())).await;
    outage.start().await;
    let up_at = Instant::now();
    sleep(Duration::from_secs(5)).await;
    let posts = posts.finish().await;
    let reads = reads.finish().await;

    let during = between(&posts, down_at, up_at);
    println!(
        "rabbitmq outage of {:.1?}: posts before {}",
        up_at - down_at,
        summary(&between(&posts, posts[0].sent, down_at))
    );
    println!("rabbitmq outage: posts during {}", summary(&during));
    println!("rabbitmq outage: posts after {}", summary(&between(&posts, up_at, Instant::now())));
    println!("rabbitmq outage: feed reads during {}", summary(&between(&reads, down_at, up_at)));
    assert!(during.len() >= 250, "the steady rate was not kept during the outage: {} posts", during.len());
    for post in &posts {
        assert_eq!(post.status, StatusCode::CREATED.as_u16(), "post {} was not accepted: {}", post.seq, post.body);
    }
    for read in &reads {
        assert_eq!(read.status, 200, "a feed read failed: {}", read.body);
    }

    let accepted: Vec<u64> = posts.iter().map(|p| p.body["id"].as_u64().expect("a tweet id")).collect();
    let expected: BTreeSet<u64> = accepted.iter().copied().collect();
    assert_eq!(expected.len(), accepted.len(), "two posts got one id");
    let recovered = eventually(Duration::from_secs(RECOVERY_LIMIT), || async {
        for reader in &readers {
            if feed_of(&app, reader).await.into_iter().collect::<BTreeSet<_>>() != expected {
                return false;
            }
        }
        true
    })
    .await;
    assert!(recovered, "not every accepted tweet reached every follower within {RECOVERY_LIMIT} s");
    println!(
        "rabbitmq outage: {} accepted tweets in all {} feeds {:.1?} after the broker returned",
        accepted.len(),
        readers.len(),
        up_at.elapsed()
    );
    for reader in &readers {
        let feed = feed_of(&app, reader).await;
        assert_eq!(feed.len(), expected.len(), "{}'s feed repeats a tweet", reader.username);
        let mut newest_first = accepted.clone();
        newest_first.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(feed, newest_first, "{}'s feed is not newest first", reader.username);
    }
}

/// Every tweet id of `reader`'s newsfeed, page by page.
async fn feed_of(app: &TestApp, reader: &Account) -> Vec<u64> {
    app.collect_ids("/api/newsfeeds/", Some(&reader.token)).await
}
