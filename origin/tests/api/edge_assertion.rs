//! The edge assertion as the origin checks it: bound to method, path, query and body, signed with a key
//! the origin lists; tokens and assertions signed with a rotated-out key stop working, those signed with a
//! key still listed keep working.

use reqwest::StatusCode;
use rookery_origin::testing::{spawn_app_with, Account, TestApp};
use rookery_shared::{
    edge_assertion::{body_digest, EdgeAssertion, Target, HEADER},
    ids::{SessionId, UserId},
    keys::KeyRing,
    token,
};
use serde_json::json;

const OLD_TOKEN_KEY: &str = "t1:the-old-token-secret-the-old-token-secret";
const NEW_TOKEN_KEY: &str = "t2:the-new-token-secret-the-new-token-secret";
const OLD_EDGE_KEY: &str = "e1:the-old-edge-secret-the-old-edge-secret";
const NEW_EDGE_KEY: &str = "e2:the-new-edge-secret-the-new-edge-secret";

/// An origin in the middle of a rotation: new keys first, the old ones still listed.
async fn rotating_app() -> TestApp {
    spawn_app_with(|config| {
        config.auth.token_keys = KeyRing::parse(&format!("{NEW_TOKEN_KEY},{OLD_TOKEN_KEY}")).expect("a ring");
        config.auth.edge_keys = KeyRing::parse(&format!("{NEW_EDGE_KEY},{OLD_EDGE_KEY}")).expect("a ring");
    })
    .await
}

fn now() -> i64 {
    rookery_origin::ids::now_micros() / 1_000_000
}

/// An assertion for `user`'s session, for `body`.
fn assertion(app: &TestApp, user: &Account, body: &[u8]) -> EdgeAssertion {
    let claims = token::verify(&app.config.auth.token_keys, &user.token, now()).expect("the user's token");
    EdgeAssertion {
        issued_at: now(),
        user: Some((UserId(user.id), SessionId(claims.session_id.0))),
        client_ip: "203.0.113.20".into(),
        request_id: "assertion-test".into(),
        body_sha256: body_digest(body),
    }
}

async fn post_as_edge(app: &TestApp, path: &str, header: &str, body: &str) -> (StatusCode, serde_json::Value) {
    let response = app
        .client
        .post(format!("{}{path}", app.address))
        .header(HEADER, header)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("an answer");
    let status = response.status();
    (status, response.json().await.unwrap_or(serde_json::Value::Null))
}

#[tokio::test]
async fn a_captured_assertion_is_worthless_for_another_body_or_query() {
    let app = rotating_app().await;
    let alice = app.signup("alice_ea").await;
    let body = json!({"content": "what alice wrote"}).to_string();
    let header = assertion(&app, &alice, body.as_bytes())
        .encode(&app.config.auth.edge_keys, Target { method: "POST", path: "/api/tweets/", query: None });

    let (status, tweet) = post_as_edge(&app, "/api/tweets/", &header, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{tweet}");
    assert_eq!(tweet["user"]["id"], alice.id);

    // The same header with another body: ignored, so the request is anonymous and refused.
    let evil = json!({"content": "what mallory wants alice to say"}).to_string();
    let (status, answer) = post_as_edge(&app, "/api/tweets/", &header, &evil).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
    // … or with a query it was not issued for.
    let (status, answer) = post_as_edge(&app, "/api/tweets/?content=x", &header, &body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");

    let (_, tweets) = app.get(&format!("/api/tweets/?user_id={}", alice.id), Some(&alice.token)).await;
    let contents: Vec<&str> =
        tweets["results"].as_array().expect("results").iter().filter_map(|t| t["content"].as_str()).collect();
    assert_eq!(contents, ["what alice wrote"]);
}

#[tokio::test]
async fn queries_are_signed_too() {
    let app = rotating_app().await;
    let alice = app.signup("alice_eq").await;
    let target = Target { method: "GET", path: "/api/accounts/login_status/", query: Some("lang=en") };
    let header = assertion(&app, &alice, b"").encode(&app.config.auth.edge_keys, target);
    let login_status = |query: &'static str| {
        let request =
            app.client.get(format!("{}/api/accounts/login_status/?{query}", app.address)).header(HEADER, &header);
        async move { request.send().await.expect("an answer").json::<serde_json::Value>().await.expect("json") }
    };
    assert_eq!(login_status("lang=en").await["user"]["id"], alice.id);
    assert_eq!(login_status("lang=fr").await, json!({"has_logged_in": false, "ip": "127.0.0.1"}));
}

#[tokio::test]
async fn keys_still_listed_keep_working_and_others_do_not() {
    let app = rotating_app().await;
    let alice = app.signup("alice_kr").await;
    assert!(alice.token.starts_with("rk2.t2."), "new tokens are signed with the first key: {}", alice.token);
    let claims = token::verify(&app.config.auth.token_keys, &alice.token, now()).expect("a valid token");

    // A token for the same session signed with the old key, as one issued before the rotation would be.
    let old_ring = KeyRing::parse(OLD_TOKEN_KEY).expect("a ring");
    let old_token = token::sign(&old_ring, &claims);
    let (status, body) = app.get("/api/accounts/login_status/", Some(&old_token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["id"], alice.id);

    // One signed with a key the origin does not list (dropped after the rotation) is refused.
    let dropped =
        token::sign(&KeyRing::parse("t0:a-key-dropped-long-ago-a-key-dropped-long-ago").expect("a ring"), &claims);
    let (status, _) = app.get("/api/accounts/login_status/", Some(&dropped)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Edge assertions: the old edge key still verifies, an unlisted one does not.
    let status_of = |keys: KeyRing| {
        let header = assertion(&app, &alice, b"")
            .encode(&keys, Target { method: "GET", path: "/api/accounts/login_status", query: None });
        let request = app.client.get(format!("{}/api/accounts/login_status/", app.address)).header(HEADER, header);
        async move { request.send().await.expect("an answer").json::<serde_json::Value>().await.expect("json") }
    };
    let via_old = status_of(KeyRing::parse(OLD_EDGE_KEY).expect("a ring")).await;
    assert_eq!(via_old["user"]["id"], alice.id, "{via_old}");
    assert_eq!(via_old["ip"], "203.0.113.20");
    let via_unlisted = status_of(KeyRing::parse("e0:an-edge-key-nobody-lists-an-edge-key").expect("a ring")).await;
    assert_eq!(via_unlisted, json!({"has_logged_in": false, "ip": "127.0.0.1"}));
}
