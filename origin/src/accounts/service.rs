//! Account rules: validation, argon2id hashing, sessions and tokens.

use anyhow::Context;
use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use rookery_shared::{
    accounts::{AuthResponse, ChangePasswordRequest, LoginRequest, SessionsEnded, SignupRequest, User},
    ids::{ProfileId, SessionId, UserId},
    token::{self, Claims},
};

use super::{store, validate};
use crate::{
    auth::AuthUser,
    db,
    error::{ApiError, Result},
    ids::now_micros,
    state::AppState,
};

const USERNAME_TAKEN: &str = "This username has been occupied.";
const EMAIL_TAKEN: &str = "This email address has been occupied.";

pub async fn signup(state: &AppState, request: SignupRequest) -> Result<AuthResponse> {
    let mut errors = validate::Errors::default();
    validate::username(&mut errors, request.username.as_deref());
    validate::email(&mut errors, request.email.as_deref());
    validate::password(&mut errors, request.password.as_deref());
    errors.into_result().map_err(ApiError::Invalid)?;
    let (Some(username), Some(email), Some(password)) = (request.username, request.email, request.password) else {
        return Err(ApiError::Internal(anyhow::anyhow!("validated fields are missing")));
    };
    let username = username.to_lowercase();
    let email =
        super::email::normalize(&email).ok_or_else(|| ApiError::field("email", "Enter a valid email address."))?;

    reject_taken(state, &username, &email).await?;
    let password_hash = hash_password(password).await?;
    let now = now_micros();
    let user_id = UserId(state.ids.next());
    let new_user = store::NewUser {
        id: user_id,
        profile_id: ProfileId(state.ids.next()),
        username: &username,
        email: &email,
        password_hash: &password_hash,
        now,
    };
    let session_id = SessionId(state.ids.next());
    let expires_at = now + state.config.auth.token_ttl_secs * 1_000_000;
    let mut tx = state.db.begin().await?;
    if let Err(error) = store::insert_user(&mut tx, &new_user).await {
        drop(tx);
        // Lost a race with a concurrent signup of the same name or address.
        if db::is_unique_violation(&error) {
            reject_taken(state, &username, &email).await?;
        }
        return Err(error.into());
    }
    store::insert_session(&mut *tx, session_id, user_id, now, expires_at).await?;
    tx.commit().await?;
    tracing::info!(%user_id, "signed up");
    Ok(AuthResponse {
        success: true,
        user: User { id: user_id, username },
        token: issue_token(state, user_id, session_id, now, expires_at),
    })
}

async fn reject_taken(state: &AppState, username: &str, email: &str) -> Result<()> {
    let (username_taken, email_taken) = store::taken(&state.db, username, email).await?;
    let mut errors = validate::Errors::default();
    if username_taken {
        errors.add("username", USERNAME_TAKEN);
    }
    if email_taken {
        errors.add("email", EMAIL_TAKEN);
    }
    errors.into_result().map_err(ApiError::Invalid)
}

pub async fn login(state: &AppState, request: LoginRequest) -> Result<AuthResponse> {
    let mut errors = validate::Errors::default();
    if request.username.is_none() {
        errors.add("username", validate::REQUIRED);
    }
    if request.password.is_none() {
        errors.add("password", validate::REQUIRED);
    }
    errors.into_result().map_err(ApiError::Invalid)?;
    let (Some(username), Some(password)) = (request.username, request.password) else {
        return Err(ApiError::Internal(anyhow::anyhow!("validated fields are missing")));
    };
    let username = username.to_lowercase();
    // The column's collation also matches names that only look alike (accents, combining marks,
    // full-width letters, trailing spaces); stored names are exact lower-case ASCII, so only an exact
    // match is the user.
    let Some(found) = store::credentials(&state.db, &username).await?.filter(|found| found.username == username) else {
        return Err(ApiError::field("username", "User does not exist."));
    };
    if !verify_password(password, found.password_hash).await? {
        return Err(ApiError::BadRequest("Username and password does not match.".into()));
    }
    let now = now_micros();
    let session_id = SessionId(state.ids.next());
    let expires_at = now + state.config.auth.token_ttl_secs * 1_000_000;
    store::insert_session(&state.db, session_id, found.id, now, expires_at).await?;
    tracing::info!(user_id = %found.id, "logged in");
    Ok(AuthResponse {
        success: true,
        user: User { id: found.id, username: found.username },
        token: issue_token(state, found.id, session_id, now, expires_at),
    })
}

