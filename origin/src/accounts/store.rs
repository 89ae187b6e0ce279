//! SQL of users, profiles and sessions, and the Redis cache of session liveness.

use redis::AsyncCommands;
use rookery_shared::ids::{ProfileId, SessionId, UserId};
use sqlx::{MySql, MySqlExecutor, Transaction};

use crate::cache::Redis;

#[derive(Debug, sqlx::FromRow)]
pub struct Credentials {
    pub id: UserId,
    pub username: String,
    pub password_hash: String,
}

pub struct NewUser<'a> {
    pub id: UserId,
    pub profile_id: ProfileId,
    pub username: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub now: i64,
}

#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn insert_user(tx: &mut Transaction<'_, MySql>, user: &NewUser<'_>) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO users (id, username, email, password_hash, created_at) VALUES (?, ?, ?, ?, ?)")
        .bind(user.id)
        .bind(user.username)
        .bind(user.email)
        .bind(user.password_hash)
        .bind(user.now)
        .execute(&mut **tx)
        .await?;
    sqlx::query("INSERT INTO profiles (id, user_id, created_at, updated_at) VALUES (?, ?, ?, ?)")
        .bind(user.profile_id)
        .bind(user.id)
        .bind(user.now)
        .bind(user.now)
        .execute(&mut **tx)
        .await?;
    sqlx::query("INSERT INTO user_stats (user_id) VALUES (?)").bind(user.id).execute(&mut **tx).await?;
    Ok(())
}

/// Which of `username` and `email` are already taken: `(username_taken, email_taken)`.
#[tracing::instrument(skip_all)]
pub async fn taken(db: impl MySqlExecutor<'_>, username: &str, email: &str) -> sqlx::Result<(bool, bool)> {
    let (by_name, by_email): (i64, i64) = sqlx::query_as(
        "SELECT \
           (SELECT COUNT(*) FROM users WHERE username = ?), \
           (SELECT COUNT(*) FROM users WHERE email = ?)",
    )
    .bind(username)
    .bind(email)
    .fetch_one(db)
    .await?;
    Ok((by_name > 0, by_email > 0))
}

#[tracing::instrument(skip_all)]
pub async fn credentials(db: impl MySqlExecutor<'_>, username: &str) -> sqlx::Result<Option<Credentials>> {
    sqlx::query_as("SELECT id, username, password_hash FROM users WHERE username = ?")
        .bind(username)
        .fetch_optional(db)
        .await
}

#[tracing::instrument(skip(db))]
pub async fn username(db: impl MySqlExecutor<'_>, user_id: UserId) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT username FROM users WHERE id = ?").bind(user_id).fetch_optional(db).await
}

#[tracing::instrument(skip(db))]
pub async fn insert_session(
    db: impl MySqlExecutor<'_>,
    id: SessionId,
    user_id: UserId,
    now: i64,
    expires_at: i64,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
        .bind(id)
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .execute(db)
        .await
        .map(drop)
}

/// Whether the session exists, is not revoked and has not expired at `now` (microseconds).
#[tracing::instrument(skip(db))]
pub async fn session_live(db: impl MySqlExecutor<'_>, id: SessionId, now: i64) -> sqlx::Result<bool> {
    let found: Option<u64> =
        sqlx::query_scalar("SELECT id FROM sessions WHERE id = ? AND revoked_at IS NULL AND expires_at > ?")
            .bind(id)
            .bind(now)
            .fetch_optional(db)
            .await?;
    Ok(found.is_some())
}

#[tracing::instrument(skip(db))]
pub async fn revoke_session(db: impl MySqlExecutor<'_>, id: SessionId, now: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(db)
        .await
        .map(drop)
}

/// Revokes every live session of `user` except `keep`; returns the ones revoked.
#[tracing::instrument(skip(tx))]
pub async fn revoke_sessions(
    tx: &mut Transaction<'_, MySql>,
    user: UserId,
    keep: Option<SessionId>,
    now: i64,
) -> sqlx::Result<Vec<SessionId>> {
    let live: Vec<SessionId> =
        sqlx::query_scalar("SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL FOR UPDATE")
            .bind(user)
            .fetch_all(&mut **tx)
            .await?;
    let ending: Vec<SessionId> = live.into_iter().filter(|id| Some(*id) != keep).collect();
    if ending.is_empty() {
        return Ok(ending);
    }
    let mut query = sqlx::QueryBuilder::new("UPDATE sessions SET revoked_at = ");
    query.push_bind(now).push(" WHERE user_id = ").push_bind(user).push(" AND id IN ");
    crate::db::push_list(&mut query, ending.iter().copied());
    query.build().execute(&mut **tx).await?;
    Ok(ending)
}

/// The stored password hash of `user`.
#[tracing::instrument(skip(db))]
pub async fn password_hash(db: impl MySqlExecutor<'_>, user: UserId) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT password_hash FROM users WHERE id = ?").bind(user).fetch_optional(db).await
}

#[tracing::instrument(skip(tx, hash))]
pub async fn set_password_hash(tx: &mut Transaction<'_, MySql>, user: UserId, hash: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
        .bind(hash)
        .bind(user)
        .execute(&mut **tx)
        .await
        .map(drop)
}

/// How long a cached session answer is trusted. Logout overwrites the entry at once; the TTL only bounds
/// how long a stale "live" could survive if Redis was unreachable during the logout itself.
const SESSION_CACHE_SECS: u64 = 30;

fn session_key(redis: &Redis, id: SessionId) -> String {
    redis.key(format_args!("session:{{{id}}}"))
}

/// The cached answer for a session, if Redis has one (and is reachable).
#[tracing::instrument(skip(redis))]
pub async fn cached_session(redis: &Redis, id: SessionId) -> Option<bool> {
    let mut conn = redis.conn().await.ok()?;
    let value: Option<String> = conn.get(session_key(redis, id)).await.ok()?;
    value.map(|v| v == "1")
}

#[tracing::instrument(skip(redis))]
pub async fn cache_session(redis: &Redis, id: SessionId, live: bool) -> redis::RedisResult<()> {
    let mut conn = redis.conn().await?;
    conn.set_ex(session_key(redis, id), if live { "1" } else { "0" }, SESSION_CACHE_SECS).await
}
