//! The header with which the edge tells the origin what it established about a request: which user and
//! session it authenticated (if any), the client's IP, and the request id. The edge has already applied
//! the rate limits to such a request.
//!
//! Value: `v1;<unix seconds>;<user id or 0>;<session id or 0>;<client ip>;<request id>;<signature>`, where
//! the signature is base64url HMAC-SHA256, under the secret the edge shares with the origin, of everything
//! before it plus `;<METHOD>;<path without trailing slashes>`. Binding method and path stops a captured header from being replayed
//! on another route; the timestamp bounds replay in time ([`MAX_AGE_SECS`]).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::ids::{SessionId, UserId};

pub const HEADER: &str = "x-rookery-edge";
/// How old (or how far in the future, for clock skew) an assertion may be.
pub const MAX_AGE_SECS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeAssertion {
    pub issued_at: i64,
    pub user: Option<(UserId, SessionId)>,
    pub client_ip: String,
    pub request_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    #[error("edge assertion is malformed")]
    Malformed,
    #[error("edge assertion signature does not match")]
    BadSignature,
    #[error("edge assertion is stale")]
    Stale,
}

impl EdgeAssertion {
    /// The header value for a request with `method` and `path`.
    pub fn encode(&self, secret: &[u8], method: &str, path: &str) -> String {
        let (uid, sid) = self.user.map_or((0, 0), |(u, s)| (u.0, s.0));
        let mut value = format!(
            "v1;{};{};{};{};{}",
            self.issued_at,
            uid,
            sid,
            clean(&self.client_ip),
            clean(&self.request_id)
        );
        let signature = mac(secret, &value, method, path).finalize().into_bytes();
        value.push(';');
        URL_SAFE_NO_PAD.encode_string(signature, &mut value);
        value
    }

    /// Verifies a header value received for `method` and `path` at `now`.
    pub fn decode(
        secret: &[u8],
        value: &str,
        method: &str,
        path: &str,
        now: i64,
    ) -> Result<Self, AssertionError> {
        let (signed, signature) = value.rsplit_once(';').ok_or(AssertionError::Malformed)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| AssertionError::Malformed)?;
        mac(secret, signed, method, path)
            .verify_slice(&signature)
            .map_err(|_| AssertionError::BadSignature)?;
        let parts: Vec<&str> = signed.split(';').collect();
        let [version, issued_at, uid, sid, ip, request_id] = parts[..] else {
            return Err(AssertionError::Malformed);
        };
        if version != "v1" {
            return Err(AssertionError::Malformed);
        }
        let issued_at: i64 = issued_at.parse().map_err(|_| AssertionError::Malformed)?;
        if (now - issued_at).abs() > MAX_AGE_SECS {
            return Err(AssertionError::Stale);
        }
        let uid: u64 = uid.parse().map_err(|_| AssertionError::Malformed)?;
        let sid: u64 = sid.parse().map_err(|_| AssertionError::Malformed)?;
        Ok(Self {
            issued_at,
            user: (uid != 0).then_some((UserId(uid), SessionId(sid))),
            client_ip: ip.to_owned(),
            request_id: request_id.to_owned(),
        })
    }
}

/// Keeps only characters that can appear in an IP address or a request id, so no field can smuggle a `;`.
fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '-' | '_'))
        .take(64)
        .collect()
}

fn mac(secret: &[u8], signed: &str, method: &str, path: &str) -> Hmac<Sha256> {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(signed.as_bytes());
    mac.update(b";");
    mac.update(method.as_bytes());
    mac.update(b";");
    // Trailing slashes are optional in the API; both sides sign the path without them.
    mac.update(path.trim_end_matches('/').as_bytes());
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"edge-secret";

    fn sample() -> EdgeAssertion {
        EdgeAssertion {
            issued_at: 1000,
            user: Some((UserId(7), SessionId(9))),
            client_ip: "2001:db8::1".into(),
            request_id: "req-1".into(),
        }
    }

    #[test]
    fn round_trips() {
        let value = sample().encode(SECRET, "GET", "/api/newsfeeds/");
        let back = EdgeAssertion::decode(SECRET, &value, "GET", "/api/newsfeeds/", 1010);
        assert_eq!(back, Ok(sample()));
    }

    #[test]
    fn anonymous_round_trips() {
        let a = EdgeAssertion { user: None, ..sample() };
        let value = a.encode(SECRET, "POST", "/x");
        assert_eq!(EdgeAssertion::decode(SECRET, &value, "POST", "/x", 1000), Ok(a));
    }

    #[test]
    fn bound_to_method_path_secret_and_time() {
        let value = sample().encode(SECRET, "GET", "/a");
        assert_eq!(EdgeAssertion::decode(SECRET, &value, "POST", "/a", 1000), Err(AssertionError::BadSignature));
        assert_eq!(EdgeAssertion::decode(SECRET, &value, "GET", "/b", 1000), Err(AssertionError::BadSignature));
        assert_eq!(EdgeAssertion::decode(b"other", &value, "GET", "/a", 1000), Err(AssertionError::BadSignature));
        assert_eq!(EdgeAssertion::decode(SECRET, &value, "GET", "/a", 1031), Err(AssertionError::Stale));
        assert!(EdgeAssertion::decode(SECRET, &value, "GET", "/a/", 1000).is_ok());
        let tampered = value.replacen(";7;", ";8;", 1);
        assert_eq!(EdgeAssertion::decode(SECRET, &tampered, "GET", "/a", 1000), Err(AssertionError::BadSignature));
    }

    #[test]
    fn fields_cannot_inject_separators() {
        let a = EdgeAssertion { client_ip: "1.2.3.4;9;9".into(), ..sample() };
        let value = a.encode(SECRET, "GET", "/a");
        let back = EdgeAssertion::decode(SECRET, &value, "GET", "/a", 1000).map(|b| b.client_ip);
        assert_eq!(back, Ok("1.2.3.499".to_owned()));
    }
}
