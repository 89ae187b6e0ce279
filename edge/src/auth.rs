//! Who is calling. A request without `Authorization` is anonymous and goes on; a request with one must
//! carry a bearer token that verifies under `TOKEN_SECRET`, has not expired, and whose session the
//! origin still reports live ([`crate::session`]). Anything else is answered 401 here, and the origin
//! never sees the request.
//!
//! This module decides identity only. Whether an endpoint needs a user is the origin's call: an
//! anonymous request to a protected endpoint gets the origin's own 401.

use rookery_shared::{
    ids::{SessionId, UserId},
    token::{self, Claims},
};
use worker::Headers;

use crate::{client::Client, config::Config, errors::EdgeError, session};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    Anonymous,
    User {
        user_id: UserId,
        session_id: SessionId,
    },
}

impl Identity {
    /// The pair the edge assertion carries.
    pub fn user(self) -> Option<(UserId, SessionId)> {
        match self {
            Self::Anonymous => None,
            Self::User {
                user_id,
                session_id,
            } => Some((user_id, session_id)),
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
    let claims = verify_header(&value, config.token_secret.as_bytes(), now)?;
    if !session::is_live(claims.session_id, config, client, now).await? {
        return Err(EdgeError::InvalidToken);
    }
    Ok(Identity::User {
        user_id: claims.user_id,
        session_id: claims.session_id,
    })
}

/// The checks that need no I/O: the scheme is Bearer and the token verifies and is unexpired.
fn verify_header(value: &str, secret: &[u8], now: i64) -> Result<Claims, EdgeError> {
    let token = token::from_authorization_header(value).ok_or(EdgeError::InvalidToken)?;
    token::verify(secret, token, now).map_err(|_| EdgeError::InvalidToken)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"token-secret";
    const NOW: i64 = 1_795_813_536;

    fn token(secret: &[u8], expires_at: i64) -> String {
        token::sign(
            secret,
            &Claims {
                user_id: UserId(7),
                session_id: SessionId(9),
                issued_at: NOW - 10,
                expires_at,
            },
        )
    }

    #[test]
    fn accepts_a_valid_bearer_token() {
        let header = format!("Bearer {}", token(SECRET, NOW + 60));
        let claims = verify_header(&header, SECRET, NOW).expect("valid");
        assert_eq!(
            (claims.user_id, claims.session_id),
            (UserId(7), SessionId(9))
        );
    }

    #[test]
    fn refuses_other_schemes_forgeries_and_expired_tokens() {
        let good = token(SECRET, NOW + 60);
        for header in [
            format!("Token {good}"),
            good.clone(),
            "Bearer".to_owned(),
            "Bearer not-a-token".to_owned(),
            format!("Bearer {}", token(b"another-secret", NOW + 60)),
            format!("Bearer {}", token(SECRET, NOW)),
        ] {
            assert!(
                matches!(
                    verify_header(&header, SECRET, NOW),
                    Err(EdgeError::InvalidToken)
                ),
                "accepted {header:?}"
            );
        }
    }
}
