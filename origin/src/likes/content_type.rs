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

    /// The table holding the objects and their `likes_count`.
    pub(super) fn table(self) -> &'static str {
        match self {
            Self::Tweet => "tweets",
            Self::Comment => "comments",
        }
    }
}
