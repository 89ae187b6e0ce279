//! Attacks on the origin: path traversal out of the media directory, forged, expired, tampered and
//! revoked tokens and another user's valid token on every owner-only write (the victim's data is
//! unchanged afterwards), and one caller's flood against the origin's own rate limiter.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use reqwest::{multipart, Method, StatusCode};
use rookery_origin::testing::{file_part, spawn_app, spawn_app_with, Account, TestApp};
use rookery_shared::token::{self, Claims};
use serde_json::{json, Value};

use crate::{
    images::{GIF, PNG},
    raw_http::get_raw,
};

const SENTINEL: &[u8] = b"ROOKERY-SENTINEL-OUTSIDE-THE-MEDIA-DIR";

#[tokio::test]
async fn media_paths_never_reach_outside_the_media_dir() {
    let app = spawn_app().await;
    let alice = app.signup("alice_at").await;
    let form =
        multipart::Form::new().text("content", "one real photo").part("files", file_part(PNG, "a.png", "image/png"));
    let (status, tweet) = app.multipart(Method::POST, "/api/tweets/", Some(&alice.token), form).await;
    assert_eq!(status, StatusCode::CREATED, "{tweet}");
    let real = app.media_path(tweet["photo_urls"][0].as_str().expect("a URL"));

    // Sentinels beside the media directory, each a valid PNG under a name shaped like a real key.
    let hex = format!("{:032x}", rand::random::<u128>());
    let media = app.config.media.dir.canonicalize().expect("the media dir exists");
    let outside_name = format!("{}_outside", media.file_name().and_then(|n| n.to_str()).expect("a name"));
    let outside = media.with_file_name(&outside_name);
    std::fs::create_dir_all(outside.join("photos")).expect("a sibling dir");
    let sentinel = [PNG, SENTINEL].concat();
    std::fs::write(outside.join("photos").join(format!("{hex}.png")), &sentinel).expect("a sentinel");
    let beside = media.with_file_name(format!("{hex}.png"));
    std::fs::write(&beside, &sentinel).expect("a sentinel");
    let _cleanup = RemoveOnDrop(vec![outside.clone(), beside.clone()]);
    let absolute = outside.join("photos").join(format!("{hex}.png")).display().to_string();

    // The raw client sends every target exactly as written; the control proves it reaches the route.
    let control = get_raw(app.port(), &real).await;
    assert_eq!(control.status, Some(200), "{control:?}");

    let targets = [
        format!("/media/../{outside_name}/photos/{hex}.png"),
        format!("/media/../{hex}.png"),
        format!("/media/photos/../../{outside_name}/photos/{hex}.png"),
        format!("/media/photos/..%2f..%2f{outside_name}%2fphotos%2f{hex}.png"),
        format!("/media/photos/..%2F{hex}.png"),
        format!("/media/%2e%2e/{outside_name}/photos/{hex}.png"),
        format!("/media/photos/%2e%2e%2f%2e%2e%2f{outside_name}%2fphotos%2f{hex}.png"),
        format!("/media/photos/%252e%252e%252f{hex}.png"),
        format!("/media/photos/..%5c..%5c{outside_name}%5cphotos%5c{hex}.png"),
        format!("/media/photos\\..\\..\\{outside_name}\\photos\\{hex}.png"),
        format!("/media/{absolute}"),
        format!("/media/{}", absolute.replace('/', "%2f")),
        format!("/media//{}", absolute.trim_start_matches('/')),
        format!("/media/photos/{hex}.png%00"),
        format!("/media/photos/{hex}%00.png"),
        format!("/media/photos/%00/../../{outside_name}/photos/{hex}.png"),
        format!("{real}/../../../{outside_name}/photos/{hex}.png"),
        format!("/media/./photos/../../{hex}.png"),
        format!("/media/photos/..;/..;/{hex}.png"),
        format!("/media/photos/%c0%ae%c0%ae%c0%af{hex}.png"),
        format!("http://127.0.0.1/media/../{outside_name}/photos/{hex}.png"),
        format!("/media/photos/\0../{hex}.png"),
    ];
    for target in &targets {
        let reply = get_raw(app.port(), target).await;
        assert!(
            !reply.raw.windows(SENTINEL.len()).any(|w| w == SENTINEL),
            "{target:?} served a file outside the media dir"
        );
        match reply.status {
            Some(404) => assert_eq!(reply.body, json!({"detail": "Not found."}), "{target:?}"),
            // Refused by the router (the envelope) or, for bytes no URI may hold, by the HTTP parser.
            Some(400) => assert!(reply.body["success"] == false || reply.body.is_null(), "{target:?}: {reply:?}"),
            None => {} // closed: a request line the HTTP parser would not read.
            other => panic!("{target:?}: {other:?} {reply:?}"),
        }
    }
}

/// Removes the sentinels however the test ends.
struct RemoveOnDrop(Vec<std::path::PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::fs::remove_dir_all(path).or_else(|_| std::fs::remove_file(path));
        }
    }
}

