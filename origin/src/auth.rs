//! Who is calling: resolved once per request by [`identify`] and read by handlers through the
//! [`AuthUser`] and [`MaybeUser`] extractors.
//!
//! Edge traffic carries a signed [`EdgeAssertion`]: the edge has verified the token and the session, so the
//! origin takes the user from it, once the assertion's signature (over method, path and query) and the
//! digest of the body it names both check out. Routes under [`INTERNAL_PREFIX`] answer only such requests. Direct callers are authenticated from their bearer token here, including
//! the check that the session was not logged out. A bad token is a 401 on every route, as in Django REST
//! framework's token authentication.

use std::net::SocketAddr;

use axum::{
    body::Body,
    extract::{ConnectInfo, FromRequestParts, Request, State},
    http::{header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use rookery_shared::{
    edge_assertion::{self, EdgeAssertion, Target, HEADER as EDGE_HEADER},
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

pub async fn identify(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(peer)| *peer);
    let (mut parts, body) = request.into_parts();
    let (identity, body) = match resolve(&state, &parts, body, peer).await {
        Ok(resolved) => resolved,
        Err(error) => return error.into_response(),
    };
    // Calls only the edge makes: anyone else is told there is nothing here.
    if parts.uri.path().starts_with(INTERNAL_PREFIX) && !identity.via_edge {
        return ApiError::NotFound.into_response();
    }
    parts.extensions.insert(identity);
    next.run(Request::from_parts(parts, body)).await
}

/// Routes under this prefix answer only requests that carry a valid edge assertion.
pub const INTERNAL_PREFIX: &str = "/internal/";

async fn resolve(
    state: &AppState,
    parts: &Parts,
    body: Body,
    peer: Option<SocketAddr>,
) -> Result<(Identity, Body), ApiError> {
    let now = crate::ids::now_micros() / 1_000_000;
    let headers = &parts.headers;
    let mut body = body;
    if let Some(value) = headers.get(EDGE_HEADER).and_then(|v| v.to_str().ok()) {
        let target = Target { method: parts.method.as_str(), path: parts.uri.path(), query: parts.uri.query() };
        match EdgeAssertion::decode(&state.config.auth.edge_keys, value, target, now) {
            Ok(assertion) => {
                // The assertion names the body it was issued for; a different body makes it worthless.
                let bytes = axum::body::to_bytes(body, upload_limit(&state.config))
                    .await
                    .map_err(|_| ApiError::PayloadTooLarge)?;
                if edge_assertion::body_digest(&bytes) == assertion.body_sha256 {
                    let identity = Identity {
                        user: assertion.user.map(|(user_id, session_id)| AuthUser { user_id, session_id }),
                        client_ip: assertion.client_ip,
                        via_edge: true,
                    };
                    return Ok((identity, Body::from(bytes)));
                }
                tracing::warn!("ignoring an edge assertion issued for another body");
                body = Body::from(bytes);
            }
            // Not from our edge (or replayed late, or for another request): treat it as a direct call.
            Err(error) => tracing::warn!(%error, "ignoring an invalid edge assertion"),
        }
    }
    let client_ip = peer.map_or_else(|| "unknown".to_owned(), |peer| peer.ip().to_string());
    let user = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(value) => {
            let value = value.to_str().map_err(|_| ApiError::InvalidToken)?;
            let raw = token::from_authorization_header(value).ok_or(ApiError::InvalidToken)?;
            let claims = token::verify(&state.config.auth.token_keys, raw, now).map_err(|_| ApiError::InvalidToken)?;
            if !accounts::service::session_active(state, claims.session_id).await? {
                return Err(ApiError::InvalidToken);
            }
            Some(AuthUser { user_id: claims.user_id, session_id: claims.session_id })
        }
    };
    Ok((Identity { user, client_ip, via_edge: false }, body))
}

/// The largest body any route accepts (a tweet with all its photos): the most an edge request's body is
/// read ahead to check its digest.
pub fn upload_limit(config: &crate::config::Config) -> usize {
    crate::media::service::MAX_PHOTOS * config.media.max_bytes + config.http.max_body_bytes
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
