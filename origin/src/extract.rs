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
        match content_type.as_deref() {
            None | Some("application/json") if bytes.iter().all(u8::is_ascii_whitespace) => from_json(b"{}").map(Input),
            Some("application/json") | None => from_json(&bytes).map(Input),
            Some("application/x-www-form-urlencoded") => from_form(&bytes).map(Input),
            Some(other) => Err(ApiError::UnsupportedMediaType(other.to_owned())),
        }
    }
}

/// A JSON body. Malformed JSON is a parse error, as Django REST framework reports it; well-formed JSON
/// with a value of the wrong kind is a validation failure of that field.
pub fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_data() {
            field_error(&path, &inner.to_string())
        } else {
            ApiError::BadRequest(format!("JSON parse error - {inner}"))
        }
    })?;
    deserializer.end().map_err(|e| ApiError::BadRequest(format!("JSON parse error - {e}")))?;
    Ok(value)
}

/// An `application/x-www-form-urlencoded` body: every problem is one of a field.
pub fn from_form<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(bytes));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        field_error(&path, &error.into_inner().to_string())
    })
}

/// A deserialisation failure at `path` as the contract's validation envelope, in the contract's words:
/// neither type names nor a parser's phrasing reach the client.
fn field_error(path: &str, message: &str) -> ApiError {
    // serde reports a repeated key at the object, naming the key in backticks.
    if let Some(rest) = message.strip_prefix("duplicate field `") {
        let field = rest.split('`').next().unwrap_or_default();
        return ApiError::field(field, "This field may be given only once.");
    }
    let field = path.split(['.', '[']).next().unwrap_or_default();
    if field.is_empty() || field == "?" {
        return ApiError::field("non_field_errors", "Invalid data. Expected a dictionary.");
    }
    let why = if message.contains("expected a string") {
        "Not a valid string."
    } else if message.contains("expected u64") || message.contains("expected i64") || message.contains("expected u32") {
        "A valid integer is required."
    } else if message.contains("expected a boolean") {
        "Must be a valid boolean."
    } else {
        "Invalid value."
    };
    ApiError::field(field, why)
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
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state).await.map_err(|_| ApiError::NotFound)?;
        let id: u64 = raw.parse().map_err(|_| ApiError::NotFound)?;
        if id == 0 || id > rookery_shared::ids::MAX_ID {
            return Err(ApiError::NotFound);
        }
        Ok(IdPath(T::from(id)))
    }
}
