//! SQL of notifications. Every query is scoped by recipient, the table's leading key.

use rookery_shared::{
    ids::{NotificationId, UserId},
    notifications::TargetType,
};
use sqlx::{MySql, MySqlExecutor, Transaction};

use super::verb::Verb;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: NotificationId,
    pub recipient_id: UserId,
    pub actor_id: UserId,
    pub verb: String,
    pub target_type: String,
    pub target_id: u64,
    pub unread: bool,
}

const COLUMNS: &str = "id, recipient_id, actor_id, verb, target_type, target_id, unread";

/// Inserts the notification, or refreshes the one the same actor already caused with the same verb on the
/// same target: it becomes unread again and moves to the top (takes the newer id). A redelivered request
/// (same id) changes nothing, and an older one arriving late never moves a notification back.
#[tracing::instrument(skip(db))]
pub async fn upsert(db: impl MySqlExecutor<'_>, row: &NotificationRow, created_at: i64) -> sqlx::Result<()> {
    // Assignments apply left to right, each seeing the ones before: `id` last, so the others compare
    // against the stored id.
    sqlx::query(
        "INSERT INTO notifications (id, recipient_id, actor_id, verb, target_type, target_id, unread, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
         ON DUPLICATE KEY UPDATE unread = IF(? > id, 1, unread), created_at = IF(? > id, ?, created_at), id = GREATEST(id, ?)",
    )
    .bind(row.id)
    .bind(row.recipient_id)
    .bind(row.actor_id)
    .bind(&row.verb)
    .bind(&row.target_type)
    .bind(row.target_id)
    .bind(row.unread)
    .bind(created_at)
    .bind(row.id)
    .bind(row.id)
    .bind(created_at)
    .bind(row.id)
    .execute(db)
    .await
    .map(drop)
}

/// Whether what a notification is about still exists, locked for share until the transaction ends. For
/// "commented on your tweet", that the actor still has a comment there.
#[tracing::instrument(skip(tx))]
pub async fn target_exists(
    tx: &mut Transaction<'_, MySql>,
    verb: Verb,
    target_type: TargetType,
    target_id: u64,
    actor: UserId,
) -> sqlx::Result<bool> {
    let found: Option<i32> = match (verb, target_type) {
        (Verb::CommentedOnTweet, _) => {
            // The tweet row, which every comment delete locks first, serialises this with them; the plain
            // read after it then sees whatever they committed (its snapshot starts here).
            let tweet: Option<i32> = sqlx::query_scalar("SELECT 1 FROM tweets WHERE id = ? LOCK IN SHARE MODE")
                .bind(target_id)
                .fetch_optional(&mut **tx)
                .await?;
            match tweet {
                None => None,
                Some(_) => {
                    sqlx::query_scalar("SELECT 1 FROM comments WHERE tweet_id = ? AND user_id = ? LIMIT 1")
                        .bind(target_id)
                        .bind(actor)
                        .fetch_optional(&mut **tx)
                        .await?
                }
            }
        }
        (_, TargetType::Tweet) => {
            sqlx::query_scalar("SELECT 1 FROM tweets WHERE id = ? LOCK IN SHARE MODE")
                .bind(target_id)
                .fetch_optional(&mut **tx)
                .await?
        }
        (_, TargetType::Comment) => {
            sqlx::query_scalar("SELECT 1 FROM comments WHERE id = ? LOCK IN SHARE MODE")
                .bind(target_id)
                .fetch_optional(&mut **tx)
                .await?
        }
        (_, TargetType::User) => Some(1),
    };
    Ok(found.is_some())
}

/// Deletes `recipient`'s notifications about these targets (they were deleted); returns how many.
#[tracing::instrument(skip(db))]
pub async fn delete_about(
    db: impl MySqlExecutor<'_>,
    recipient: UserId,
    target_type: &str,
    target_ids: &[u64],
) -> sqlx::Result<u64> {
    if target_ids.is_empty() {
        return Ok(0);
    }
    let mut query = sqlx::QueryBuilder::new("DELETE FROM notifications WHERE recipient_id = ");
    query.push_bind(recipient).push(" AND target_type = ").push_bind(target_type).push(" AND target_id IN ");
    crate::db::push_list(&mut query, target_ids.iter().copied());
    Ok(query.build().execute(db).await?.rows_affected())
}

