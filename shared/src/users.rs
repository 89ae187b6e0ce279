//! How users appear inside other objects.

use serde::{Deserialize, Serialize};

use crate::ids::UserId;

/// `{"id", "username", "nickname", "avatar_url"}`: the author of a tweet or comment, the other side of
/// a follow, the actor of a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserWithProfile {
    pub id: UserId,
    pub username: String,
    pub nickname: Option<String>,
    pub avatar_url: Option<String>,
}
