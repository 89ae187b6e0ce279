//! `/api/tweets/*`.

use axum::{
    extract::{DefaultBodyLimit, State},
    http::StatusCode,
    routing::{get, post},
    Json, Router,
};
use rookery_shared::{
    accounts::Success,
    ids::{TweetId, UserId},
    pagination::{EndlessPage, PageQuery},
    tweets::{CreateTweet, Tweet, TweetDetail},
};
use serde::Deserialize;

use super::service;
use crate::{
    auth::{AuthUser, MaybeUser},
    config::Config,
    error::{ApiError, Result},
    extract::{IdPath, Query},
    media::{form::UploadForm, service::MAX_PHOTOS},
    pagination,
    state::AppState,
};

pub fn router(config: &Config) -> Router<AppState> {
    // Nine photos at the size cap, plus the text fields and multipart framing.
    let upload_limit = MAX_PHOTOS * config.media_max_bytes + config.max_body_bytes;
    Router::new()
        .route("/api/tweets", get(list).merge(post(create).layer(DefaultBodyLimit::max(upload_limit))))
        .route("/api/tweets/{id}", get(detail).delete(remove))
}

#[derive(Deserialize)]
struct ListQuery {
    user_id: Option<String>,
    #[serde(flatten)]
    page: PageQuery,
}

async fn list(State(state): State<AppState>, MaybeUser(viewer): MaybeUser, Query(query): Query<ListQuery>) -> Result<Json<EndlessPage<Tweet>>> {
    let Some(user_id) = query.user_id else {
        return Err(ApiError::Missing(vec!["user_id"]));
    };
    let user_id: UserId = user_id.trim().parse().map_err(|_| ApiError::field("user_id", "A valid integer is required."))?;
    let window = pagination::window(&query.page)?;
    Ok(Json(service::list_by_user(&state, viewer.map(|v| v.user_id), user_id, window).await?))
}

/// JSON, form or multipart (`content` and up to nine `files`, in order).
async fn create(State(state): State<AppState>, user: AuthUser, form: UploadForm<CreateTweet>) -> Result<(StatusCode, Json<Tweet>)> {
    let (content, photos) = service::validate_upload(&state, &form)?;
    Ok((StatusCode::CREATED, Json(service::create_with_photos(&state, user, content, photos).await?)))
}

async fn detail(State(state): State<AppState>, MaybeUser(viewer): MaybeUser, IdPath(id): IdPath<TweetId>) -> Result<Json<TweetDetail>> {
    Ok(Json(service::detail(&state, viewer.map(|v| v.user_id), id).await?))
}

async fn remove(State(state): State<AppState>, user: AuthUser, IdPath(id): IdPath<TweetId>) -> Result<Json<Success>> {
    service::delete(&state, user, id).await?;
    Ok(Json(Success::OK))
}
