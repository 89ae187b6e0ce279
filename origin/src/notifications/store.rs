//! SQL of notifications. Every query is scoped by recipient, the table's leading key.

use rookery_shared::ids::{NotificationId, UserId};
use sqlx::MySqlExecutor;

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

/// Inserts the notification unless a row with its id exists (a redelivered request).
#[tracing::instrument(skip(db))]
pub async fn insert(db: impl MySqlExecutor<'_>, row: &NotificationRow, created_at: i64) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT IGNORE INTO notifications (id, recipient_id, actor_id, verb, target_type, target_id, unread, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(row.id)
    .bind(row.recipient_id)
    .bind(row.actor_id)
    .bind(&row.verb)
    .bind(&row.target_type)
    .bind(row.target_id)
    .bind(row.unread)
    .bind(created_at)
    .execute(db)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

#[tracing::instrument(skip(db))]
pub async fn count(db: impl MySqlExecutor<'_>, recipient: UserId, unread: Option<bool>) -> sqlx::Result<u64> {
    let count: i64 = match unread {
        None => sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE recipient_id = ?").bind(recipient).fetch_one(db).await?,
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
pub async fn page(db: impl MySqlExecutor<'_>, recipient: UserId, unread: Option<bool>, offset: u64, limit: u64) -> sqlx::Result<Vec<NotificationRow>> {
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
pub async fn get(db: impl MySqlExecutor<'_>, recipient: UserId, id: NotificationId) -> sqlx::Result<Option<NotificationRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM notifications WHERE recipient_id = ? AND id = ?"))
        .bind(recipient)
        .bind(id)
        .fetch_optional(db)
        .await
}

#[tracing::instrument(skip(db))]
pub async fn set_unread(db: impl MySqlExecutor<'_>, recipient: UserId, id: NotificationId, unread: bool) -> sqlx::Result<()> {
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
