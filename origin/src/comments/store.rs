//! SQL of comments and the tweet counter they drive.
//!
//! Lock order, shared with likes and tweet deletion: the tweet row, then comment rows, then likes.

use rookery_shared::ids::{CommentId, TweetId, UserId};
use sqlx::{MySql, MySqlExecutor, Transaction};

use crate::{
    db::Counter,
    likes::{store as likes, ContentType},
};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CommentRow {
    pub id: CommentId,
    pub tweet_id: TweetId,
    pub user_id: UserId,
    pub content: String,
    pub likes_count: u32,
}

const COLUMNS: &str = "id, tweet_id, user_id, content, likes_count";

/// Locks the tweet's row; its author, or `None` if the tweet does not exist.
#[tracing::instrument(skip(tx))]
pub async fn lock_tweet(tx: &mut Transaction<'_, MySql>, tweet: TweetId) -> sqlx::Result<Option<UserId>> {
    sqlx::query_scalar("SELECT user_id FROM tweets WHERE id = ? FOR UPDATE").bind(tweet).fetch_optional(&mut **tx).await
}

/// Inserts the comment and raises the tweet's counter (lock the tweet first).
#[tracing::instrument(skip(tx, row), fields(id = %row.id))]
pub async fn insert(tx: &mut Transaction<'_, MySql>, row: &CommentRow, created_at: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO comments (id, tweet_id, user_id, content, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(row.id)
    .bind(row.tweet_id)
    .bind(row.user_id)
    .bind(&row.content)
    .bind(created_at)
    .bind(created_at)
    .execute(&mut **tx)
    .await?;
    COMMENTS_COUNT.add(tx, row.tweet_id.0, 1).await
}

/// The tweet's number of comments.
const COMMENTS_COUNT: Counter = Counter::new("tweets", "comments_count", "id");

#[tracing::instrument(skip(db))]
pub async fn get(db: impl MySqlExecutor<'_>, id: CommentId) -> sqlx::Result<Option<CommentRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM comments WHERE id = ?")).bind(id).fetch_optional(db).await
}

#[tracing::instrument(skip(db, content))]
pub async fn update_content(db: impl MySqlExecutor<'_>, id: CommentId, content: &str, now: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE comments SET content = ?, updated_at = ? WHERE id = ?")
        .bind(content)
        .bind(now)
        .bind(id)
        .execute(db)
        .await
        .map(drop)
}

/// Deletes the comment with its likes and lowers the tweet's counter (lock the tweet first).
/// `Ok(false)` when it was already gone.
#[tracing::instrument(skip(tx))]
pub async fn delete(tx: &mut Transaction<'_, MySql>, id: CommentId, tweet: TweetId) -> sqlx::Result<bool> {
    let deleted =
        sqlx::query("DELETE FROM comments WHERE id = ?").bind(id).execute(&mut **tx).await?.rows_affected() == 1;
    if deleted {
        likes::delete_of_objects(tx, ContentType::Comment, &[id.0]).await?;
        COMMENTS_COUNT.add(tx, tweet.0, -1).await?;
    }
    Ok(deleted)
}

/// Deletes every comment of a tweet being deleted in this transaction, and their likes. Returns the
/// deleted comments' ids with their authors.
#[tracing::instrument(skip(tx))]
pub async fn delete_of_tweet(tx: &mut Transaction<'_, MySql>, tweet: TweetId) -> sqlx::Result<Vec<(u64, UserId)>> {
    let comments: Vec<(u64, UserId)> = sqlx::query_as("SELECT id, user_id FROM comments WHERE tweet_id = ? FOR UPDATE")
        .bind(tweet)
        .fetch_all(&mut **tx)
        .await?;
    let ids: Vec<u64> = comments.iter().map(|(id, _)| *id).collect();
    likes::delete_of_objects(tx, ContentType::Comment, &ids).await?;
    sqlx::query("DELETE FROM comments WHERE tweet_id = ?").bind(tweet).execute(&mut **tx).await?;
    Ok(comments)
}

/// Whether `user` has a comment on `tweet` (after one of theirs was deleted in this transaction).
#[tracing::instrument(skip(tx))]
pub async fn has_commented(tx: &mut Transaction<'_, MySql>, tweet: TweetId, user: UserId) -> sqlx::Result<bool> {
    let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM comments WHERE tweet_id = ? AND user_id = ? LIMIT 1")
        .bind(tweet)
        .bind(user)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(found.is_some())
}

/// A tweet's first `limit` comments, oldest first.
#[tracing::instrument(skip(db))]
pub async fn of_tweet(db: impl MySqlExecutor<'_>, tweet: TweetId, limit: u32) -> sqlx::Result<Vec<CommentRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM comments WHERE tweet_id = ? ORDER BY id LIMIT ?"))
        .bind(tweet)
        .bind(limit)
        .fetch_all(db)
        .await
}
