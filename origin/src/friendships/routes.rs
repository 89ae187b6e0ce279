//! `/api/friendships/<user_id>/*`.

use axum::{extract::State, http::StatusCode, routing::{get, post}, Json, Router};
use rookery_shared::{
    friendships::{FriendshipItem, Unfollowed},
    ids::UserId,
    pagination::{EndlessPage, PageQuery},
};

use super::service::{self, Direction};
use crate::{
    auth::{AuthUser, MaybeUser},
    error::Result,
    extract::{IdPath, Query},
    pagination,
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/friendships/{id}/followers", get(followers))
        .route("/api/friendships/{id}/followings", get(followings))
        .route("/api/friendships/{id}/follow", post(follow))
        .route("/api/friendships/{id}/unfollow", post(unfollow))
}

async fn followers(State(state): State<AppState>, MaybeUser(viewer): MaybeUser, IdPath(id): IdPath<UserId>, Query(query): Query<PageQuery>) -> Result<Json<EndlessPage<FriendshipItem>>> {
    let window = pagination::window(&query)?;
    Ok(Json(service::list(&state, viewer.map(|v| v.user_id), id, Direction::Followers, window).await?))
}

async fn followings(State(state): State<AppState>, MaybeUser(viewer): MaybeUser, IdPath(id): IdPath<UserId>, Query(query): Query<PageQuery>) -> Result<Json<EndlessPage<FriendshipItem>>> {
    let window = pagination::window(&query)?;
    Ok(Json(service::list(&state, viewer.map(|v| v.user_id), id, Direction::Followings, window).await?))
}

async fn follow(State(state): State<AppState>, user: AuthUser, IdPath(id): IdPath<UserId>) -> Result<(StatusCode, Json<FriendshipItem>)> {
    Ok((StatusCode::CREATED, Json(service::follow(&state, user, id).await?)))
}

async fn unfollow(State(state): State<AppState>, user: AuthUser, IdPath(id): IdPath<UserId>) -> Result<Json<Unfollowed>> {
    let deleted = service::unfollow(&state, user, id).await?;
    Ok(Json(Unfollowed { success: true, deleted: u8::from(deleted) }))
}
