//! Bearer tokens: `rk2.<key id>.<payload>.<signature>`, payload and signature base64url without padding.
//!
//! The payload is 32 bytes, big-endian: user id, session id, issued-at and expires-at (seconds since the
//! Unix epoch). The signature is HMAC-SHA256 over `rk2.<key id>.<payload>` with the key of that id from
//! the server's [`KeyRing`], so secrets rotate without logging anyone out. There is no algorithm field to
//! negotiate: a token that does not start with `rk2.` (or the key-less `rk1.` of earlier releases, tried
//! against every key) is rejected, so no "alg: none" or algorithm-confusion downgrade exists. The
//! signature is checked in constant time before the payload is read.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{
    ids::{SessionId, UserId},
    keys::KeyRing,
};

type HmacSha256 = Hmac<Sha256>;

const PREFIX: &str = "rk2.";
/// Tokens of earlier releases: no key id, verified against every key of the ring.
const LEGACY_PREFIX: &str = "rk1.";
const PAYLOAD_LEN: usize = 32;
const SIGNATURE_LEN: usize = 32;

/// What a token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claims {
    pub user_id: UserId,
    pub session_id: SessionId,
    /// Seconds since the Unix epoch.
    pub issued_at: i64,
    /// Seconds since the Unix epoch; the token is refused from this second on.
    pub expires_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token is malformed")]
    Malformed,
    #[error("token signature does not match")]
    BadSignature,
    #[error("token has expired")]
    Expired,
}

/// Signs `claims` with the ring's signing key.
pub fn sign(keys: &KeyRing, claims: &Claims) -> String {
    let key = keys.signing();
    let mut payload = [0u8; PAYLOAD_LEN];
    payload[0..8].copy_from_slice(&claims.user_id.0.to_be_bytes());
    payload[8..16].copy_from_slice(&claims.session_id.0.to_be_bytes());
    payload[16..24].copy_from_slice(&claims.issued_at.to_be_bytes());
    payload[24..32].copy_from_slice(&claims.expires_at.to_be_bytes());
    let mut token = String::with_capacity(PREFIX.len() + key.id.len() + 1 + 44 + 1 + 43);
    token.push_str(PREFIX);
    token.push_str(&key.id);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(payload, &mut token);
    let signature = mac(&key.secret, token.as_bytes()).finalize().into_bytes();
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    token
}

