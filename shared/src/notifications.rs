//! Bodies of `/api/notifications/*`.

use serde::{Deserialize, Serialize};

use crate::{ids::NotificationId, input::LooseBool, timestamp::Timestamp, users::UserWithProfile};

/// What a notification points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TargetType {
    Tweet,
    Comment,
    User,
}

impl TargetType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tweet => "tweet",
            Self::Comment => "comment",
            Self::User => "user",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "tweet" => Some(Self::Tweet),
            "comment" => Some(Self::Comment),
            "user" => Some(Self::User),
            _ => None,
        }
    }
}

/// `{"id", "actor", "verb", "target_type", "target_id", "timestamp", "unread"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notification {
    pub id: NotificationId,
    pub actor: UserWithProfile,
    /// E.g. `"liked your tweet"`.
    pub verb: String,
    pub target_type: TargetType,
    pub target_id: u64,
    pub timestamp: Timestamp,
    pub unread: bool,
}

/// A numbered page: `next` and `previous` are absolute URLs or null.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NumberedPage<T> {
    /// Items on all pages together.
    pub count: u64,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: Vec<T>,
}

/// Items on a numbered page.
pub const NOTIFICATIONS_PAGE_SIZE: u64 = 10;

/// `GET /api/notifications/unread-count/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnreadCount {
    pub unread_count: u64,
}

/// `POST /api/notifications/mark-all-as-read/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MarkedCount {
    pub marked_count: u64,
}

/// `PUT /api/notifications/<id>/`: only `unread` is read.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateNotification {
    #[cfg_attr(feature = "openapi", schema(value_type = LooseBool, required = true))]
    pub unread: Option<LooseBool>,
}
