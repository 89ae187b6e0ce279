//! Newsfeed pages cached at the edge, per user, with read-your-writes: which requests are feed reads,
//! the key a page is kept under, and the user's feed generation in that key.
//!
//! A `GET /api/newsfeeds/` by an authenticated user (any query) is looked up in the Cache API
//! ([`crate::page_cache`]) under a synthetic URL naming the origin, the user, the session, the user's
//! feed generation and the whole query. A hit is answered there (`X-Cache: HIT`) without any request
//! to the origin; a miss is forwarded, and a 200 answer is stored for `FEED_CACHE_SECS`
//! (`X-Cache: MISS`).
//!
//! What keeps it correct:
//! - Only the user's own session reaches a key with their user id and session id in it: the edge has
//!   verified the token and the session before this module runs, and refused anything else with 401.
//!   A logged-out session's pages cannot be reached, even by a new login of the same user.
//! - Read-your-writes: every successful write the user makes through the edge moves their generation
//!   on ([`bump`]) before the write's answer leaves the edge, so their next read misses.
//! - Everyone else's changes (a followee's new tweet, a like by someone else) show up once the page
//!   expires: at most `FEED_CACHE_SECS` after the origin has them in the reader's timeline.
//!
//! The generation lives in the user's own [`Limiter`] object, which a rate-limit check of a feed read
//! also asks for it ([`crate::ratelimit::check`]), so a limited feed read costs one call.
//!
//! [`Limiter`]: crate::limiter_object::Limiter

use rookery_shared::ids::{SessionId, UserId};
use worker::{Env, Method};

use crate::{
    config::Config,
    errors::EdgeError,
    limiter_object::{self, Generation},
    page_cache,
};

/// The path whose pages are cached (trailing slashes ignored).
const FEED_PATH: &str = "/api/newsfeeds";

/// Whether a request is a newsfeed read.
pub fn is_feed_read(method: &str, path: &str) -> bool {
    method.eq_ignore_ascii_case("GET") && path.trim_end_matches('/') == FEED_PATH
}

/// Whether a request changes something the user's own feed may show: any method other than a read.
pub fn is_write(method: &str) -> bool {
    !matches!(method.to_ascii_uppercase().as_str(), "GET" | "HEAD" | "OPTIONS")
}

/// The page's key.
pub fn key(config: &Config, user: UserId, session: SessionId, generation: u64, query: Option<&str>) -> String {
    page_cache::key(config, "feed-cache", &format!("/{user}/{session}/{generation}/"), query)
}

/// The user's current feed generation.
pub async fn generation(env: &Env, user: UserId) -> Result<u64, EdgeError> {
    let answer: Generation = limiter_object::call(env, &user_subject(user), Method::Get, "/generation").await?;
    Ok(answer.generation)
}

/// Moves the user's feed generation on after one of their writes, so their cached pages are skipped.
pub async fn bump(env: &Env, user: UserId) -> Result<u64, EdgeError> {
    let answer: Generation = limiter_object::call(env, &user_subject(user), Method::Post, "/bump").await?;
    Ok(answer.generation)
}

/// The user's own object, the one their user-keyed rate limits are counted in.
fn user_subject(user: UserId) -> String {
    format!("user:{user}")
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
