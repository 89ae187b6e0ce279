//! What the edge knows about the caller before looking at credentials: the request id that follows the
//! request through the origin's logs and back to the client, and the client's IP, which the origin
//! reports in `login_status` and which later keys the anonymous rate limits.

use worker::{js_sys, wasm_bindgen::JsCast, Date, Headers};

/// Longest request id kept from a client; the edge assertion carries at most this many characters.
const MAX_REQUEST_ID_LEN: usize = 64;

#[derive(Debug, Clone)]
pub struct Client {
    pub request_id: String,
    pub ip: String,
}

impl Client {
    pub fn from_headers(headers: &Headers) -> Self {
        let header = |name: &str| headers.get(name).ok().flatten();
        let request_id = header(rookery_shared::REQUEST_ID_HEADER)
            .filter(|id| is_sane_request_id(id))
            .unwrap_or_else(new_request_id);
        let ip = client_ip(header("cf-connecting-ip"), header("x-forwarded-for"));
        Self { request_id, ip }
    }
}

/// A client's request id is kept only when it survives the edge assertion unchanged: 1–64 characters
/// from `[A-Za-z0-9._:-]`. Anything else is replaced rather than trimmed, so logs never carry a
/// half-mangled id.
pub fn is_sane_request_id(id: &str) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'-' | b'_'))
}

/// Cloudflare sets `CF-Connecting-IP` on every request it proxies, overwriting whatever the client
/// sent. `X-Forwarded-For` is only a fallback for running without Cloudflare in front (a client can
/// write it freely, so it must not be trusted where `CF-Connecting-IP` exists).
pub fn client_ip(cf_connecting_ip: Option<String>, x_forwarded_for: Option<String>) -> String {
    let non_empty = |text: &str| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
    cf_connecting_ip
        .as_deref()
        .and_then(non_empty)
        .or_else(|| {
            x_forwarded_for
                .as_deref()
                .and_then(|list| list.split(',').next())
                .and_then(non_empty)
        })
        .unwrap_or_else(|| "unknown".to_owned())
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
    let random_uuid: js_sys::Function = js_sys::Reflect::get(&crypto, &"randomUUID".into())
        .ok()?
        .dyn_into()
        .ok()?;
    random_uuid.call0(&crypto).ok()?.as_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_sane_request_ids() {
        for good in [
            "abc",
            "3f2b8c1e-9d4a-4c1b-8e7f-0a1b2c3d4e5f",
            "req_1.2:3",
            &"a".repeat(64),
        ] {
            assert!(is_sane_request_id(good), "{good}");
        }
        for bad in [
            "",
            "has space",
            "semi;colon",
            "ünïcode",
            &"a".repeat(65),
            "line\nbreak",
        ] {
            assert!(!is_sane_request_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn client_ip_prefers_cloudflare_then_first_forwarded_then_unknown() {
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(
            client_ip(some("203.0.113.9"), some("10.0.0.1")),
            "203.0.113.9"
        );
        assert_eq!(
            client_ip(None, some(" 198.51.100.7 , 10.0.0.1")),
            "198.51.100.7"
        );
        assert_eq!(client_ip(some(" "), some("2001:db8::1")), "2001:db8::1");
        assert_eq!(client_ip(None, some("")), "unknown");
        assert_eq!(client_ip(None, None), "unknown");
    }
}
