//! SQL of likes and of the counters they drive.
//!
//! Every write first locks the liked object's row (`FOR UPDATE`), then touches `likes`, then the counter
//! on that same row: likes and cancels of one object are serialised on it (no lost counter update), and
//! a concurrent delete of the object, which takes the same row first, cannot deadlock with them.

use rookery_shared::ids::UserId;
use sqlx::{MySql, MySqlExecutor, Transaction};

use super::ContentType;

#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct LikeRow {
    pub id: u64,
    pub user_id: UserId,
}

/// Locks the object's row for the rest of the transaction; its author, or `None` if it does not exist.
#[tracing::instrument(skip(tx))]
pub async fn lock_object(
    tx: &mut Transaction<'_, MySql>,
    kind: ContentType,
    object: u64,
) -> sqlx::Result<Option<UserId>> {
    sqlx::query_scalar(&format!("SELECT user_id FROM {} WHERE id = ? FOR UPDATE", kind.table()))
        .bind(object)
        .fetch_optional(&mut **tx)
        .await
}

/// Inserts the like and raises the object's counter. `Ok(false)` (nothing changed) when it existed.
#[tracing::instrument(skip(tx))]
pub async fn insert(
    tx: &mut Transaction<'_, MySql>,
    id: u64,
    user: UserId,
    kind: ContentType,
    object: u64,
    created_at: i64,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT IGNORE INTO likes (id, user_id, content_type, object_id, created_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(user)
    .bind(kind.as_str())
    .bind(object)
    .bind(created_at)
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1;
    if inserted {
        kind.likes_count().add(tx, object, 1).await?;
    }
    Ok(inserted)
}

/// Deletes the like and lowers the object's counter. `Ok(false)` when there was none.
#[tracing::instrument(skip(tx))]
pub async fn delete(
    tx: &mut Transaction<'_, MySql>,
    user: UserId,
    kind: ContentType,
    object: u64,
) -> sqlx::Result<bool> {
    let deleted = sqlx::query("DELETE FROM likes WHERE user_id = ? AND content_type = ? AND object_id = ?")
        .bind(user)
        .bind(kind.as_str())
        .bind(object)
        .execute(&mut **tx)
        .await?
        .rows_affected()
        == 1;
    if deleted {
        kind.likes_count().add(tx, object, -1).await?;
    }
    Ok(deleted)
}

/// The id of `user`'s like of the object, if any.
#[tracing::instrument(skip(db))]
pub async fn find(
    db: impl MySqlExecutor<'_>,
    user: UserId,
    kind: ContentType,
    object: u64,
) -> sqlx::Result<Option<u64>> {
    sqlx::query_scalar("SELECT id FROM likes WHERE user_id = ? AND content_type = ? AND object_id = ?")
        .bind(user)
        .bind(kind.as_str())
        .bind(object)
        .fetch_optional(db)
        .await
}

/// Which of `objects` `user` likes: one query for a whole page.
#[tracing::instrument(skip(db, objects), fields(count = objects.len()))]
pub async fn liked_among(
    db: impl MySqlExecutor<'_>,
    user: UserId,
    kind: ContentType,
    objects: &[u64],
) -> sqlx::Result<Vec<u64>> {
    if objects.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = sqlx::QueryBuilder::new("SELECT object_id FROM likes WHERE user_id = ");
    query.push_bind(user).push(" AND content_type = ").push_bind(kind.as_str()).push(" AND object_id IN ");
    crate::db::push_list(&mut query, objects.iter().copied());
    query.build_query_scalar().fetch_all(db).await
}

/// The object's newest likes, newest first.
#[tracing::instrument(skip(db))]
pub async fn of_object(
    db: impl MySqlExecutor<'_>,
    kind: ContentType,
    object: u64,
    limit: u32,
) -> sqlx::Result<Vec<LikeRow>> {
    sqlx::query_as("SELECT id, user_id FROM likes WHERE content_type = ? AND object_id = ? ORDER BY id DESC LIMIT ?")
        .bind(kind.as_str())
        .bind(object)
        .bind(limit)
        .fetch_all(db)
        .await
}

/// Deletes every like of `objects` (they are being deleted in the same transaction).
#[tracing::instrument(skip(tx, objects), fields(count = objects.len()))]
pub async fn delete_of_objects(
    tx: &mut Transaction<'_, MySql>,
    kind: ContentType,
    objects: &[u64],
) -> sqlx::Result<()> {
    if objects.is_empty() {
        return Ok(());
    }
    let mut query = sqlx::QueryBuilder::new("DELETE FROM likes WHERE content_type = ");
    query.push_bind(kind.as_str()).push(" AND object_id IN ");
    crate::db::push_list(&mut query, objects.iter().copied());
    query.build().execute(&mut **tx).await.map(drop)
}
