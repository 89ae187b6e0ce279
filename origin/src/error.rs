//! The origin's one error type. Every variant renders as one of the contract's envelopes; database and
//! unexpected failures become an opaque 500 (or 503 when a dependency is unreachable) whose cause is
//! logged once, inside the request's span.

use std::collections::BTreeMap;

use axum::{
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use rookery_shared::error::{messages, Detail, Failure};

pub type Result<T, E = ApiError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("authentication required")]
    Unauthenticated,
    #[error("invalid token")]
    InvalidToken,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// A page number past the last page (404, as Django REST framework answers).
    #[error("invalid page")]
    InvalidPage,
    #[error("method {0} not allowed")]
    MethodNotAllowed(String),
    #[error("unsupported media type {0}")]
    UnsupportedMediaType(String),
    /// `missing a,b in request`.
    #[error("missing parameters")]
    Missing(Vec<&'static str>),
    /// "Please check input" with reasons per field.
    #[error("invalid input")]
    Invalid(BTreeMap<String, Vec<String>>),
    /// 400 `{"success": false, "message": ...}`.
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("request body too large")]
    PayloadTooLarge,
    /// The request (its body, usually) did not arrive within `request_timeout`.
    #[error("request timed out")]
    RequestTimeout,
    #[error("rate limited")]
    /// 429 with `Retry-After` and the decision's `RateLimit-*` headers.
    RateLimited { retry_after_secs: u64, headers: HeaderMap },
    /// 503 with `Retry-After`: the fanout is too far behind to accept more tweets for now.
    #[error("the fanout backlog is over its bound")]
    Backlogged { retry_after_secs: u64 },
    /// A dependency the request needs is unreachable.
    #[error("unavailable: {0}")]
    Unavailable(#[source] anyhow::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// A validation failure on one field.
    pub fn field(field: &str, why: impl Into<String>) -> Self {
        Self::Invalid(BTreeMap::from([(field.to_owned(), vec![why.into()])]))
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::RowNotFound => Self::NotFound,
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => {
                Self::Unavailable(anyhow::Error::new(error).context("MySQL is unreachable"))
            }
            other => Self::Internal(anyhow::Error::new(other).context("database query failed")),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let detail = |status: StatusCode, text: &str| (status, Json(Detail::new(text))).into_response();
        match self {
            Self::Unauthenticated => {
                with_bearer_challenge(detail(StatusCode::UNAUTHORIZED, messages::NOT_AUTHENTICATED))
            }
            Self::InvalidToken => with_bearer_challenge(detail(StatusCode::UNAUTHORIZED, messages::INVALID_TOKEN)),
            Self::Forbidden => detail(StatusCode::FORBIDDEN, messages::FORBIDDEN),
            Self::NotFound => detail(StatusCode::NOT_FOUND, messages::NOT_FOUND),
            Self::InvalidPage => detail(StatusCode::NOT_FOUND, "Invalid page."),
            Self::MethodNotAllowed(method) => {
                detail(StatusCode::METHOD_NOT_ALLOWED, &messages::method_not_allowed(&method))
            }
            Self::UnsupportedMediaType(kind) => {
                detail(StatusCode::UNSUPPORTED_MEDIA_TYPE, &format!("Unsupported media type \"{kind}\" in request."))
            }
            Self::Missing(fields) => (StatusCode::BAD_REQUEST, Json(Failure::missing(&fields))).into_response(),
            Self::Invalid(errors) => (StatusCode::BAD_REQUEST, Json(Failure::invalid(errors))).into_response(),
            Self::BadRequest(message) => (StatusCode::BAD_REQUEST, Json(Failure::message(message))).into_response(),
            Self::PayloadTooLarge => {
                (StatusCode::PAYLOAD_TOO_LARGE, Json(Failure::message("Request body is too large."))).into_response()
            }
            Self::RequestTimeout => {
                (StatusCode::REQUEST_TIMEOUT, Json(Failure::message("The request was not received in time.")))
                    .into_response()
            }
            Self::RateLimited { retry_after_secs, headers } => {
                let mut response = detail(StatusCode::TOO_MANY_REQUESTS, messages::RATE_LIMITED);
                response.headers_mut().extend(headers);
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                response
            }
            Self::Backlogged { retry_after_secs } => {
                let mut response = detail(StatusCode::SERVICE_UNAVAILABLE, messages::BACKLOGGED);
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                response
            }
            Self::Unavailable(cause) => {
                tracing::error!(error = format!("{cause:#}"), "dependency unavailable");
                detail(StatusCode::SERVICE_UNAVAILABLE, messages::ORIGIN_UNAVAILABLE)
            }
            Self::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "request failed");
                detail(StatusCode::INTERNAL_SERVER_ERROR, messages::INTERNAL)
            }
        }
    }
}

fn with_bearer_challenge(mut response: Response) -> Response {
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}
