//! `GET /api/newsfeeds/`.

use axum::{extract::State, Json};
use rookery_shared::{
    error::Failure,
    pagination::{EndlessPage, PageQuery},
    tweets::NewsFeedItem,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::service;
use crate::{
    auth::AuthUser,
    error::Result,
    extract::Query,
    openapi::responses::{RateLimited, Unauthorized},
    pagination,
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// The caller's newsfeed
///
/// Their own tweets and those of the users they follow now, newest first, in endless pages of 20. A page
/// may momentarily hold fewer items when tweets on it were just deleted.
#[utoipa::path(
    get,
    path = "/api/newsfeeds",
    tag = "newsfeeds",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of the feed.", body = EndlessPage<NewsFeedItem>),
        (status = 400, description = "An unparseable datetime or a cursor this server did not produce.", body = Failure,
            example = json!({"success": false, "message": "Please check input", "errors": {"created_at__lt": ["Enter a valid date/time."]}})),
        (status = 401, response = Unauthorized),
        (status = 429, response = RateLimited),
    ),
)]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<PageQuery>,
) -> Result<Json<EndlessPage<NewsFeedItem>>> {
    let window = pagination::window(&query)?;
    Ok(Json(service::feed(&state, user.user_id, window).await?))
}
