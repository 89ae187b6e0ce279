//! The header with which the edge tells the origin what it established about a request: which user and
//! session it authenticated (if any), the client's IP, the request id and the SHA-256 of the body it
//! forwards. The edge has already applied the rate limits to such a request.
//!
//! Value: `v2;<key id>;<unix seconds>;<user id or 0>;<session id or 0>;<client ip>;<request id>;<body
//! sha-256>;<signature>`, where the digest and the signature are base64url, and the signature is
//! HMAC-SHA256, under the key of that id from the ring the edge shares with the origin, of everything
//! before it plus `;<len>:<METHOD>;<len>:<path without trailing slashes>;<len>:<query>` (each length in
//! bytes, in decimal).
//!
//! What a captured header is good for: the same method, path, query and body (the origin compares the
//! body it received with the digest) within [`MAX_AGE_SECS`], which is to say the same request again.
//! Nothing else can be sent with it: not another route, not other parameters, not another body.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::{
    ids::{SessionId, UserId},
    keys::KeyRing,
};

pub const HEADER: &str = "x-rookery-edge";
/// How old (or how far in the future, for clock skew) an assertion may be.
pub const MAX_AGE_SECS: i64 = 30;
const VERSION: &str = "v2";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeAssertion {
    pub issued_at: i64,
    pub user: Option<(UserId, SessionId)>,
    pub client_ip: String,
    pub request_id: String,
    /// [`body_digest`] of the body the edge forwards.
    pub body_sha256: String,
}

/// The request an assertion is bound to, besides its body.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// The raw query string, without `?`; absent and empty are the same.
    pub query: Option<&'a str>,
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

/// base64url SHA-256 of a request body, as the assertion carries it.
pub fn body_digest(body: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(body))
}

impl EdgeAssertion {
    /// The header value for a request to `target`, signed with the ring's signing key.
    pub fn encode(&self, keys: &KeyRing, target: Target<'_>) -> String {
        let key = keys.signing();
        let (uid, sid) = self.user.map_or((0, 0), |(u, s)| (u.0, s.0));
        let mut value = format!(
            "{VERSION};{};{};{};{};{};{};{}",
            key.id,
            self.issued_at,
            uid,
            sid,
            clean(&self.client_ip),
            clean(&self.request_id),
            clean(&self.body_sha256),
        );
        let signature = mac(&key.secret, &value, target).finalize().into_bytes();
        value.push(';');
        URL_SAFE_NO_PAD.encode_string(signature, &mut value);
        value
    }

    /// Verifies a header value received for `target` at `now`. The body is the caller's to compare with
    /// [`EdgeAssertion::body_sha256`].
    pub fn decode(keys: &KeyRing, value: &str, target: Target<'_>, now: i64) -> Result<Self, AssertionError> {
        let (signed, signature) = value.rsplit_once(';').ok_or(AssertionError::Malformed)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| AssertionError::Malformed)?;
        let parts: Vec<&str> = signed.split(';').collect();
        let [version, key_id, issued_at, uid, sid, ip, request_id, body_sha256] = parts[..] else {
            return Err(AssertionError::Malformed);
        };
        if version != VERSION {
            return Err(AssertionError::Malformed);
        }
        let key = keys.find(key_id).ok_or(AssertionError::BadSignature)?;
        mac(&key.secret, signed, target).verify_slice(&signature).map_err(|_| AssertionError::BadSignature)?;
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
            body_sha256: body_sha256.to_owned(),
        })
    }
}

/// Keeps only characters that can appear in an IP address, a request id or a base64url digest, so no
/// field can smuggle a `;`.
fn clean(text: &str) -> String {
    text.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '-' | '_')).take(64).collect()
}

