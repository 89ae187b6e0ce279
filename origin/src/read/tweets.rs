//! Tweets as every list, feed and detail shows them: rows through the object cache, then authors,
//! counters, `has_liked` and photo URLs; the detail view adds comments and likes.

use std::collections::HashMap;

use rookery_shared::{
    ids::{TweetId, UserId},
    timestamp::Timestamp,
    tweets::{Tweet, TweetDetail},
};

use crate::{
    error::{ApiError, Result},
    ids::created_at_of,
    likes::ContentType,
    media, read,
    state::AppState,
    tweets::{self, store::TweetRow},
};

const TWEET_CACHE_SECS: u64 = 3600;

/// Likes shown in a tweet detail at most (newest first).
const DETAIL_LIKES: u32 = 1000;

/// The tweet with its comments (oldest first) and likes (newest first).
pub async fn detail(state: &AppState, viewer: Option<UserId>, id: TweetId) -> Result<TweetDetail> {
    let tweet = hydrate(state, viewer, &[id.0]).await?.pop().ok_or(ApiError::NotFound)?;
    let (comments, likes) = tokio::try_join!(
        read::comments::of_tweet(state, viewer, id),
        read::likes::of_object(state, ContentType::Tweet, id.0, DETAIL_LIKES),
    )?;
    Ok(TweetDetail { tweet, comments, likes })
}

/// The `Tweet` shapes of `ids`, in the same order; ids that no longer exist (deleted) are skipped.
pub async fn hydrate(state: &AppState, viewer: Option<UserId>, ids: &[u64]) -> Result<Vec<Tweet>> {
    let rows = rows(state, ids).await?;
    assemble(state, viewer, rows).await
}

/// Tweet rows through the object cache: one MGET, misses from one MySQL query.
async fn rows(state: &AppState, ids: &[u64]) -> Result<Vec<TweetRow>> {
    let keys: Vec<String> = ids.iter().map(|id| cache_key(state, TweetId(*id))).collect();
    let cached: Vec<Option<TweetRow>> = state.redis.get_json(&keys).await;
    let missing: Vec<TweetId> =
        ids.iter().zip(&cached).filter(|(_, hit)| hit.is_none()).map(|(id, _)| TweetId(*id)).collect();
    state.metrics.cache_lookups("tweet", ids.len() - missing.len(), missing.len());
    let mut loaded: HashMap<TweetId, TweetRow> = HashMap::new();
    if !missing.is_empty() {
        let mut fetched = tweets::store::by_ids(&state.db, &missing).await?;
        let mut photos: HashMap<TweetId, Vec<String>> = HashMap::new();
        for (tweet, key) in tweets::store::photos_of(&state.db, &missing).await? {
            photos.entry(tweet).or_default().push(key);
        }
        for row in &mut fetched {
            row.photo_keys = photos.remove(&row.id).unwrap_or_default();
        }
        let fill: Vec<(String, TweetRow)> = fetched.iter().map(|row| (cache_key(state, row.id), row.clone())).collect();
        state.redis.fill_json(&fill, TWEET_CACHE_SECS).await;
        loaded = fetched.into_iter().map(|row| (row.id, row)).collect();
    }
    Ok(ids.iter().zip(cached).filter_map(|(id, hit)| hit.or_else(|| loaded.remove(&TweetId(*id)))).collect())
}

pub async fn assemble(state: &AppState, viewer: Option<UserId>, rows: Vec<TweetRow>) -> Result<Vec<Tweet>> {
    let authors: Vec<UserId> = rows.iter().map(|row| row.user_id).collect();
    // Only tweets someone has liked can be liked by the viewer: a page of unliked tweets (most pages)
    // needs no likes lookup at all.
    let ids: Vec<u64> = rows.iter().filter(|row| row.likes_count > 0).map(|row| row.id.0).collect();
    let (users, liked) = tokio::try_join!(
        read::users::users(state, &authors),
        read::likes::liked(state, viewer, ContentType::Tweet, &ids),
    )?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let user = users.get(&row.user_id)?.clone();
            Some(Tweet {
                id: row.id,
                user,
                created_at: Timestamp(created_at_of(row.id.0)),
                content: row.content,
                comments_count: u64::from(row.comments_count),
                likes_count: u64::from(row.likes_count),
                has_liked: liked.contains(&row.id.0),
                photo_urls: row.photo_keys.iter().map(|key| media::service::url(state, key)).collect(),
            })
        })
        .collect())
}

fn cache_key(state: &AppState, id: TweetId) -> String {
    state.redis.key(format_args!("tweet:{{{id}}}"))
}

/// Drops cached tweet rows after they changed (and keeps stale copies out, see
/// [`crate::cache::Redis::invalidate`]).
pub async fn forget(state: &AppState, ids: &[TweetId]) {
    let keys: Vec<String> = ids.iter().map(|id| cache_key(state, *id)).collect();
    if let Err(error) = state.redis.invalidate(&keys).await {
        tracing::warn!(%error, "could not drop cached tweets; they expire by themselves");
    }
}
