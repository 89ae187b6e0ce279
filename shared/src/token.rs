//! Bearer tokens: `rk1.<payload>.<signature>`, both parts base64url without padding.
//!
//! The payload is 32 bytes, big-endian: user id, session id, issued-at and expires-at (seconds since the
//! Unix epoch). The signature is HMAC-SHA256 over `rk1.<payload>` with the server secret. There is no
//! algorithm field to negotiate: a token that does not start with `rk1.` is rejected, so no "alg: none" or
//! algorithm-confusion downgrade exists. The signature is checked in constant time before the payload is
//! read.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::ids::{SessionId, UserId};

type HmacSha256 = Hmac<Sha256>;

const PREFIX: &str = "rk1.";
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

/// Signs `claims` with `secret`.
pub fn sign(secret: &[u8], claims: &Claims) -> String {
    let mut payload = [0u8; PAYLOAD_LEN];
    payload[0..8].copy_from_slice(&claims.user_id.0.to_be_bytes());
    payload[8..16].copy_from_slice(&claims.session_id.0.to_be_bytes());
    payload[16..24].copy_from_slice(&claims.issued_at.to_be_bytes());
    payload[24..32].copy_from_slice(&claims.expires_at.to_be_bytes());
    let mut token = String::with_capacity(PREFIX.len() + 44 + 1 + 43);
    token.push_str(PREFIX);
    URL_SAFE_NO_PAD.encode_string(payload, &mut token);
    let signature = mac(secret, token.as_bytes()).finalize().into_bytes();
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    token
}

/// Checks the signature and expiry of `token` at `now` (seconds since the Unix epoch).
pub fn verify(secret: &[u8], token: &str, now: i64) -> Result<Claims, TokenError> {
    let body = token.strip_prefix(PREFIX).ok_or(TokenError::Malformed)?;
    let (payload_b64, signature_b64) = body.split_once('.').ok_or(TokenError::Malformed)?;
    let signed = &token[..PREFIX.len() + payload_b64.len()];
    let signature = decode_exact::<SIGNATURE_LEN>(signature_b64)?;
    mac(secret, signed.as_bytes())
        .verify_slice(&signature)
        .map_err(|_| TokenError::BadSignature)?;
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

    const SECRET: &[u8] = b"test-secret-test-secret-test-secret";
    const NOW: i64 = 1_795_813_536;

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
        let token = sign(SECRET, &claims());
        assert!(token.starts_with("rk1."));
        assert_eq!(verify(SECRET, &token, NOW + 10), Ok(claims()));
    }

    #[test]
    fn rejects_expired() {
        let token = sign(SECRET, &claims());
        assert_eq!(verify(SECRET, &token, NOW + 3600), Err(TokenError::Expired));
    }

    #[test]
    fn rejects_wrong_secret() {
        let token = sign(b"another-secret", &claims());
        assert_eq!(verify(SECRET, &token, NOW), Err(TokenError::BadSignature));
    }

    #[test]
    fn rejects_tampered_claims() {
        let token = sign(SECRET, &claims());
        let forged_payload = {
            let mut c = claims();
            c.user_id = UserId(1);
            let other = sign(b"whatever", &c);
            other.split('.').nth(1).map(str::to_owned).unwrap_or_default()
        };
        let parts: Vec<&str> = token.split('.').collect();
        let tampered = format!("rk1.{}.{}", forged_payload, parts[2]);
        assert_eq!(verify(SECRET, &tampered, NOW), Err(TokenError::BadSignature));
    }

    #[test]
    fn rejects_malformed_and_downgrades() {
        let token = sign(SECRET, &claims());
        let no_sig = token.rsplit_once('.').map(|(a, _)| format!("{a}.")).unwrap_or_default();
        for bad in [
            "",
            "rk1.",
            "rk1.abc",
            no_sig.as_str(),
            &token.replacen("rk1.", "rk0.", 1),
            &token.replacen("rk1.", "", 1),
            &format!("{token}A"),
            &format!("{token}.extra"),
            "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
        ] {
            assert!(verify(SECRET, bad, NOW).is_err(), "accepted {bad:?}");
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
