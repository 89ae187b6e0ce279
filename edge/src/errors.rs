//! Every answer the edge gives on its own, as the contract's envelopes: `{"detail": ...}`, and
//! `{"success": false, "message": ...}` for a body too large. Nothing in the request path panics or
//! lets a runtime error page through: each failure becomes an [`EdgeError`], logged once where it
//! happened, and [`EdgeError::into_response`] cannot fail.

use rookery_shared::error::{messages, Detail, Failure};
use worker::{Headers, Response, ResponseBuilder};

use crate::config::ConfigError;

/// The origin's wording for its own 413 (`origin/src/error.rs`).
const PAYLOAD_TOO_LARGE: &str = "Request body is too large.";

#[derive(Debug, thiserror::Error)]
pub enum EdgeError {
    /// A path outside the public API (`/internal/...`, `/metrics`, ...): the origin is not asked.
    #[error("not found")]
    NotFound,
    /// A body over `MAX_BODY_BYTES`; the origin received nothing.
    #[error("request body too large")]
    PayloadTooLarge,
    /// A malformed, forged or expired bearer token, or one whose session has ended.
    #[error("invalid token")]
    InvalidToken,
    /// Past a rate limit; `headers` are `Retry-After` and `RateLimit-*`.
    #[error("rate limited")]
    RateLimited { headers: Vec<(&'static str, String)> },
    /// The origin could not be reached at all (connection refused, reset, DNS).
    #[error("origin unreachable")]
    BadGateway,
    /// The origin answered the session check with something other than the contract's answer.
    #[error("origin gave no usable answer")]
    OriginUnavailable,
    /// The worker is misconfigured; nothing will work until a binding is fixed.
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    /// A runtime call that should not fail did (header names, request construction).
    #[error("runtime: {0}")]
    Runtime(String),
}

impl From<worker::Error> for EdgeError {
    fn from(error: worker::Error) -> Self {
        Self::Runtime(error.to_string())
    }
}

impl EdgeError {
    pub fn status(&self) -> u16 {
        match self {
            Self::NotFound => 404,
            Self::PayloadTooLarge => 413,
            Self::InvalidToken => 401,
            Self::RateLimited { .. } => 429,
            Self::BadGateway => 502,
            Self::OriginUnavailable => 503,
            Self::Config(_) | Self::Runtime(_) => 500,
        }
    }

    fn detail(&self) -> &'static str {
        match self {
            Self::NotFound => messages::NOT_FOUND,
            Self::PayloadTooLarge => PAYLOAD_TOO_LARGE,
            Self::InvalidToken => messages::INVALID_TOKEN,
            Self::RateLimited { .. } => messages::RATE_LIMITED,
            Self::BadGateway => messages::BAD_GATEWAY,
            Self::OriginUnavailable => messages::ORIGIN_UNAVAILABLE,
            Self::Config(_) | Self::Runtime(_) => messages::INTERNAL,
        }
    }

    pub fn into_response(self) -> Response {
        let extra: Vec<(&str, &str)> = match &self {
            // DRF's TokenAuthentication answers 401 with a challenge naming the scheme.
            Self::InvalidToken => vec![("www-authenticate", "Bearer")],
            Self::RateLimited { headers } => headers.iter().map(|(name, value)| (*name, value.as_str())).collect(),
            _ => Vec::new(),
        };
        match self {
            // A bad request, so the input envelope, worded as the origin's own 413.
            Self::PayloadTooLarge => json_response(413, &Failure::message(PAYLOAD_TOO_LARGE), &extra),
            _ => json_response(self.status(), &Detail::new(self.detail()), &extra),
        }
    }
}

/// A JSON response built without any fallible step that could lose the envelope.
pub fn json_response(status: u16, body: &impl serde::Serialize, extra: &[(&str, &str)]) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| br#"{"detail":"Internal server error."}"#.to_vec());
    let headers = Headers::new();
    for (name, value) in [("content-type", "application/json")].iter().chain(extra) {
        // Constant, valid header names and values: `set` cannot fail here.
        let _ = headers.set(name, value);
    }
    ResponseBuilder::new().with_status(status).with_headers(headers).fixed(bytes)
}
