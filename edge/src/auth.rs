//! Who is calling. A request without `Authorization` is anonymous and goes on; a request with one must
//! carry a bearer token that verifies under the key it names from the token ring (`TOKEN_SECRETS`),
//! has not expired, and whose session the origin still reports live ([`crate::session`]). Anything
//! else is answered 401 here, and the origin never sees the request.
//!
//! This module decides identity only. Whether an endpoint needs a user is the origin's call: an
//! anonymous request to a protected endpoint gets the origin's own 401.

use rookery_shared::{
    ids::{SessionId, UserId},
    keys::KeyRing,
    token::{self, Claims},
};
use worker::Headers;

use crate::{client::Client, config::Config, errors::EdgeError, session};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    Anonymous,
    User { user_id: UserId, session_id: SessionId },
}

impl Identity {
    /// The pair the edge assertion carries.
    pub fn user(self) -> Option<(UserId, SessionId)> {
        match self {
            Self::Anonymous => None,
            Self::User { user_id, session_id } => Some((user_id, session_id)),
        }
    }
}

pub async fn authenticate(
    headers: &Headers,
    config: &Config,
    client: &Client,
    now: i64,
) -> Result<Identity, EdgeError> {
    let Some(value) = headers.get("authorization")? else {
        return Ok(Identity::Anonymous);
    };
    let claims = verify_header(&value, &config.token_keys, now)?;
    if !session::is_live(claims.session_id, config, client, now).await? {
        return Err(EdgeError::InvalidToken);
    }
    Ok(Identity::User { user_id: claims.user_id, session_id: claims.session_id })
}

/// The checks that need no I/O: the scheme is Bearer and the token verifies and is unexpired.
fn verify_header(value: &str, keys: &KeyRing, now: i64) -> Result<Claims, EdgeError> {
    let token = token::from_authorization_header(value).ok_or(EdgeError::InvalidToken)?;
    token::verify(keys, token, now).map_err(|_| EdgeError::InvalidToken)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_813_536;

    fn ring(list: &str) -> KeyRing {
        KeyRing::parse(list).unwrap_or_else(|error| panic!("{list}: {error}"))
    }

    fn token(keys: &KeyRing, expires_at: i64) -> String {
        token::sign(keys, &Claims { user_id: UserId(7), session_id: SessionId(9), issued_at: NOW - 10, expires_at })
    }

    #[test]
    fn accepts_a_valid_bearer_token() {
        let keys = ring("k1:token-secret");
        let header = format!("Bearer {}", token(&keys, NOW + 60));
        let claims = verify_header(&header, &keys, NOW).expect("valid");
        assert_eq!((claims.user_id, claims.session_id), (UserId(7), SessionId(9)));
    }

    #[test]
    fn a_rotated_ring_accepts_old_tokens_until_their_key_is_dropped() {
        let old = format!("Bearer {}", token(&ring("k1:old-secret"), NOW + 60));
        let rotated = ring("k2:new-secret,k1:old-secret");
        assert!(verify_header(&old, &rotated, NOW).is_ok());
        let retired = ring("k2:new-secret");
        assert!(matches!(verify_header(&old, &retired, NOW), Err(EdgeError::InvalidToken)));
    }

    #[test]
    fn refuses_other_schemes_forgeries_and_expired_tokens() {
        let keys = ring("k1:token-secret");
        let good = token(&keys, NOW + 60);
        for header in [
            format!("Token {good}"),
            good.clone(),
            "Bearer".to_owned(),
            "Bearer not-a-token".to_owned(),
            format!("Bearer {}", token(&ring("k1:another-secret"), NOW + 60)),
            format!("Bearer {}", token(&ring("k9:token-secret"), NOW + 60)),
            format!("Bearer {}", token(&keys, NOW)),
        ] {
            assert!(matches!(verify_header(&header, &keys, NOW), Err(EdgeError::InvalidToken)), "accepted {header:?}");
        }
    }
}
