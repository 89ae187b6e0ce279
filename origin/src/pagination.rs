//! Endless pagination: the contract's query parameters become an id window (ids are time-ordered and
//! `created_at` is derived from them, so every filter is an exact id range), and a fetched window becomes
//! an [`EndlessPage`].

use rookery_shared::{
    pagination::{Cursor, EndlessPage, PageQuery, PAGE_SIZE},
    timestamp::Timestamp,
};

use crate::{
    error::ApiError,
    ids::{created_at_of, id_below, id_from_after},
    newsfeed::timeline::Window,
};

/// At most this many items answer `created_at__gt` ("everything newer", for pull-to-refresh).
pub const MAX_NEWER: usize = 1_000;

pub fn window(query: &PageQuery) -> Result<Window, ApiError> {
    if let Some(text) = &query.created_at_gt {
        let at = parse_time("created_at__gt", text)?;
        return Ok(Window { below: None, from: Some(id_from_after(at)), limit: MAX_NEWER });
    }
    if let Some(text) = &query.cursor {
        let cursor = Cursor::decode(text).ok_or_else(|| ApiError::field("cursor", "Invalid cursor."))?;
        return Ok(Window { below: Some(cursor.id), from: None, limit: PAGE_SIZE });
    }
    if let Some(text) = &query.created_at_lt {
        let at = parse_time("created_at__lt", text)?;
        return Ok(Window { below: Some(id_below(at)), from: None, limit: PAGE_SIZE });
    }
    Ok(Window { below: None, from: None, limit: PAGE_SIZE })
}

fn parse_time(field: &str, text: &str) -> Result<i64, ApiError> {
    Timestamp::parse(text)
        .map(Timestamp::micros)
        .ok_or_else(|| ApiError::field(field, "Enter a valid date/time: ISO-8601 or microseconds since the epoch."))
}

/// SQL bounds of a window: ids in `[from, below)`, and how many rows to fetch (one more than the page, to
/// learn whether another page follows).
pub fn bounds(window: &Window) -> (u64, u64, u32) {
    let below = window.below.unwrap_or(u64::MAX);
    let from = window.from.unwrap_or(0);
    (below, from, u32::try_from(window.limit + 1).unwrap_or(u32::MAX))
}

/// Turns up to `limit + 1` fetched items (newest first) into a page.
pub fn page<T>(mut items: Vec<T>, window: &Window, id_of: impl Fn(&T) -> u64) -> EndlessPage<T> {
    let more = items.len() > window.limit;
    items.truncate(window.limit);
    // "Everything newer" pages never continue.
    let has_next_page = more && window.from.is_none();
    let next_cursor = items
        .last()
        .filter(|_| has_next_page)
        .map(|last| Cursor { created_at_micros: created_at_of(id_of(last)), id: id_of(last) }.encode());
    EndlessPage { has_next_page, results: items, next_cursor }
}
