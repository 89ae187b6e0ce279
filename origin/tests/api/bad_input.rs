//! Hostile request bodies: malformed or mistyped JSON on every writer, bodies and multipart parts far
//! over the limits (with and without a declared length), and bodies that arrive slowly or never. Each
//! gets the contract's envelope, never a 500, and leaves nothing stored.

use std::time::Duration;

use reqwest::StatusCode;
use rookery_origin::testing::{spawn_app, spawn_app_with, Account, TestApp};
use serde_json::{json, Value};

use crate::{
    images::PNG,
    raw_http::{exchange, BodyPlan},
};

const TOO_LARGE: &str = "Request body is too large.";

/// Every endpoint that reads a body, with ids filled in for `alice`'s own objects.
async fn writers(app: &TestApp, alice: &Account) -> Vec<(reqwest::Method, String)> {
    use reqwest::Method;
    let tweet_id = app.post_tweet(alice, "a tweet under attack").await["id"].as_u64().expect("id");
    let comment_id = app.comment(alice, tweet_id, "a comment").await["id"].as_u64().expect("id");
    let (_, me) = app.get("/api/profiles/me/", Some(&alice.token)).await;
    vec![
        (Method::POST, "/api/accounts/signup/".into()),
        (Method::POST, "/api/accounts/login/".into()),
        (Method::POST, "/api/tweets/".into()),
        (Method::POST, "/api/comments/".into()),
        (Method::PUT, format!("/api/comments/{comment_id}/")),
        (Method::POST, "/api/likes/".into()),
        (Method::POST, "/api/likes/cancel/".into()),
        (Method::PUT, format!("/api/profiles/{}/", me["id"])),
        (Method::PATCH, format!("/api/profiles/{}/", me["id"])),
        (Method::PUT, "/api/notifications/12345/".into()),
    ]
}

/// A JSON object with `value` (raw bytes, as the JSON text of a value) in every field a writer reads.
fn every_field(value: &[u8]) -> Vec<u8> {
    let fields =
        ["content", "tweet_id", "content_type", "object_id", "nickname", "unread", "username", "email", "password"];
    let mut body = b"{".to_vec();
    for (n, field) in fields.iter().enumerate() {
        if n > 0 {
            body.push(b',');
        }
        body.extend_from_slice(format!("\"{field}\": ").as_bytes());
        body.extend_from_slice(value);
    }
    body.push(b'}');
    body
}

/// Rows of `table` in the test's database.
async fn rows(app: &TestApp, table: &str) -> i64 {
    let db = sqlx::MySqlPool::connect(&app.config.db.url).await.expect("the test database");
    let count = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&db).await.expect("a count");
    db.close().await;
    count
}

async fn send_bytes(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let response = app
        .client
        .request(method, format!("{}{path}", app.address))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("the origin answers");
    let status = response.status();
    (status, serde_json::from_slice(&response.bytes().await.expect("a body")).unwrap_or(Value::Null))
}