/// Alice's objects, as the attacks below target them.
struct Victim {
    alice: Account,
    tweet_id: u64,
    comment_id: u64,
    profile_path: String,
    notification_id: u64,
}

async fn victim(app: &TestApp) -> Victim {
    let alice = app.signup("alice_at").await;
    let bob = app.signup("bobby_at").await;
    let tweet_id = app.post_tweet(&alice, "alice's own tweet").await["id"].as_u64().expect("id");
    let comment_id = app.comment(&alice, tweet_id, "alice's own comment").await["id"].as_u64().expect("id");
    app.like(&alice, "tweet", tweet_id).await;
    let (_, me) = app.get("/api/profiles/me/", Some(&alice.token)).await;
    let profile_path = format!("/api/profiles/{}/", me["id"]);
    let form = multipart::Form::new().text("nickname", "Alice").part("avatar", file_part(PNG, "a.png", "image/png"));
    let (status, body) = app.multipart(Method::PUT, &profile_path, Some(&alice.token), form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.follow(&bob, &alice).await;
    let page = app.settle_notifications(&alice, 1).await;
    let notification_id = page["results"][0]["id"].as_u64().expect("id");
    Victim { alice, tweet_id, comment_id, profile_path, notification_id }
}

/// Everything of Alice's the attacks could change.
async fn snapshot(app: &TestApp, v: &Victim) -> Value {
    let detail = app.tweet_detail(v.tweet_id, None).await;
    let (_, me) = app.get("/api/profiles/me/", Some(&v.alice.token)).await;
    let notifications = app.notifications(&v.alice, "").await;
    let mut files: Vec<String> = app.media_files().iter().map(|p| p.display().to_string()).collect();
    files.sort();
    json!({"detail": detail, "me": me, "notifications": notifications, "files": files})
}

/// Owner-only writes on Alice's objects, each with the answer a valid token of another user gets.
fn owner_only_writes(v: &Victim) -> Vec<(Method, String, Option<Value>, StatusCode)> {
    vec![
        (Method::DELETE, format!("/api/tweets/{}/", v.tweet_id), None, StatusCode::FORBIDDEN),
        (
            Method::PUT,
            format!("/api/comments/{}/", v.comment_id),
            Some(json!({"content": "hijacked"})),
            StatusCode::FORBIDDEN,
        ),
        (Method::DELETE, format!("/api/comments/{}/", v.comment_id), None, StatusCode::FORBIDDEN),
        (
            Method::PUT,
            v.profile_path.clone(),
            Some(json!({"nickname": "hijacked", "avatar": null})),
            StatusCode::FORBIDDEN,
        ),
        (Method::PATCH, v.profile_path.clone(), Some(json!({"avatar": null})), StatusCode::FORBIDDEN),
        (
            Method::PUT,
            format!("/api/notifications/{}/", v.notification_id),
            Some(json!({"unread": false})),
            StatusCode::NOT_FOUND,
        ),
        // Acting on one's own: another user marks or cancels only their own (nothing).
        (Method::POST, "/api/notifications/mark-all-as-read/".into(), Some(json!({})), StatusCode::OK),
        (
            Method::POST,
            "/api/likes/cancel/".into(),
            Some(json!({"content_type": "tweet", "object_id": v.tweet_id})),
            StatusCode::OK,
        ),
    ]
}

async fn avatar_upload(app: &TestApp, v: &Victim, token: &str) -> (StatusCode, Value) {
    let form =
        multipart::Form::new().text("nickname", "hijacked").part("avatar", file_part(GIF, "evil.gif", "image/gif"));
    app.multipart(Method::PUT, &v.profile_path, Some(token), form).await
}

#[tokio::test]
async fn bad_tokens_and_other_users_tokens_change_nothing_of_the_victims() {
    let app = spawn_app().await;
    let v = victim(&app).await;
    let mallory = app.signup("mallory_at").await;
    let before = snapshot(&app, &v).await;

    let secret = &app.config.auth.token_keys;
    let now = rookery_origin::ids::now_micros() / 1_000_000;
    let claims = token::verify(secret, &mallory.token, now).expect("mallory's token verifies");
    let forged = token::sign(
        &rookery_shared::keys::KeyRing::single("not the server's secret"),
        &Claims { user_id: rookery_shared::ids::UserId(v.alice.id), ..claims },
    );
    let expired = token::sign(secret, &Claims { issued_at: now - 7200, expires_at: now - 1, ..claims });
    // Mallory's signature on a payload changed to name Alice.
    let tampered = {
        let payload = token::sign(secret, &Claims { user_id: rookery_shared::ids::UserId(v.alice.id), ..claims });
        let (payload, _) = payload.rsplit_once('.').expect("a payload");
        let (_, signature) = mallory.token.rsplit_once('.').expect("a signature");
        format!("{payload}.{signature}")
    };
    let revoked = {
        let (_, login) = app
            .post("/api/accounts/login/", None, json!({"username": "mallory_at", "password": "correct horse"}))
            .await;
        let token = login["token"].as_str().expect("a token").to_owned();
        let (status, _) = app.post("/api/accounts/logout/", Some(&token), json!({})).await;
        assert_eq!(status, StatusCode::OK);
        token
    };

    for (what, token) in [("forged", &forged), ("expired", &expired), ("tampered", &tampered), ("revoked", &revoked)] {
        let mut answers = Vec::new();
        for (method, path, body, _) in owner_only_writes(&v) {
            answers.push((format!("{method} {path}"), app.request(method, &path, Some(token), body).await));
        }
        answers.push(("avatar upload".into(), avatar_upload(&app, &v, token).await));
        for (request, (status, body)) in answers {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{what} token, {request}: {body}");
            assert_eq!(body, json!({"detail": "Invalid token."}), "{what} token, {request}");
        }
    }
    assert_eq!(snapshot(&app, &v).await, before, "a bad token changed something");

    for (method, path, body, expected) in owner_only_writes(&v) {
        let (status, reply) = app.request(method.clone(), &path, Some(&mallory.token), body).await;
        assert_eq!(status, expected, "mallory {method} {path}: {reply}");
        match expected {
            StatusCode::FORBIDDEN => {
                assert_eq!(reply, json!({"detail": "You do not have permission to access this object"}))
            }
            StatusCode::NOT_FOUND => assert_eq!(reply, json!({"detail": "Not found."})),
            _ => assert!(reply["marked_count"] == 0 || reply["deleted"] == 0, "mallory {path}: {reply}"),
        }
    }
    let (status, reply) = avatar_upload(&app, &v, &mallory.token).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "mallory's avatar upload: {reply}");
    assert_eq!(snapshot(&app, &v).await, before, "another user's token changed something");
}

