//! Like rules: idempotent likes and cancels, and the notification a new like causes. The `has_liked`
//! and `likes` parts of other features' shapes are read in [`crate::read::likes`].

use rookery_shared::{
    ids::TweetId,
    likes::{Like, LikeRequest},
    notifications::TargetType,
    timestamp::Timestamp,
};

use super::{store, ContentType};
use crate::{
    auth::AuthUser,
    error::{ApiError, Result},
    ids::created_at_of,
    notifications::{self, verb::Verb},
    read,
    state::AppState,
};

const OBJECT_MISSING: &str = "Object does not exist.";

/// The parameters of a like or cancel, checked in the contract's order.
fn target(request: &LikeRequest) -> Result<(ContentType, u64)> {
    let missing: Vec<&'static str> =
        [("content_type", request.content_type.is_none()), ("object_id", request.object_id.is_none())]
            .into_iter()
            .filter_map(|(name, absent)| absent.then_some(name))
            .collect();
    if !missing.is_empty() {
        return Err(ApiError::Missing(missing));
    }
    let (Some(text), Some(object)) = (&request.content_type, &request.object_id) else {
        return Err(ApiError::Missing(vec!["content_type", "object_id"]));
    };
    let kind = ContentType::parse(text.trim())
        .ok_or_else(|| ApiError::field("content_type", format!("\"{text}\" is not a valid choice.")))?;
    let object = object.value().ok_or_else(|| ApiError::field("object_id", "A valid integer is required."))?;
    Ok((kind, object))
}

/// Likes the object. Liking it again changes nothing (no second counter bump, no second notification)
/// and answers the existing like.
pub async fn like(state: &AppState, user: AuthUser, request: &LikeRequest) -> Result<Like> {
    let (kind, object) = target(request)?;
    let id = state.ids.next();
    let mut tx = state.db.begin().await?;
    let Some(author) = store::lock_object(&mut tx, kind, object).await? else {
        return Err(ApiError::field("object_id", OBJECT_MISSING));
    };
    let inserted = store::insert(&mut tx, id, user.user_id, kind, object, created_at_of(id)).await?;
    let mut notified = false;
    if inserted {
        let (verb, target_type) = match kind {
            ContentType::Tweet => (Verb::LikedTweet, TargetType::Tweet),
            ContentType::Comment => (Verb::LikedComment, TargetType::Comment),
        };
        let request = notifications::service::Request {
            recipient: author,
            actor: user.user_id,
            verb,
            target_type,
            target_id: object,
        };
        notified = notifications::service::request(&mut tx, state, request).await?;
    }
    tx.commit().await?;
    if notified {
        state.outbox_notify.notify_one();
    }
    let like_id = if inserted {
        after_change(state, kind, object).await;
        id
    } else {
        store::find(&state.db, user.user_id, kind, object).await?.unwrap_or(id)
    };
    let liker = read::users::users(state, &[user.user_id]).await?.remove(&user.user_id).ok_or(ApiError::NotFound)?;
    Ok(Like { user: liker, created_at: Timestamp(created_at_of(like_id)) })
}

/// Takes the like back. `Ok(false)` when there was none.
pub async fn cancel(state: &AppState, user: AuthUser, request: &LikeRequest) -> Result<bool> {
    let (kind, object) = target(request)?;
    let mut tx = state.db.begin().await?;
    if store::lock_object(&mut tx, kind, object).await?.is_none() {
        return Err(ApiError::field("object_id", OBJECT_MISSING));
    }
    let deleted = store::delete(&mut tx, user.user_id, kind, object).await?;
    tx.commit().await?;
    if deleted {
        after_change(state, kind, object).await;
    }
    Ok(deleted)
}

/// Drops what caches the object's counter.
async fn after_change(state: &AppState, kind: ContentType, object: u64) {
    if kind == ContentType::Tweet {
        read::tweets::forget(state, &[TweetId(object)]).await;
    }
}
