//! What happened, as events carry it and as the API words it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verb {
    CommentedOnTweet,
    LikedTweet,
    LikedComment,
    Followed,
}

impl Verb {
    /// The `verb` of the API's Notification shape (also what the table stores).
    pub fn text(self) -> &'static str {
        match self {
            Self::CommentedOnTweet => "commented on your tweet",
            Self::LikedTweet => "liked your tweet",
            Self::LikedComment => "liked your comment",
            Self::Followed => "followed you",
        }
    }
}
