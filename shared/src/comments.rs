//! Bodies of `/api/comments/*`.

use serde::{Deserialize, Serialize};

use crate::{
    ids::{CommentId, TweetId},
    input::LooseId,
    timestamp::Timestamp,
    users::UserWithProfile,
};

/// A comment on a tweet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Comment {
    pub id: CommentId,
    pub tweet_id: TweetId,
    pub user: UserWithProfile,
    pub content: String,
    pub created_at: Timestamp,
    pub likes_count: u64,
    /// Whether the requesting user likes it (false when anonymous).
    pub has_liked: bool,
}

/// `GET /api/comments/?tweet_id=`: oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommentList {
    pub comments: Vec<Comment>,
}

/// `POST /api/comments/`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateComment {
    /// The tweet to comment on.
    #[cfg_attr(feature = "openapi", schema(value_type = LooseId, required = true))]
    pub tweet_id: Option<LooseId>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, required = true, min_length = 1, max_length = 140, example = "Well said."))]
    pub content: Option<String>,
}

/// `PUT /api/comments/<id>/`: only `content` is read; other fields are ignored.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateComment {
    #[cfg_attr(feature = "openapi", schema(value_type = String, required = true, min_length = 1, max_length = 140, example = "Well said, edited."))]
    pub content: Option<String>,
}