fn mac(secret: &[u8], signed: &str, target: Target<'_>) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(signed.as_bytes());
    // Trailing slashes are optional in the API; both sides sign the path without them. Each part goes
    // with its length, so no `;` inside a path or query can move text from one part to the next.
    for part in [target.method, target.path.trim_end_matches('/'), target.query.unwrap_or_default()] {
        mac.update(b";");
        mac.update(part.len().to_string().as_bytes());
        mac.update(b":");
        mac.update(part.as_bytes());
    }
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> KeyRing {
        KeyRing::parse("e1:edge-secret").expect("a ring")
    }

    fn sample() -> EdgeAssertion {
        EdgeAssertion {
            issued_at: 1000,
            user: Some((UserId(7), SessionId(9))),
            client_ip: "2001:db8::1".into(),
            request_id: "req-1".into(),
            body_sha256: body_digest(b"{\"content\": \"hello\"}"),
        }
    }

    fn at<'a>(method: &'a str, path: &'a str, query: Option<&'a str>) -> Target<'a> {
        Target { method, path, query }
    }

    #[test]
    fn round_trips() {
        let value = sample().encode(&keys(), at("GET", "/api/newsfeeds/", Some("cursor=abc")));
        assert!(value.starts_with("v2;e1;1000;7;9;"), "{value}");
        let back = EdgeAssertion::decode(&keys(), &value, at("GET", "/api/newsfeeds/", Some("cursor=abc")), 1010);
        assert_eq!(back, Ok(sample()));
    }

    #[test]
    fn anonymous_round_trips() {
        let a = EdgeAssertion { user: None, ..sample() };
        let value = a.encode(&keys(), at("POST", "/x", None));
        assert_eq!(EdgeAssertion::decode(&keys(), &value, at("POST", "/x", Some("")), 1000), Ok(a));
    }

    #[test]
    fn bound_to_method_path_query_key_and_time() {
        let value = sample().encode(&keys(), at("GET", "/a", Some("page=1")));
        let decode = |keys: &KeyRing, target, now| EdgeAssertion::decode(keys, &value, target, now);
        assert_eq!(decode(&keys(), at("POST", "/a", Some("page=1")), 1000), Err(AssertionError::BadSignature));
        assert_eq!(decode(&keys(), at("GET", "/b", Some("page=1")), 1000), Err(AssertionError::BadSignature));
        assert_eq!(decode(&keys(), at("GET", "/a", Some("page=2")), 1000), Err(AssertionError::BadSignature));
        assert_eq!(decode(&keys(), at("GET", "/a", None), 1000), Err(AssertionError::BadSignature));
        let other = KeyRing::parse("e1:other").expect("a ring");
        assert_eq!(decode(&other, at("GET", "/a", Some("page=1")), 1000), Err(AssertionError::BadSignature));
        assert_eq!(decode(&keys(), at("GET", "/a", Some("page=1")), 1031), Err(AssertionError::Stale));
        assert!(decode(&keys(), at("GET", "/a/", Some("page=1")), 1000).is_ok());
        let tampered = value.replacen(";7;", ";8;", 1);
        assert_eq!(
            EdgeAssertion::decode(&keys(), &tampered, at("GET", "/a", Some("page=1")), 1000),
            Err(AssertionError::BadSignature)
        );
    }

    #[test]
    fn a_separator_cannot_move_text_between_path_and_query() {
        let value = sample().encode(&keys(), at("GET", "/a", Some("x;y")));
        assert_eq!(
            EdgeAssertion::decode(&keys(), &value, at("GET", "/a;x", Some("y")), 1000),
            Err(AssertionError::BadSignature)
        );
    }

    #[test]
    fn the_body_digest_is_signed() {
        let value = sample().encode(&keys(), at("POST", "/api/tweets", None));
        let other_body = body_digest(b"{\"content\": \"evil\"}");
        let swapped = value.replacen(&sample().body_sha256, &other_body, 1);
        assert_ne!(swapped, value);
        assert_eq!(
            EdgeAssertion::decode(&keys(), &swapped, at("POST", "/api/tweets", None), 1000),
            Err(AssertionError::BadSignature)
        );
    }

    #[test]
    fn rotation_accepts_the_old_key_until_it_is_dropped() {
        let old = KeyRing::parse("e1:old-secret").expect("a ring");
        let rotated = KeyRing::parse("e2:new-secret,e1:old-secret").expect("a ring");
        let value = sample().encode(&old, at("GET", "/a", None));
        assert!(EdgeAssertion::decode(&rotated, &value, at("GET", "/a", None), 1000).is_ok());
        let retired = KeyRing::parse("e2:new-secret").expect("a ring");
        assert_eq!(
            EdgeAssertion::decode(&retired, &value, at("GET", "/a", None), 1000),
            Err(AssertionError::BadSignature)
        );
    }

    #[test]
    fn fields_cannot_inject_separators() {
        let a = EdgeAssertion { client_ip: "1.2.3.4;9;9".into(), ..sample() };
        let value = a.encode(&keys(), at("GET", "/a", None));
        let back = EdgeAssertion::decode(&keys(), &value, at("GET", "/a", None), 1000).map(|b| b.client_ip);
        assert_eq!(back, Ok("1.2.3.499".to_owned()));
    }
}
