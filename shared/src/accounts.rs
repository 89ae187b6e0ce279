//! Bodies of `/api/accounts/*`.

use serde::{Deserialize, Serialize};

use crate::ids::UserId;

/// The `User` shape of the accounts endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: UserId,
    pub username: String,
}

/// `POST /api/accounts/signup/`. Fields are optional so that a missing one is a 400 with the contract's
/// message rather than a deserialisation error.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(description = "Every field is required; all failures are reported at once."))]
pub struct SignupRequest {
    /// 6–20 letters, digits or `_`; stored lower-case; unique case-insensitively.
    #[cfg_attr(feature = "openapi", schema(value_type = String, required = true, min_length = 6, max_length = 20, pattern = "^[A-Za-z0-9_]+$", example = "linghu_chong"))]
    pub username: Option<String>,
    /// A valid address, unique case-insensitively.
    #[cfg_attr(feature = "openapi", schema(value_type = String, required = true, format = Email, example = "linghu@example.com"))]
    pub email: Option<String>,
    /// 6–128 characters.
    #[cfg_attr(feature = "openapi", schema(value_type = String, required = true, format = Password, min_length = 6, max_length = 128, example = "correct horse"))]
    pub password: Option<String>,
}

/// `POST /api/accounts/login/`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    #[cfg_attr(feature = "openapi", schema(value_type = String, required = true, example = "linghu_chong"))]
    pub username: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, required = true, format = Password, example = "correct horse"))]
    pub password: Option<String>,
}

/// 201 from signup, 200 from login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthResponse {
    pub success: bool,
    pub user: User,
    /// The bearer token: send it as `Authorization: Bearer <token>`.
    pub token: String,
}

/// `GET /api/accounts/login_status/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginStatus {
    pub has_logged_in: bool,
    pub ip: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
}

/// `POST /api/accounts/change_password/`: the current password and the new one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePasswordRequest {
    #[cfg_attr(feature = "openapi", schema(value_type = String, required = true, example = "secret123"))]
    pub old_password: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, required = true, example = "a longer secret"))]
    pub new_password: Option<String>,
}

/// The answer of a password change or of logging out everywhere: how many sessions were ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionsEnded {
    pub success: bool,
    /// Sessions (logins on other devices, and for log-out-everywhere this one too) that were ended.
    pub ended: u64,
}

/// `{"success": true}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Success {
    pub success: bool,
}

impl Success {
    pub const OK: Success = Success { success: true };
}
