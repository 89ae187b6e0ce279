//! `POST /api/likes/` and `POST /api/likes/cancel/`.

use axum::{extract::State, http::StatusCode, routing::post, Json, Router};
use rookery_shared::likes::{Like, LikeCancelled, LikeRequest};

use super::service;
use crate::{auth::AuthUser, error::Result, extract::Input, state::AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/likes", post(like)).route("/api/likes/cancel", post(cancel))
}

async fn like(State(state): State<AppState>, user: AuthUser, Input(body): Input<LikeRequest>) -> Result<(StatusCode, Json<Like>)> {
    Ok((StatusCode::CREATED, Json(service::like(&state, user, &body).await?)))
}

async fn cancel(State(state): State<AppState>, user: AuthUser, Input(body): Input<LikeRequest>) -> Result<Json<LikeCancelled>> {
    let deleted = service::cancel(&state, user, &body).await?;
    Ok(Json(LikeCancelled { success: true, deleted: u8::from(deleted) }))
}
