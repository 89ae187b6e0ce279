//! The likes parts of other shapes: which objects a viewer likes (`has_liked`) and an object's likers.

use std::collections::HashSet;

use rookery_shared::{ids::UserId, likes::Like, timestamp::Timestamp};

use crate::{
    error::Result,
    ids::created_at_of,
    likes::{self, ContentType},
    read,
    state::AppState,
};

/// Which of `objects` the viewer likes (none when anonymous).
pub async fn liked(
    state: &AppState,
    viewer: Option<UserId>,
    kind: ContentType,
    objects: &[u64],
) -> Result<HashSet<u64>> {
    let Some(viewer) = viewer else { return Ok(HashSet::new()) };
    if objects.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(likes::store::liked_among(&state.db, viewer, kind, objects).await?.into_iter().collect())
}

/// The object's newest `limit` likes, newest first.
pub async fn of_object(state: &AppState, kind: ContentType, object: u64, limit: u32) -> Result<Vec<Like>> {
    let rows = likes::store::of_object(&state.db, kind, object, limit).await?;
    let likers: Vec<UserId> = rows.iter().map(|row| row.user_id).collect();
    let users = read::users::users(state, &likers).await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            Some(Like { user: users.get(&row.user_id)?.clone(), created_at: Timestamp(created_at_of(row.id)) })
        })
        .collect())
}
