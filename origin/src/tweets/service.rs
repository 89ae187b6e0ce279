//! Tweet rules: validation, the write path (MySQL transaction with its outbox event, then the author's
//! own timelines), deletion everywhere, and a user's tweets. Tweets are shaped for the API in
//! [`crate::read::tweets`].

use rookery_shared::{
    ids::{TweetId, UserId},
    pagination::EndlessPage,
    tweets::{CreateTweet, Tweet},
};

use super::store::{self, TweetRow};
use crate::{
    auth::AuthUser,
    comments,
    error::{ApiError, Result},
    events::Event,
    fanout::backlog::{self, Bounds},
    ids::created_at_of,
    likes::{self, ContentType},
    media::{self, form::UploadForm, key::Folder, service::Image},
    newsfeed::timeline::{self, Kind, Window},
    outbox, pagination, read,
    state::AppState,
};

pub fn validate_content(content: Option<&str>) -> Result<String> {
    let Some(content) = content else {
        return Err(ApiError::field("content", "This field is required."));
    };
    crate::text::content("content", content, 6, 140)
}

/// The content and photos of a `POST /api/tweets/`, every problem reported at once.
pub fn validate_upload(state: &AppState, form: &UploadForm<CreateTweet>) -> Result<(String, Vec<Image>)> {
    let mut errors = std::collections::BTreeMap::new();
    let content = match validate_content(form.fields.content.as_deref()) {
        Ok(content) => Some(content),
        Err(ApiError::Invalid(fields)) => {
            errors.extend(fields);
            None
        }
        Err(other) => return Err(other),
    };
    let files: Vec<_> = form.files_in("files").collect();
    let mut photos = Vec::with_capacity(files.len());
    if form.file_count > media::service::MAX_PHOTOS {
        errors.insert("files".to_owned(), vec![media::service::TOO_MANY_PHOTOS.to_owned()]);
    } else {
        let mut reasons: Vec<String> = Vec::new();
        for file in files {
            match media::service::validate(state, file) {
                Ok(image) => photos.push(image),
                Err(why) if !reasons.contains(&why) => reasons.push(why),
                Err(_) => {}
            }
        }
        if !reasons.is_empty() {
            errors.insert("files".to_owned(), reasons);
        }
    }
    match content {
        Some(content) if errors.is_empty() => Ok((content, photos)),
        _ => Err(ApiError::Invalid(errors)),
    }
}

/// Stores the tweet and its fanout event in one transaction, then puts it into the author's own
/// timelines so the author sees it on the next read; followers get it from the fanout. Photos are
/// written to the object store first and removed again if the transaction fails, so a tweet that is not
/// created leaves no files.
pub async fn create(state: &AppState, author: AuthUser, content: String, photos: Vec<Image>) -> Result<Tweet> {
    // Backpressure: while the fanout is too far behind, a new tweet would only reach its followers late.
    let bounds = Bounds { backlog: state.config.fanout.max_backlog, lag_ms: state.config.fanout.max_lag_ms };
    match backlog::admit(&state.backlog, bounds).await {
        Ok(false) => {}
        Ok(true) => state.metrics.tweets_delayed.inc(),
        Err(()) => {
            state.metrics.tweets_refused.inc();
            return Err(ApiError::Backlogged { retry_after_secs: 1 });
        }
    }
    let id = TweetId(state.ids.next());
    let photo_keys = media::service::store(state, Folder::Photos, photos).await?;
    let committed: Result<()> = async {
        let mut tx = state.db.begin().await?;
        store::insert(&mut tx, id, author.user_id, &content, created_at_of(id.0)).await?;
        store::insert_photos(&mut tx, id, &photo_keys).await?;
        outbox::store::enqueue(&mut tx, &state.ids, &Event::TweetCreated { tweet_id: id, author_id: author.user_id })
            .await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    if let Err(error) = committed {
        media::service::discard(state, &photo_keys).await;
        return Err(error);
    }
    state.outbox_notify.notify_one();

    let cap = state.config.fanout.timeline_cap;
    let (own, tweet) = ([author.user_id], [id]);
    let (user_tl, home_tl) = tokio::join!(
        timeline::add(&state.redis, Kind::User, &own, &tweet, cap),
        timeline::add(&state.redis, Kind::Home, &own, &tweet, cap),
    );
    if user_tl.is_err() || home_tl.is_err() {
        // The timelines may now lack the tweet: drop them so the next read rebuilds them from MySQL.
        forget_timelines(state, author.user_id).await;
    }
    tracing::info!(tweet_id = %id, "tweet created");
    let row = TweetRow { id, user_id: author.user_id, content, likes_count: 0, comments_count: 0, photo_keys };
    let mut tweets = read::tweets::assemble(state, Some(author.user_id), vec![row]).await?;
    tweets.pop().ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the new tweet's author is missing")))
}

/// Deletes the owner's tweet: gone from MySQL at once (lists and feeds skip ids that no longer resolve),
/// out of the author's timelines now and out of followers' timelines through the fanout.
pub async fn delete(state: &AppState, user: AuthUser, id: TweetId) -> Result<()> {
    let Some(author) = store::author(&state.db, id).await? else {
        return Err(ApiError::NotFound);
    };
    if author != user.user_id {
        return Err(ApiError::Forbidden);
    }
    let mut tx = state.db.begin().await?;
    // The tweet row first (the lock order of comments and likes), then what hangs off it.
    if !store::delete(&mut tx, id, author).await? {
        return Err(ApiError::NotFound);
    }
    let comments = comments::store::delete_of_tweet(&mut tx, id).await?;
    likes::store::delete_of_objects(&mut tx, ContentType::Tweet, &[id.0]).await?;
    crate::notifications::store::forget_tweet(&mut tx, author, id.0, &comments).await?;
    let photo_keys = store::delete_photos(&mut tx, id).await?;
    outbox::store::enqueue(&mut tx, &state.ids, &Event::TweetDeleted { tweet_id: id, author_id: author }).await?;
    tx.commit().await?;
    state.outbox_notify.notify_one();
    media::service::discard(state, &photo_keys).await;

    let (own, tweet) = ([author], [id]);
    let (a, b) = tokio::join!(
        timeline::remove(&state.redis, Kind::User, &own, &tweet),
        timeline::remove(&state.redis, Kind::Home, &own, &tweet),
    );
    if a.is_err() || b.is_err() {
        forget_timelines(state, author).await;
    }
    read::tweets::forget(state, &[id]).await;
    tracing::info!(tweet_id = %id, "tweet deleted");
    Ok(())
}

async fn forget_timelines(state: &AppState, user: UserId) {
    timeline::forget(&state.redis, &[Kind::User, Kind::Home], user).await;
}

/// A user's tweets, newest first, from their Redis timeline (MySQL beyond it or without Redis).
pub async fn list_by_user(
    state: &AppState,
    viewer: Option<UserId>,
    user: UserId,
    window: Window,
) -> Result<EndlessPage<Tweet>> {
    let ids = timeline::window_ids(state, Kind::User, user, window).await?;
    let tweets = read::tweets::hydrate(state, viewer, &ids).await?;
    Ok(pagination::page(tweets, &window, |t| t.id.0))
}
