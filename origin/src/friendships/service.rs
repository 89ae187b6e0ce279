//! Follow rules and the timeline side effects of following: the followee's recent tweets are merged into
//! the follower's home timeline, and taken out again on unfollow. A new follow notifies the followee.

use std::collections::HashSet;

use rookery_shared::{
    friendships::FriendshipItem,
    ids::{TweetId, UserId},
    notifications::TargetType,
    pagination::EndlessPage,
    timestamp::Timestamp,
};

use super::store::{self, Edge};
use crate::{
    auth::AuthUser,
    error::{ApiError, Result},
    ids::created_at_of,
    newsfeed::{
        self,
        timeline::{self, Kind, Window},
    },
    notifications::{self, verb::Verb},
    pagination, read,
    state::AppState,
    tweets,
};

pub async fn follow(state: &AppState, user: AuthUser, to: UserId) -> Result<FriendshipItem> {
    if to == user.user_id {
        return Err(ApiError::field("message", "You can not follow yourself."));
    }
    if !store::user_exists(&state.db, to).await? {
        return Err(ApiError::NotFound);
    }
    let id = state.ids.next();
    let mut tx = state.db.begin().await?;
    if !store::insert(&mut tx, id, user.user_id, to, created_at_of(id)).await? {
        return Err(ApiError::field("message", "You have already followed this user."));
    }
    let followers = store::followers_count_in(&mut tx, to).await?;
    let followed_you = notifications::service::Request {
        recipient: to,
        actor: user.user_id,
        verb: Verb::Followed,
        target_type: TargetType::User,
        target_id: user.user_id.0,
    };
    let notified = notifications::service::request(&mut tx, state, followed_you).await?;
    tx.commit().await?;
    if notified {
        state.outbox_notify.notify_one();
    }
    if followers == state.config.fanout.hybrid_threshold + 1 {
        threshold_crossed(state, to, Crossing::Up).await;
    }

    let cap = state.config.fanout.timeline_cap;
    let limit = u32::try_from(cap).unwrap_or(u32::MAX);
    let merged = match tweets::store::ids_by_user(&state.db, to, u64::MAX, 0, limit).await {
        Ok(ids) => {
            let ids: Vec<TweetId> = ids.into_iter().map(TweetId).collect();
            timeline::add(&state.redis, Kind::Home, &[user.user_id], &ids, cap).await.map_err(anyhow::Error::from)
        }
        Err(error) => Err(error.into()),
    };
    settle_home(state, user.user_id, merged).await;
    let followee = read::users::users(state, &[to]).await?.remove(&to).ok_or(ApiError::NotFound)?;
    Ok(FriendshipItem { user: followee, created_at: Timestamp(created_at_of(id)), has_followed: true })
}

/// `Ok(deleted)`: whether a follow existed.
pub async fn unfollow(state: &AppState, user: AuthUser, to: UserId) -> Result<bool> {
    if to == user.user_id {
        return Err(ApiError::BadRequest("You cannot unfollow yourself".into()));
    }
    if !store::user_exists(&state.db, to).await? {
        return Err(ApiError::NotFound);
    }
    let mut tx = state.db.begin().await?;
    let deleted = store::delete(&mut tx, user.user_id, to).await?;
    let followers = store::followers_count_in(&mut tx, to).await?;
    tx.commit().await?;
    if deleted && followers == state.config.fanout.hybrid_threshold {
        threshold_crossed(state, to, Crossing::Down).await;
    }
    if deleted {
        // The home timeline holds at most `cap` tweets, so the followee's newest `cap` cover all of theirs
        // that can be in it.
        let limit = u32::try_from(state.config.fanout.timeline_cap).unwrap_or(u32::MAX);
        // First the note that stops deliveries still in flight, then the removal: a delivery that ran
        // before the note is undone by the removal, one after it is skipped.
        let noted = timeline::note_unfollow(&state.redis, user.user_id, to).await.map_err(anyhow::Error::from);
        let removed = match noted {
            Err(error) => Err(error),
            Ok(()) => match tweets::store::ids_by_user(&state.db, to, u64::MAX, 0, limit).await {
                Ok(ids) => {
                    let ids: Vec<TweetId> = ids.into_iter().map(TweetId).collect();
                    timeline::remove(&state.redis, Kind::Home, &[user.user_id], &ids).await.map_err(anyhow::Error::from)
                }
                Err(error) => Err(error.into()),
            },
        };
        settle_home(state, user.user_id, removed).await;
    }
    Ok(deleted)
}

