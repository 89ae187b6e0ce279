//! Users as every list shows them (`UserWithProfile`): cached per user, invalidated by profile changes.

use std::collections::HashMap;

use rookery_shared::{ids::UserId, users::UserWithProfile};

use crate::{error::Result, media, profiles, state::AppState};

const USER_CACHE_SECS: u64 = 3600;

fn cache_key(state: &AppState, id: UserId) -> String {
    state.redis.key(format_args!("user:{{{id}}}"))
}

/// The users with these ids that exist, cached. One MGET; misses from one MySQL query.
pub async fn users(state: &AppState, ids: &[UserId]) -> Result<HashMap<UserId, UserWithProfile>> {
    let mut unique: Vec<UserId> = ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    let keys: Vec<String> = unique.iter().map(|id| cache_key(state, *id)).collect();
    let cached: Vec<Option<UserWithProfile>> = state.redis.get_json(&keys).await;
    let mut found = HashMap::with_capacity(unique.len());
    let mut missing = Vec::new();
    for (id, hit) in unique.iter().zip(cached) {
        match hit {
            Some(user) => {
                found.insert(*id, user);
            }
            None => missing.push(*id),
        }
    }
    state.metrics.cache_lookups("user", found.len(), missing.len());
    if !missing.is_empty() {
        let rows = profiles::store::users_with_profiles(&state.db, &missing).await?;
        let mut fill = Vec::with_capacity(rows.len());
        for row in rows {
            let user = UserWithProfile {
                id: row.id,
                username: row.username,
                nickname: row.nickname,
                avatar_url: row.avatar_key.map(|key| media::service::url(state, &key)),
            };
            fill.push((cache_key(state, user.id), user.clone()));
            found.insert(user.id, user);
        }
        state.redis.fill_json(&fill, USER_CACHE_SECS).await;
    }
    Ok(found)
}

/// Drops a user's cached shape after a profile change (and keeps stale copies out, see
/// [`crate::cache::Redis::invalidate`]).
pub async fn forget(state: &AppState, id: UserId) {
    if let Err(error) = state.redis.invalidate(&[cache_key(state, id)]).await {
        tracing::warn!(%error, user_id = %id, "could not drop a cached user");
    }
}
