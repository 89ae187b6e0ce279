//! Origin endpoints that only the edge calls. They require a valid [`crate::edge_assertion`] header.

use serde::{Deserialize, Serialize};

use crate::ids::SessionId;

/// Path of the session check: `GET` answers [`SessionStatus`].
pub fn session_status_path(session_id: SessionId) -> String {
    format!("/internal/sessions/{session_id}")
}

/// Whether a login session is still live (not logged out, not expired).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionStatus {
    pub active: bool,
}
