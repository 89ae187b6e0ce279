//! Whether a token's login session is still live, as the origin says, cached at the edge.
//!
//! A token's signature and expiry are checked without I/O, but logout revokes the session at the
//! origin, so the edge asks `GET /internal/sessions/<sid>` and keeps the answer in the Cache API for
//! `SESSION_CACHE_SECS` under a synthetic URL per session. A logout that passes through this edge
//! purges the entry at once ([`forget`]); a logout made elsewhere is seen once the entry expires.
//!
//! The Cache API is per data centre and, on Cloudflare, only works on a zone's own routes (on a
//! `workers.dev` address every lookup misses): the cache lowers the origin's load, it is never needed
//! for correctness.

use rookery_shared::{
    edge_assertion::{self, EdgeAssertion, Target},
    ids::SessionId,
    internal::{session_status_path, SessionStatus},
    REQUEST_ID_HEADER,
};
use worker::{console_error, console_warn, Cache, Fetch, Headers, Method, Request, RequestInit, ResponseBuilder};

use crate::{client::Client, config::Config, errors::EdgeError};

/// The endpoints whose success ends the caller's own session and purges its cached answer: logout and
/// log-out-everywhere. (A password change ends the user's *other* sessions; like a logout made elsewhere,
/// those are refused at this edge once their cached answers expire.)
const LOGOUT_PATHS: [&str; 2] = ["/api/accounts/logout", "/api/accounts/logout_all"];

pub async fn is_live(session_id: SessionId, config: &Config, client: &Client, now: i64) -> Result<bool, EdgeError> {
    let caching = config.session_cache_secs > 0;
    let key = cache_key(config, session_id);
    if caching {
        if let Some(active) = cached(&key).await {
            return Ok(active);
        }
    }
    let status = ask_origin(session_id, config, client, now).await?;
    if caching {
        remember(&key, status, config.session_cache_secs).await;
    }
    Ok(status.active)
}

/// Drops the cached answer for a session that has just been logged out, so the next request with its
/// token goes to the origin and is refused.
pub async fn forget(session_id: SessionId, config: &Config) {
    if let Err(error) = Cache::default().delete(cache_key(config, session_id), false).await {
        console_warn!("session cache: could not purge session {session_id}: {error}");
    }
}

/// Whether a request is the client's own logout (with or without the trailing slash, as the contract
/// serves both).
pub fn is_logout(method: &str, path: &str) -> bool {
    method.eq_ignore_ascii_case("POST") && LOGOUT_PATHS.contains(&path.trim_end_matches('/'))
}

/// The key names the origin ([`Config::origin_host`]) as well as the session.
fn cache_key(config: &Config, session_id: SessionId) -> String {
    format!("https://session-cache.rookery.invalid/v1/{}/{session_id}", config.origin_host())
}

async fn cached(key: &str) -> Option<bool> {
    let mut response = match Cache::default().get(key, false).await {
        Ok(found) => found?,
        Err(error) => {
            console_warn!("session cache: lookup failed: {error}");
            return None;
        }
    };
    response.json::<SessionStatus>().await.ok().map(|status| status.active)
}

async fn remember(key: &str, status: SessionStatus, max_age: u32) {
    let headers = Headers::new();
    let cache_control = format!("max-age={max_age}");
    let stored = match headers
        .set("content-type", "application/json")
        .and_then(|()| headers.set("cache-control", &cache_control))
    {
        Ok(()) => ResponseBuilder::new().with_headers(headers).from_json(&status),
        Err(error) => Err(error),
    };
    let result = match stored {
        Ok(response) => Cache::default().put(key, response).await,
        Err(error) => Err(error),
    };
    if let Err(error) = result {
        console_warn!("session cache: could not store an answer: {error}");
    }
}

async fn ask_origin(
    session_id: SessionId,
    config: &Config,
    client: &Client,
    now: i64,
) -> Result<SessionStatus, EdgeError> {
    let path = session_status_path(session_id);
    let assertion = EdgeAssertion {
        issued_at: now,
        // The edge itself asks; no user acts in this call.
        user: None,
        client_ip: client.ip.clone(),
        request_id: client.request_id.clone(),
        // A GET without a body or a query.
        body_sha256: edge_assertion::body_digest(b""),
    };
    let target = Target { method: "GET", path: &path, query: None };
    let headers = Headers::new();
    headers.set("accept", "application/json")?;
    headers.set(REQUEST_ID_HEADER, &client.request_id)?;
    headers.set(edge_assertion::HEADER, &assertion.encode(&config.edge_keys, target))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let request = Request::new_with_init(&format!("{}{path}", config.origin_url), &init)?;

    let mut response = Fetch::Request(request).send().await.map_err(|error| {
        console_error!("[{}] session check: origin unreachable: {error}", client.request_id);
        EdgeError::BadGateway
    })?;
    match response.status_code() {
        200 => response.json::<SessionStatus>().await.map_err(|error| {
            console_error!("[{}] session check: unreadable answer: {error}", client.request_id);
            EdgeError::OriginUnavailable
        }),
        status => {
            // The origin answers 200 for every session id; it hides the endpoint (404) from callers
            // whose assertion it refuses: its EDGE_SECRETS lack this edge's signing key, or the
            // clocks are more than 30 seconds apart. Failing closed, and loudly, beats reading that
            // as "logged out".
            console_error!(
                "[{}] session check: origin answered {status}; check that the origin's EDGE_SECRETS \
                 hold this edge's signing key {:?}, and the clocks",
                client.request_id,
                config.edge_keys.signing().id
            );
            Err(EdgeError::OriginUnavailable)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_logout_with_and_without_slash() {
        assert!(is_logout("POST", "/api/accounts/logout/"));
        assert!(is_logout("post", "/api/accounts/logout"));
        assert!(!is_logout("GET", "/api/accounts/logout/"));
        assert!(!is_logout("POST", "/api/accounts/login/"));
        assert!(is_logout("POST", "/api/accounts/logout_all/"));
        assert!(!is_logout("POST", "/api/accounts/change_password/"));
        assert!(!is_logout("POST", "/api/accounts/logout/extra/"));
    }

    #[test]
    fn cache_key_names_origin_and_session() {
        let config = Config::for_tests();
        assert_eq!(cache_key(&config, SessionId(42)), "https://session-cache.rookery.invalid/v1/127.0.0.1:8000/42");
    }
}
