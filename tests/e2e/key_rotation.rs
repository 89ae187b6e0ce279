//! Rotating the keys the edge and the origin share, as a deployment does it: a new key is put first
//! (it signs) with the old one kept after it (it still verifies), and the old one is dropped later.
//! Tokens: an old token keeps working through an edge that holds both keys and is refused by an edge
//! that holds only the new one. Edge assertions: the edge signs with its first key, and an origin
//! without that key ignores the assertion.

use reqwest::{Method, StatusCode};
use rookery_origin::testing::{send, Reply};
use rookery_shared::{error::messages, keys::KeyRing};
use serde_json::{json, Value};

use crate::harness::{Edge, EdgeVars, Origin};

const LOGIN_STATUS: &str = "/api/accounts/login_status/";

fn ring(list: &str) -> KeyRing {
    KeyRing::parse(list).unwrap_or_else(|error| panic!("{list}: {error}"))
}

async fn signup(base: &str, username: &str) -> (u64, String) {
    let body = json!({
        "username": username,
        "email": format!("{username}@example.com"),
        "password": "correct horse",
    });
    let client = reqwest::Client::new();
    let reply = send(&client, base, Method::POST, "/api/accounts/signup/", None, Some(body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.body["user"]["id"].as_u64().expect("an id");
    (id, reply.body["token"].as_str().expect("a token").to_owned())
}

async fn login_status(base: &str, token: Option<&str>) -> Reply {
    send(&reqwest::Client::new(), base, Method::GET, LOGIN_STATUS, token, None).await
}

fn edge_vars(origin: &Origin, adjust: impl FnOnce(&mut EdgeVars)) -> EdgeVars {
    let mut vars = EdgeVars::for_origin(&origin.config, origin.port(), 4);
    adjust(&mut vars);
    vars
}

#[tokio::test(flavor = "multi_thread")]
async fn an_old_token_works_while_its_key_is_kept_and_is_refused_once_dropped() {
    let k1 = "k1:e2e-rotation-token-secret-number-one";
    let k2 = "k2:e2e-rotation-token-secret-number-two";

    // Before the rotation: the origin signs with k1.
    let origin = Origin::start_with(|config| config.auth.token_keys = ring(k1)).await;
    let (user_id, old_token) = signup(&origin.url, "rotate_old").await;
    assert!(old_token.starts_with("rk2.k1."), "{old_token}");

    // The rotation: k2 signs, k1 still verifies. One edge holds both keys; another already holds
    // only the new one (the state after the last step, dropping k1).
    let origin = origin.restart_with(|config| config.auth.token_keys = ring(&format!("{k2},{k1}"))).await;
    let (rotated, retired) = tokio::join!(
        Edge::start(edge_vars(&origin, |vars| vars.token_keys = ring(&format!("{k2},{k1}")))),
        Edge::start(edge_vars(&origin, |vars| vars.token_keys = ring(k2))),
    );

    let reply = login_status(&rotated.url, Some(&old_token)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["user"]["id"], user_id, "{}", reply.body);

    let (_, new_token) = signup(&rotated.url, "rotate_new").await;
    assert!(new_token.starts_with("rk2.k2."), "new tokens are signed with k2: {new_token}");
    for edge in [&rotated, &retired] {
        let reply = login_status(&edge.url, Some(&new_token)).await;
        assert_eq!(reply.body["has_logged_in"], true, "{}", reply.body);
    }

    let refused = login_status(&retired.url, Some(&old_token)).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    assert_eq!(refused.body, json!({"detail": messages::INVALID_TOKEN}));
    // The origin still holds k1: the refusal was the edge's own ring.
    let direct = login_status(&origin.url, Some(&old_token)).await;
    assert_eq!(direct.body["user"]["id"], user_id, "{}", direct.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_edge_signs_with_its_first_key_and_an_origin_without_it_ignores_the_assertion() {
    let e1 = "e1:e2e-rotation-edge-secret-number-one";
    let e2 = "e2:e2e-rotation-edge-secret-number-two";
    let origin = Origin::start_with(|config| config.auth.edge_keys = ring(&format!("{e2},{e1}"))).await;
    // Each authenticated request asks the origin about its session.
    let edge = Edge::start(edge_vars(&origin, |vars| {
        vars.edge_keys = ring(e2);
        vars.session_cache_secs = 0;
    }))
    .await;

    // The origin holds e2: it takes the edge's word for the user and the IP (which the edge does not
    // know here, so "unknown"; the origin itself would see the loopback peer).
    let (user_id, token) = signup(&edge.url, "rotate_edge").await;
    let reply = login_status(&edge.url, Some(&token)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["user"]["id"], user_id);
    assert_eq!(reply.body["ip"], "unknown", "{}", reply.body);

    // An origin that only knows e1 (on the same address, so the same edge is in front of it).
    let origin = origin.restart_with(|config| config.auth.edge_keys = ring(e1)).await;
    let anonymous = login_status(&edge.url, None).await;
    assert_eq!(anonymous.status, StatusCode::OK, "{}", anonymous.body);
    assert_eq!(anonymous.body["ip"], "127.0.0.1", "the assertion was ignored: the origin reports the peer it saw");
    // The session check needs the assertion; refused, the edge fails closed.
    let reply = login_status(&edge.url, Some(&token)).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{}", reply.body);
    assert_eq!(reply.body, json!({"detail": messages::ORIGIN_UNAVAILABLE}));
    let direct: Value = login_status(&origin.url, Some(&token)).await.body;
    assert_eq!(direct["user"]["id"], user_id, "the token itself is fine: {direct}");
}
