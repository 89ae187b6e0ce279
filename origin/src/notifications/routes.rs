//! `/api/notifications/*`: the authenticated user's own notifications only.

use axum::{
    extract::{RawQuery, State},
    Json,
};
use rookery_shared::{
    error::{Detail, Failure},
    ids::NotificationId,
    input::parse_bool,
    notifications::{MarkedCount, Notification, NumberedPage, UnreadCount, UpdateNotification},
};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::service;
use crate::{
    auth::AuthUser,
    error::{ApiError, Result},
    extract::{IdPath, Input},
    openapi::responses::{NotFound, RateLimited, Unauthorized},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(unread_count))
        .routes(routes!(mark_all_as_read))
        .routes(routes!(update))
}

/// The caller's notifications
///
/// Newest first, in numbered pages of 10.
#[utoipa::path(
    get,
    path = "/api/notifications",
    tag = "notifications",
    security(("bearer" = [])),
    params(
        ("unread" = Option<bool>, Query, description = "Only unread (`true`) or only read (`false`) ones; all when absent."),
        ("page" = Option<u64>, Query, description = "The page number, from 1.", minimum = 1),
    ),
    responses(
        (status = 200, description = "A page; `next` and `previous` are absolute URLs or null.", body = NumberedPage<Notification>),
        (status = 400, description = "`unread` is not a boolean.", body = Failure,
            example = json!({"success": false, "message": "Please check input", "errors": {"unread": ["Enter a valid boolean."]}})),
        (status = 401, response = Unauthorized),
        (status = 404, description = "A page number past the last page.", body = Detail, example = json!({"detail": "Invalid page."})),
    ),
)]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    RawQuery(raw): RawQuery,
) -> Result<Json<NumberedPage<Notification>>> {
    let query: Vec<(String, String)> = serde_urlencoded::from_str(raw.as_deref().unwrap_or_default())
        .map_err(|e| ApiError::BadRequest(format!("Invalid query string - {e}")))?;
    let param = |name: &str| query.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let unread = match param("unread") {
        None | Some("") => None,
        Some(text) => Some(parse_bool(text).ok_or_else(|| ApiError::field("unread", "Enter a valid boolean."))?),
    };
    let page = match param("page") {
        None | Some("") => 1,
        Some(text) => text.trim().parse().map_err(|_| ApiError::InvalidPage)?,
    };
    Ok(Json(service::list(&state, user.user_id, unread, page, &query).await?))
}

/// Count unread notifications
#[utoipa::path(
    get,
    path = "/api/notifications/unread-count",
    tag = "notifications",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "How many are unread.", body = UnreadCount),
        (status = 401, response = Unauthorized),
        (status = 429, response = RateLimited),
    ),
)]
async fn unread_count(State(state): State<AppState>, user: AuthUser) -> Result<Json<UnreadCount>> {
    Ok(Json(UnreadCount { unread_count: service::unread_count(&state, user.user_id).await? }))
}

/// Mark all as read
#[utoipa::path(
    post,
    path = "/api/notifications/mark-all-as-read",
    tag = "notifications",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "How many were unread and are read now.", body = MarkedCount),
        (status = 401, response = Unauthorized),
        (status = 429, response = RateLimited),
    ),
)]
async fn mark_all_as_read(State(state): State<AppState>, user: AuthUser) -> Result<Json<MarkedCount>> {
    Ok(Json(MarkedCount { marked_count: service::mark_all_read(&state, user.user_id).await? }))
}

/// Mark one read or unread
///
/// Only `unread` is read; other fields are ignored. Another user's notification is not found.
#[utoipa::path(
    put,
    path = "/api/notifications/{id}",
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The notification id.")),
    request_body = UpdateNotification,
    responses(
        (status = 200, description = "The notification as it is now.", body = Notification),
        (status = 400, description = "`unread` missing or not a boolean.", body = Failure,
            example = json!({"success": false, "message": "missing unread in request"})),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 429, response = RateLimited),
    ),
)]
async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    IdPath(id): IdPath<NotificationId>,
    Input(body): Input<UpdateNotification>,
) -> Result<Json<Notification>> {
    let Some(unread) = body.unread else {
        return Err(ApiError::Missing(vec!["unread"]));
    };
    let unread = unread.value().ok_or_else(|| ApiError::field("unread", "Must be a valid boolean."))?;
    Ok(Json(service::set_unread(&state, user.user_id, id, unread).await?))
}
