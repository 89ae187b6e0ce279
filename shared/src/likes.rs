//! Bodies of `/api/likes/*`.

use serde::{Deserialize, Serialize};

use crate::{input::LooseId, timestamp::Timestamp, users::UserWithProfile};

/// One like: who and when (the liked object is implied by where it is shown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Like {
    pub user: UserWithProfile,
    pub created_at: Timestamp,
}

/// `POST /api/likes/` and `POST /api/likes/cancel/`: `content_type` is `"tweet"` or `"comment"`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LikeRequest {
    #[cfg_attr(feature = "openapi", schema(value_type = String, required = true, pattern = "^(tweet|comment)$", example = "tweet"))]
    pub content_type: Option<String>,
    /// The id of the tweet or comment.
    #[cfg_attr(feature = "openapi", schema(value_type = LooseId, required = true))]
    pub object_id: Option<LooseId>,
}

/// `POST /api/likes/cancel/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LikeCancelled {
    pub success: bool,
    /// 1 when a like was removed, 0 when there was none.
    #[cfg_attr(feature = "openapi", schema(maximum = 1))]
    pub deleted: u8,
}
