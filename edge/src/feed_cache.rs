//! Newsfeed pages cached at the edge, per user, with read-your-writes.
//!
//! A `GET /api/newsfeeds/` by an authenticated user (any query) is looked up in the Cache API under a
//! synthetic URL naming the origin, the user, the session, the user's feed generation and the whole
//! query. A hit is answered here (`X-Cache: HIT`) without any request to the origin; a miss is
//! forwarded, and a 200 answer is stored for `FEED_CACHE_SECS` (`X-Cache: MISS`).
//!
//! What keeps it correct:
//! - Only the user's own session reaches a key with their user id and session id in it: the edge has
//!   verified the token and the session before this module runs, and refused anything else with 401.
//!   A logged-out session's pages cannot be reached, even by a new login of the same user.
//! - Read-your-writes: every successful write the user makes through the edge moves their generation
//!   on (`crate::ratelimit::bump`) before the write's answer leaves the edge, so their next read misses.
//! - Everyone else's changes (a followee's new tweet, a like by someone else) show up once the page
//!   expires: at most `FEED_CACHE_SECS` after the origin has them in the reader's timeline.
//!
//! The Cache API is per data centre and only works on a zone's own routes; where it does not, every
//! read is a miss, which costs speed and never correctness.

use rookery_shared::ids::{SessionId, UserId};
use worker::{console_warn, Cache, Headers, Response, ResponseBody, ResponseBuilder};

use crate::{config::Config, errors::EdgeError};

/// The path whose pages are cached (trailing slashes ignored).
const FEED_PATH: &str = "/api/newsfeeds";
/// Keeps the origin's own `Cache-Control` on the stored copy, which carries the edge's `max-age`.
const ORIGIN_CACHE_CONTROL: &str = "x-rookery-origin-cache-control";
pub const X_CACHE: &str = "x-cache";

/// Whether a request is a newsfeed read.
pub fn is_feed_read(method: &str, path: &str) -> bool {
    method.eq_ignore_ascii_case("GET") && path.trim_end_matches('/') == FEED_PATH
}

/// Whether a request changes something the user's own feed may show: any method other than a read.
pub fn is_write(method: &str) -> bool {
    !matches!(method.to_ascii_uppercase().as_str(), "GET" | "HEAD" | "OPTIONS")
}

/// The page's key. The cache is shared by everything on the zone, so it names the origin too.
pub fn key(config: &Config, user: UserId, session: SessionId, generation: u64, query: Option<&str>) -> String {
    let origin = config.origin_url.split("://").nth(1).unwrap_or(&config.origin_url);
    let mut key = format!("https://feed-cache.rookery.invalid/v1/{origin}/{user}/{session}/{generation}/");
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        key.push('?');
        key.push_str(query);
    }
    key
}

/// The cached page, with the origin's headers as they were.
pub async fn lookup(key: &str) -> Option<Response> {
    let cached = match Cache::default().get(key, false).await {
        Ok(found) => found?,
        Err(error) => {
            console_warn!("feed cache: lookup failed: {error}");
            return None;
        }
    };
    let headers = Headers::new();
    for (name, value) in cached.headers().entries() {
        if name == "cache-control" || name == ORIGIN_CACHE_CONTROL || name.starts_with("cf-") {
            continue;
        }
        headers.append(&name, &value).ok()?;
    }
    if let Ok(Some(value)) = cached.headers().get(ORIGIN_CACHE_CONTROL) {
        headers.set("cache-control", &value).ok()?;
    }
    let builder = ResponseBuilder::new().with_status(cached.status_code()).with_headers(headers);
    Some(match cached.body() {
        ResponseBody::Stream(stream) => builder.stream(stream.clone()),
        ResponseBody::Body(bytes) => builder.fixed(bytes.clone()),
        ResponseBody::Empty => builder.empty(),
    })
}

/// Stores a 200 answer for `max_age` seconds and returns it for the client; other answers pass.
pub async fn store(key: &str, mut response: Response, max_age: u32) -> Result<Response, EdgeError> {
    if response.status_code() != 200 {
        return Ok(response);
    }
    // Feed pages are small (20 items): reading the body once serves both copies.
    let body = response.bytes().await?;
    let stored_headers = Headers::new();
    for (name, value) in response.headers().entries() {
        if name == "cache-control" {
            stored_headers.set(ORIGIN_CACHE_CONTROL, &value)?;
        } else {
            stored_headers.append(&name, &value)?;
        }
    }
    stored_headers.set("cache-control", &format!("max-age={max_age}"))?;
    let stored = ResponseBuilder::new().with_status(200).with_headers(stored_headers).fixed(body.clone());
    if let Err(error) = Cache::default().put(key, stored).await {
        console_warn!("feed cache: could not store a page: {error}");
    }
    Ok(ResponseBuilder::new().with_status(200).with_headers(response.headers().clone()).fixed(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_feed_reads_and_writes() {
        assert!(is_feed_read("GET", "/api/newsfeeds/"));
        assert!(is_feed_read("get", "/api/newsfeeds"));
        assert!(!is_feed_read("POST", "/api/newsfeeds/"));
        assert!(!is_feed_read("GET", "/api/newsfeeds/1/"));
        assert!(is_write("POST") && is_write("delete") && is_write("PUT") && is_write("PATCH"));
        assert!(!is_write("GET") && !is_write("HEAD") && !is_write("OPTIONS"));
    }

    #[test]
    fn key_names_origin_user_session_generation_and_query() {
        let config = Config::for_tests();
        assert_eq!(
            key(&config, UserId(7), SessionId(9), 12, Some("cursor=abc&x=1")),
            "https://feed-cache.rookery.invalid/v1/127.0.0.1:8000/7/9/12/?cursor=abc&x=1"
        );
        assert_eq!(
            key(&config, UserId(7), SessionId(9), 12, Some("")),
            key(&config, UserId(7), SessionId(9), 12, None)
        );
    }
}
