//! Comments as lists and tweet details show them: author, `has_liked`, counters.

use rookery_shared::{
    comments::Comment,
    ids::{TweetId, UserId},
    timestamp::Timestamp,
};

use crate::{
    comments::{self, store::CommentRow},
    error::{ApiError, Result},
    ids::created_at_of,
    likes::ContentType,
    read,
    state::AppState,
};

/// Comments a list or a tweet detail shows at most (oldest first).
pub const LIST_LIMIT: u32 = 1000;

/// A tweet's comments, oldest first (none for an unknown tweet), up to [`LIST_LIMIT`].
pub async fn of_tweet(state: &AppState, viewer: Option<UserId>, tweet: TweetId) -> Result<Vec<Comment>> {
    let rows = comments::store::of_tweet(&state.db, tweet, LIST_LIMIT).await?;
    assemble(state, viewer, rows).await
}

pub async fn one(state: &AppState, viewer: Option<UserId>, row: CommentRow) -> Result<Comment> {
    assemble(state, viewer, vec![row]).await?.pop().ok_or(ApiError::NotFound)
}

async fn assemble(state: &AppState, viewer: Option<UserId>, rows: Vec<CommentRow>) -> Result<Vec<Comment>> {
    let authors: Vec<UserId> = rows.iter().map(|row| row.user_id).collect();
    let ids: Vec<u64> = rows.iter().map(|row| row.id.0).collect();
    let (users, liked) = tokio::try_join!(
        read::users::users(state, &authors),
        read::likes::liked(state, viewer, ContentType::Comment, &ids),
    )?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            Some(Comment {
                user: users.get(&row.user_id)?.clone(),
                has_liked: liked.contains(&row.id.0),
                created_at: Timestamp(created_at_of(row.id.0)),
                id: row.id,
                tweet_id: row.tweet_id,
                content: row.content,
                likes_count: u64::from(row.likes_count),
            })
        })
        .collect())
}