/// Checks the signature and expiry of `token` at `now` (seconds since the Unix epoch).
pub fn verify(keys: &KeyRing, token: &str, now: i64) -> Result<Claims, TokenError> {
    let payload_b64 = if let Some(body) = token.strip_prefix(PREFIX) {
        let (key_id, rest) = body.split_once('.').ok_or(TokenError::Malformed)?;
        let (payload_b64, signature_b64) = rest.split_once('.').ok_or(TokenError::Malformed)?;
        let signed = &token[..PREFIX.len() + key_id.len() + 1 + payload_b64.len()];
        let signature = decode_exact::<SIGNATURE_LEN>(signature_b64)?;
        // An unknown (or retired) key id is a signature that cannot match.
        let key = keys.find(key_id).ok_or(TokenError::BadSignature)?;
        mac(&key.secret, signed.as_bytes()).verify_slice(&signature).map_err(|_| TokenError::BadSignature)?;
        payload_b64
    } else {
        let body = token.strip_prefix(LEGACY_PREFIX).ok_or(TokenError::Malformed)?;
        let (payload_b64, signature_b64) = body.split_once('.').ok_or(TokenError::Malformed)?;
        let signed = &token[..LEGACY_PREFIX.len() + payload_b64.len()];
        let signature = decode_exact::<SIGNATURE_LEN>(signature_b64)?;
        let verified =
            keys.keys().iter().any(|key| mac(&key.secret, signed.as_bytes()).verify_slice(&signature).is_ok());
        if !verified {
            return Err(TokenError::BadSignature);
        }
        payload_b64
    };
    let payload = decode_exact::<PAYLOAD_LEN>(payload_b64)?;
    let word = |i: usize| {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&payload[i * 8..i * 8 + 8]);
        bytes
    };
    let claims = Claims {
        user_id: UserId(u64::from_be_bytes(word(0))),
        session_id: SessionId(u64::from_be_bytes(word(1))),
        issued_at: i64::from_be_bytes(word(2)),
        expires_at: i64::from_be_bytes(word(3)),
    };
    if now >= claims.expires_at {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

/// The token part of an `Authorization` header value, if it uses the Bearer scheme.
pub fn from_authorization_header(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

fn mac(secret: &[u8], data: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac
}

fn decode_exact<const N: usize>(text: &str) -> Result<[u8; N], TokenError> {
    // Canonical base64 of N bytes has a fixed length; anything longer or shorter is rejected before decoding.
    if text.len() != (N * 4).div_ceil(3) {
        return Err(TokenError::Malformed);
    }
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| TokenError::Malformed)?;
    bytes.try_into().map_err(|_| TokenError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_813_536;

    fn ring() -> KeyRing {
        KeyRing::parse("k2:test-secret-test-secret-test-secret").expect("a ring")
    }

    fn claims() -> Claims {
        Claims {
            user_id: UserId(123_456_789),
            session_id: SessionId(987_654_321),
            issued_at: NOW,
            expires_at: NOW + 3600,
        }
    }

    #[test]
    fn round_trips() {
        let token = sign(&ring(), &claims());
        assert!(token.starts_with("rk2.k2."), "{token}");
        assert_eq!(verify(&ring(), &token, NOW + 10), Ok(claims()));
    }

    #[test]
    fn rotation_keeps_old_tokens_until_their_key_is_dropped() {
        let old = KeyRing::parse("k1:the-old-secret").expect("a ring");
        let rotated = KeyRing::parse("k2:the-new-secret,k1:the-old-secret").expect("a ring");
        let retired = KeyRing::parse("k2:the-new-secret").expect("a ring");
        let before = sign(&old, &claims());
        let after = sign(&rotated, &claims());
        assert!(after.starts_with("rk2.k2."), "new tokens are signed with the first key");
        assert_eq!(verify(&rotated, &before, NOW), Ok(claims()));
        assert_eq!(verify(&rotated, &after, NOW), Ok(claims()));
        assert_eq!(verify(&retired, &before, NOW), Err(TokenError::BadSignature));
        assert_eq!(verify(&retired, &after, NOW), Ok(claims()));
    }

    #[test]
    fn a_key_id_cannot_be_swapped() {
        let rotated = KeyRing::parse("k2:the-new-secret,k1:the-old-secret").expect("a ring");
        let token = sign(&rotated, &claims());
        let swapped = token.replacen("rk2.k2.", "rk2.k1.", 1);
        assert_eq!(verify(&rotated, &swapped, NOW), Err(TokenError::BadSignature));
    }

    #[test]
    fn legacy_tokens_verify_against_any_key() {
        let secret = b"the-old-secret";
        let mut legacy = String::from("rk1.");
        let mut payload = [0u8; PAYLOAD_LEN];
        payload[0..8].copy_from_slice(&claims().user_id.0.to_be_bytes());
        payload[8..16].copy_from_slice(&claims().session_id.0.to_be_bytes());
        payload[16..24].copy_from_slice(&claims().issued_at.to_be_bytes());
        payload[24..32].copy_from_slice(&claims().expires_at.to_be_bytes());
        URL_SAFE_NO_PAD.encode_string(payload, &mut legacy);
        let signature = mac(secret, legacy.as_bytes()).finalize().into_bytes();
        legacy.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut legacy);
        let ring = KeyRing::parse("k2:the-new-secret,k1:the-old-secret").expect("a ring");
        assert_eq!(verify(&ring, &legacy, NOW), Ok(claims()));
        assert_eq!(verify(&KeyRing::single("other"), &legacy, NOW), Err(TokenError::BadSignature));
    }

    #[test]
    fn rejects_expired() {
        let token = sign(&ring(), &claims());
        assert_eq!(verify(&ring(), &token, NOW + 3600), Err(TokenError::Expired));
    }

    #[test]
    fn rejects_wrong_secret() {
        let token = sign(&KeyRing::parse("k2:another-secret").expect("a ring"), &claims());
        assert_eq!(verify(&ring(), &token, NOW), Err(TokenError::BadSignature));
    }

    #[test]
    fn rejects_tampered_claims() {
        let token = sign(&ring(), &claims());
        let forged_payload = {
            let mut c = claims();
            c.user_id = UserId(1);
            let other = sign(&KeyRing::parse("k2:whatever").expect("a ring"), &c);
            other.split('.').nth(2).map(str::to_owned).unwrap_or_default()
        };
        let parts: Vec<&str> = token.split('.').collect();
        let tampered = format!("rk2.k2.{}.{}", forged_payload, parts[3]);
        assert_eq!(verify(&ring(), &tampered, NOW), Err(TokenError::BadSignature));
    }

    #[test]
    fn rejects_malformed_and_downgrades() {
        let token = sign(&ring(), &claims());
        let no_sig = token.rsplit_once('.').map(|(a, _)| format!("{a}.")).unwrap_or_default();
        for bad in [
            "",
            "rk2.",
            "rk2.k2.abc",
            "rk1.abc",
            no_sig.as_str(),
            &token.replacen("rk2.", "rk0.", 1),
            &token.replacen("rk2.", "rk1.", 1),
            &token.replacen("rk2.", "", 1),
            &format!("{token}A"),
            &format!("{token}.extra"),
            "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
        ] {
            assert!(verify(&ring(), bad, NOW).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn parses_bearer_header() {
        assert_eq!(from_authorization_header("Bearer abc"), Some("abc"));
        assert_eq!(from_authorization_header("bearer  abc "), Some("abc"));
        assert_eq!(from_authorization_header("Token abc"), None);
        assert_eq!(from_authorization_header("Bearer "), None);
    }
}
