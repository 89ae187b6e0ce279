//! `/api/tweets/*`.

use axum::{
    extract::State,
    http::StatusCode,
    routing::get,
    Json, Router,
};
use rookery_shared::{
    accounts::Success,
    ids::{TweetId, UserId},
    pagination::{EndlessPage, PageQuery},
    tweets::{CreateTweet, Tweet},
};
use serde::Deserialize;

use super::service;
use crate::{
    auth::{AuthUser, MaybeUser},
    error::{ApiError, Result},
    extract::{IdPath, Input, Query},
    pagination,
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/tweets", get(list).post(create))
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

async fn create(State(state): State<AppState>, user: AuthUser, Input(body): Input<CreateTweet>) -> Result<(StatusCode, Json<Tweet>)> {
    let content = service::validate_content(body.content.as_deref())?;
    Ok((StatusCode::CREATED, Json(service::create(&state, user, content).await?)))
}

async fn detail(State(state): State<AppState>, MaybeUser(viewer): MaybeUser, IdPath(id): IdPath<TweetId>) -> Result<Json<Tweet>> {
    Ok(Json(service::detail(&state, viewer.map(|v| v.user_id), id).await?))
}

async fn remove(State(state): State<AppState>, user: AuthUser, IdPath(id): IdPath<TweetId>) -> Result<Json<Success>> {
    service::delete(&state, user, id).await?;
    Ok(Json(Success::OK))
}
