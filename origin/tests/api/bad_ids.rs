//! Hostile ids and page positions: negative, zero, past 2^53, 2^63 and u64, floats, words and encoded
//! bytes in every id path segment, id query parameter and id body field, and garbage, tampered or
//! extreme cursors and `created_at__lt/__gt` values. Each is a 400 or 404 envelope (or, for a
//! well-formed id nobody has, an empty answer), never a 500; extreme but valid times behave as times.

use reqwest::{Method, StatusCode};
use rookery_origin::testing::{spawn_app, Account, TestApp};
use rookery_shared::pagination::Cursor;
use serde_json::{json, Value};

/// Path segments that are no id this API ever hands out.
const BAD_SEGMENTS: &[&str] = &[
    "-1",
    "0",
    "-0",
    "9007199254740993",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999999",
    "1e30",
    "1.5",
    "0x10",
    "abc",
    "1%00",
    "%00",
    "%201",
    "1;DROP%20TABLE%20tweets",
    "%F0%9F%90%A6",
];

/// Query or body ids, written as they would appear in a query string.
const BAD_QUERY_IDS: &[&str] = &[
    "",
    "-1",
    "0",
    "9007199254740993",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "1e30",
    "1.5",
    "abc",
    "%00",
    "1%00",
    "NaN",
    "-9223372036854775809",
];

fn assert_envelope(status: StatusCode, body: &Value, what: &str) {
    match status {
        StatusCode::BAD_REQUEST => assert_eq!(body["success"], false, "{what}: {body}"),
        StatusCode::NOT_FOUND => assert!(body["detail"].is_string(), "{what}: {body}"),
        other => panic!("{what}: {other} {body}"),
    }
}

async fn setup(app: &TestApp) -> (Account, u64, u64) {
    let alice = app.signup("alice_id").await;
    let tweet_id = app.post_tweet(&alice, "a tweet with a real id").await["id"].as_u64().expect("id");
    let comment_id = app.comment(&alice, tweet_id, "a comment").await["id"].as_u64().expect("id");
    (alice, tweet_id, comment_id)
}

#[tokio::test]
async fn bad_ids_in_every_path_segment_are_404() {
    let app = spawn_app().await;
    let (alice, _, _) = setup(&app).await;
    let token = Some(alice.token.as_str());
    for id in BAD_SEGMENTS {
        for (method, path, body) in [
            (Method::GET, format!("/api/tweets/{id}/"), None),
            (Method::DELETE, format!("/api/tweets/{id}/"), None),
            (Method::PUT, format!("/api/comments/{id}/"), Some(json!({"content": "changed"}))),
            (Method::DELETE, format!("/api/comments/{id}/"), None),
            (Method::PUT, format!("/api/profiles/{id}/"), Some(json!({"nickname": "changed"}))),
            (Method::PATCH, format!("/api/profiles/{id}/"), Some(json!({"nickname": "changed"}))),
            (Method::PUT, format!("/api/notifications/{id}/"), Some(json!({"unread": false}))),
            (Method::GET, format!("/api/friendships/{id}/followers/"), None),
            (Method::GET, format!("/api/friendships/{id}/followings/"), None),
            (Method::POST, format!("/api/friendships/{id}/follow/"), Some(json!({}))),
            (Method::POST, format!("/api/friendships/{id}/unfollow/"), Some(json!({}))),
        ] {
            let (status, reply) = app.request(method.clone(), &path, token, body).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {reply}");
            assert_eq!(reply, json!({"detail": "Not found."}), "{method} {path}");
        }
    }
    // Nothing was followed, changed or deleted along the way.
    assert_eq!(app.collect_ids(&format!("/api/tweets/?user_id={}", alice.id), None).await.len(), 1);
    let (_, me) = app.get("/api/profiles/me/", token).await;
    assert_eq!(me["nickname"], Value::Null);
    let (_, followings) = app.get(&format!("/api/friendships/{}/followings/", alice.id), None).await;
    assert_eq!(followings["results"], json!([]));
}

#[tokio::test]
async fn bad_ids_in_query_parameters_and_bodies_are_400_or_404() {
    let app = spawn_app().await;
    let (alice, tweet_id, _) = setup(&app).await;
    let token = Some(alice.token.as_str());
    for id in BAD_QUERY_IDS {
        let path = format!("/api/tweets/?user_id={id}");
        let (status, body) = app.get(&path, None).await;
        if status == StatusCode::OK {
            assert_eq!(body["results"], json!([]), "{path}: a well-formed id nobody has");
        } else {
            assert_envelope(status, &body, &path);
        }
        let path = format!("/api/comments/?tweet_id={id}");
        let (status, body) = app.get(&path, None).await;
        if status == StatusCode::OK {
            assert_eq!(body, json!({"comments": []}), "{path}");
        } else {
            assert_envelope(status, &body, &path);
        }
        let path = format!("/api/notifications/?page={id}");
        let (status, body) = app.get(&path, token).await;
        if id.is_empty() {
            // As Django REST framework reads it: an empty page number is the first page.
            assert_eq!(status, StatusCode::OK, "{path}: {body}");
            assert_eq!(body["count"], 0, "{path}: {body}");
        } else {
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
            assert_eq!(body, json!({"detail": "Invalid page."}), "{path}");
        }
    }
    let (status, body) = app.get("/api/notifications/?unread=%00", token).await;
    assert_envelope(status, &body, "unread=%00");

    // As JSON values: numbers past every integer type, floats, strings, nulls, negatives.
    let values: Vec<Value> = vec![
        json!(-1),
        json!(0),
        json!(9_007_199_254_740_993_u64),
        json!(9_223_372_036_854_775_808_u64),
        json!(u64::MAX),
        serde_json::from_str("18446744073709551616").expect("a big number"),
        json!(1e30),
        json!(1.5),
        json!(-9.2e18),
        json!("abc"),
        json!("-1"),
        json!(""),
        json!(" 1 "),
        json!("1e3"),
        json!(null),
        json!(true),
    ];
    for value in &values {
        let (status, body) = app.post("/api/comments/", token, json!({"tweet_id": value, "content": "hello"})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "comment on tweet_id {value}: {body}");
        assert_eq!(body["success"], false, "{value}: {body}");
        for path in ["/api/likes/", "/api/likes/cancel/"] {
            for kind in ["tweet", "comment"] {
                let (status, body) = app.post(path, token, json!({"content_type": kind, "object_id": value})).await;
                assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {kind} {value}: {body}");
                assert_eq!(body["success"], false, "{path} {kind} {value}: {body}");
            }
        }
    }
    let detail = app.tweet_detail(tweet_id, None).await;
    assert_eq!(
        (detail["comments_count"].clone(), detail["likes_count"].clone()),
        (json!(1), json!(0)),
        "nothing was created"
    );
}

