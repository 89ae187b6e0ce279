//! `POST /api/likes/` and `POST /api/likes/cancel/`.

use axum::{extract::State, http::StatusCode, Json};
use rookery_shared::likes::{Like, LikeCancelled, LikeRequest};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::service;
use crate::{
    auth::AuthUser,
    error::Result,
    extract::Input,
    openapi::responses::{LikeTargetInvalid, RateLimited, Unauthorized},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(like)).routes(routes!(cancel))
}

/// Like a tweet or comment
///
/// Liking again is a 201 that changes nothing. The author is notified ("liked your tweet" or "liked your
/// comment") unless it is the caller.
#[utoipa::path(
    post,
    path = "/api/likes",
    tag = "likes",
    security(("bearer" = [])),
    request_body = LikeRequest,
    responses(
        (status = 201, description = "The like (new or existing).", body = Like),
        (status = 400, response = LikeTargetInvalid),
        (status = 401, response = Unauthorized),
        (status = 429, response = RateLimited),
    ),
)]
async fn like(
    State(state): State<AppState>,
    user: AuthUser,
    Input(body): Input<LikeRequest>,
) -> Result<(StatusCode, Json<Like>)> {
    Ok((StatusCode::CREATED, Json(service::like(&state, user, &body).await?)))
}

/// Cancel a like
///
/// Not having liked it is no error (`deleted: 0`).
#[utoipa::path(
    post,
    path = "/api/likes/cancel",
    tag = "likes",
    security(("bearer" = [])),
    request_body = LikeRequest,
    responses(
        (status = 200, description = "Done; `deleted` says whether there was a like to remove.", body = LikeCancelled),
        (status = 400, response = LikeTargetInvalid),
        (status = 401, response = Unauthorized),
        (status = 429, response = RateLimited),
    ),
)]
async fn cancel(
    State(state): State<AppState>,
    user: AuthUser,
    Input(body): Input<LikeRequest>,
) -> Result<Json<LikeCancelled>> {
    let deleted = service::cancel(&state, user, &body).await?;
    Ok(Json(LikeCancelled { success: true, deleted: u8::from(deleted) }))
}
