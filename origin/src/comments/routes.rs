//! `/api/comments/*`.

use axum::{
    extract::State,
    http::StatusCode,
    routing::{get, put},
    Json, Router,
};
use rookery_shared::{
    accounts::Success,
    comments::{Comment, CommentList, CreateComment, UpdateComment},
    ids::CommentId,
};
use serde::Deserialize;

use super::service;
use crate::{
    auth::{AuthUser, MaybeUser},
    error::Result,
    extract::{IdPath, Input, Query},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/comments", get(list).post(create))
        .route("/api/comments/{id}", put(update).delete(remove))
}

#[derive(Deserialize)]
struct ListQuery {
    tweet_id: Option<String>,
}

async fn list(State(state): State<AppState>, MaybeUser(viewer): MaybeUser, Query(query): Query<ListQuery>) -> Result<Json<CommentList>> {
    let tweet = service::parse_list_tweet_id(query.tweet_id)?;
    Ok(Json(CommentList { comments: service::of_tweet(&state, viewer.map(|v| v.user_id), tweet).await? }))
}

async fn create(State(state): State<AppState>, user: AuthUser, Input(body): Input<CreateComment>) -> Result<(StatusCode, Json<Comment>)> {
    Ok((StatusCode::CREATED, Json(service::create(&state, user, body).await?)))
}

async fn update(State(state): State<AppState>, user: AuthUser, IdPath(id): IdPath<CommentId>, Input(body): Input<UpdateComment>) -> Result<Json<Comment>> {
    Ok(Json(service::update(&state, user, id, body).await?))
}

async fn remove(State(state): State<AppState>, user: AuthUser, IdPath(id): IdPath<CommentId>) -> Result<Json<Success>> {
    service::delete(&state, user, id).await?;
    Ok(Json(Success::OK))
}
