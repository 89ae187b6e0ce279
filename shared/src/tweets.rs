//! Bodies of `/api/tweets/*` and `/api/newsfeeds/`.

use serde::{Deserialize, Serialize};

use crate::{ids::TweetId, timestamp::Timestamp, users::UserWithProfile};

/// A tweet as every list and feed shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tweet {
    pub id: TweetId,
    pub user: UserWithProfile,
    pub created_at: Timestamp,
    pub content: String,
    pub comments_count: u64,
    pub likes_count: u64,
    /// Whether the requesting user likes it (false when anonymous).
    pub has_liked: bool,
    /// Absolute URLs, in upload order.
    pub photo_urls: Vec<String>,
}

/// `POST /api/tweets/` (JSON or form; multipart when photos are attached).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateTweet {
    #[cfg_attr(feature = "openapi", schema(value_type = String, required = true, min_length = 6, max_length = 140, example = "Hello from Rookery!"))]
    pub content: Option<String>,
}

/// A newsfeed entry: `id` and `created_at` are the tweet's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewsFeedItem {
    pub id: TweetId,
    pub created_at: Timestamp,
    pub tweet: Tweet,
}

/// `GET /api/tweets/<id>/`: the tweet with its comments (oldest first) and likes (newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TweetDetail {
    #[serde(flatten)]
    pub tweet: Tweet,
    pub comments: Vec<crate::comments::Comment>,
    pub likes: Vec<crate::likes::Like>,
}
