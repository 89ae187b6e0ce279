//! Client mistakes get the contract's envelopes, never a 500 or a plain-text body.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn malformed_json_is_400_envelope() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/api/accounts/signup/", app.address))
        .header("content-type", "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["success"], false);
    assert!(body["message"].as_str().is_some_and(|m| m.starts_with("JSON parse error")), "{body}");
}

#[tokio::test]
async fn wrong_field_types_are_400_envelope() {
    let app = spawn_app().await;
    let (status, body) = app.post("/api/accounts/login/", None, json!({"username": 5, "password": ["x"]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["success"], false);
}

#[tokio::test]
async fn wrong_content_type_is_415_envelope() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/api/accounts/login/", app.address))
        .header("content-type", "text/plain")
        .body("username=x")
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    insta::assert_json_snapshot!("unsupported_media_type", response.json::<serde_json::Value>().await.expect("json"));
}

#[tokio::test]
async fn oversize_body_is_413_envelope() {
    let app = spawn_app().await;
    let big = "x".repeat(app.config.max_body_bytes + 1);
    let (status, body) = app.post("/api/accounts/login/", None, json!({"username": big, "password": "x"})).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    insta::assert_json_snapshot!("payload_too_large", body);
}

#[tokio::test]
async fn unknown_route_is_404_envelope() {
    let app = spawn_app().await;
    let (status, body) = app.get("/api/nothing/here/", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"detail": "Not found."}));
}

#[tokio::test]
async fn wrong_method_is_405_envelope() {
    let app = spawn_app().await;
    let (status, body) = app.get("/api/accounts/signup/", None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    insta::assert_json_snapshot!("method_not_allowed", body);
    let (status, body) = app.request(Method::DELETE, "/api/accounts/login_status", None, None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body, json!({"detail": "Method \"DELETE\" not allowed."}));
}

#[tokio::test]
async fn trailing_slash_is_optional() {
    let app = spawn_app().await;
    assert_eq!(app.get("/api/accounts/login_status", None).await.0, StatusCode::OK);
    assert_eq!(app.get("/api/accounts/login_status/", None).await.0, StatusCode::OK);
}

#[tokio::test]
async fn request_id_is_echoed_or_generated() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/healthz", app.address))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .expect("answer");
    assert_eq!(response.headers().get("x-request-id").map(|v| v.as_bytes()), Some(&b"abc-123"[..]));
    let response = app.client.get(format!("{}/healthz", app.address)).send().await.expect("answer");
    assert!(response.headers().get("x-request-id").is_some_and(|v| v.len() == 16));
}
