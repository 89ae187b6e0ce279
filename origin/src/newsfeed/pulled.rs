//! Which followed authors a reader's feed pulls at read time (high-follower authors are never pushed),
//! cached briefly; a follow or unfollow drops the reader's entry.

use rookery_shared::ids::UserId;

use crate::{error::Result, friendships, state::AppState};

const PULLED_CACHE_SECS: u64 = 60;

/// Followed authors whose tweets are pulled at read time, cached briefly (a follow or unfollow drops it).
pub async fn authors(state: &AppState, user: UserId) -> Result<Vec<UserId>> {
    let key = key(state, user);
    if let Some(Some(cached)) = state.redis.get_json::<Vec<UserId>>(std::slice::from_ref(&key)).await.pop() {
        state.metrics.cache_lookups("pulled_authors", 1, 0);
        return Ok(cached);
    }
    state.metrics.cache_lookups("pulled_authors", 0, 1);
    let authors = friendships::store::pulled_followings(&state.db, user, state.config.fanout.hybrid_threshold).await?;
    state.redis.set_json(&[(key, authors.clone())], PULLED_CACHE_SECS).await;
    Ok(authors)
}

pub fn key(state: &AppState, user: UserId) -> String {
    state.redis.key(format_args!("pulled:{{{user}}}"))
}

/// Drops the cached list of pulled authors after `user` followed or unfollowed someone.
pub async fn forget(state: &AppState, user: UserId) {
    if let Err(error) = state.redis.delete(&[key(state, user)]).await {
        tracing::warn!(%error, "could not drop the pulled-authors cache; it expires by itself");
    }
}