/// After a follow change: if the home timeline could not be updated, drop it so the next read rebuilds
/// it from MySQL; and forget the cached pulled-author list either way.
async fn settle_home(state: &AppState, user: UserId, updated: anyhow::Result<()>) {
    if let Err(error) = updated {
        tracing::warn!(error = format!("{error:#}"), user_id = %user, "home timeline not updated; dropping it");
        timeline::forget(&state.redis, &[Kind::Home], user).await;
    }
    newsfeed::pulled::forget(state, user).await;
}

enum Crossing {
    /// Now above the threshold: its tweets are pulled from here on.
    Up,
    /// Back at the threshold: its tweets are pushed again.
    Down,
}

/// An author's follower count crossed the hybrid threshold, so the fanout changes how it treats their
/// next tweets. Followers' cached lists of pulled authors are dropped so reads merge the author at once
/// (going up); going down, the tweets they posted while pulled were never pushed, so followers' home
/// timelines are dropped and rebuilt from MySQL on their next read. Both are rare events.
async fn threshold_crossed(state: &AppState, author: UserId, crossing: Crossing) {
    let mut after = 0;
    loop {
        let batch = match store::follower_batch(&state.db, author, after, state.config.fanout.batch_size).await {
            Ok(batch) => batch,
            Err(error) => {
                tracing::error!(%error, author_id = %author, "could not list followers after a threshold crossing");
                return;
            }
        };
        let Some((last, _)) = batch.last() else { return };
        after = *last;
        let followers: Vec<UserId> = batch.iter().map(|(_, follower)| *follower).collect();
        let mut keys: Vec<String> = followers.iter().map(|f| newsfeed::pulled::key(state, *f)).collect();
        if matches!(crossing, Crossing::Down) {
            keys.extend(followers.iter().map(|f| timeline::key(&state.redis, Kind::Home, *f)));
        }
        if let Err(error) = state.redis.delete(&keys).await {
            tracing::warn!(%error, "could not drop caches after a threshold crossing; they expire by themselves");
        }
    }
}

pub enum Direction {
    Followers,
    Followings,
}

pub async fn list(
    state: &AppState,
    viewer: Option<UserId>,
    user: UserId,
    direction: Direction,
    window: Window,
) -> Result<EndlessPage<FriendshipItem>> {
    let (below, from, limit) = pagination::bounds(&window);
    let edges: Vec<Edge> = match direction {
        Direction::Followers => store::followers(&state.db, user, below, from, limit).await?,
        Direction::Followings => store::followings(&state.db, user, below, from, limit).await?,
    };
    let others: Vec<UserId> = edges.iter().map(|e| e.user_id).collect();
    let users = read::users::users(state, &others).await?;
    let followed: HashSet<UserId> = match viewer {
        Some(viewer) => store::followed_among(&state.db, viewer, &others).await?.into_iter().collect(),
        None => HashSet::new(),
    };
    let items: Vec<(u64, FriendshipItem)> = edges
        .into_iter()
        .filter_map(|edge| {
            let user = users.get(&edge.user_id)?.clone();
            Some((
                edge.id,
                FriendshipItem {
                    has_followed: followed.contains(&edge.user_id),
                    user,
                    created_at: Timestamp(edge.created_at),
                },
            ))
        })
        .collect();
    let page = pagination::page(items, &window, |(id, _)| *id);
    Ok(EndlessPage {
        has_next_page: page.has_next_page,
        next_cursor: page.next_cursor,
        results: page.results.into_iter().map(|(_, item)| item).collect(),
    })
}
