//! Reading timelines: Redis first, rebuilt from MySQL when missing (one rebuild per timeline at a time,
//! across processes), MySQL for windows Redis cannot answer or when Redis is away; and the newsfeed page
//! with high-follower authors merged in at read time.

use rookery_shared::{ids::UserId, pagination::EndlessPage, tweets::NewsFeedItem};

use super::timeline::{self, Kind, Read, Window};
use crate::{error::Result, friendships, pagination, state::AppState, tweets};

const PULLED_CACHE_SECS: u64 = 60;

/// The ids of `user`'s timeline of `kind` in `window`, newest first, up to `limit + 1` of them.
pub async fn window_ids(state: &AppState, kind: Kind, user: UserId, window: Window) -> Result<Vec<u64>> {
    match timeline::read(&state.redis, kind, user, window).await {
        Ok(Read::Hit(ids)) => {
            state.metrics.timeline_reads.with_label_values(&[kind_label(kind), "hit"]).inc();
            return Ok(ids);
        }
        Ok(Read::Missing) => {
            state.metrics.timeline_reads.with_label_values(&[kind_label(kind), "rebuild"]).inc();
            if let Err(error) = rebuild(state, kind, user).await {
                tracing::warn!(error = format!("{error:#}"), user_id = %user, "timeline rebuild failed");
            }
        }
        Ok(Read::Partial) => {
            state.metrics.timeline_reads.with_label_values(&[kind_label(kind), "mysql"]).inc();
        }
        Err(error) => {
            state.metrics.timeline_reads.with_label_values(&[kind_label(kind), "redis_down"]).inc();
            tracing::debug!(%error, "timeline read from MySQL: Redis unavailable");
        }
    }
    let (below, from, limit) = pagination::bounds(&window);
    Ok(mysql_ids(state, kind, user, below, from, limit).await?)
}

/// Rebuilds a timeline from MySQL. `Ok(false)` when another process is rebuilding it right now.
pub async fn rebuild(state: &AppState, kind: Kind, user: UserId) -> anyhow::Result<bool> {
    let cap = state.config.timeline_cap;
    let limit = u32::try_from(cap + 1).unwrap_or(u32::MAX);
    let rebuilt = timeline::rebuild(&state.redis, kind, user, cap, || async move {
        Ok(mysql_ids(state, kind, user, u64::MAX, 0, limit).await?)
    })
    .await?;
    Ok(rebuilt.is_some())
}

async fn mysql_ids(
    state: &AppState,
    kind: Kind,
    user: UserId,
    below: u64,
    from: u64,
    limit: u32,
) -> sqlx::Result<Vec<u64>> {
    match kind {
        Kind::User => tweets::store::ids_by_user(&state.db, user, below, from, limit).await,
        Kind::Home => tweets::store::ids_for_home(&state.db, user, below, from, limit).await,
    }
}

fn kind_label(kind: Kind) -> &'static str {
    match kind {
        Kind::User => "user",
        Kind::Home => "home",
    }
}

/// The requester's newsfeed page: pushed tweets from the home timeline, merged with the recent tweets of
/// followed high-follower authors (never pushed), deduplicated, newest first.
pub async fn feed(state: &AppState, user: UserId, window: Window) -> Result<EndlessPage<NewsFeedItem>> {
    // Both are Redis reads on one multiplexed connection: issued together, they share a round trip.
    let (home, pulled) = tokio::try_join!(window_ids(state, Kind::Home, user, window), pulled_authors(state, user))?;
    let mut ids = home;
    let pulled_pages =
        futures::future::try_join_all(pulled.into_iter().map(|author| window_ids(state, Kind::User, author, window)))
            .await?;
    ids.extend(pulled_pages.into_iter().flatten());
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids.dedup();
    ids.truncate(window.limit + 1);
    let tweets = tweets::service::hydrate(state, Some(user), &ids).await?;
    let items =
        tweets.into_iter().map(|tweet| NewsFeedItem { id: tweet.id, created_at: tweet.created_at, tweet }).collect();
    Ok(pagination::page(items, &window, |item: &NewsFeedItem| item.id.0))
}

/// Followed authors whose tweets are pulled at read time, cached briefly (a follow or unfollow drops it).
async fn pulled_authors(state: &AppState, user: UserId) -> Result<Vec<UserId>> {
    let key = pulled_key(state, user);
    if let Some(Some(cached)) = state.redis.get_json::<Vec<UserId>>(std::slice::from_ref(&key)).await.pop() {
        state.metrics.cache_lookups("pulled_authors", 1, 0);
        return Ok(cached);
    }
    state.metrics.cache_lookups("pulled_authors", 0, 1);
    let authors = friendships::store::pulled_followings(&state.db, user, state.config.hybrid_threshold).await?;
    state.redis.set_json(&[(key, authors.clone())], PULLED_CACHE_SECS).await;
    Ok(authors)
}

pub fn pulled_key(state: &AppState, user: UserId) -> String {
    state.redis.key(format_args!("pulled:{{{user}}}"))
}

/// Drops the cached list of pulled authors after `user` followed or unfollowed someone.
pub async fn forget_pulled(state: &AppState, user: UserId) {
    if let Err(error) = state.redis.delete(&[pulled_key(state, user)]).await {
        tracing::warn!(%error, "could not drop the pulled-authors cache; it expires by itself");
    }
}
