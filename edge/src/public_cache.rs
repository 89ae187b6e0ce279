//! Public reads cached at the edge for anonymous callers: a user's tweet list, a tweet's detail, a
//! user's followers and followings, and a tweet's comments.
//!
//! What makes these safe to share: an anonymous caller's answer depends on nothing but the URL (the
//! viewer-dependent fields, `has_liked` and `has_followed`, are false for everyone without a token),
//! so one cached copy serves every anonymous reader. A request with any `Authorization` header never
//! reads or fills this cache: signed-in users, including the authors who just changed something, always
//! get the origin's current answer. Anonymous readers see other people's changes (a new tweet, a
//! deletion, a new comment) within `PUBLIC_CACHE_SECS`. Only 200 answers are stored, through
//! [`crate::page_cache`]'s store and lookup.

use crate::{auth::Identity, config::Config, page_cache};

/// Paths (without the trailing slash) whose anonymous GETs are cached; `{id}` is one segment.
const PUBLIC_PATHS: &[&str] = &[
    "/api/tweets",
    "/api/tweets/{id}",
    "/api/friendships/{id}/followers",
    "/api/friendships/{id}/followings",
    "/api/comments",
];

/// The cache key for an anonymous public read, or `None` when the request must not use the cache.
pub fn key(config: &Config, identity: Identity, method: &str, path: &str, query: Option<&str>) -> Option<String> {
    if config.public_cache_secs == 0 || identity != Identity::Anonymous || !method.eq_ignore_ascii_case("GET") {
        return None;
    }
    let path = path.trim_end_matches('/');
    if !PUBLIC_PATHS.iter().any(|pattern| matches(pattern, path)) {
        return None;
    }
    Some(page_cache::key(config, "public-cache", &format!("{path}/"), query))
}

fn matches(pattern: &str, path: &str) -> bool {
    let (mut pattern, mut path) = (pattern.split('/'), path.split('/'));
    loop {
        match (pattern.next(), path.next()) {
            (None, None) => return true,
            (Some("{id}"), Some(segment)) if !segment.is_empty() => {}
            (Some(expected), Some(segment)) if expected == segment => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use rookery_shared::ids::{SessionId, UserId};

    use super::*;

    fn config(public_cache_secs: u32) -> Config {
        Config { public_cache_secs, ..Config::for_tests() }
    }

    #[test]
    fn only_anonymous_gets_of_public_paths() {
        let c = config(5);
        let anonymous = Identity::Anonymous;
        assert_eq!(
            key(&c, anonymous, "GET", "/api/tweets/", Some("user_id=7")).as_deref(),
            Some("https://public-cache.rookery.invalid/v1/127.0.0.1:8000/api/tweets/?user_id=7")
        );
        for path in
            ["/api/tweets/12/", "/api/friendships/7/followers/", "/api/friendships/7/followings", "/api/comments/"]
        {
            assert!(key(&c, anonymous, "GET", path, None).is_some(), "{path}");
        }
        let user = Identity::User { user_id: UserId(7), session_id: SessionId(9) };
        assert_eq!(key(&c, user, "GET", "/api/tweets/12/", None), None);
        assert_eq!(key(&c, anonymous, "POST", "/api/tweets/", None), None);
        assert_eq!(key(&c, anonymous, "GET", "/api/newsfeeds/", None), None);
        assert_eq!(key(&c, anonymous, "GET", "/api/accounts/login_status/", None), None);
        assert_eq!(key(&c, anonymous, "GET", "/api/tweets/12/extra/", None), None);
        assert_eq!(key(&config(0), anonymous, "GET", "/api/tweets/12/", None), None);
    }
}
