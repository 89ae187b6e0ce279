//! What can be liked: the `content_type` of a like and of a notification's target.

/// What can be liked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentType {
    Tweet,
    Comment,
}

impl ContentType {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "tweet" => Some(Self::Tweet),
            "comment" => Some(Self::Comment),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tweet => "tweet",
            Self::Comment => "comment",
        }
    }

    /// The objects' stored number of likes.
    pub(super) fn likes_count(self) -> crate::db::Counter {
        crate::db::Counter::new(self.table(), "likes_count", "id")
    }

    /// The table holding the objects and their `likes_count`.
    pub(super) fn table(self) -> &'static str {
        match self {
            Self::Tweet => "tweets",
            Self::Comment => "comments",
        }
    }
}
