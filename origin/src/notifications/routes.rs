//! `/api/notifications/*`: the authenticated user's own notifications only.

use axum::{
    extract::{RawQuery, State},
    routing::{get, post, put},
    Json, Router,
};
use rookery_shared::{
    ids::NotificationId,
    input::parse_bool,
    notifications::{MarkedCount, Notification, NumberedPage, UnreadCount, UpdateNotification},
};

use super::service;
use crate::{
    auth::AuthUser,
    error::{ApiError, Result},
    extract::{IdPath, Input},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/notifications", get(list))
        .route("/api/notifications/unread-count", get(unread_count))
        .route("/api/notifications/mark-all-as-read", post(mark_all_as_read))
        .route("/api/notifications/{id}", put(update))
}

async fn list(State(state): State<AppState>, user: AuthUser, RawQuery(raw): RawQuery) -> Result<Json<NumberedPage<Notification>>> {
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

async fn unread_count(State(state): State<AppState>, user: AuthUser) -> Result<Json<UnreadCount>> {
    Ok(Json(UnreadCount { unread_count: service::unread_count(&state, user.user_id).await? }))
}

async fn mark_all_as_read(State(state): State<AppState>, user: AuthUser) -> Result<Json<MarkedCount>> {
    Ok(Json(MarkedCount { marked_count: service::mark_all_read(&state, user.user_id).await? }))
}

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
