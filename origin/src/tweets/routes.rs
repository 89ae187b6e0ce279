//! `/api/tweets/*`.

use axum::{
    extract::{DefaultBodyLimit, State},
    http::StatusCode,
    Json,
};
use rookery_shared::{
    accounts::Success,
    error::Failure,
    ids::{TweetId, UserId},
    pagination::{EndlessPage, PageQuery},
    tweets::{CreateTweet, Tweet, TweetDetail},
};
use serde::Deserialize;
use utoipa_axum::{
    router::{OpenApiRouter, UtoipaMethodRouterExt},
    routes,
};

use super::service;
use crate::{
    auth::{AuthUser, MaybeUser},
    config::Config,
    error::{ApiError, Result},
    extract::{IdPath, Query},
    media::form::UploadForm,
    openapi::{
        forms::TweetUpload,
        responses::{Backlogged, Forbidden, NotFound, RateLimited, Unauthorized},
    },
    pagination,
    state::AppState,
};

pub fn router(config: &Config) -> OpenApiRouter<AppState> {
    // Nine photos at the size cap, plus the text fields and multipart framing.
    let upload_limit = crate::auth::upload_limit(config);
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(create).layer(DefaultBodyLimit::max(upload_limit)))
        .routes(routes!(detail, remove))
}

#[derive(Deserialize)]
struct ListQuery {
    user_id: Option<String>,
    #[serde(flatten)]
    page: PageQuery,
}

/// A user's tweets
///
/// Newest first, in endless pages of 20.
#[utoipa::path(
    get,
    path = "/api/tweets",
    tag = "tweets",
    security((), ("bearer" = [])),
    params(("user_id" = u64, Query, description = "Whose tweets (required)."), PageQuery),
    responses(
        (status = 200, description = "A page of tweets; `has_liked` is the caller's (false when anonymous).", body = EndlessPage<Tweet>),
        (status = 400, description = "`user_id` missing or not an integer, an unparseable datetime, or a foreign cursor.", body = Failure,
            examples(
                ("missing" = (value = json!({"success": false, "message": "missing user_id in request"}))),
                ("bad id" = (value = json!({"success": false, "message": "Please check input", "errors": {"user_id": ["A valid integer is required."]}}))),
            )),
    ),
)]
async fn list(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<EndlessPage<Tweet>>> {
    let Some(user_id) = query.user_id else {
        return Err(ApiError::Missing(vec!["user_id"]));
    };
    let user_id: UserId =
        user_id.trim().parse().map_err(|_| ApiError::field("user_id", "A valid integer is required."))?;
    let window = pagination::window(&query.page)?;
    Ok(Json(service::list_by_user(&state, viewer.map(|v| v.user_id), user_id, window).await?))
}

/// Post a tweet
///
/// JSON or form with `content`, or `multipart/form-data` with `content` and up to nine image `files`,
/// shown in the order sent. The tweet reaches the followers' newsfeeds shortly after.
#[utoipa::path(
    post,
    path = "/api/tweets",
    tag = "tweets",
    security(("bearer" = [])),
    request_body(content(
        (CreateTweet = "application/json"),
        (TweetUpload = "multipart/form-data"),
    )),
    responses(
        (status = 201, description = "The new tweet; `photo_urls` are absolute, in upload order.", body = Tweet),
        (status = 400, description = "Content too short or long, more than nine files, or a file that is not an image or too large.", body = Failure,
            examples(
                ("content" = (value = json!({"success": false, "message": "Please check input", "errors": {"content": ["Ensure this field has at least 6 characters."]}}))),
                ("files" = (value = json!({"success": false, "message": "Please check input", "errors": {"files": ["You can upload 9 photos at most"]}}))),
            )),
        (status = 401, response = Unauthorized),
        (status = 429, response = RateLimited),
        (status = 503, response = Backlogged),
    ),
)]
async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    form: UploadForm<CreateTweet>,
) -> Result<(StatusCode, Json<Tweet>)> {
    let (content, photos) = service::validate_upload(&state, &form)?;
    Ok((StatusCode::CREATED, Json(service::create(&state, user, content, photos).await?)))
}

/// A tweet with its comments and likes
///
/// Comments oldest first (at most the 1,000 oldest), likes newest first (at most the 1,000 newest).
#[utoipa::path(
    get,
    path = "/api/tweets/{id}",
    tag = "tweets",
    security((), ("bearer" = [])),
    params(("id" = u64, Path, description = "The tweet id.")),
    responses(
        (status = 200, description = "The tweet.", body = TweetDetail),
        (status = 404, response = NotFound),
        (status = 429, response = RateLimited),
    ),
)]
async fn detail(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    IdPath(id): IdPath<TweetId>,
) -> Result<Json<TweetDetail>> {
    Ok(Json(crate::read::tweets::detail(&state, viewer.map(|v| v.user_id), id).await?))
}

/// Delete a tweet
///
/// Only the author may. It disappears from every list and feed at once, with its comments, likes and
/// photos.
#[utoipa::path(
    delete,
    path = "/api/tweets/{id}",
    tag = "tweets",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The tweet id.")),
    responses(
        (status = 200, description = "Deleted.", body = Success),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
)]
async fn remove(State(state): State<AppState>, user: AuthUser, IdPath(id): IdPath<TweetId>) -> Result<Json<Success>> {
    service::delete(&state, user, id).await?;
    Ok(Json(Success::OK))
}
