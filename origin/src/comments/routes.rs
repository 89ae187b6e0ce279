//! `/api/comments/*`.

use axum::{extract::State, http::StatusCode, Json};
use rookery_shared::{
    accounts::Success,
    comments::{Comment, CommentList, CreateComment, UpdateComment},
    error::Failure,
    ids::CommentId,
};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::service;
use crate::{
    auth::{AuthUser, MaybeUser},
    error::Result,
    extract::{IdPath, Input, Query},
    openapi::responses::{Forbidden, NotFound, RateLimited, Unauthorized},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(update, remove))
}

#[derive(Deserialize)]
struct ListQuery {
    tweet_id: Option<String>,
}

/// Comments of a tweet
///
/// Oldest first. An unknown tweet has no comments (an empty list, not a 404).
#[utoipa::path(
    get,
    path = "/api/comments",
    tag = "comments",
    security((), ("bearer" = [])),
    params(("tweet_id" = u64, Query, description = "The tweet whose comments to list (required).")),
    responses(
        (status = 200, description = "The comments; `has_liked` is the caller's (false when anonymous).", body = CommentList),
        (status = 400, description = "`tweet_id` missing or not an id.", body = Failure,
            example = json!({"success": false, "message": "missing tweet_id in request"})),
        (status = 429, response = RateLimited),
    ),
)]
async fn list(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<CommentList>> {
    let tweet = service::parse_list_tweet_id(query.tweet_id)?;
    Ok(Json(CommentList { comments: crate::read::comments::of_tweet(&state, viewer.map(|v| v.user_id), tweet).await? }))
}

/// Comment on a tweet
///
/// Notifies the tweet's author ("commented on your tweet") unless it is the caller.
#[utoipa::path(
    post,
    path = "/api/comments",
    tag = "comments",
    security(("bearer" = [])),
    request_body = CreateComment,
    responses(
        (status = 201, description = "The new comment.", body = Comment),
        (status = 400, description = "A field missing, content too long or empty, or no such tweet.", body = Failure,
            examples(
                ("unknown tweet" = (value = json!({"success": false, "message": "Please check input", "errors": {"tweet_id": ["Tweet does not exist."]}}))),
                ("missing" = (value = json!({"success": false, "message": "missing tweet_id,content in request"}))),
            )),
        (status = 401, response = Unauthorized),
        (status = 429, response = RateLimited),
    ),
)]
async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    Input(body): Input<CreateComment>,
) -> Result<(StatusCode, Json<Comment>)> {
    Ok((StatusCode::CREATED, Json(service::create(&state, user, body).await?)))
}

/// Edit a comment
///
/// Only `content` is read; other fields are ignored. Only the author may edit.
#[utoipa::path(
    put,
    path = "/api/comments/{id}",
    tag = "comments",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The comment id.")),
    request_body = UpdateComment,
    responses(
        (status = 200, description = "The edited comment.", body = Comment),
        (status = 400, description = "`content` missing, empty or over 140 characters.", body = Failure,
            example = json!({"success": false, "message": "Please check input", "errors": {"content": ["Ensure this field has no more than 140 characters."]}})),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 429, response = RateLimited),
    ),
)]
async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    IdPath(id): IdPath<CommentId>,
    Input(body): Input<UpdateComment>,
) -> Result<Json<Comment>> {
    Ok(Json(service::update(&state, user, id, body).await?))
}

/// Delete a comment
///
/// Only the author may delete; the comment's likes go with it.
#[utoipa::path(
    delete,
    path = "/api/comments/{id}",
    tag = "comments",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The comment id.")),
    responses(
        (status = 200, description = "Deleted.", body = Success),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 429, response = RateLimited),
    ),
)]
async fn remove(State(state): State<AppState>, user: AuthUser, IdPath(id): IdPath<CommentId>) -> Result<Json<Success>> {
    service::delete(&state, user, id).await?;
    Ok(Json(Success::OK))
}
