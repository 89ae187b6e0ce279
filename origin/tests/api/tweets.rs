use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use rookery_origin::testing::spawn_app;
use serde_json::json;

#[tokio::test]
async fn create_returns_the_contract_shape() {
    let app = spawn_app().await;
    let alice = app.signup("alice_t").await;
    let tweet = app.post_tweet(&alice, "hello, rookery 🐦").await;
    assert_eq!(tweet["content"], "hello, rookery 🐦");
    assert_eq!(tweet["user"], json!({"id": alice.id, "username": "alice_t", "nickname": null, "avatar_url": null}));
    assert_eq!(tweet["comments_count"], 0);
    assert_eq!(tweet["likes_count"], 0);
    assert_eq!(tweet["has_liked"], false);
    assert_eq!(tweet["photo_urls"], json!([]));
    let created_at = tweet["created_at"].as_str().expect("created_at");
    assert!(created_at.ends_with('Z') && created_at.len() == "2026-11-27T21:05:36.123456Z".len(), "{created_at}");
    let id = tweet["id"].as_u64().expect("id");
    assert!(id < 1 << 53);

    let (status, detail) = app.get(&format!("/api/tweets/{id}/"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["id"], id);
    assert_eq!(detail["content"], tweet["content"]);
}

#[tokio::test]
async fn create_validates_content_and_requires_auth() {
    let app = spawn_app().await;
    let alice = app.signup("alice_t").await;
    let (status, body) = app.post("/api/tweets/", Some(&alice.token), json!({"content": "short"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("tweet_too_short", body);
    let (status, body) = app.post("/api/tweets/", Some(&alice.token), json!({"content": "x".repeat(141)})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("tweet_too_long", body);
    // 140 characters of 4-byte emoji are fine: length is counted in characters.
    let (status, _) = app.post("/api/tweets/", Some(&alice.token), json!({"content": "🐦".repeat(140)})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = app.post("/api/tweets/", None, json!({"content": "anonymous tweet"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    insta::assert_json_snapshot!("not_authenticated", body);
}

#[tokio::test]
async fn sql_looking_content_is_stored_verbatim() {
    let app = spawn_app().await;
    let alice = app.signup("alice_t").await;
    let text = "'; DROP TABLE tweets; -- \u{202e} <b>hi</b>";
    let id = app.post_tweet(&alice, text).await["id"].as_u64().expect("id");
    let (_, detail) = app.get(&format!("/api/tweets/{id}/"), None).await;
    assert_eq!(detail["content"], text);
}

#[tokio::test]
async fn list_requires_user_id() {
    let app = spawn_app().await;
    let (status, body) = app.get("/api/tweets/", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"success": false, "message": "missing user_id in request"}));
}

#[tokio::test]
async fn list_pages_through_45_tweets_with_every_parameter() {
    let app = spawn_app().await;
    let alice = app.signup("alice_t").await;
    let mut posted = Vec::new();
    for i in 0..45 {
        posted.push(app.post_tweet(&alice, &format!("tweet number {i}")).await);
    }
    let newest_first: Vec<u64> = posted.iter().rev().map(|t| t["id"].as_u64().expect("id")).collect();
    let base = format!("/api/tweets/?user_id={}", alice.id);

    // Cursors: every tweet exactly once, newest first.
    assert_eq!(app.collect_ids(&base, None).await, newest_first);

    // First page.
    let (_, first) = app.get(&base, None).await;
    assert_eq!(first["results"].as_array().map(Vec::len), Some(20));
    assert_eq!(first["has_next_page"], true);

    // created_at__gt: everything strictly newer, never another page.
    let pivot = &posted[30];
    let at = pivot["created_at"].as_str().expect("created_at");
    let (_, newer) = app.get(&format!("{base}&created_at__gt={at}"), None).await;
    let newer_ids: Vec<u64> =
        newer["results"].as_array().expect("results").iter().map(|t| t["id"].as_u64().expect("id")).collect();
    let expected: Vec<u64> = posted
        .iter()
        .rev()
        .filter(|t| t["created_at"].as_str() > Some(at))
        .map(|t| t["id"].as_u64().expect("id"))
        .collect();
    assert_eq!(newer_ids, expected);
    assert_eq!(newer["has_next_page"], false);
    assert!(newer["next_cursor"].is_null());

    // created_at__lt: the newest 20 strictly older.
    let (_, older) = app.get(&format!("{base}&created_at__lt={at}"), None).await;
    let older_ids: Vec<u64> =
        older["results"].as_array().expect("results").iter().map(|t| t["id"].as_u64().expect("id")).collect();
    let expected: Vec<u64> = posted
        .iter()
        .rev()
        .filter(|t| t["created_at"].as_str() < Some(at))
        .take(20)
        .map(|t| t["id"].as_u64().expect("id"))
        .collect();
    assert_eq!(older_ids, expected);

    // Both given: __gt wins.
    let (_, both) = app.get(&format!("{base}&created_at__gt={at}&created_at__lt={at}"), None).await;
    assert_eq!(both["results"], newer["results"]);

    // Microseconds since the epoch are accepted too.
    let (status, _) = app.get(&format!("{base}&created_at__lt=1795813536123456"), None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn bad_pagination_parameters_are_400() {
    let app = spawn_app().await;
    let alice = app.signup("alice_t").await;
    let base = format!("/api/tweets/?user_id={}", alice.id);
    let (status, body) = app.get(&format!("{base}&created_at__lt=yesterday"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("bad_datetime", body);
    let (status, body) = app.get(&format!("{base}&cursor=not-a-cursor"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"]["cursor"][0], "Invalid cursor.");
    let (status, _) = app.get("/api/tweets/?user_id=-5", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn concurrent_burst_is_paged_exactly_once() {
    let app = spawn_app().await;
    let alice = app.signup("alice_t").await;
    let posts =
        (0..60).map(|i| app.post("/api/tweets/", Some(&alice.token), json!({"content": format!("burst tweet {i}")})));
    let results = futures::future::join_all(posts).await;
    let mut ids: Vec<u64> = results
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, StatusCode::CREATED);
            body["id"].as_u64().expect("id")
        })
        .collect();
    ids.sort_unstable_by(|a, b| b.cmp(a));
    let paged = app.collect_ids(&format!("/api/tweets/?user_id={}", alice.id), None).await;
    assert_eq!(paged.len(), 60);
    assert_eq!(paged.iter().collect::<HashSet<_>>().len(), 60, "no repeats");
    assert_eq!(paged, ids, "newest first, none skipped");
}

#[tokio::test]
async fn detail_of_unknown_or_malformed_ids_is_404() {
    let app = spawn_app().await;
    for path in [
        "/api/tweets/12345/",
        "/api/tweets/abc/",
        "/api/tweets/-1/",
        "/api/tweets/99999999999999999999/",
        "/api/tweets/0/",
    ] {
        let (status, body) = app.get(path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body, json!({"detail": "Not found."}));
    }
}

#[tokio::test]
async fn only_the_owner_deletes_and_the_tweet_disappears() {
    let app = spawn_app().await;
    let alice = app.signup("alice_t").await;
    let bob = app.signup("bob_t_1").await;
    let id = app.post_tweet(&alice, "soon to be gone").await["id"].as_u64().expect("id");
    let path = format!("/api/tweets/{id}/");

    let (status, _) = app.request(Method::DELETE, &path, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = app.request(Method::DELETE, &path, Some(&bob.token), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    insta::assert_json_snapshot!("forbidden", body);

    let (status, body) = app.request(Method::DELETE, &path, Some(&alice.token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"success": true}));
    assert_eq!(app.get(&path, None).await.0, StatusCode::NOT_FOUND);
    assert!(app.collect_ids(&format!("/api/tweets/?user_id={}", alice.id), None).await.is_empty());
    assert!(app.feed(&alice, "").await["results"].as_array().expect("results").is_empty());
    let (status, _) = app.request(Method::DELETE, &path, Some(&alice.token), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
