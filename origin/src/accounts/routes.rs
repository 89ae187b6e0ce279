//! `/api/accounts/*` and the edge's session check.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use rookery_shared::{
    accounts::{AuthResponse, ChangePasswordRequest, LoginRequest, LoginStatus, SessionsEnded, SignupRequest, Success},
    error::Failure,
    ids::SessionId,
    internal::SessionStatus,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::service;
use crate::{
    auth::{AuthUser, Identity, MaybeUser},
    error::{ApiError, Result},
    extract::Input,
    openapi::responses::{NotFound, RateLimited, Unauthorized},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(change_password))
        .routes(routes!(logout_everywhere))
        .routes(routes!(login_status))
        .routes(routes!(session_status))
}

/// Sign up
///
/// Creates the account and its profile and logs in. Copy the answer's `token`, press **Authorize** and
/// paste it: every call made here then carries it.
#[utoipa::path(
    post,
    path = "/api/accounts/signup",
    tag = "accounts",
    request_body = SignupRequest,
    responses(
        (status = 201, description = "Signed up and logged in.", body = AuthResponse),
        (status = 400, description = "Fields missing or invalid, or the username or email taken; every failure is listed.", body = Failure,
            examples(
                ("taken" = (value = json!({"success": false, "message": "Please check input",
                    "errors": {"username": ["This username has been occupied."], "email": ["This email address has been occupied."]}}))),
                ("invalid" = (value = json!({"success": false, "message": "Please check input",
                    "errors": {"password": ["Ensure this field has at least 6 characters."], "username": ["This field is required."]}}))),
            )),
        (status = 429, response = RateLimited),
    ),
)]
async fn signup(
    State(state): State<AppState>,
    Input(body): Input<SignupRequest>,
) -> Result<(StatusCode, Json<AuthResponse>)> {
    Ok((StatusCode::CREATED, Json(service::signup(&state, body).await?)))
}

/// Log in
///
/// A new session and its token; other sessions of the same user stay valid.
#[utoipa::path(
    post,
    path = "/api/accounts/login",
    tag = "accounts",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in.", body = AuthResponse),
        (status = 400, description = "A field is missing, the user does not exist, or the password does not match.", body = Failure,
            examples(
                ("unknown user" = (value = json!({"success": false, "message": "Please check input", "errors": {"username": ["User does not exist."]}}))),
                ("wrong password" = (value = json!({"success": false, "message": "Username and password does not match."}))),
                ("missing" = (value = json!({"success": false, "message": "missing username,password in request"}))),
            )),
        (status = 429, response = RateLimited),
    ),
)]
async fn login(State(state): State<AppState>, Input(body): Input<LoginRequest>) -> Result<Json<AuthResponse>> {
    Ok(Json(service::login(&state, body).await?))
}

/// Change the password
///
/// Needs the current password. Every other session of the user ends (their tokens are refused at the
/// origin at once, through the edge within its session cache bound, `SESSION_CACHE_SECS`); the token
/// used here keeps working.
#[utoipa::path(
    post,
    path = "/api/accounts/change_password",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 200, description = "Changed; `ended` other sessions were ended.", body = SessionsEnded,
            example = json!({"success": true, "ended": 2})),
        (status = 400, description = "A field is missing, the new password is invalid, or the old one is wrong.", body = Failure,
            examples(
                ("wrong old password" = (value = json!({"success": false, "message": "Please check input",
                    "errors": {"old_password": ["Your old password was entered incorrectly. Please enter it again."]}}))),
                ("invalid" = (value = json!({"success": false, "message": "Please check input",
                    "errors": {"new_password": ["Ensure this field has at least 6 characters."]}}))),
            )),
        (status = 401, response = Unauthorized),
        (status = 429, response = RateLimited),
    ),
)]
async fn change_password(
    State(state): State<AppState>,
    user: AuthUser,
    Input(body): Input<ChangePasswordRequest>,
) -> Result<Json<SessionsEnded>> {
    Ok(Json(service::change_password(&state, user, body).await?))
}

/// Log out everywhere
///
/// Ends every session of the user, the one of the token used included: every device has to log in again.
/// Takes effect at the origin at once, through the edge within its session cache bound.
#[utoipa::path(
    post,
    path = "/api/accounts/logout_all",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every session ended; `ended` says how many.", body = SessionsEnded,
            example = json!({"success": true, "ended": 3})),
        (status = 401, response = Unauthorized),
        (status = 429, response = RateLimited),
    ),
)]
async fn logout_everywhere(State(state): State<AppState>, user: AuthUser) -> Result<Json<SessionsEnded>> {
    Ok(Json(service::logout_everywhere(&state, user).await?))
}

/// Log out
///
/// Revokes the session of the token used (only that one); the token is refused from then on. Without a
/// token this does nothing and still succeeds.
#[utoipa::path(
    post,
    path = "/api/accounts/logout",
    tag = "accounts",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Logged out (or was not logged in).", body = Success),
        (status = 429, response = RateLimited),
    ),
)]
async fn logout(State(state): State<AppState>, MaybeUser(user): MaybeUser) -> Result<Json<Success>> {
    if let Some(user) = user {
        service::logout(&state, user.session_id).await?;
    }
    Ok(Json(Success::OK))
}

/// Login status
///
/// Whether the call carries a valid token, whose user that is, and the client IP the server saw (through
/// the edge, the caller's `CF-Connecting-IP`).
#[utoipa::path(
    get,
    path = "/api/accounts/login_status",
    tag = "accounts",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The caller's status; `user` only when logged in.", body = LoginStatus,
            examples(
                ("logged in" = (value = json!({"has_logged_in": true, "ip": "203.0.113.7", "user": {"id": 1861293756416001_u64, "username": "linghu_chong"}}))),
                ("anonymous" = (value = json!({"has_logged_in": false, "ip": "203.0.113.7"}))),
            )),
        (status = 429, response = RateLimited),
    ),
)]
async fn login_status(State(state): State<AppState>, identity: Identity) -> Result<Json<LoginStatus>> {
    let user = match identity.user {
        Some(auth) => service::user(&state, auth.user_id).await?,
        None => None,
    };
    Ok(Json(LoginStatus { has_logged_in: user.is_some(), ip: identity.client_ip, user }))
}

/// Session liveness (edge only)
///
/// Whether a login session is still live, i.e. whether its tokens would be accepted. Only the edge may
/// ask (the request must carry its signed `x-rookery-edge` assertion); anyone else gets a 404.
#[utoipa::path(
    get,
    path = "/internal/sessions/{session_id}",
    tag = "internal",
    params(("session_id" = u64, Path, description = "The session id from a token's claims.")),
    responses(
        (status = 200, description = "The session's state.", body = SessionStatus),
        (status = 404, response = NotFound),
    ),
)]
async fn session_status(
    State(state): State<AppState>,
    identity: Identity,
    Path(session_id): Path<String>,
) -> Result<Json<SessionStatus>> {
    if !identity.via_edge {
        return Err(ApiError::NotFound);
    }
    let session_id: SessionId = session_id.parse().map_err(|_| ApiError::NotFound)?;
    Ok(Json(SessionStatus { active: service::session_active(&state, session_id).await? }))
}
