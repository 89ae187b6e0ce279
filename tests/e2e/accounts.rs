//! Accounts through the edge: who the origin sees, which tokens the edge refuses on its own, and how
//! soon a logout takes effect at the edge.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use rookery_origin::testing::Reply;
use rookery_shared::{
    error::messages,
    keys::KeyRing,
    token::{self, Claims},
};
use serde_json::json;

use crate::harness::{now_secs, spawn_stack, Stack};

const LOGIN_STATUS: &str = "/api/accounts/login_status/";
const LOGOUT: &str = "/api/accounts/logout/";

fn assert_invalid_token(reply: &Reply, what: &str) {
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{what}: {}", reply.body);
    assert_eq!(reply.body, json!({"detail": messages::INVALID_TOKEN}), "{what}");
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"), "{what}");
    assert!(reply.header("x-request-id").is_some(), "{what}: no request id");
}

async fn login_status(stack: &Stack, token: &str) -> Reply {
    stack.edge(Method::GET, LOGIN_STATUS, Some(token), None).await
}

#[tokio::test(flavor = "multi_thread")]
async fn signup_then_login_status_through_the_edge_shows_the_user() {
    let stack = spawn_stack(4).await;

    let anonymous = stack.edge(Method::GET, LOGIN_STATUS, None, None).await;
    assert_eq!(anonymous.status, StatusCode::OK, "{}", anonymous.body);
    assert_eq!(anonymous.body["has_logged_in"], json!(false));

    let account = stack.signup("edge_alice").await;
    let reply = login_status(&stack, &account.token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.body,
        json!({
            "has_logged_in": true,
            // The client IP the edge asserted: without TRUST_CF_CONNECTING_IP (as locally, where
            // nothing overwrites CF-Connecting-IP) the edge does not know it.
            "ip": "unknown",
            "user": {"id": account.id, "username": account.username},
        })
    );
    assert!(reply.header("x-request-id").is_some_and(|id| !id.is_empty()));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_request_id_is_kept_when_sane_and_replaced_otherwise() {
    let stack = spawn_stack(4).await;
    let send = |id: &'static str| {
        stack.client.get(format!("{}{LOGIN_STATUS}", stack.edge.url)).header("x-request-id", id).send()
    };

    let kept = send("e2e-request-42").await.expect("an answer");
    assert_eq!(kept.headers()["x-request-id"], "e2e-request-42");

    let replaced = send("not sane; at all").await.expect("an answer");
    let id = replaced.headers()["x-request-id"].to_str().expect("ascii");
    assert!(!id.is_empty() && id != "not sane; at all", "{id}");
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_expired_and_malformed_tokens_are_refused_before_the_origin() {
    let stack = spawn_stack(4).await;
    let account = stack.signup("edge_mallory").await;
    let secret = &stack.origin.config.auth.token_keys;
    let now = now_secs();
    let claims = token::verify(secret, &account.token, now).expect("the origin's token verifies");
    let forged = token::sign(&KeyRing::single("a secret the edge does not hold"), &claims);
    let expired = token::sign(secret, &Claims { issued_at: now - 7200, expires_at: now - 1, ..claims });
    let other_user = {
        // A real token's signature on another user's claims.
        let mut parts = account.token.rsplitn(2, '.');
        let signature = parts.next().expect("a signature");
        let forged_claims = token::sign(secret, &Claims { user_id: rookery_shared::ids::UserId(1), ..claims });
        let payload = forged_claims.rsplit_once('.').expect("a payload").0.to_owned();
        format!("{payload}.{signature}")
    };

    let before = stack.origin.requests_served().await;
    for (what, header) in [
        ("forged", format!("Bearer {forged}")),
        ("expired", format!("Bearer {expired}")),
        ("signature of another token", format!("Bearer {other_user}")),
        ("malformed", "Bearer rk1.not-base64!.x".to_owned()),
        ("truncated", format!("Bearer {}", &account.token[..account.token.len() - 2])),
        ("no token", "Bearer".to_owned()),
        ("another scheme", format!("Token {}", account.token)),
    ] {
        let response = stack
            .client
            .get(format!("{}{LOGIN_STATUS}", stack.edge.url))
            .header("authorization", header)
            .send()
            .await
            .expect("an answer");
        let reply = Reply {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.json().await.unwrap_or_default(),
        };
        assert_invalid_token(&reply, what);
    }
    assert_eq!(stack.origin.requests_served().await, before, "a refused request reached the origin");

    // The genuine token still works, so the refusals above were about the tokens.
    assert_eq!(login_status(&stack, &account.token).await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_well_signed_token_for_a_session_that_never_existed_is_refused() {
    let stack = spawn_stack(4).await;
    let account = stack.signup("edge_oscar").await;
    let secret = &stack.origin.config.auth.token_keys;
    let claims = token::verify(secret, &account.token, now_secs()).expect("verifies");
    let unknown_session = token::sign(
        secret,
        &Claims { session_id: rookery_shared::ids::SessionId(claims.session_id.0 + 1_000_000), ..claims },
    );
    assert_invalid_token(&login_status(&stack, &unknown_session).await, "unknown session");
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_through_the_edge_refuses_the_token_at_once() {
    // A cache far longer than the test: only the edge's purge on logout explains an immediate refusal.
    let stack = spawn_stack(60).await;
    let account = stack.signup("edge_bob").await;
    let login = stack
        .edge(
            Method::POST,
            "/api/accounts/login/",
            None,
            Some(json!({"username": account.username, "password": "correct horse"})),
        )
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let second_token = login.body["token"].as_str().expect("a token").to_owned();

    // Both sessions are seen live, and cached, at the edge.
    assert_eq!(login_status(&stack, &account.token).await.status, StatusCode::OK);
    assert_eq!(login_status(&stack, &second_token).await.status, StatusCode::OK);

    // Ended at the origin behind the edge's back, a session stays cached as live: the cache is what
    // bounds this, see the next test.
    let direct = stack.origin(Method::POST, LOGOUT, Some(&second_token), None).await;
    assert_eq!(direct.status, StatusCode::OK, "{}", direct.body);
    assert_eq!(login_status(&stack, &second_token).await.status, StatusCode::OK);

    // Ended through the edge, it is refused on the very next request.
    let logout = stack.edge(Method::POST, LOGOUT, Some(&account.token), None).await;
    assert_eq!(logout.status, StatusCode::OK, "{}", logout.body);
    assert_eq!(logout.body, json!({"success": true}));
    assert_invalid_token(&login_status(&stack, &account.token).await, "after logout through the edge");
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_at_the_origin_reaches_the_edge_within_the_cache_bound() {
    const CACHE_SECS: u32 = 3;
    let stack = spawn_stack(CACHE_SECS).await;
    let account = stack.signup("edge_carol").await;
    assert_eq!(login_status(&stack, &account.token).await.status, StatusCode::OK);

    let logout = stack.origin(Method::POST, LOGOUT, Some(&account.token), None).await;
    assert_eq!(logout.status, StatusCode::OK, "{}", logout.body);
    let logged_out = Instant::now();
    let bound = Duration::from_secs(u64::from(CACHE_SECS) + 1);
    loop {
        let reply = login_status(&stack, &account.token).await;
        if reply.status == StatusCode::UNAUTHORIZED {
            assert_invalid_token(&reply, "after logout at the origin");
            break;
        }
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert!(logged_out.elapsed() <= bound, "token still accepted {:?} after logout", logged_out.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(logged_out.elapsed() <= bound, "refused only after {:?}", logged_out.elapsed());
}

/// A password change (and log-out-everywhere) at any edge or at the origin ends the other sessions at
/// every edge within the session cache bound; the edge that carried a log-out-everywhere refuses the
/// caller's own token at once.
#[tokio::test(flavor = "multi_thread")]
async fn password_change_and_logout_everywhere_reach_the_edge_within_the_cache_bound() {
    const CACHE_SECS: u32 = 3;
    let stack = spawn_stack(CACHE_SECS).await;
    let account = stack.signup("edge_dora").await;
    let login = |password: &'static str| {
        stack.edge(
            Method::POST,
            "/api/accounts/login/",
            None,
            Some(json!({"username": account.username, "password": password})),
        )
    };
    let phone = login("correct horse").await.body["token"].as_str().expect("a token").to_owned();
    for token in [&account.token, &phone] {
        assert_eq!(login_status(&stack, token).await.status, StatusCode::OK);
    }

    let changed = stack
        .edge(
            Method::POST,
            "/api/accounts/change_password/",
            Some(&account.token),
            Some(json!({"old_password": "correct horse", "new_password": "a fresh secret"})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body, json!({"success": true, "ended": 1}));
    let changed_at = Instant::now();
    let bound = Duration::from_secs(u64::from(CACHE_SECS) + 1);
    loop {
        let reply = login_status(&stack, &phone).await;
        if reply.status == StatusCode::UNAUTHORIZED {
            assert_invalid_token(&reply, "the other session after the password change");
            break;
        }
        assert!(changed_at.elapsed() <= bound, "the other session still accepted after {:?}", changed_at.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(login_status(&stack, &account.token).await.status, StatusCode::OK, "the changing session stays");
    assert_eq!(login("correct horse").await.status, StatusCode::BAD_REQUEST, "the old password");

    let laptop = login("a fresh secret").await.body["token"].as_str().expect("a token").to_owned();
    assert_eq!(login_status(&stack, &laptop).await.status, StatusCode::OK);
    let everywhere = stack.edge(Method::POST, "/api/accounts/logout_all/", Some(&account.token), None).await;
    assert_eq!(everywhere.status, StatusCode::OK, "{}", everywhere.body);
    assert_eq!(everywhere.body, json!({"success": true, "ended": 2}));
    assert_invalid_token(&login_status(&stack, &account.token).await, "the caller's own session, at once");
    let ended_at = Instant::now();
    loop {
        let reply = login_status(&stack, &laptop).await;
        if reply.status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(ended_at.elapsed() <= bound, "another session still accepted after {:?}", ended_at.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