/// Revokes the session in MySQL, then overwrites its cached answer so every origin refuses the token at
/// once. The edge's own cache of the answer expires within its configured bound.
pub async fn logout(state: &AppState, session_id: SessionId) -> Result<()> {
    store::revoke_session(&state.db, session_id, now_micros()).await?;
    if let Err(error) = store::cache_session(&state.redis, session_id, false).await {
        tracing::warn!(%error, "could not record the logout in Redis; the cached answer expires by itself");
    }
    Ok(())
}

/// Changes the user's password (the current one is required) and ends every other session: a password
/// changed because it leaked also locks out whoever used it. The session making the change stays.
pub async fn change_password(
    state: &AppState,
    user: AuthUser,
    request: ChangePasswordRequest,
) -> Result<SessionsEnded> {
    let mut errors = validate::Errors::default();
    if request.old_password.is_none() {
        errors.add("old_password", "This field is required.");
    }
    validate::password_named(&mut errors, "new_password", request.new_password.as_deref());
    errors.into_result().map_err(ApiError::Invalid)?;
    let (Some(old), Some(new)) = (request.old_password, request.new_password) else {
        return Err(ApiError::Internal(anyhow::anyhow!("validated fields are missing")));
    };
    let stored = store::password_hash(&state.db, user.user_id).await?.ok_or(ApiError::InvalidToken)?;
    if !verify_password(old, stored).await? {
        return Err(ApiError::field(
            "old_password",
            "Your old password was entered incorrectly. Please enter it again.",
        ));
    }
    let hash = hash_password(new).await?;
    let mut tx = state.db.begin().await?;
    store::set_password_hash(&mut tx, user.user_id, &hash).await?;
    let ended = store::revoke_sessions(&mut tx, user.user_id, Some(user.session_id), now_micros()).await?;
    tx.commit().await?;
    forget_sessions(state, &ended).await;
    tracing::info!(user_id = %user.user_id, ended = ended.len(), "password changed");
    Ok(SessionsEnded { success: true, ended: ended.len() as u64 })
}

/// Ends every session of the user, this one included.
pub async fn logout_everywhere(state: &AppState, user: AuthUser) -> Result<SessionsEnded> {
    let mut tx = state.db.begin().await?;
    let ended = store::revoke_sessions(&mut tx, user.user_id, None, now_micros()).await?;
    tx.commit().await?;
    forget_sessions(state, &ended).await;
    tracing::info!(user_id = %user.user_id, ended = ended.len(), "logged out everywhere");
    Ok(SessionsEnded { success: true, ended: ended.len() as u64 })
}

/// Overwrites the cached answers of revoked sessions, so every origin refuses their tokens at once.
async fn forget_sessions(state: &AppState, sessions: &[SessionId]) {
    for session in sessions {
        if let Err(error) = store::cache_session(&state.redis, *session, false).await {
            tracing::warn!(%error, "could not record a revoked session in Redis; the cached answer expires by itself");
        }
    }
}

/// Whether a token's session is still live: Redis first, MySQL on a miss (or when Redis is away).
pub async fn session_active(state: &AppState, session_id: SessionId) -> Result<bool> {
    if let Some(live) = store::cached_session(&state.redis, session_id).await {
        state.metrics.cache_lookups("session", 1, 0);
        return Ok(live);
    }
    state.metrics.cache_lookups("session", 0, 1);
    let live = store::session_live(&state.db, session_id, now_micros()).await?;
    let _ = store::cache_session(&state.redis, session_id, live).await;
    Ok(live)
}

pub async fn user(state: &AppState, user_id: UserId) -> Result<Option<User>> {
    Ok(store::username(&state.db, user_id).await?.map(|username| User { id: user_id, username }))
}

fn issue_token(state: &AppState, user_id: UserId, session_id: SessionId, now: i64, expires_at: i64) -> String {
    let claims = Claims { user_id, session_id, issued_at: now / 1_000_000, expires_at: expires_at / 1_000_000 };
    token::sign(&state.config.auth.token_keys, &claims)
}

/// argon2id with the crate's defaults (19 MiB, 2 passes), off the async threads.
async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
    })
    .await
    .context("while hashing a password")?
    .map_err(ApiError::Internal)
}

async fn verify_password(password: String, hash: String) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(|e| anyhow::anyhow!("stored hash is invalid: {e}"))?;
        Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .context("while verifying a password")?
    .map_err(ApiError::Internal)
}
