//! The newsfeed page: pushed tweets from the home timeline merged with the recent tweets of followed
//! high-follower authors (pulled at read time).

use rookery_shared::{ids::UserId, pagination::EndlessPage, tweets::NewsFeedItem};

use super::{
    pulled,
    timeline::{self, Kind, Window},
};
use crate::{error::Result, pagination, read, state::AppState};

/// The requester's newsfeed page: pushed tweets from the home timeline, merged with the recent tweets of
/// followed high-follower authors (never pushed), deduplicated, newest first.
pub async fn feed(state: &AppState, user: UserId, window: Window) -> Result<EndlessPage<NewsFeedItem>> {
    // Both are Redis reads on one multiplexed connection: issued together, they share a round trip.
    let (home, pulled) =
        tokio::try_join!(timeline::window_ids(state, Kind::Home, user, window), pulled::authors(state, user))?;
    let mut ids = home;
    let pulled_pages = futures::future::try_join_all(
        pulled.into_iter().map(|author| timeline::window_ids(state, Kind::User, author, window)),
    )
    .await?;
    ids.extend(pulled_pages.into_iter().flatten());
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids.dedup();
    ids.truncate(window.limit + 1);
    let tweets = read::tweets::hydrate(state, Some(user), &ids).await?;
    let items =
        tweets.into_iter().map(|tweet| NewsFeedItem { id: tweet.id, created_at: tweet.created_at, tweet }).collect();
    Ok(pagination::page(items, &window, |item: &NewsFeedItem| item.id.0))
}