/// `created_at__lt/__gt` and `cursor` values that are garbage, tampered or at the edges of time.
fn bad_positions(tweet_id: u64) -> Vec<String> {
    let mut positions: Vec<String> = [
        "",
        "-1",
        "now",
        "NaN",
        "1e30",
        "%00",
        "99999999999999999999",
        "-9223372036854775809",
        "2026-02-30T00:00:00Z",
        "2026-11-27T25:00:00Z",
        "2026-11-27T21:05:36.123456789123Z",
        "+10000-01-01T00:00:00Z",
        "-0001-01-01T00:00:00Z",
        "2026-11-27T21:05:36%2B99:00",
        "%27%20OR%201%3D1",
    ]
    .iter()
    .map(|s| format!("created_at__lt={s}"))
    .collect();
    positions.extend(positions.clone().iter().map(|p| p.replace("__lt", "__gt")));
    for cursor in [
        "".to_owned(),
        "!!!".to_owned(),
        "%00".to_owned(),
        "YzE6LTU6LTU".to_owned(), // "c1:-5:-5"
        Cursor { created_at_micros: i64::MAX, id: u64::MAX }.encode(),
        Cursor { created_at_micros: i64::MIN, id: 0 }.encode(),
        Cursor { created_at_micros: 0, id: tweet_id }.encode(),
        format!("{}x", Cursor { created_at_micros: 0, id: tweet_id }.encode()),
        "a".repeat(10_000),
    ] {
        positions.push(format!("cursor={cursor}"));
    }
    positions
}

#[tokio::test]
async fn bad_cursors_and_times_on_every_paged_list_are_400_never_500() {
    let app = spawn_app().await;
    let (alice, tweet_id, _) = setup(&app).await;
    let token = Some(alice.token.as_str());
    let lists = [
        format!("/api/tweets/?user_id={}&", alice.id),
        "/api/newsfeeds/?".to_owned(),
        format!("/api/friendships/{}/followers/?", alice.id),
        format!("/api/friendships/{}/followings/?", alice.id),
    ];
    for list in &lists {
        for position in bad_positions(tweet_id) {
            let path = format!("{list}{position}");
            let (status, body) = app.get(&path, token).await;
            if status == StatusCode::OK {
                assert!(body["results"].is_array() && body["has_next_page"].is_boolean(), "{path}: {body}");
            } else {
                assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
                assert_eq!(body["success"], false, "{path}: {body}");
            }
        }
    }
}

#[tokio::test]
async fn times_at_the_edges_of_the_range_still_mean_before_and_after() {
    let app = spawn_app().await;
    let (alice, tweet_id, _) = setup(&app).await;
    let base = format!("/api/tweets/?user_id={}", alice.id);
    let ids = |body: &Value| {
        body["results"].as_array().expect("results").iter().map(|t| t["id"].as_u64().expect("id")).collect::<Vec<_>>()
    };
    // 4505366852970497000 µs is just past 2^52 ms after the id epoch, where a shifted id would wrap.
    for far_future in ["9223372036854775807", "9999-12-31T23:59:59.999999Z", "4000000000000000", "4505366852970497000"]
    {
        for (list, token) in [(base.clone(), None), ("/api/newsfeeds/?x=1".to_owned(), Some(alice.token.as_str()))] {
            let (status, body) = app.get(&format!("{list}&created_at__lt={far_future}"), token).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(ids(&body), vec![tweet_id], "{list}: everything is older than {far_future}");
            let (status, body) = app.get(&format!("{list}&created_at__gt={far_future}"), token).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(ids(&body), Vec::<u64>::new(), "{list}: nothing is newer than {far_future}");
        }
    }
    for far_past in ["0", "1970-01-01T00:00:00Z", "0001-01-01T00:00:00Z"] {
        let (status, body) = app.get(&format!("{base}&created_at__gt={far_past}"), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(ids(&body), vec![tweet_id], "everything is newer than {far_past}");
        let (_, body) = app.get(&format!("{base}&created_at__lt={far_past}"), None).await;
        assert_eq!(ids(&body), Vec::<u64>::new(), "nothing is older than {far_past}");
    }
}
