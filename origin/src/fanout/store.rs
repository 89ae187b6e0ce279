//! The fanout's own SQL (follower pages and counts live in `friendships::store`).

use rookery_shared::ids::TweetId;
use sqlx::MySqlExecutor;

/// Whether the tweet still exists: a tweet deleted before its fanout ran is not pushed (its removal may
/// already have been applied, and pushing after it would bring the tweet back).
#[tracing::instrument(skip(db))]
pub async fn tweet_exists(db: impl MySqlExecutor<'_>, tweet: TweetId) -> sqlx::Result<bool> {
    let found: Option<u64> =
        sqlx::query_scalar("SELECT id FROM tweets WHERE id = ?").bind(tweet).fetch_optional(db).await?;
    Ok(found.is_some())
}
