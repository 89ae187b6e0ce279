//! SQL of tweets.

use rookery_shared::ids::{TweetId, UserId};
use serde::{Deserialize, Serialize};
use sqlx::{MySql, MySqlExecutor, Transaction};

use crate::db::Counter;

/// A tweet row; also the cached form (`tweet:{id}` in Redis).
#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct TweetRow {
    pub id: TweetId,
    pub user_id: UserId,
    pub content: String,
    pub likes_count: u32,
    pub comments_count: u32,
    /// Object keys of the photos, in upload order (loaded with the row; tweets never change them).
    #[sqlx(skip)]
    #[serde(default)]
    pub photo_keys: Vec<String>,
}

#[tracing::instrument(skip(tx, content))]
pub async fn insert(
    tx: &mut Transaction<'_, MySql>,
    id: TweetId,
    user: UserId,
    content: &str,
    created_at: i64,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO tweets (id, user_id, content, created_at) VALUES (?, ?, ?, ?)")
        .bind(id)
        .bind(user)
        .bind(content)
        .bind(created_at)
        .execute(&mut **tx)
        .await?;
    TWEETS_COUNT.add(tx, user.0, 1).await
}

/// The author's number of tweets.
const TWEETS_COUNT: Counter = Counter::new("user_stats", "tweets_count", "user_id");

/// Deletes the tweet if `user` wrote it; `Ok(false)` otherwise.
#[tracing::instrument(skip(tx))]
pub async fn delete(tx: &mut Transaction<'_, MySql>, id: TweetId, user: UserId) -> sqlx::Result<bool> {
    let deleted = sqlx::query("DELETE FROM tweets WHERE id = ? AND user_id = ?")
        .bind(id)
        .bind(user)
        .execute(&mut **tx)
        .await?
        .rows_affected()
        == 1;
    if deleted {
        TWEETS_COUNT.add(tx, user.0, -1).await?;
    }
    Ok(deleted)
}

#[tracing::instrument(skip(db))]
pub async fn author(db: impl MySqlExecutor<'_>, id: TweetId) -> sqlx::Result<Option<UserId>> {
    sqlx::query_scalar("SELECT user_id FROM tweets WHERE id = ?").bind(id).fetch_optional(db).await
}

#[tracing::instrument(skip_all, fields(count = ids.len()))]
pub async fn by_ids(db: impl MySqlExecutor<'_>, ids: &[TweetId]) -> sqlx::Result<Vec<TweetRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut query =
        sqlx::QueryBuilder::new("SELECT id, user_id, content, likes_count, comments_count FROM tweets WHERE id IN ");
    crate::db::push_list(&mut query, ids.iter().copied());
    query.build_query_as().fetch_all(db).await
}

/// `(tweet id, object key)` of the photos of `ids`, each tweet's in upload order.
#[tracing::instrument(skip_all, fields(count = ids.len()))]
pub async fn photos_of(db: impl MySqlExecutor<'_>, ids: &[TweetId]) -> sqlx::Result<Vec<(TweetId, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = sqlx::QueryBuilder::new("SELECT tweet_id, object_key FROM tweet_photos WHERE tweet_id IN ");
    crate::db::push_list(&mut query, ids.iter().copied());
    query.push(" ORDER BY tweet_id, position");
    query.build_query_as().fetch_all(db).await
}

#[tracing::instrument(skip(tx, keys))]
pub async fn insert_photos(tx: &mut Transaction<'_, MySql>, tweet: TweetId, keys: &[String]) -> sqlx::Result<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let mut query = sqlx::QueryBuilder::new("INSERT INTO tweet_photos (tweet_id, position, object_key) ");
    query.push_values(keys.iter().enumerate(), |mut row, (position, key)| {
        row.push_bind(tweet).push_bind(u8::try_from(position).unwrap_or(u8::MAX)).push_bind(key);
    });
    query.build().execute(&mut **tx).await.map(drop)
}

/// Deletes the tweet's photo rows; returns their object keys (to remove after the commit).
#[tracing::instrument(skip(tx))]
pub async fn delete_photos(tx: &mut Transaction<'_, MySql>, tweet: TweetId) -> sqlx::Result<Vec<String>> {
    let keys: Vec<String> =
        sqlx::query_scalar("SELECT object_key FROM tweet_photos WHERE tweet_id = ? ORDER BY position")
            .bind(tweet)
            .fetch_all(&mut **tx)
            .await?;
    sqlx::query("DELETE FROM tweet_photos WHERE tweet_id = ?").bind(tweet).execute(&mut **tx).await?;
    Ok(keys)
}

/// Ids of `user`'s tweets in `[from, below)`, newest first.
#[tracing::instrument(skip(db))]
pub async fn ids_by_user(
    db: impl MySqlExecutor<'_>,
    user: UserId,
    below: u64,
    from: u64,
    limit: u32,
) -> sqlx::Result<Vec<u64>> {
    sqlx::query_scalar("SELECT id FROM tweets WHERE user_id = ? AND id < ? AND id >= ? ORDER BY id DESC LIMIT ?")
        .bind(user)
        .bind(below)
        .bind(from)
        .bind(limit)
        .fetch_all(db)
        .await
}

/// Ids of the tweets in `user`'s home feed (their own and their followees') in `[from, below)`, newest
/// first: the source of truth the Redis home timeline is rebuilt from.
///
/// Two steps on purpose: with a join, the optimiser may walk the whole tweets primary key newest-first
/// and test each row against the follow list. An explicit author list makes it a range scan per author
/// on `(user_id, id)` and a sort of only their rows.
#[tracing::instrument(skip(db))]
pub async fn ids_for_home(
    db: &crate::db::Db,
    user: UserId,
    below: u64,
    from: u64,
    limit: u32,
) -> sqlx::Result<Vec<u64>> {
    let mut authors: Vec<UserId> = sqlx::query_scalar("SELECT to_user_id FROM friendships WHERE from_user_id = ?")
        .bind(user)
        .fetch_all(db)
        .await?;
    authors.push(user);
    let mut ids = Vec::new();
    // Bounded IN lists; each chunk contributes at most `limit` ids, the merge keeps the newest `limit`.
    for chunk in authors.chunks(1_000) {
        let mut query = sqlx::QueryBuilder::new("SELECT id FROM tweets FORCE INDEX (tweets_user) WHERE user_id IN ");
        crate::db::push_list(&mut query, chunk.iter().copied());
        query.push(" AND id < ").push_bind(below).push(" AND id >= ").push_bind(from);
        query.push(" ORDER BY id DESC LIMIT ").push_bind(limit);
        ids.extend(query.build_query_scalar::<u64>().fetch_all(db).await?);
    }
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(ids)
}
