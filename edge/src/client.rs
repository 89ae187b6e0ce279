//! What the edge knows about the caller before looking at credentials: the request id that follows the
//! request through the origin's logs and back to the client, and the client's IP, which the origin
//! reports in `login_status` and which keys the IP rate limits.
//!
//! The IP is only what the edge can vouch for. Behind Cloudflare, `CF-Connecting-IP` is set by
//! Cloudflare, which overwrites whatever the client sent; deployments there set
//! `TRUST_CF_CONNECTING_IP=true`. Anywhere else (`wrangler dev`, another proxy) that header, like
//! `X-Forwarded-For`, is whatever the client chose to write, and trusting it would let every request
//! claim a fresh IP and so a fresh rate-limit budget. Untrusted, the IP is `unknown`: every anonymous
//! caller then shares one IP budget, which is the price of not knowing the IP.

use std::net::IpAddr;

use worker::{js_sys, wasm_bindgen::JsCast, Date, Headers};

/// Longest request id kept from a client; the edge assertion carries at most this many characters.
const MAX_REQUEST_ID_LEN: usize = 64;

#[derive(Debug, Clone)]
pub struct Client {
    pub request_id: String,
    pub ip: String,
}

impl Client {
    /// The caller of a request whose id is `request_id` ([`request_id`]).
    pub fn new(request_id: String, headers: &Headers, trust_cf_connecting_ip: bool) -> Self {
        let cf_connecting_ip = headers.get("cf-connecting-ip").ok().flatten();
        Self { request_id, ip: client_ip(trust_cf_connecting_ip, cf_connecting_ip.as_deref()) }
    }
}

/// The client's request id when it is sane, else a fresh one.
pub fn request_id(headers: &Headers) -> String {
    headers
        .get(rookery_shared::REQUEST_ID_HEADER)
        .ok()
        .flatten()
        .filter(|id| is_sane_request_id(id))
        .unwrap_or_else(new_request_id)
}

/// A client's request id is kept only when it survives the edge assertion unchanged: 1–64 characters
/// from `[A-Za-z0-9._:-]`. Anything else is replaced rather than trimmed, so logs never carry a
/// half-mangled id.
pub fn is_sane_request_id(id: &str) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'-' | b'_'))
}

/// `CF-Connecting-IP` when the deployment trusts it and it holds an IP address; otherwise `unknown`.
/// `X-Forwarded-For` is never read: nothing in front of the edge vouches for it.
pub fn client_ip(trust_cf_connecting_ip: bool, cf_connecting_ip: Option<&str>) -> String {
    cf_connecting_ip
        .filter(|_| trust_cf_connecting_ip)
        .and_then(|text| text.trim().parse::<IpAddr>().ok())
        .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

/// A random UUID from the runtime's `crypto.randomUUID()`; if that is somehow unavailable, the time
/// plus `Math.random()`, which is unique enough for correlating logs.
fn new_request_id() -> String {
    random_uuid().unwrap_or_else(|| {
        // Both factors are finite and below 2^53, so the casts are exact.
        let random = (js_sys::Math::random() * 9_007_199_254_740_991.0) as u64;
        format!("{:x}-{:x}", Date::now().as_millis(), random)
    })
}

fn random_uuid() -> Option<String> {
    let crypto = js_sys::Reflect::get(&js_sys::global(), &"crypto".into()).ok()?;
    let random_uuid: js_sys::Function = js_sys::Reflect::get(&crypto, &"randomUUID".into()).ok()?.dyn_into().ok()?;
    random_uuid.call0(&crypto).ok()?.as_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_sane_request_ids() {
        for good in ["abc", "3f2b8c1e-9d4a-4c1b-8e7f-0a1b2c3d4e5f", "req_1.2:3", &"a".repeat(64)] {
            assert!(is_sane_request_id(good), "{good}");
        }
        for bad in ["", "has space", "semi;colon", "ünïcode", &"a".repeat(65), "line\nbreak"] {
            assert!(!is_sane_request_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn client_ip_is_cloudflares_header_only_when_trusted() {
        assert_eq!(client_ip(true, Some("203.0.113.9")), "203.0.113.9");
        assert_eq!(client_ip(true, Some(" 2001:db8::1 ")), "2001:db8::1");
        // A client's own header, where nothing overwrites it, is not the client's IP.
        assert_eq!(client_ip(false, Some("203.0.113.9")), "unknown");
        assert_eq!(client_ip(false, None), "unknown");
        assert_eq!(client_ip(true, None), "unknown");
        for junk in ["", " ", "not-an-ip", "203.0.113.9, 10.0.0.1", "1.2.3.4;9;9"] {
            assert_eq!(client_ip(true, Some(junk)), "unknown", "{junk:?}");
        }
    }
}
