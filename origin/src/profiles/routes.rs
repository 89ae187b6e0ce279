//! `GET /api/profiles/me/` and `PUT`/`PATCH /api/profiles/<profile_id>/` (JSON, form or multipart with
//! an `avatar` file).

use axum::{
    extract::{DefaultBodyLimit, State},
    Json,
};
use rookery_shared::{
    error::Failure,
    ids::ProfileId,
    profiles::{MyProfile, ProfileUpdated, UpdateProfile},
};
use utoipa_axum::{
    router::{OpenApiRouter, UtoipaMethodRouterExt},
    routes,
};

use super::service;
use crate::{
    auth::AuthUser,
    config::Config,
    error::Result,
    extract::IdPath,
    media::form::UploadForm,
    openapi::{
        forms::ProfileUpload,
        responses::{Forbidden, NotFound, Unauthorized},
    },
    state::AppState,
};

pub fn router(config: &Config) -> OpenApiRouter<AppState> {
    // One image plus the text fields.
    let upload_limit = config.media.max_bytes + config.http.max_body_bytes;
    OpenApiRouter::new().routes(routes!(me)).routes(routes!(update).layer(DefaultBodyLimit::max(upload_limit)))
}

/// The caller's profile
///
/// Carries the profile id that `PUT /api/profiles/{id}/` needs (the `User` shape does not).
#[utoipa::path(
    get,
    path = "/api/profiles/me",
    tag = "profiles",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's profile.", body = MyProfile),
        (status = 401, response = Unauthorized),
    ),
)]
async fn me(State(state): State<AppState>, user: AuthUser) -> Result<Json<MyProfile>> {
    Ok(Json(service::me(&state, user.user_id).await?))
}

/// Update a profile
///
/// Only the owner may. Absent fields stay as they are; `nickname` `null` or `""` clears it, `avatar`
/// `null` removes the avatar. To upload an avatar, send `multipart/form-data` with an `avatar` file.
#[utoipa::path(
    method(put, patch),
    path = "/api/profiles/{id}",
    tag = "profiles",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The profile id (from `GET /api/profiles/me/`), not the user id.")),
    request_body(content(
        (UpdateProfile = "application/json"),
        (ProfileUpload = "multipart/form-data"),
    )),
    responses(
        (status = 200, description = "The profile as it is now; `avatar` is the avatar's absolute URL.", body = ProfileUpdated),
        (status = 400, description = "A nickname over 200 characters, or an avatar that is not an image or is too large.", body = Failure,
            example = json!({"success": false, "message": "Please check input", "errors": {"nickname": ["Ensure this field has no more than 200 characters."]}})),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
)]
async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    IdPath(id): IdPath<ProfileId>,
    form: UploadForm<UpdateProfile>,
) -> Result<Json<ProfileUpdated>> {
    Ok(Json(service::update(&state, user, id, form).await?))
}
