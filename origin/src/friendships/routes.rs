//! `/api/friendships/<user_id>/*`.

use axum::{extract::State, http::StatusCode, Json};
use rookery_shared::{
    error::Failure,
    friendships::{FriendshipItem, Unfollowed},
    ids::UserId,
    pagination::{EndlessPage, PageQuery},
};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::service::{self, Direction};
use crate::{
    auth::{AuthUser, MaybeUser},
    error::Result,
    extract::{IdPath, Query},
    openapi::responses::{NotFound, RateLimited, Unauthorized},
    pagination,
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(followers))
        .routes(routes!(followings))
        .routes(routes!(follow))
        .routes(routes!(unfollow))
}

/// Followers of a user
///
/// Endless pages of 20, newest follow first; `user` is the follower.
#[utoipa::path(
    get,
    path = "/api/friendships/{id}/followers",
    tag = "friendships",
    security((), ("bearer" = [])),
    params(("id" = u64, Path, description = "The user id."), PageQuery),
    responses(
        (status = 200, description = "A page of followers; `has_followed` is whether the caller follows each (false when anonymous).", body = EndlessPage<FriendshipItem>),
        (status = 400, description = "An unparseable datetime or a cursor this server did not produce.", body = Failure,
            example = json!({"success": false, "message": "Please check input", "errors": {"cursor": ["Invalid cursor."]}})),
        (status = 404, response = NotFound),
        (status = 429, response = RateLimited),
    ),
)]
async fn followers(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    IdPath(id): IdPath<UserId>,
    Query(query): Query<PageQuery>,
) -> Result<Json<EndlessPage<FriendshipItem>>> {
    let window = pagination::window(&query)?;
    Ok(Json(service::list(&state, viewer.map(|v| v.user_id), id, Direction::Followers, window).await?))
}

/// Users a user follows
///
/// Endless pages of 20, newest follow first; `user` is the followee.
#[utoipa::path(
    get,
    path = "/api/friendships/{id}/followings",
    tag = "friendships",
    security((), ("bearer" = [])),
    params(("id" = u64, Path, description = "The user id."), PageQuery),
    responses(
        (status = 200, description = "A page of followees; `has_followed` is whether the caller follows each (false when anonymous).", body = EndlessPage<FriendshipItem>),
        (status = 400, description = "An unparseable datetime or a cursor this server did not produce.", body = Failure,
            example = json!({"success": false, "message": "Please check input", "errors": {"cursor": ["Invalid cursor."]}})),
        (status = 404, response = NotFound),
        (status = 429, response = RateLimited),
    ),
)]
async fn followings(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    IdPath(id): IdPath<UserId>,
    Query(query): Query<PageQuery>,
) -> Result<Json<EndlessPage<FriendshipItem>>> {
    let window = pagination::window(&query)?;
    Ok(Json(service::list(&state, viewer.map(|v| v.user_id), id, Direction::Followings, window).await?))
}

/// Follow a user
///
/// Their recent tweets are merged into the caller's newsfeed; they are notified ("followed you").
#[utoipa::path(
    post,
    path = "/api/friendships/{id}/follow",
    tag = "friendships",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The user to follow.")),
    responses(
        (status = 201, description = "Now following: the followee, with `has_followed: true`.", body = FriendshipItem),
        (status = 400, description = "Following oneself, or already following.", body = Failure,
            examples(
                ("already" = (value = json!({"success": false, "message": "Please check input", "errors": {"message": ["You have already followed this user."]}}))),
                ("self" = (value = json!({"success": false, "message": "Please check input", "errors": {"message": ["You can not follow yourself."]}}))),
            )),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 429, response = RateLimited),
    ),
)]
async fn follow(
    State(state): State<AppState>,
    user: AuthUser,
    IdPath(id): IdPath<UserId>,
) -> Result<(StatusCode, Json<FriendshipItem>)> {
    Ok((StatusCode::CREATED, Json(service::follow(&state, user, id).await?)))
}

/// Unfollow a user
///
/// Their tweets leave the caller's newsfeed. Not following them is no error (`deleted: 0`).
#[utoipa::path(
    post,
    path = "/api/friendships/{id}/unfollow",
    tag = "friendships",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The user to unfollow.")),
    responses(
        (status = 200, description = "Done; `deleted` says whether there was a follow to remove.", body = Unfollowed),
        (status = 400, description = "Unfollowing oneself.", body = Failure,
            example = json!({"success": false, "message": "You cannot unfollow yourself"})),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 429, response = RateLimited),
    ),
)]
async fn unfollow(
    State(state): State<AppState>,
    user: AuthUser,
    IdPath(id): IdPath<UserId>,
) -> Result<Json<Unfollowed>> {
    let deleted = service::unfollow(&state, user, id).await?;
    Ok(Json(Unfollowed { success: true, deleted: u8::from(deleted) }))
}
