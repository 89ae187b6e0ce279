//! SQL of profiles joined with their users.

use rookery_shared::ids::UserId;
use sqlx::MySqlExecutor;

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
        "SELECT u.id, u.username, p.nickname, p.avatar_key FROM users u LEFT JOIN profiles p ON p.user_id = u.id WHERE u.id IN (",
    );
    let mut list = query.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    query.push(")");
    query.build_query_as().fetch_all(db).await
}
