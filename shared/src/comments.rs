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

/// `GET /api/comments/?tweet_id=`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentList {
    pub comments: Vec<Comment>,
}

/// `POST /api/comments/`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CreateComment {
    pub tweet_id: Option<LooseId>,
    pub content: Option<String>,
}

/// `PUT /api/comments/<id>/`: only `content` is read; other fields are ignored.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UpdateComment {
    pub content: Option<String>,
}
