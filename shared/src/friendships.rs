//! Bodies of `/api/friendships/*`.

use serde::{Deserialize, Serialize};

use crate::{timestamp::Timestamp, users::UserWithProfile};

/// One row of a followers or followings list; `user` is the other side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FriendshipItem {
    pub user: UserWithProfile,
    pub created_at: Timestamp,
    /// Whether the requesting user follows `user` (false when anonymous).
    pub has_followed: bool,
}

/// `POST /api/friendships/<id>/unfollow/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Unfollowed {
    pub success: bool,
    /// 1 when a follow was removed, 0 when there was none.
    #[cfg_attr(feature = "openapi", schema(maximum = 1))]
    pub deleted: u8,
}
