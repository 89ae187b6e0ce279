//! SQL of profiles joined with their users.

use rookery_shared::ids::{ProfileId, UserId};
use sqlx::{MySql, MySqlExecutor, Transaction};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserProfileRow {
    pub id: UserId,
    pub username: String,
    pub nickname: Option<String>,
    pub avatar_key: Option<String>,
}

#[tracing::instrument(skip_all, fields(count = ids.len()))]
pub async fn users_with_profiles(db: impl MySqlExecutor<'_>, ids: &[UserId]) -> sqlx::Result<Vec<UserProfileRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = sqlx::QueryBuilder::new(
        "SELECT u.id, u.username, p.nickname, p.avatar_key FROM users u LEFT JOIN profiles p ON p.user_id = u.id WHERE u.id IN ",
    );
    crate::db::push_list(&mut query, ids.iter().copied());
    query.build_query_as().fetch_all(db).await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProfileRow {
    pub id: ProfileId,
    pub user_id: UserId,
    pub nickname: Option<String>,
    pub avatar_key: Option<String>,
}

const PROFILE_COLUMNS: &str = "id, user_id, nickname, avatar_key";

#[tracing::instrument(skip(db))]
pub async fn profile(db: impl MySqlExecutor<'_>, id: ProfileId) -> sqlx::Result<Option<ProfileRow>> {
    sqlx::query_as(&format!("SELECT {PROFILE_COLUMNS} FROM profiles WHERE id = ?")).bind(id).fetch_optional(db).await
}

/// The profile, locked for the rest of the transaction.
#[tracing::instrument(skip(tx))]
pub async fn profile_for_update(tx: &mut Transaction<'_, MySql>, id: ProfileId) -> sqlx::Result<Option<ProfileRow>> {
    sqlx::query_as(&format!("SELECT {PROFILE_COLUMNS} FROM profiles WHERE id = ? FOR UPDATE"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
}

#[tracing::instrument(skip(db))]
pub async fn profile_of(db: impl MySqlExecutor<'_>, user: UserId) -> sqlx::Result<Option<ProfileRow>> {
    sqlx::query_as(&format!("SELECT {PROFILE_COLUMNS} FROM profiles WHERE user_id = ?"))
        .bind(user)
        .fetch_optional(db)
        .await
}

#[tracing::instrument(skip(db, row))]
pub async fn update(db: impl MySqlExecutor<'_>, row: &ProfileRow, now: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE profiles SET nickname = ?, avatar_key = ?, updated_at = ? WHERE id = ?")
        .bind(&row.nickname)
        .bind(&row.avatar_key)
        .bind(now)
        .bind(row.id)
        .execute(db)
        .await
        .map(drop)
}
