//! `GET /api/newsfeeds/`.

use axum::{extract::State, routing::get, Json, Router};
use rookery_shared::{pagination::{EndlessPage, PageQuery}, tweets::NewsFeedItem};

use super::service;
use crate::{auth::AuthUser, error::Result, extract::Query, pagination, state::AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/newsfeeds", get(list))
}

async fn list(State(state): State<AppState>, user: AuthUser, Query(query): Query<PageQuery>) -> Result<Json<EndlessPage<NewsFeedItem>>> {
    let window = pagination::window(&query)?;
    Ok(Json(service::feed(&state, user.user_id, window).await?))
}
