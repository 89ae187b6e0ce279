//! `GET /api/profiles/me/` and `PUT`/`PATCH /api/profiles/<profile_id>/` (JSON, form or multipart with
//! an `avatar` file).

use axum::{
    extract::{DefaultBodyLimit, State},
    routing::{get, put},
    Json, Router,
};
use rookery_shared::{
    ids::ProfileId,
    profiles::{MyProfile, ProfileUpdated, UpdateProfile},
};

use super::service;
use crate::{auth::AuthUser, config::Config, error::Result, extract::IdPath, media::form::UploadForm, state::AppState};

pub fn router(config: &Config) -> Router<AppState> {
    // One image plus the text fields.
    let upload_limit = config.media_max_bytes + config.max_body_bytes;
    Router::new()
        .route("/api/profiles/me", get(me))
        .route(
            "/api/profiles/{id}",
            put(update).patch(update).layer(DefaultBodyLimit::max(upload_limit)),
        )
}

async fn me(State(state): State<AppState>, user: AuthUser) -> Result<Json<MyProfile>> {
    Ok(Json(service::me(&state, user.user_id).await?))
}

async fn update(State(state): State<AppState>, user: AuthUser, IdPath(id): IdPath<ProfileId>, form: UploadForm<UpdateProfile>) -> Result<Json<ProfileUpdated>> {
    Ok(Json(service::update(&state, user, id, form).await?))
}
