//! Endless pages and the opaque cursor.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::{Deserialize, Serialize};

/// `{"has_next_page", "results", "next_cursor"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EndlessPage<T> {
    pub has_next_page: bool,
    /// Newest first.
    pub results: Vec<T>,
    /// Pass as `cursor` for the next page; `null` exactly when `has_next_page` is false.
    pub next_cursor: Option<String>,
}

/// The query of an endless page. Names are the contract's.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct PageQuery {
    /// `created_at__lt`: the newest items strictly older than this datetime.
    #[serde(rename = "created_at__lt")]
    pub created_at_lt: Option<String>,
    /// `created_at__gt`: every item strictly newer than this datetime (wins over `created_at__lt`).
    #[serde(rename = "created_at__gt")]
    pub created_at_gt: Option<String>,
    /// The page after the one that returned this `next_cursor`.
    pub cursor: Option<String>,
}

/// Page size of endless pages.
pub const PAGE_SIZE: usize = 20;

/// A position in a list ordered by `(created_at, id)` descending. Ids are unique, so the pair never
/// ties and a cursor never skips or repeats an item, unlike a bare timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub created_at_micros: i64,
    pub id: u64,
}

impl Cursor {
    const PREFIX: &'static str = "c1:";

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}{}:{}", Self::PREFIX, self.created_at_micros, self.id))
    }

    /// `None` for anything that is not a cursor this crate produced.
    pub fn decode(text: &str) -> Option<Self> {
        let raw = URL_SAFE_NO_PAD.decode(text.trim()).ok()?;
        let raw = std::str::from_utf8(&raw).ok()?.strip_prefix(Self::PREFIX)?;
        let (at, id) = raw.split_once(':')?;
        Some(Self { created_at_micros: at.parse().ok()?, id: id.parse().ok()? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let c = Cursor { created_at_micros: 1_790_000_000_123_456, id: 42 };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("not-a-cursor"), None);
        assert_eq!(Cursor::decode(&URL_SAFE_NO_PAD.encode("c1:12")), None);
        assert_eq!(Cursor::decode(&URL_SAFE_NO_PAD.encode("c2:1:2")), None);
    }
}
