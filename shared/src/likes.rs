//! Bodies of `/api/likes/*`.

use serde::{Deserialize, Serialize};

use crate::{input::LooseId, timestamp::Timestamp, users::UserWithProfile};

/// One like: who and when (the liked object is implied by where it is shown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Like {
    pub user: UserWithProfile,
    pub created_at: Timestamp,
}

/// `POST /api/likes/` and `POST /api/likes/cancel/`: `content_type` is `"tweet"` or `"comment"`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LikeRequest {
    pub content_type: Option<String>,
    pub object_id: Option<LooseId>,
}

/// `POST /api/likes/cancel/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LikeCancelled {
    pub success: bool,
    pub deleted: u8,
}
