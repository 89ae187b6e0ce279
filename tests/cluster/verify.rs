//! What must hold once the faults are over, checked against MySQL (the truth): every home feed holds
//! exactly the tweets of its reader and of whom they follow, each once; every like has its notification,
//! once; every counter matches its rows.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use reqwest::{Method, StatusCode};
use rookery_origin::testing::{eventually, send, Account};
use sqlx::MySqlPool;

/// Every tweet id of `reader`'s home feed at `base`, following the cursors; `None` if a page failed.
pub async fn feed(http: &reqwest::Client, base: &str, reader: &Account) -> Option<Vec<u64>> {
    let mut ids = Vec::new();
    let mut path = "/api/newsfeeds/".to_owned();
    for _ in 0..1000 {
        let reply = send(http, base, Method::GET, &path, Some(&reader.token), None).await;
        if reply.status != StatusCode::OK {
            return None;
        }
        for item in reply.body["results"].as_array()? {
            ids.push(item["id"].as_u64()?);
        }
        if reply.body["has_next_page"] != true {
            return Some(ids);
        }
        path = format!("/api/newsfeeds/?cursor={}", reply.body["next_cursor"].as_str()?);
    }
    None
}

/// What `reader`'s feed must hold, newest first: their tweets and those of whom they follow.
async fn expected_feed(db: &MySqlPool, reader: u64) -> Vec<u64> {
    sqlx::query_scalar(
        "SELECT id FROM tweets WHERE user_id = ? \
         OR user_id IN (SELECT to_user_id FROM friendships WHERE from_user_id = ?) ORDER BY id DESC",
    )
    .bind(reader)
    .bind(reader)
    .fetch_all(db)
    .await
    .expect("the expected feed")
}

/// Waits (up to `within`) until every reader's feed at `base` is exactly what MySQL says; panics naming
/// the first reader whose feed is not. Returns how long it took.
pub async fn feeds_settle(db: &MySqlPool, base: &str, readers: &[Account], within: Duration) -> Duration {
    let http = reqwest::Client::new();
    let started = std::time::Instant::now();
    let mut last = String::new();
    let settled = eventually(within, async || {
        for reader in readers {
            let expected = expected_feed(db, reader.id).await;
            let Some(got) = feed(&http, base, reader).await else {
                last = format!("the feed of {} did not answer", reader.username);
                return false;
            };
            if got != expected {
                let unique: BTreeSet<u64> = got.iter().copied().collect();
                let want: BTreeSet<u64> = expected.iter().copied().collect();
                last = format!(
                    "feed of {}: {} items ({} duplicated), {} missing, {} unexpected",
                    reader.username,
                    got.len(),
                    got.len() - unique.len(),
                    want.difference(&unique).count(),
                    unique.difference(&want).count()
                );
                return false;
            }
        }
        true
    })
    .await;
    assert!(settled, "the feeds did not settle within {within:?}: {last}");
    started.elapsed()
}

/// Every acknowledged tweet is in MySQL, and every like in MySQL has exactly one notification for the
/// tweet's author (none for liking one's own tweet).
pub async fn likes_notified_once(db: &MySqlPool, acknowledged_tweets: &[(u64, u64)], within: Duration) {
    let stored: BTreeSet<u64> =
        sqlx::query_scalar("SELECT id FROM tweets").fetch_all(db).await.expect("tweets").into_iter().collect();
    let lost: Vec<u64> = acknowledged_tweets.iter().map(|(_, id)| *id).filter(|id| !stored.contains(id)).collect();
    assert!(lost.is_empty(), "acknowledged tweets missing from MySQL: {lost:?}");

    let mut last = String::new();
    let settled = eventually(within, async || {
        let likes: Vec<(u64, u64, u64)> = sqlx::query_as(
            "SELECT l.user_id, l.object_id, t.user_id FROM likes l JOIN tweets t ON t.id = l.object_id \
             WHERE l.content_type = 'tweet' AND l.user_id <> t.user_id",
        )
        .fetch_all(db)
        .await
        .expect("likes");
        let notified: Vec<(u64, u64, u64, i64)> = sqlx::query_as(
            "SELECT actor_id, target_id, recipient_id, COUNT(*) FROM notifications \
             WHERE target_type = 'tweet' GROUP BY actor_id, target_id, recipient_id",
        )
        .fetch_all(db)
        .await
        .expect("notifications");
        let counts: BTreeMap<(u64, u64, u64), i64> =
            notified.into_iter().map(|(actor, target, recipient, n)| ((actor, target, recipient), n)).collect();
        let missing = likes.iter().filter(|like| !counts.contains_key(like)).count();
        let repeated = counts.values().filter(|n| **n > 1).count();
        last = format!("{} likes: {missing} without a notification, {repeated} notified more than once", likes.len());
        !likes.is_empty() && missing == 0 && repeated == 0
    })
    .await;
    assert!(settled, "notifications did not settle within {within:?}: {last}");
}

/// Denormalised counters equal their rows: likes and tweets counts, followers and followings.
pub async fn counters_match(db: &MySqlPool) {
    let wrong_likes: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM tweets t WHERE t.likes_count <> \
         (SELECT COUNT(*) FROM likes l WHERE l.content_type = 'tweet' AND l.object_id = t.id)",
    )
    .fetch_one(db)
    .await
    .expect("likes counts");
    assert_eq!(wrong_likes, 0, "tweets whose likes_count is not their likes");
    let wrong_stats: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM user_stats s WHERE \
         s.tweets_count <> (SELECT COUNT(*) FROM tweets t WHERE t.user_id = s.user_id) \
         OR s.followers_count <> (SELECT COUNT(*) FROM friendships f WHERE f.to_user_id = s.user_id) \
         OR s.followings_count <> (SELECT COUNT(*) FROM friendships f WHERE f.from_user_id = s.user_id)",
    )
    .fetch_one(db)
    .await
    .expect("user stats");
    assert_eq!(wrong_stats, 0, "users whose counters are not their rows");
}
