//! The contract's error envelopes. Two shapes exist, inherited from Django REST framework:
//! `{"detail": ...}` for authentication, permission, not-found, method and rate-limit errors, and
//! `{"success": false, "message": ..., "errors"?: {...}}` for bad input.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `{"detail": "..."}`: 401, 403, 404, 405, 429 and the service errors (502, 503, 500).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"detail": "Not found."})))]
pub struct Detail {
    pub detail: String,
}

impl Detail {
    pub fn new(detail: impl Into<String>) -> Self {
        Self { detail: detail.into() }
    }
}

/// `{"success": false, "message": ..., "errors"?: {field: [why, ...]}}`: 400 and 413.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"success": false, "message": "Please check input", "errors": {"content": ["Ensure this field has at least 6 characters."]}})))]
pub struct Failure {
    /// Always `false`.
    pub success: bool,
    pub message: String,
    /// Reasons per field, present for validation failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<BTreeMap<String, Vec<String>>>,
}

impl Failure {
    pub fn message(message: impl Into<String>) -> Self {
        Self { success: false, message: message.into(), errors: None }
    }

    /// "Please check input" with one reason per field.
    pub fn invalid(errors: BTreeMap<String, Vec<String>>) -> Self {
        Self { success: false, message: messages::CHECK_INPUT.to_owned(), errors: Some(errors) }
    }

    /// `missing a,b in request`, the names in the order given.
    pub fn missing(fields: &[&str]) -> Self {
        Self::message(format!("missing {} in request", fields.join(",")))
    }
}

/// The contract's fixed messages, spelled once.
pub mod messages {
    pub const NOT_AUTHENTICATED: &str = "Authentication credentials were not provided.";
    pub const INVALID_TOKEN: &str = "Invalid token.";
    pub const FORBIDDEN: &str = "You do not have permission to access this object";
    pub const NOT_FOUND: &str = "Not found.";
    pub const RATE_LIMITED: &str = "Too many requests, try again later.";
    pub const CHECK_INPUT: &str = "Please check input";
    pub const BACKLOGGED: &str = "Too many tweets are waiting to be delivered, try again shortly.";
    pub const ORIGIN_UNAVAILABLE: &str = "The service is temporarily unavailable, try again later.";
    pub const BAD_GATEWAY: &str = "The origin could not be reached.";
    pub const INTERNAL: &str = "Internal server error.";

    /// `Method "GET" not allowed.`
    pub fn method_not_allowed(method: &str) -> String {
        format!("Method \"{method}\" not allowed.")
    }
}
