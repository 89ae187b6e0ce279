//! Whole pages kept in the Cache API: the key, lookup and store behind [`crate::feed_cache`] and
//! [`crate::public_cache`], which decide which requests are cached, under what key and for how long.
//!
//! Only 200 answers are stored. The stored copy carries the edge's `max-age` in `Cache-Control` and
//! keeps the origin's own `Cache-Control` aside, so a hit gives the client the origin's headers as they
//! were.
//!
//! The Cache API is per data centre and only works on a zone's own routes; where it does not, every
//! read is a miss, which costs speed and never correctness.

use worker::{console_warn, Cache, Headers, Response, ResponseBuilder};

use crate::{config::Config, errors::EdgeError, forward};

/// Keeps the origin's own `Cache-Control` on the stored copy, which carries the edge's `max-age`.
const ORIGIN_CACHE_CONTROL: &str = "x-rookery-origin-cache-control";
pub const X_CACHE: &str = "x-cache";

/// The key of a page in the cache named `cache`: a synthetic URL naming the origin
/// ([`Config::origin_host`]), then `path` and the query string, an empty one counting as none.
pub fn key(config: &Config, cache: &str, path: &str, query: Option<&str>) -> String {
    let mut key = format!("https://{cache}.rookery.invalid/v1/{}{path}", config.origin_host());
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
            console_warn!("page cache: lookup failed: {error}");
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
    Some(forward::with_headers(&cached, headers))
}

/// Stores a 200 answer for `max_age` seconds and returns it for the client; other answers pass.
pub async fn store(key: &str, mut response: Response, max_age: u32) -> Result<Response, EdgeError> {
    if response.status_code() != 200 {
        return Ok(response);
    }
    // Reading the body whole once serves both copies; the answers cached are JSON pages, not media.
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
        console_warn!("page cache: could not store a page: {error}");
    }
    Ok(ResponseBuilder::new().with_status(200).with_headers(response.headers().clone()).fixed(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_cache_origin_path_and_query() {
        let config = Config::for_tests();
        assert_eq!(
            key(&config, "test-cache", "/a/b/", Some("x=1&y=%2B")),
            "https://test-cache.rookery.invalid/v1/127.0.0.1:8000/a/b/?x=1&y=%2B"
        );
        assert_eq!(
            key(&config, "test-cache", "/a/", Some("")),
            "https://test-cache.rookery.invalid/v1/127.0.0.1:8000/a/"
        );
    }
}
