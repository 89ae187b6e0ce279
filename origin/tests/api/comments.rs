use reqwest::StatusCode;
use rookery_origin::testing::spawn_app;
use serde_json::json;

#[tokio::test]
async fn comment_lifecycle_and_counts_everywhere() {
    let app = spawn_app().await;
    let alice = app.signup("alice_c").await;
    let bob = app.signup("bobby_c").await;
    app.follow(&bob, &alice).await;
    let tweet = app.post_tweet(&alice, "a tweet to comment on").await;
    let tweet_id = tweet["id"].as_u64().expect("id");
    // Warm the cached tweet row, so the counts below prove it is invalidated.
    assert_eq!(app.tweet_in_list(&alice, tweet_id, None).await["comments_count"], 0);

    let first = app.comment(&bob, tweet_id, "first!").await;
    assert_eq!(first["tweet_id"], tweet_id);
    assert_eq!(first["content"], "first!");
    assert_eq!(first["user"], json!({"id": bob.id, "username": "bobby_c", "nickname": null, "avatar_url": null}));
    assert_eq!(first["likes_count"], 0);
    assert_eq!(first["has_liked"], false);
    assert!(first["created_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    // One character is enough, and a form body works as well as JSON.
    let response = app
        .client
        .post(format!("{}/api/comments/", app.address))
        .bearer_auth(&alice.token)
        .form(&[("tweet_id", tweet_id.to_string()), ("content", "!".to_owned())])
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::CREATED);
    let second: serde_json::Value = response.json().await.expect("json");

    let (status, list) = app.get(&format!("/api/comments/?tweet_id={tweet_id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<_> = list["comments"].as_array().expect("comments").iter().map(|c| c["id"].clone()).collect();
    assert_eq!(ids, vec![first["id"].clone(), second["id"].clone()], "oldest first");

    assert_eq!(app.tweet_in_list(&alice, tweet_id, None).await["comments_count"], 2);
    assert_eq!(app.tweet_in_feed(&bob, tweet_id).await["comments_count"], 2);
    let detail = app.tweet_detail(tweet_id, None).await;
    assert_eq!(detail["comments_count"], 2);
    assert_eq!(detail["comments"].as_array().map(Vec::len), Some(2));
    assert_eq!(detail["comments"][0]["id"], first["id"]);
    assert_eq!(detail["likes"], json!([]));

    // Update: content only; other fields are ignored.
    let path = format!("/api/comments/{}/", first["id"]);
    let (status, updated) = app
        .put(
            &path,
            Some(&bob.token),
            json!({"content": "edited", "tweet_id": 1, "user_id": alice.id, "likes_count": 99}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["content"], "edited");
    assert_eq!(updated["tweet_id"], tweet_id);
    assert_eq!(updated["user"]["id"], bob.id);
    assert_eq!(updated["likes_count"], 0);
    assert_eq!(updated["created_at"], first["created_at"]);

    // Delete.
    let (status, body) = app.delete(&path, Some(&bob.token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"success": true}));
    let (_, list) = app.get(&format!("/api/comments/?tweet_id={tweet_id}"), None).await;
    assert_eq!(list["comments"].as_array().map(Vec::len), Some(1));
    assert_eq!(app.tweet_in_list(&alice, tweet_id, None).await["comments_count"], 1);
    assert_eq!(app.tweet_in_feed(&bob, tweet_id).await["comments_count"], 1);
    assert_eq!(app.tweet_detail(tweet_id, None).await["comments_count"], 1);
    let (status, _) = app.delete(&path, Some(&bob.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn comment_input_errors() {
    let app = spawn_app().await;
    let alice = app.signup("alice_c").await;
    let tweet_id = app.post_tweet(&alice, "a tweet to comment on").await["id"].as_u64().expect("id");

    let (status, body) = app.post("/api/comments/", Some(&alice.token), json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("missing_tweet_id_and_content", body);
    let (_, body) = app.post("/api/comments/", Some(&alice.token), json!({"tweet_id": tweet_id})).await;
    assert_eq!(body, json!({"success": false, "message": "missing content in request"}));
    let (status, body) =
        app.post("/api/comments/", Some(&alice.token), json!({"tweet_id": tweet_id, "content": "  "})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("blank_content", body);
    let (status, body) =
        app.post("/api/comments/", Some(&alice.token), json!({"tweet_id": tweet_id, "content": "x".repeat(141)})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("content_too_long", body);
    let (status, _) = app
        .post("/api/comments/", Some(&alice.token), json!({"tweet_id": tweet_id, "content": "🐦".repeat(140)}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) =
        app.post("/api/comments/", Some(&alice.token), json!({"tweet_id": 12345, "content": "hello"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("unknown_tweet", body);
    let (status, body) =
        app.post("/api/comments/", Some(&alice.token), json!({"tweet_id": "abc", "content": "hello"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"]["tweet_id"][0], "A valid integer is required.");
    let (status, body) = app.post("/api/comments/", None, json!({"tweet_id": tweet_id, "content": "hello"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["detail"], "Authentication credentials were not provided.");

    let (status, body) = app.get("/api/comments/", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"success": false, "message": "missing tweet_id in request"}));
    // An unknown tweet simply has no comments.
    let (status, body) = app.get("/api/comments/?tweet_id=12345", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"comments": []}));

    let comment = app.comment(&alice, tweet_id, "mine").await;
    let (status, body) =
        app.put(&format!("/api/comments/{}/", comment["id"]), Some(&alice.token), json!({"content": ""})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"]["content"][0], "This field may not be blank.");
    let (status, body) = app.put(&format!("/api/comments/{}/", comment["id"]), Some(&alice.token), json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"]["content"][0], "This field is required.");
}

#[tokio::test]
async fn only_the_author_changes_or_deletes_a_comment() {
    let app = spawn_app().await;
    let alice = app.signup("alice_c").await;
    let mallory = app.signup("mallory_c").await;
    let tweet_id = app.post_tweet(&alice, "a tweet to comment on").await["id"].as_u64().expect("id");
    let comment = app.comment(&alice, tweet_id, "mine").await;
    let path = format!("/api/comments/{}/", comment["id"]);

    let (status, body) = app.put(&path, None, json!({"content": "anonymous"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    insta::assert_json_snapshot!("anonymous_update", body);
    let (status, body) = app.put(&path, Some(&mallory.token), json!({"content": "hijacked"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    insta::assert_json_snapshot!("other_user_update", body);
    let (status, _) = app.delete(&path, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = app.delete(&path, Some(&mallory.token)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["detail"], "You do not have permission to access this object");
    let (status, body) = app.put("/api/comments/12345/", Some(&alice.token), json!({"content": "nothing"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"detail": "Not found."}));

    let (_, list) = app.get(&format!("/api/comments/?tweet_id={tweet_id}"), None).await;
    assert_eq!(list["comments"][0]["content"], "mine", "nothing changed");
    let (status, _) = app.put(&path, Some(&alice.token), json!({"content": "still mine"})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.delete(&path, Some(&alice.token)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn deleting_a_tweet_deletes_its_comments_and_likes() {
    let app = spawn_app().await;
    let alice = app.signup("alice_c").await;
    let bob = app.signup("bobby_c").await;
    let tweet_id = app.post_tweet(&alice, "short-lived tweet").await["id"].as_u64().expect("id");
    let comment_id = app.comment(&bob, tweet_id, "nice").await["id"].as_u64().expect("id");
    app.like(&bob, "tweet", tweet_id).await;
    app.like(&alice, "comment", comment_id).await;
    let (status, _) = app.delete(&format!("/api/tweets/{tweet_id}/"), Some(&alice.token)).await;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = app.get(&format!("/api/comments/?tweet_id={tweet_id}"), None).await;
    assert_eq!(list, json!({"comments": []}));
    let (status, body) =
        app.post("/api/likes/", Some(&bob.token), json!({"content_type": "comment", "object_id": comment_id})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the comment is gone: {body}");
    let (status, _) = app.put(&format!("/api/comments/{comment_id}/"), Some(&bob.token), json!({"content": "x"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let db = sqlx::MySqlPool::connect(&app.config.db.url).await.expect("the test database");
    let (likes, comments): (i64, i64) =
        sqlx::query_as("SELECT (SELECT COUNT(*) FROM likes), (SELECT COUNT(*) FROM comments)")
            .fetch_one(&db)
            .await
            .expect("counts");
    assert_eq!((likes, comments), (0, 0), "no rows are left behind");
    db.close().await;
}