/// Percentiles of latencies, for printing.
fn percentiles(samples: &[Duration]) -> String {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let at = |p: f64| sorted.get(((sorted.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or_default();
    format!("n={} p50={:?} p90={:?} p99={:?} max={:?}", sorted.len(), at(0.5), at(0.9), at(0.99), at(1.0))
}

/// `n` requests from `reader`, one every 350 ms (under 3 a second, within any limit), with latencies.
async fn ordinary_reads(app: &TestApp, reader: &Account, path: &str, n: usize) -> Vec<(StatusCode, Duration)> {
    let mut answers = Vec::new();
    for _ in 0..n {
        let started = Instant::now();
        let (status, _) = app.get(path, Some(&reader.token)).await;
        answers.push((status, started.elapsed()));
        tokio::time::sleep(Duration::from_millis(350)).await;
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_users_flood_leaves_another_users_requests_alone_at_the_origin() {
    let app = spawn_app_with(|config| config.http.rate_limits = true).await;
    let alice = app.signup("alice_at").await;
    let mallory = app.signup("mallory_at").await;
    let tweet_id = app.post_tweet(&alice, "the tweet everyone reads").await["id"].as_u64().expect("id");
    let path = format!("/api/tweets/{tweet_id}/");

    let quiet = ordinary_reads(&app, &alice, &path, 15).await;

    // 64 connections send back to back until the other user is done, at least 800 requests in all.
    const CONNECTIONS: usize = 64;
    const AT_LEAST: usize = 800;
    let done = Arc::new(AtomicBool::new(false));
    let mut flood = tokio::task::JoinSet::new();
    for _ in 0..CONNECTIONS {
        let (client, url, token, done) =
            (app.client.clone(), format!("{}{path}", app.address), mallory.token.clone(), done.clone());
        flood.spawn(async move {
            let mut statuses = Vec::new();
            while statuses.len() < AT_LEAST / CONNECTIONS || !done.load(Ordering::SeqCst) {
                let response = client.get(&url).bearer_auth(&token).send().await;
                statuses.push(response.map(|r| r.status()).ok());
            }
            statuses
        });
    }
    let during = ordinary_reads(&app, &alice, &path, 15).await;
    done.store(true, Ordering::SeqCst);
    let flooded: Vec<StatusCode> = flood
        .join_all()
        .await
        .into_iter()
        .flatten()
        .map(|status| status.expect("the origin answers every flood request"))
        .collect();
    let sent = flooded.len();
    let limited = flooded.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    let ok = flooded.iter().filter(|s| **s == StatusCode::OK).count();
    eprintln!("origin flood: {sent} requests, {ok} answered 200, {limited} answered 429");
    eprintln!("origin, other user without flood: {}", percentiles(&quiet.iter().map(|(_, d)| *d).collect::<Vec<_>>()));
    eprintln!("origin, other user during flood:  {}", percentiles(&during.iter().map(|(_, d)| *d).collect::<Vec<_>>()));

    assert_eq!(ok + limited, sent, "the flooder got only 200s and 429s: {flooded:?}");
    assert!(sent >= AT_LEAST && limited >= sent / 2, "the flood was limited: {limited} of {sent}");
    for (status, _) in quiet.iter().chain(&during) {
        assert_eq!(*status, StatusCode::OK, "the other user was refused: {quiet:?} {during:?}");
    }
}
