//! Who is calling: resolved once per request by [`identify`] and read by handlers through the
//! [`AuthUser`] and [`MaybeUser`] extractors.
//!
//! Edge traffic carries a signed [`EdgeAssertion`]: the edge has verified the token and the session, so the
//! origin takes the user from it. Direct callers are authenticated from their bearer token here, including
//! the check that the session was not logged out. A bad token is a 401 on every route, as in Django REST
//! framework's token authentication.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, FromRequestParts, Request, State},
    http::{header, request::Parts, HeaderMap, Method},
    middleware::Next,
    response::{IntoResponse, Response},
};
use rookery_shared::{
    edge_assertion::{EdgeAssertion, HEADER as EDGE_HEADER},
    ids::{SessionId, UserId},
    token,
};

use crate::{accounts, error::ApiError, state::AppState};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthUser {
    pub user_id: UserId,
    pub session_id: SessionId,
}

/// What [`identify`] established about a request.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user: Option<AuthUser>,
    pub client_ip: String,
    /// The request came through the edge, which has already applied the rate limits.
    pub via_edge: bool,
}

pub async fn identify(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(peer)| *peer);
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    match resolve(&state, request.headers(), &method, &path, peer).await {
        Ok(identity) => {
            request.extensions_mut().insert(identity);
            next.run(request).await
        }
        Err(error) => error.into_response(),
    }
}

async fn resolve(
    state: &AppState,
    headers: &HeaderMap,
    method: &Method,
    path: &str,
    peer: Option<SocketAddr>,
) -> Result<Identity, ApiError> {
    let now = crate::ids::now_micros() / 1_000_000;
    if let Some(value) = headers.get(EDGE_HEADER).and_then(|v| v.to_str().ok()) {
        let secret = state.config.edge_secret.as_bytes();
        match EdgeAssertion::decode(secret, value, method.as_str(), path, now) {
            Ok(assertion) => {
                return Ok(Identity {
                    user: assertion.user.map(|(user_id, session_id)| AuthUser { user_id, session_id }),
                    client_ip: assertion.client_ip,
                    via_edge: true,
                })
            }
            // Not from our edge (or replayed late): treat the request as a direct call.
            Err(error) => tracing::warn!(%error, "ignoring an invalid edge assertion"),
        }
    }
    let client_ip = peer.map_or_else(|| "unknown".to_owned(), |peer| peer.ip().to_string());
    let user = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(value) => {
            let value = value.to_str().map_err(|_| ApiError::InvalidToken)?;
            let raw = token::from_authorization_header(value).ok_or(ApiError::InvalidToken)?;
            let claims = token::verify(state.config.token_secret.as_bytes(), raw, now)
                .map_err(|_| ApiError::InvalidToken)?;
            if !accounts::service::session_active(state, claims.session_id).await? {
                return Err(ApiError::InvalidToken);
            }
            Some(AuthUser { user_id: claims.user_id, session_id: claims.session_id })
        }
    };
    Ok(Identity { user, client_ip, via_edge: false })
}

fn identity(parts: &Parts) -> Result<&Identity, ApiError> {
    parts
        .extensions
        .get::<Identity>()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("identity middleware is not installed")))
}

impl<S: Send + Sync> FromRequestParts<S> for Identity {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        identity(parts).cloned()
    }
}

/// The authenticated user; 401 when there is none.
impl<S: Send + Sync> FromRequestParts<S> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        identity(parts)?.user.ok_or(ApiError::Unauthenticated)
    }
}

/// The authenticated user, if any.
pub struct MaybeUser(pub Option<AuthUser>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(identity(parts)?.user))
    }
}
