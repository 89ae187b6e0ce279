//! Bodies of `/api/accounts/*`.

use serde::{Deserialize, Serialize};

use crate::ids::UserId;

/// The `User` shape of the accounts endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub username: String,
}

/// `POST /api/accounts/signup/`. Fields are optional so that a missing one is a 400 with the contract's
/// message rather than a deserialisation error.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SignupRequest {
    pub username: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
}

/// `POST /api/accounts/login/`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LoginRequest {
    pub username: Option<String>,
    pub password: Option<String>,
}

/// 201 from signup, 200 from login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthResponse {
    pub success: bool,
    pub user: User,
    pub token: String,
}

/// `GET /api/accounts/login_status/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginStatus {
    pub has_logged_in: bool,
    pub ip: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
}

/// `{"success": true}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Success {
    pub success: bool,
}

impl Success {
    pub const OK: Success = Success { success: true };
}
