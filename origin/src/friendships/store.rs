//! SQL of follows and the per-user counters.

use rookery_shared::ids::UserId;
use sqlx::{MySql, MySqlExecutor, Transaction};

use crate::db::Counter;

/// One follow as a list shows it: the other user and when.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct Edge {
    /// The friendship's id (pagination position).
    pub id: u64,
    pub user_id: UserId,
    pub created_at: i64,
}

/// Inserts the follow and bumps both counters. `Ok(false)` when it already existed.
#[tracing::instrument(skip(tx))]
pub async fn insert(
    tx: &mut Transaction<'_, MySql>,
    id: u64,
    from: UserId,
    to: UserId,
    created_at: i64,
) -> sqlx::Result<bool> {
    let inserted =
        sqlx::query("INSERT IGNORE INTO friendships (id, from_user_id, to_user_id, created_at) VALUES (?, ?, ?, ?)")
            .bind(id)
            .bind(from)
            .bind(to)
            .bind(created_at)
            .execute(&mut **tx)
            .await?
            .rows_affected()
            == 1;
    if inserted {
        adjust_counts(tx, from, to, 1).await?;
    }
    Ok(inserted)
}

/// Deletes the follow and lowers both counters. `Ok(false)` when there was none.
#[tracing::instrument(skip(tx))]
pub async fn delete(tx: &mut Transaction<'_, MySql>, from: UserId, to: UserId) -> sqlx::Result<bool> {
    let deleted = sqlx::query("DELETE FROM friendships WHERE from_user_id = ? AND to_user_id = ?")
        .bind(from)
        .bind(to)
        .execute(&mut **tx)
        .await?
        .rows_affected()
        == 1;
    if deleted {
        adjust_counts(tx, from, to, -1).await?;
    }
    Ok(deleted)
}

async fn adjust_counts(tx: &mut Transaction<'_, MySql>, from: UserId, to: UserId, delta: i32) -> sqlx::Result<()> {
    Counter::new("user_stats", "followings_count", "user_id").add(tx, from.0, delta).await?;
    Counter::new("user_stats", "followers_count", "user_id").add(tx, to.0, delta).await
}

/// Followers of `user`, newest follow first, friendship ids in `[from, below)`.
#[tracing::instrument(skip(db))]
pub async fn followers(
    db: impl MySqlExecutor<'_>,
    user: UserId,
    below: u64,
    from: u64,
    limit: u32,
) -> sqlx::Result<Vec<Edge>> {
    sqlx::query_as(
        "SELECT id, from_user_id AS user_id, created_at FROM friendships \
         WHERE to_user_id = ? AND id < ? AND id >= ? ORDER BY id DESC LIMIT ?",
    )
    .bind(user)
    .bind(below)
    .bind(from)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Users `user` follows, newest follow first, friendship ids in `[from, below)`.
#[tracing::instrument(skip(db))]
pub async fn followings(
    db: impl MySqlExecutor<'_>,
    user: UserId,
    below: u64,
    from: u64,
    limit: u32,
) -> sqlx::Result<Vec<Edge>> {
    sqlx::query_as(
        "SELECT id, to_user_id AS user_id, created_at FROM friendships \
         WHERE from_user_id = ? AND id < ? AND id >= ? ORDER BY id DESC LIMIT ?",
    )
    .bind(user)
    .bind(below)
    .bind(from)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Which of `others` `user` follows.
#[tracing::instrument(skip(db, others))]
pub async fn followed_among(db: impl MySqlExecutor<'_>, user: UserId, others: &[UserId]) -> sqlx::Result<Vec<UserId>> {
    if others.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = sqlx::QueryBuilder::new("SELECT to_user_id FROM friendships WHERE from_user_id = ");
    query.push_bind(user).push(" AND to_user_id IN ");
    crate::db::push_list(&mut query, others.iter().copied());
    query.build_query_scalar().fetch_all(db).await
}

/// One page of `user`'s followers for the fanout, in friendship-id order after `after` (keyset paging,
/// so a page costs the same wherever it starts): `(friendship id, follower)`.
#[tracing::instrument(skip(db))]
pub async fn follower_batch(
    db: impl MySqlExecutor<'_>,
    user: UserId,
    after: u64,
    limit: u32,
) -> sqlx::Result<Vec<(u64, UserId)>> {
    sqlx::query_as("SELECT id, from_user_id FROM friendships WHERE to_user_id = ? AND id > ? ORDER BY id LIMIT ?")
        .bind(user)
        .bind(after)
        .bind(limit)
        .fetch_all(db)
        .await
}

/// `(author, follower)` for every follower of each of `authors` (authors with few followers, planned
/// together: one query for a page of tweets instead of one per tweet).
#[tracing::instrument(skip_all, fields(authors = authors.len()))]
pub async fn followers_of_many(db: impl MySqlExecutor<'_>, authors: &[UserId]) -> sqlx::Result<Vec<(UserId, UserId)>> {
    if authors.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = sqlx::QueryBuilder::new("SELECT to_user_id, from_user_id FROM friendships WHERE to_user_id IN ");
    crate::db::push_list(&mut query, authors.iter().copied());
    query.build_query_as().fetch_all(db).await
}

/// `(user, follower count)` of those of `users` that have a stats row.
#[tracing::instrument(skip_all, fields(users = users.len()))]
pub async fn followers_counts(db: impl MySqlExecutor<'_>, users: &[UserId]) -> sqlx::Result<Vec<(UserId, u32)>> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = sqlx::QueryBuilder::new("SELECT user_id, followers_count FROM user_stats WHERE user_id IN ");
    crate::db::push_list(&mut query, users.iter().copied());
    query.build_query_as().fetch_all(db).await
}

/// `user`'s follower count as this transaction sees it (after its own changes).
pub async fn followers_count_in(tx: &mut Transaction<'_, MySql>, user: UserId) -> sqlx::Result<u64> {
    followers_count(&mut **tx, user).await
}

#[tracing::instrument(skip(db))]
pub async fn followers_count(db: impl MySqlExecutor<'_>, user: UserId) -> sqlx::Result<u64> {
    let count: Option<u32> = sqlx::query_scalar("SELECT followers_count FROM user_stats WHERE user_id = ?")
        .bind(user)
        .fetch_optional(db)
        .await?;
    Ok(count.map_or(0, u64::from))
}

/// The users `user` follows whose follower count is above `threshold` (their tweets are pulled at read
/// time instead of pushed).
#[tracing::instrument(skip(db))]
pub async fn pulled_followings(db: impl MySqlExecutor<'_>, user: UserId, threshold: u64) -> sqlx::Result<Vec<UserId>> {
    sqlx::query_scalar(
        "SELECT f.to_user_id FROM friendships f JOIN user_stats s ON s.user_id = f.to_user_id \
         WHERE f.from_user_id = ? AND s.followers_count > ?",
    )
    .bind(user)
    .bind(threshold)
    .fetch_all(db)
    .await
}

#[tracing::instrument(skip(db))]
pub async fn user_exists(db: impl MySqlExecutor<'_>, user: UserId) -> sqlx::Result<bool> {
    let found: Option<u64> =
        sqlx::query_scalar("SELECT id FROM users WHERE id = ?").bind(user).fetch_optional(db).await?;
    Ok(found.is_some())
}
