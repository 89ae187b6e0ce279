//! Comment rules: 1–140 characters, on a tweet that exists, changed or deleted by their author only;
//! the tweet's author is told about comments by others.

use rookery_shared::{
    comments::{Comment, CreateComment, UpdateComment},
    ids::{CommentId, TweetId},
    notifications::TargetType,
};

use super::store::{self, CommentRow};
use crate::{
    auth::AuthUser,
    error::{ApiError, Result},
    ids::{created_at_of, now_micros},
    notifications::{self, verb::Verb},
    read,
    state::AppState,
};

pub fn validate_content(content: &str) -> Result<String> {
    crate::text::content("content", content, 1, 140)
}

fn parse_tweet_id(raw: &rookery_shared::input::LooseId) -> Result<TweetId> {
    raw.value().map(TweetId).ok_or_else(|| ApiError::field("tweet_id", "A valid integer is required."))
}

pub async fn create(state: &AppState, user: AuthUser, request: CreateComment) -> Result<Comment> {
    let missing: Vec<&'static str> = [("tweet_id", request.tweet_id.is_none()), ("content", request.content.is_none())]
        .into_iter()
        .filter_map(|(name, absent)| absent.then_some(name))
        .collect();
    let (Some(tweet_id), Some(content)) = (&request.tweet_id, &request.content) else {
        return Err(ApiError::Missing(missing));
    };
    let tweet_id = parse_tweet_id(tweet_id)?;
    let content = validate_content(content)?;
    let row = CommentRow { id: CommentId(state.ids.next()), tweet_id, user_id: user.user_id, content, likes_count: 0 };
    let mut tx = state.db.begin().await?;
    let Some(tweet_author) = store::lock_tweet(&mut tx, tweet_id).await? else {
        return Err(ApiError::field("tweet_id", "Tweet does not exist."));
    };
    store::insert(&mut tx, &row, created_at_of(row.id.0)).await?;
    let request = notifications::service::Request {
        recipient: tweet_author,
        actor: user.user_id,
        verb: Verb::CommentedOnTweet,
        target_type: TargetType::Tweet,
        target_id: tweet_id.0,
    };
    let notified = notifications::service::request(&mut tx, state, request).await?;
    tx.commit().await?;
    if notified {
        state.outbox_notify.notify_one();
    }
    read::tweets::forget(state, &[tweet_id]).await;
    tracing::info!(comment_id = %row.id, "comment created");
    read::comments::one(state, Some(user.user_id), row).await
}

/// The author's comment, or 404 / 403.
async fn owned(state: &AppState, user: AuthUser, id: CommentId) -> Result<CommentRow> {
    let row = store::get(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    if row.user_id != user.user_id {
        return Err(ApiError::Forbidden);
    }
    Ok(row)
}

/// Changes the content; every other field of the request is ignored.
pub async fn update(state: &AppState, user: AuthUser, id: CommentId, request: UpdateComment) -> Result<Comment> {
    let mut row = owned(state, user, id).await?;
    let Some(content) = request.content else {
        return Err(ApiError::field("content", "This field is required."));
    };
    row.content = validate_content(&content)?;
    store::update_content(&state.db, id, &row.content, now_micros()).await?;
    read::comments::one(state, Some(user.user_id), row).await
}

pub async fn delete(state: &AppState, user: AuthUser, id: CommentId) -> Result<()> {
    let row = owned(state, user, id).await?;
    let mut tx = state.db.begin().await?;
    // The tweet first: the lock order every writer of these rows follows.
    let tweet_author = store::lock_tweet(&mut tx, row.tweet_id).await?;
    if !store::delete(&mut tx, id, row.tweet_id).await? {
        return Err(ApiError::NotFound);
    }
    if let Some(tweet_author) = tweet_author {
        let has_others = store::has_commented(&mut tx, row.tweet_id, row.user_id).await?;
        notifications::store::forget_comment(&mut tx, id.0, row.user_id, row.tweet_id.0, tweet_author, has_others)
            .await?;
    }
    tx.commit().await?;
    read::tweets::forget(state, &[row.tweet_id]).await;
    tracing::info!(comment_id = %id, "comment deleted");
    Ok(())
}

pub fn parse_list_tweet_id(raw: Option<String>) -> Result<TweetId> {
    let Some(raw) = raw else { return Err(ApiError::Missing(vec!["tweet_id"])) };
    parse_tweet_id(&rookery_shared::input::LooseId::Text(raw))
}