/// Deletes the one notification `actor` caused with `verb` on a target.
#[tracing::instrument(skip(db))]
pub async fn delete_one(
    db: impl MySqlExecutor<'_>,
    recipient: UserId,
    target_type: &str,
    target_id: u64,
    verb: &str,
    actor: UserId,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM notifications WHERE recipient_id = ? AND target_type = ? AND target_id = ? AND verb = ? AND actor_id = ?")
        .bind(recipient)
        .bind(target_type)
        .bind(target_id)
        .bind(verb)
        .bind(actor)
        .execute(db)
        .await
        .map(drop)
}

#[tracing::instrument(skip(db))]
pub async fn count(db: impl MySqlExecutor<'_>, recipient: UserId, unread: Option<bool>) -> sqlx::Result<u64> {
    let count: i64 = match unread {
        None => {
            sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE recipient_id = ?")
                .bind(recipient)
                .fetch_one(db)
                .await?
        }
        Some(unread) => {
            sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE recipient_id = ? AND unread = ?")
                .bind(recipient)
                .bind(unread)
                .fetch_one(db)
                .await?
        }
    };
    Ok(u64::try_from(count).unwrap_or_default())
}

/// Newest first, `limit` rows after skipping `offset`.
#[tracing::instrument(skip(db))]
pub async fn page(
    db: impl MySqlExecutor<'_>,
    recipient: UserId,
    unread: Option<bool>,
    offset: u64,
    limit: u64,
) -> sqlx::Result<Vec<NotificationRow>> {
    let mut query = sqlx::QueryBuilder::new(format!("SELECT {COLUMNS} FROM notifications WHERE recipient_id = "));
    query.push_bind(recipient);
    if let Some(unread) = unread {
        query.push(" AND unread = ").push_bind(unread);
    }
    query.push(" ORDER BY id DESC LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
    query.build_query_as().fetch_all(db).await
}

/// The recipient's notification with this id; `None` for anyone else's.
#[tracing::instrument(skip(db))]
pub async fn get(
    db: impl MySqlExecutor<'_>,
    recipient: UserId,
    id: NotificationId,
) -> sqlx::Result<Option<NotificationRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM notifications WHERE recipient_id = ? AND id = ?"))
        .bind(recipient)
        .bind(id)
        .fetch_optional(db)
        .await
}

#[tracing::instrument(skip(db))]
pub async fn set_unread(
    db: impl MySqlExecutor<'_>,
    recipient: UserId,
    id: NotificationId,
    unread: bool,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE notifications SET unread = ? WHERE recipient_id = ? AND id = ?")
        .bind(unread)
        .bind(recipient)
        .bind(id)
        .execute(db)
        .await
        .map(drop)
}

/// Marks every unread notification read; returns how many were.
#[tracing::instrument(skip(db))]
pub async fn mark_all_read(db: impl MySqlExecutor<'_>, recipient: UserId) -> sqlx::Result<u64> {
    Ok(sqlx::query("UPDATE notifications SET unread = 0 WHERE recipient_id = ? AND unread = 1")
        .bind(recipient)
        .execute(db)
        .await?
        .rows_affected())
}

/// Deletes the notifications about a deleted tweet (its likes and comments) and about its deleted comments
/// (their likes), in the deleting transaction. `comments` are the tweet's comments with their authors.
pub async fn forget_tweet(
    tx: &mut Transaction<'_, MySql>,
    author: UserId,
    tweet: u64,
    comments: &[(u64, UserId)],
) -> sqlx::Result<()> {
    delete_about(&mut **tx, author, TargetType::Tweet.as_str(), &[tweet]).await?;
    let mut by_author: std::collections::BTreeMap<UserId, Vec<u64>> = std::collections::BTreeMap::new();
    for (comment, commenter) in comments {
        by_author.entry(*commenter).or_default().push(*comment);
    }
    for (commenter, ids) in by_author {
        delete_about(&mut **tx, commenter, TargetType::Comment.as_str(), &ids).await?;
    }
    Ok(())
}

/// Deletes the notifications a deleted comment caused: its likes, and "commented on your tweet" when it
/// was the commenter's last comment on that tweet.
pub async fn forget_comment(
    tx: &mut Transaction<'_, MySql>,
    comment: u64,
    commenter: UserId,
    tweet: u64,
    tweet_author: UserId,
    commenter_has_others: bool,
) -> sqlx::Result<()> {
    delete_about(&mut **tx, commenter, TargetType::Comment.as_str(), &[comment]).await?;
    if !commenter_has_others {
        let verb = Verb::CommentedOnTweet.text();
        delete_one(&mut **tx, tweet_author, TargetType::Tweet.as_str(), tweet, verb, commenter).await?;
    }
    Ok(())
}
