//! Extractors that turn client mistakes into the contract's envelopes instead of axum's plain-text
//! rejections: request bodies (JSON or form-urlencoded) and query strings.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{header, request::Parts},
};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A request body in JSON or `application/x-www-form-urlencoded`. An empty body without a content type is
/// read as an empty object, so a missing field gets its own clear message.
pub struct Input<T>(pub T);

impl<S, T> FromRequest<S> for Input<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::BadRequest("The request body could not be read.".into())
            }
        })?;
        let value = match content_type.as_deref() {
            None | Some("application/json") if bytes.iter().all(u8::is_ascii_whitespace) => {
                serde_json::from_slice(b"{}")
            }
            Some("application/json") | None => serde_json::from_slice(&bytes),
            Some("application/x-www-form-urlencoded") => {
                return serde_urlencoded::from_bytes(&bytes)
                    .map(Input)
                    .map_err(|e| ApiError::BadRequest(format!("Form parse error - {e}")));
            }
            Some(other) => return Err(ApiError::UnsupportedMediaType(other.to_owned())),
        };
        value.map(Input).map_err(|e| ApiError::BadRequest(format!("JSON parse error - {e}")))
    }
}

/// A query string; a malformed one is a 400 in the contract's envelope.
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        serde_urlencoded::from_str(parts.uri.query().unwrap_or_default())
            .map(Query)
            .map_err(|e| ApiError::BadRequest(format!("Invalid query string - {e}")))
    }
}

/// A numeric id from the path. Anything that is not a positive id within 2^53 is an unknown object
/// (404), as a URL pattern would treat it.
pub struct IdPath<T>(pub T);

impl<S, T> FromRequestParts<S> for IdPath<T>
where
    S: Send + Sync,
    T: From<u64>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) = axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound)?;
        let id: u64 = raw.parse().map_err(|_| ApiError::NotFound)?;
        if id == 0 || id > rookery_shared::ids::MAX_ID {
            return Err(ApiError::NotFound);
        }
        Ok(IdPath(T::from(id)))
    }
}