#[tokio::test]
async fn malformed_and_mistyped_bodies_on_every_writer_are_400_envelopes() {
    let app = spawn_app().await;
    let alice = app.signup("alice_bi").await;
    let writers = writers(&app, &alice).await;
    let before = (rows(&app, "tweets").await, rows(&app, "comments").await, rows(&app, "likes").await);
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", b"{\"content\": ".to_vec()),
        ("not JSON", b"content=hello world".to_vec()),
        ("trailing garbage", b"{\"content\": \"hello world\"} xyz".to_vec()),
        ("invalid UTF-8", every_field(b"\"\xff\xfe\xfd hello\"")),
        ("lone surrogate", every_field(br#""\ud800 hello""#)),
        ("deep nesting", nested.into_bytes()),
        ("array, not object", br#"["content", "hello world"]"#.to_vec()),
        ("number", b"1e400".to_vec()),
        ("content as array", br#"{"content": ["hello world"], "tweet_id": [1], "username": ["x"], "unread": ["x"], "nickname": ["x"]}"#.to_vec()),
        ("content as object", br#"{"content": {"a": 1}, "nickname": {"a": 1}, "object_id": {"a": 1}, "password": {}}"#.to_vec()),
        ("scalars of the wrong type", br#"{"tweet_id": true, "object_id": true, "content_type": 5, "content": false, "nickname": false, "unread": 5, "username": true, "password": 5}"#.to_vec()),
    ];
    for (method, path) in &writers {
        for (what, body) in &bodies {
            let (status, reply) = send_bytes(&app, method.clone(), path, &alice.token, body.clone()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{what} to {method} {path}: {reply}");
            assert_eq!(reply["success"], false, "{what} to {method} {path}: {reply}");
            assert!(reply["message"].as_str().is_some_and(|m| !m.is_empty()), "{what} to {method} {path}: {reply}");
        }
    }
    let after = (rows(&app, "tweets").await, rows(&app, "comments").await, rows(&app, "likes").await);
    assert_eq!(after, before, "no bad body created anything");
    let (_, me) = app.get("/api/profiles/me/", Some(&alice.token)).await;
    assert_eq!(me["nickname"], Value::Null, "no bad body changed the profile");
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_with_or_without_a_declared_length() {
    let app = spawn_app().await;
    let alice = app.signup("alice_bi").await;
    let writers = writers(&app, &alice).await;
    let tweets_before = rows(&app, "tweets").await;
    let big = json!({"content": "x".repeat(app.config.http.max_body_bytes), "username": "alice_bi", "password": "correct horse"});
    for (method, path) in &writers {
        let (status, body) = send_bytes(&app, method.clone(), path, &alice.token, big.to_string().into_bytes()).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{method} {path}: {body}");
        assert_eq!(body, json!({"success": false, "message": TOO_LARGE}), "{method} {path}");
    }

    // Chunked, so the size is learnt only while reading: 8 MiB of one JSON string.
    let head = format!(
        "POST /api/tweets/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n",
        alice.token
    );
    let plan =
        BodyPlan::Chunked { prefix: b"{\"content\": \"".to_vec(), fill: b'a', total: 8 << 20, suffix: b"\"}".to_vec() };
    let reply = exchange(app.port(), &head, plan, Duration::from_secs(30)).await;
    assert_eq!(reply.status, Some(413), "{reply:?}");
    assert_eq!(reply.body, json!({"success": false, "message": TOO_LARGE}));
    assert!(reply.written < 8 << 20, "the origin read the whole body ({} bytes) before refusing it", reply.written);
    assert_eq!(rows(&app, "tweets").await, tweets_before);
}

/// The start of a multipart tweet: a `content` field, then the head of a `files` part whose bytes
/// begin with a PNG signature.
fn multipart_prefix(boundary: &str, content: &str) -> Vec<u8> {
    format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\n{content}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"huge.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes()
    .into_iter()
    .chain(PNG.iter().copied())
    .collect()
}

fn multipart_head(app_token: &str, boundary: &str) -> String {
    format!(
        "POST /api/tweets/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {app_token}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nTransfer-Encoding: chunked\r\n"
    )
}

#[tokio::test]
async fn a_photo_part_far_over_the_cap_is_refused_midstream_and_leaves_nothing() {
    let app = spawn_app_with(|config| config.media.max_bytes = 64 * 1024).await;
    let alice = app.signup("alice_bi").await;
    let boundary = "xAttackBoundary";
    // 64 MiB against a 64 KiB cap (the route takes at most nine photos at the cap plus text).
    let total = 64 << 20;
    let plan = BodyPlan::Chunked {
        prefix: multipart_prefix(boundary, "a tweet with one enormous photo"),
        fill: 0,
        total,
        suffix: format!("\r\n--{boundary}--\r\n").into_bytes(),
    };
    let reply = exchange(app.port(), &multipart_head(&alice.token, boundary), plan, Duration::from_secs(60)).await;
    assert_eq!(reply.status, Some(413), "{reply:?}");
    assert_eq!(reply.body, json!({"success": false, "message": TOO_LARGE}));
    assert!(reply.written < total, "the origin read all {total} bytes before refusing them");
    assert_eq!(rows(&app, "tweets").await, 0, "no tweet row");
    assert_eq!(rows(&app, "tweet_photos").await, 0, "no photo row");
    assert!(app.media_files().is_empty(), "no file left: {:?}", app.media_files());
}

#[tokio::test]
async fn a_huge_text_field_in_a_multipart_is_413_and_leaves_nothing() {
    // The upload route's limit is sized for nine photos; a text field must not use it.
    let app = spawn_app().await;
    let alice = app.signup("alice_bi").await;
    let boundary = "xAttackBoundary";
    let text = 4 << 20;
    let head = multipart_head(&alice.token, boundary);
    let plan = BodyPlan::Chunked {
        prefix: format!("--{boundary}\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\n").into_bytes(),
        fill: b'a',
        total: text,
        suffix: [
            format!("\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.png\"\r\n\r\n")
                .as_bytes(),
            PNG,
            format!("\r\n--{boundary}--\r\n").as_bytes(),
        ]
        .concat(),
    };
    let reply = exchange(app.port(), &head, plan, Duration::from_secs(60)).await;
    assert_eq!(reply.status, Some(413), "{reply:?}");
    assert_eq!(reply.body, json!({"success": false, "message": TOO_LARGE}));
    assert!(reply.written < text, "the origin read the whole {text}-byte field");
    assert_eq!(rows(&app, "tweets").await, 0, "no tweet row");
    assert!(app.media_files().is_empty(), "no file left: {:?}", app.media_files());
}

fn slow_head(token: &str, path: &str, content_type: &str, length: usize) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n"
    )
}

#[tokio::test]
async fn stalled_and_dribbled_bodies_are_cut_off_with_408() {
    let app = spawn_app_with(|config| config.http.request_timeout_secs = 1).await;
    let alice = app.signup("alice_bi").await;
    let boundary = "xSlowBoundary";
    let cases = [
        (
            "stalled JSON",
            slow_head(&alice.token, "/api/tweets/", "application/json", 100),
            BodyPlan::Dribble { prefix: b"{\"content\": \"".to_vec(), bytes: 0, every: Duration::ZERO },
        ),
        (
            "dribbled JSON",
            slow_head(&alice.token, "/api/comments/", "application/json", 10_000),
            BodyPlan::Dribble {
                prefix: b"{\"tweet_id\": 1, \"content\": \"".to_vec(),
                bytes: 200,
                every: Duration::from_millis(100),
            },
        ),
        (
            "dribbled multipart",
            slow_head(&alice.token, "/api/tweets/", &format!("multipart/form-data; boundary={boundary}"), 100_000),
            BodyPlan::Dribble {
                prefix: multipart_prefix(boundary, "a photo that never ends"),
                bytes: 200,
                every: Duration::from_millis(100),
            },
        ),
        (
            "headers only",
            slow_head(&alice.token, "/api/likes/", "application/json", 50),
            BodyPlan::Dribble { prefix: Vec::new(), bytes: 0, every: Duration::ZERO },
        ),
    ];
    for (what, head, plan) in cases {
        // The guard is far above the 1 s limit: it only tells "cut off" from "held forever".
        let reply = exchange(app.port(), &head, plan, Duration::from_secs(15)).await;
        assert_eq!(reply.status, Some(408), "{what}: {reply:?}");
        insta::assert_json_snapshot!("request_timeout", reply.body);
    }
    assert_eq!(rows(&app, "tweets").await, 0);
    assert!(app.media_files().is_empty());
    // Cut-off requests are counted like any other.
    let metrics = app.metrics_text().await;
    assert!(
        metrics.contains(r#"rookery_http_requests_total{method="POST",route="/api/tweets",status="408"} 2"#),
        "{metrics}"
    );
    // The origin is still serving.
    let (status, _) = app.get("/api/accounts/login_status/", Some(&alice.token)).await;
    assert_eq!(status, StatusCode::OK);
}
