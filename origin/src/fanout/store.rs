//! The fanout's own SQL (follower pages and counts live in `friendships::store`).

use rookery_shared::ids::TweetId;
use sqlx::MySqlExecutor;

/// Which of `tweets` still exist: a tweet deleted before its fanout ran is not pushed (its removal may
/// already have been applied, and pushing after it would bring the tweet back).
#[tracing::instrument(skip_all, fields(count = tweets.len()))]
pub async fn existing_tweets(db: impl MySqlExecutor<'_>, tweets: &[TweetId]) -> sqlx::Result<Vec<TweetId>> {
    if tweets.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = sqlx::QueryBuilder::new("SELECT id FROM tweets WHERE id IN ");
    crate::db::push_list(&mut query, tweets.iter().copied());
    query.build_query_scalar().fetch_all(db).await
}
