use reqwest::StatusCode;
use rookery_origin::testing::{spawn_app, TestApp};
use serde_json::json;
use sqlx::Connection;

const SIGNUP: &str = "/api/accounts/signup/";
const LOGIN: &str = "/api/accounts/login/";
const LOGOUT: &str = "/api/accounts/logout/";
const STATUS: &str = "/api/accounts/login_status/";

#[tokio::test]
async fn signup_returns_user_and_working_token_and_creates_profile() {
    let app = spawn_app().await;
    let (status, body) = app
        .post(SIGNUP, None, json!({"username": "LingHu_01", "email": "LingHu@Example.com", "password": "s3cret-Pass"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["user"]["username"], "linghu_01");
    let id = body["user"]["id"].as_u64().expect("numeric id");
    assert!(id > 0 && id < (1 << 53));
    let token = body["token"].as_str().expect("token");

    let (status, body) = app.get(STATUS, Some(token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["has_logged_in"], true);
    assert_eq!(body["user"], json!({"id": id, "username": "linghu_01"}));

    let mut db = sqlx::MySqlConnection::connect(&app.config.db.url).await.expect("db");
    let (email, hash): (String, String) =
        sqlx::query_as("SELECT CONVERT(email USING utf8mb4), password_hash FROM users WHERE id = ?")
            .bind(id)
            .fetch_one(&mut db)
            .await
            .expect("user row");
    assert_eq!(email, "linghu@example.com");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    let profiles: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM profiles WHERE user_id = ?")
        .bind(id)
        .fetch_one(&mut db)
        .await
        .expect("count");
    assert_eq!(profiles, 1);
}

#[tokio::test]
async fn signup_rejects_taken_username_and_email_case_insensitively() {
    let app = spawn_app().await;
    app.signup("alice_1").await;
    let (status, body) = app
        .post(SIGNUP, None, json!({"username": "ALICE_1", "email": "other@example.com", "password": "password1"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("signup_username_taken", body);

    let (status, body) = app
        .post(SIGNUP, None, json!({"username": "alice_2", "email": "ALICE_1@example.COM", "password": "password1"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("signup_email_taken", body);
}

#[tokio::test]
async fn signup_validates_every_field() {
    let app = spawn_app().await;
    let (status, body) = app.post(SIGNUP, None, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("signup_missing_fields", body);

    let (status, body) =
        app.post(SIGNUP, None, json!({"username": "ab", "email": "not-an-email", "password": "12345"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("signup_invalid_fields", body);

    let (status, body) =
        app.post(SIGNUP, None, json!({"username": "bad name!", "email": "a@b.co", "password": "x".repeat(129)})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("signup_bad_characters_long_password", body);

    let (status, _) =
        app.post(SIGNUP, None, json!({"username": "okname", "email": "a@b.co", "password": "x".repeat(128)})).await;
    assert_eq!(status, StatusCode::CREATED, "128 characters is the limit, inclusive");
}

#[tokio::test]
async fn concurrent_signups_of_one_name_create_one_account() {
    let app = spawn_app().await;
    let attempts = (0..6).map(|i| {
        app.post(
            SIGNUP,
            None,
            json!({"username": "racer_x", "email": format!("r{i}@example.com"), "password": "password1"}),
        )
    });
    let results = futures::future::join_all(attempts).await;
    let created = results.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    assert_eq!(created, 1, "{results:?}");
    for (status, body) in results.iter().filter(|(s, _)| *s != StatusCode::CREATED) {
        assert_eq!(*status, StatusCode::BAD_REQUEST);
        assert_eq!(body["errors"]["username"][0], "This username has been occupied.");
    }
}

#[tokio::test]
async fn signup_accepts_form_urlencoded() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}{SIGNUP}", app.address))
        .form(&[("username", "formuser"), ("email", "form@example.com"), ("password", "password1")])
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn login_issues_a_new_token_and_keeps_password_case() {
    let app = spawn_app().await;
    let account = app.signup("bob_smith").await;
    let (status, body) = app.post(LOGIN, None, json!({"username": "Bob_Smith", "password": "correct horse"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["user"], json!({"id": account.id, "username": account.username}));
    let token = body["token"].as_str().expect("token");
    assert_ne!(token, account.token);
    assert_eq!(app.get(STATUS, Some(token)).await.1["user"]["id"], account.id);

    let (status, body) = app.post(LOGIN, None, json!({"username": "bob_smith", "password": "Correct Horse"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("login_wrong_password", body);
}

#[tokio::test]
async fn login_errors() {
    let app = spawn_app().await;
    let (status, body) = app.post(LOGIN, None, json!({"username": "nobody_here", "password": "whatever1"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("login_unknown_user", body);

    let (status, body) = app.post(LOGIN, None, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("login_missing_fields", body);
}

#[tokio::test]
async fn logout_revokes_only_that_session() {
    let app = spawn_app().await;
    let account = app.signup("carol_c").await;
    let (_, second) = app.post(LOGIN, None, json!({"username": "carol_c", "password": "correct horse"})).await;
    let second = second["token"].as_str().expect("token").to_owned();

    let (status, body) = app.post(LOGOUT, Some(&account.token), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"success": true}));

    let (status, body) = app.get(STATUS, Some(&account.token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    insta::assert_json_snapshot!("revoked_token", body);

    let (status, body) = app.get(STATUS, Some(&second)).await;
    assert_eq!(status, StatusCode::OK, "the other session stays valid");
    assert_eq!(body["user"]["id"], account.id);
}

#[tokio::test]
async fn logout_survives_a_redis_flush() {
    let app = spawn_app().await;
    let account = app.signup("dave_d1").await;
    assert_eq!(app.get(STATUS, Some(&account.token)).await.0, StatusCode::OK);
    app.post(LOGOUT, Some(&account.token), json!({})).await;
    // Drop this test's cached session answers: the revocation must come from MySQL.
    let client = redis::Client::open(app.config.redis.url.as_str()).expect("redis url");
    let mut conn = client.get_multiplexed_async_connection().await.expect("redis");
    let keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{}*", app.config.redis.prefix)).query_async(&mut conn).await.expect("keys");
    assert!(!keys.is_empty(), "the session answer was cached");
    let _: () = redis::cmd("DEL").arg(keys).query_async(&mut conn).await.expect("del");
    assert_eq!(app.get(STATUS, Some(&account.token)).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logout_without_token_is_fine() {
    let app = spawn_app().await;
    let (status, body) = app.post(LOGOUT, None, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"success": true}));
}

#[tokio::test]
async fn login_status_anonymous_reports_client_ip() {
    let app = spawn_app().await;
    let (status, body) = app.get(STATUS, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"has_logged_in": false, "ip": "127.0.0.1"}));
}

#[tokio::test]
async fn bad_tokens_are_401_with_challenge() {
    let app = spawn_app().await;
    let account = app.signup("erin_e1").await;
    let mut tampered = account.token.clone();
    tampered.pop();
    tampered.push(if account.token.ends_with('A') { 'B' } else { 'A' });
    let foreign = rookery_shared::token::sign(
        &rookery_shared::keys::KeyRing::single("some other secret"),
        &rookery_shared::token::Claims {
            user_id: rookery_shared::ids::UserId(account.id),
            session_id: rookery_shared::ids::SessionId(1),
            issued_at: 0,
            expires_at: i64::MAX,
        },
    );
    for (token, why) in [(tampered.as_str(), "tampered"), (foreign.as_str(), "foreign key"), ("garbage", "malformed")] {
        let response =
            app.client.get(format!("{}{STATUS}", app.address)).bearer_auth(token).send().await.expect("answer");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{why}");
        assert_eq!(response.headers().get("www-authenticate").map(|v| v.as_bytes()), Some(&b"Bearer"[..]));
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(body, json!({"detail": "Invalid token."}), "{why}");
    }
}

#[tokio::test]
async fn edge_session_check_is_not_for_direct_callers() {
    let app = spawn_app().await;
    let (status, body) = app.get("/internal/sessions/1", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"detail": "Not found."}));
}

#[tokio::test]
async fn edge_assertion_identifies_the_user_and_client() {
    use rookery_shared::{
        edge_assertion::{body_digest, EdgeAssertion, Target},
        ids::{SessionId, UserId},
        keys::KeyRing,
    };
    let app = spawn_app().await;
    let account = app.signup("frank_f1").await;
    let now = rookery_origin::ids::now_micros() / 1_000_000;
    let assertion = EdgeAssertion {
        issued_at: now,
        user: Some((UserId(account.id), SessionId(1))),
        client_ip: "203.0.113.7".into(),
        request_id: "edge-req-1".into(),
        body_sha256: body_digest(b""),
    };
    let send = |keys: KeyRing| {
        let value = assertion.encode(&keys, Target { method: "GET", path: STATUS, query: None });
        app.client.get(format!("{}{STATUS}", app.address)).header("x-rookery-edge", value).send()
    };
    let body: serde_json::Value =
        send(app.config.auth.edge_keys.clone()).await.expect("answer").json().await.expect("json");
    assert_eq!(body["user"]["id"], account.id);
    assert_eq!(body["ip"], "203.0.113.7");

    // A forged assertion is ignored: the caller is anonymous, with its real address.
    let body: serde_json::Value =
        send(KeyRing::single("not the edge secret")).await.expect("answer").json().await.expect("json");
    assert_eq!(body, json!({"has_logged_in": false, "ip": "127.0.0.1"}));
}

/// Logs `account` in again: a second session (another device).
async fn login_again(app: &TestApp, username: &str, password: &str) -> String {
    let (status, body) =
        app.post("/api/accounts/login/", None, json!({"username": username, "password": password})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().expect("a token").to_owned()
}

#[tokio::test]
async fn changing_the_password_ends_every_other_session() {
    let app = spawn_app().await;
    let account = app.signup("gina_pw").await;
    let laptop = login_again(&app, "gina_pw", "correct horse").await;
    let phone = login_again(&app, "gina_pw", "correct horse").await;

    let change = |old: &str, new: &str| {
        app.post(
            "/api/accounts/change_password/",
            Some(&account.token),
            json!({"old_password": old, "new_password": new}),
        )
    };
    let (status, body) = change("not my password", "a new secret").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errors"]["old_password"],
        json!(["Your old password was entered incorrectly. Please enter it again."])
    );
    let (status, body) = change("correct horse", "short").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"]["new_password"], json!(["Ensure this field has at least 6 characters."]));
    let (status, body) = app.post("/api/accounts/change_password/", Some(&account.token), json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"]["old_password"], json!(["This field is required."]), "{body}");
    // Nothing changed so far: every session still works.
    for token in [&laptop, &phone] {
        assert_eq!(app.get(STATUS, Some(token)).await.1["has_logged_in"], true);
    }

    let (status, body) = change("correct horse", "a new secret").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"success": true, "ended": 2}));
    for token in [&laptop, &phone] {
        let (status, _) = app.get(STATUS, Some(token)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "another session survived the password change");
    }
    assert_eq!(app.get(STATUS, Some(&account.token)).await.1["has_logged_in"], true, "the changing session stays");
    let (status, _) =
        app.post("/api/accounts/login/", None, json!({"username": "gina_pw", "password": "correct horse"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the old password still logs in");
    login_again(&app, "gina_pw", "a new secret").await;

    let (status, _) =
        app.post("/api/accounts/change_password/", None, json!({"old_password": "a", "new_password": "bbbbbbb"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logging_out_everywhere_ends_every_session() {
    let app = spawn_app().await;
    let account = app.signup("hank_all").await;
    let other = app.signup("ivan_all").await;
    let laptop = login_again(&app, "hank_all", "correct horse").await;
    let (status, body) = app.post("/api/accounts/logout_all/", Some(&laptop), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"success": true, "ended": 2}));
    for token in [&laptop, &account.token] {
        assert_eq!(app.get(STATUS, Some(token)).await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(app.get(STATUS, Some(&other.token)).await.1["has_logged_in"], true, "another user's session");
    login_again(&app, "hank_all", "correct horse").await;
}

#[tokio::test]
async fn emails_are_compared_by_their_normal_form_not_the_collation() {
    let app = spawn_app().await;
    let signup = |username: &'static str, email: &'static str| {
        app.post(
            "/api/accounts/signup/",
            None,
            json!({"username": username, "email": email, "password": "correct horse"}),
        )
    };
    let (status, body) = signup("plain_em", "FullX@Example.com").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // The same address in full-width letters is taken…
    let (status, body) = signup("wide_em", "ｆｕｌｌX@example.com").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errors"]["email"], json!(["This email address has been occupied."]));
    // …another address that a collation finds alike is not, and neither is a look-alike domain in one
    // script (it is another domain).
    for (username, email) in [("umlaut_em", "fülLX@example.com"), ("cyrl_em", "fullx@\u{435}\u{445}.com")] {
        let (status, body) = signup(username, email).await;
        assert_eq!(status, StatusCode::CREATED, "{email}: {body}");
    }
    // Latin and Cyrillic letters mixed in one part exist only to deceive.
    let (status, body) = signup("mixed_em", "fullx@ex\u{430}mple.com").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errors"]["email"], json!(["Enter a valid email address."]));
}

#[tokio::test]
async fn private_answers_are_not_stored_and_nothing_is_sniffed() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/api/accounts/login/", app.address))
        .json(&json!({"username": app.signup("jill_hd").await.username, "password": "correct horse"}))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), StatusCode::OK);
    let token =
        response.json::<serde_json::Value>().await.expect("json")["token"].as_str().expect("a token").to_owned();
    for path in [
        "/api/accounts/login_status/",
        "/api/profiles/me/",
        "/api/notifications/",
        "/api/newsfeeds/",
        "/api/no/such/route/",
    ] {
        let response =
            app.client.get(format!("{}{path}", app.address)).bearer_auth(&token).send().await.expect("an answer");
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(header("cache-control").as_deref(), Some("no-store"), "{path}");
        assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"), "{path}");
    }
    let response = app.client.get(format!("{}/healthz", app.address)).send().await.expect("an answer");
    assert_eq!(response.headers().get("x-content-type-options").map(|v| v.as_bytes()), Some(&b"nosniff"[..]));
}
