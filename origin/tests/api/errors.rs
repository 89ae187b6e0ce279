//! Client mistakes get the contract's envelopes, never a 500 or a plain-text body.

use reqwest::{Method, StatusCode};
use rookery_origin::testing::spawn_app;
use serde_json::json;

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
    // The body is sent with its keys in order (`password` first): the first wrong value is reported.
    assert_eq!(
        body,
        json!({"success": false, "message": "Please check input", "errors": {"password": ["Not a valid string."]}})
    );
}

/// Every wrong value is named by its field, in the contract's words; no type name, parser phrase or
/// internal enum reaches the client.
#[tokio::test]
async fn wrong_values_name_their_field_in_the_contracts_words() {
    let app = spawn_app().await;
    let alice = app.signup("alice_wv").await;
    let tweet = app.post_tweet(&alice, "something to like").await["id"].as_u64().expect("id");
    let invalid =
        |field: &str, why: &str| json!({"success": false, "message": "Please check input", "errors": {field: [why]}});
    let cases = [
        (
            "/api/likes/",
            json!({"content_type": "tweet", "object_id": -1}),
            invalid("object_id", "A valid integer is required."),
        ),
        (
            "/api/likes/",
            json!({"content_type": "tweet", "object_id": 1.5}),
            invalid("object_id", "A valid integer is required."),
        ),
        (
            "/api/likes/",
            json!({"content_type": "tweet", "object_id": [tweet]}),
            invalid("object_id", "A valid integer is required."),
        ),
        (
            "/api/likes/cancel/",
            json!({"content_type": "tweet", "object_id": -1}),
            invalid("object_id", "A valid integer is required."),
        ),
        (
            "/api/comments/",
            json!({"tweet_id": {"id": tweet}, "content": "hello"}),
            invalid("tweet_id", "A valid integer is required."),
        ),
        ("/api/tweets/", json!({"content": 123456}), invalid("content", "Not a valid string.")),
        ("/api/tweets/", json!([1, 2, 3]), invalid("non_field_errors", "Invalid data. Expected a dictionary.")),
        (
            &format!("/api/friendships/{}/follow/", alice.id),
            json!({}),
            invalid("message", "You can not follow yourself."),
        ),
    ];
    for (path, body, expected) in cases {
        let (status, answer) = app.post(path, Some(&alice.token), body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body}");
        assert_eq!(answer, expected, "{path} {body}");
    }
    let (_, notifications) = app.get("/api/notifications/", Some(&alice.token)).await;
    assert_eq!(notifications["count"], 0);
    let bob = app.signup("bobby_wv").await;
    app.comment(&bob, tweet, "so alice gets a notification").await;
    let id = app.settle_notifications(&alice, 1).await["results"][0]["id"].as_u64().expect("an id");
    let (status, answer) =
        app.put(&format!("/api/notifications/{id}/"), Some(&alice.token), json!({"unread": 2})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer, invalid("unread", "Must be a valid boolean."));

    // A form field given twice.
    let response = app
        .client
        .post(format!("{}/api/tweets/", app.address))
        .bearer_auth(&alice.token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("content=first+version&content=second+version")
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let answer: serde_json::Value = response.json().await.expect("json");
    assert_eq!(answer, invalid("content", "This field may be given only once."));
    assert_eq!(
        app.collect_ids(&format!("/api/tweets/?user_id={}", alice.id), None).await,
        [tweet],
        "nothing refused was stored"
    );
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
    let big = "x".repeat(app.config.http.max_body_bytes + 1);
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
