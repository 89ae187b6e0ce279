//! `/api/accounts/*` and the edge's session check.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
    Json, Router,
};
use rookery_shared::{
    accounts::{AuthResponse, LoginRequest, LoginStatus, SignupRequest, Success},
    ids::SessionId,
    internal::SessionStatus,
};

use super::service;
use crate::{
    auth::{Identity, MaybeUser},
    error::{ApiError, Result},
    extract::Input,
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/accounts/signup", post(signup))
        .route("/api/accounts/login", post(login))
        .route("/api/accounts/logout", post(logout))
        .route("/api/accounts/login_status", get(login_status))
        .route("/internal/sessions/{session_id}", get(session_status))
}

async fn signup(State(state): State<AppState>, Input(body): Input<SignupRequest>) -> Result<(StatusCode, Json<AuthResponse>)> {
    Ok((StatusCode::CREATED, Json(service::signup(&state, body).await?)))
}

async fn login(State(state): State<AppState>, Input(body): Input<LoginRequest>) -> Result<Json<AuthResponse>> {
    Ok(Json(service::login(&state, body).await?))
}

async fn logout(State(state): State<AppState>, MaybeUser(user): MaybeUser) -> Result<Json<Success>> {
    if let Some(user) = user {
        service::logout(&state, user.session_id).await?;
    }
    Ok(Json(Success::OK))
}

async fn login_status(State(state): State<AppState>, identity: Identity) -> Result<Json<LoginStatus>> {
    let user = match identity.user {
        Some(auth) => service::user(&state, auth.user_id).await?,
        None => None,
    };
    Ok(Json(LoginStatus { has_logged_in: user.is_some(), ip: identity.client_ip, user }))
}

/// Only the edge may ask: the answer tells whether a token would still be accepted.
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
