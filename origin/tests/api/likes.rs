use reqwest::StatusCode;
use rookery_origin::testing::spawn_app;
use serde_json::json;

#[tokio::test]
async fn liking_a_tweet_is_idempotent_and_counted_everywhere() {
    let app = spawn_app().await;
    let alice = app.signup("alice_l").await;
    let bob = app.signup("bobby_l").await;
    app.follow(&bob, &alice).await;
    let tweet_id = app.post_tweet(&alice, "a tweet to like").await["id"].as_u64().expect("id");
    // Warm the cached row.
    assert_eq!(app.tweet_in_list(&alice, tweet_id, Some(&bob)).await["likes_count"], 0);

    let like = app.like(&bob, "tweet", tweet_id).await;
    assert_eq!(like["user"], json!({"id": bob.id, "username": "bobby_l", "nickname": null, "avatar_url": null}));
    assert!(like["created_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    // Again: 201, the same like, nothing changes.
    let again = app.like(&bob, "tweet", tweet_id).await;
    assert_eq!(again, like);

    for (viewer, liked) in [(Some(&bob), true), (Some(&alice), false), (None, false)] {
        let listed = app.tweet_in_list(&alice, tweet_id, viewer).await;
        assert_eq!((listed["likes_count"].clone(), listed["has_liked"].clone()), (json!(1), json!(liked)));
        let detail = app.tweet_detail(tweet_id, viewer).await;
        assert_eq!((detail["likes_count"].clone(), detail["has_liked"].clone()), (json!(1), json!(liked)));
    }
    let fed = app.tweet_in_feed(&bob, tweet_id).await;
    assert_eq!((fed["likes_count"].clone(), fed["has_liked"].clone()), (json!(1), json!(true)));
    let fed = app.tweet_in_feed(&alice, tweet_id).await;
    assert_eq!((fed["likes_count"].clone(), fed["has_liked"].clone()), (json!(1), json!(false)));

    // Likes in the detail: newest first.
    app.like(&alice, "tweet", tweet_id).await;
    let detail = app.tweet_detail(tweet_id, None).await;
    assert_eq!(detail["likes_count"], 2);
    let likers: Vec<_> = detail["likes"].as_array().expect("likes").iter().map(|l| l["user"]["id"].clone()).collect();
    assert_eq!(likers, vec![json!(alice.id), json!(bob.id)]);

    assert_eq!(app.unlike(&bob, "tweet", tweet_id).await, 1);
    assert_eq!(app.unlike(&bob, "tweet", tweet_id).await, 0);
    let listed = app.tweet_in_list(&alice, tweet_id, Some(&bob)).await;
    assert_eq!((listed["likes_count"].clone(), listed["has_liked"].clone()), (json!(1), json!(false)));
    let fed = app.tweet_in_feed(&bob, tweet_id).await;
    assert_eq!((fed["likes_count"].clone(), fed["has_liked"].clone()), (json!(1), json!(false)));
    assert_eq!(app.unlike(&alice, "tweet", tweet_id).await, 1);
    let detail = app.tweet_detail(tweet_id, Some(&alice)).await;
    assert_eq!(
        (detail["likes_count"].clone(), detail["has_liked"].clone(), detail["likes"].clone()),
        (json!(0), json!(false), json!([]))
    );
}

#[tokio::test]
async fn liking_a_comment_counts_on_the_comment() {
    let app = spawn_app().await;
    let alice = app.signup("alice_l").await;
    let bob = app.signup("bobby_l").await;
    let tweet_id = app.post_tweet(&alice, "a tweet with comments").await["id"].as_u64().expect("id");
    let comment_id = app.comment(&alice, tweet_id, "like this comment").await["id"].as_u64().expect("id");
    app.like(&bob, "comment", comment_id).await;
    app.like(&bob, "comment", comment_id).await;

    let (_, list) = app.get(&format!("/api/comments/?tweet_id={tweet_id}"), Some(&bob.token)).await;
    assert_eq!(
        (list["comments"][0]["likes_count"].clone(), list["comments"][0]["has_liked"].clone()),
        (json!(1), json!(true))
    );
    let (_, list) = app.get(&format!("/api/comments/?tweet_id={tweet_id}"), None).await;
    assert_eq!(list["comments"][0]["has_liked"], false);
    let detail = app.tweet_detail(tweet_id, Some(&bob)).await;
    assert_eq!(
        (detail["comments"][0]["likes_count"].clone(), detail["comments"][0]["has_liked"].clone()),
        (json!(1), json!(true))
    );
    assert_eq!(
        (detail["likes_count"].clone(), detail["has_liked"].clone()),
        (json!(0), json!(false)),
        "the tweet is not liked"
    );

    assert_eq!(app.unlike(&bob, "comment", comment_id).await, 1);
    let detail = app.tweet_detail(tweet_id, Some(&bob)).await;
    assert_eq!(
        (detail["comments"][0]["likes_count"].clone(), detail["comments"][0]["has_liked"].clone()),
        (json!(0), json!(false))
    );
}

#[tokio::test]
async fn like_input_errors() {
    let app = spawn_app().await;
    let alice = app.signup("alice_l").await;
    let tweet_id = app.post_tweet(&alice, "a tweet to like").await["id"].as_u64().expect("id");
    for path in ["/api/likes/", "/api/likes/cancel/"] {
        let (status, body) = app.post(path, Some(&alice.token), json!({})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body, json!({"success": false, "message": "missing content_type,object_id in request"}), "{path}");
        let (_, body) = app.post(path, Some(&alice.token), json!({"content_type": "tweet"})).await;
        assert_eq!(body, json!({"success": false, "message": "missing object_id in request"}), "{path}");
        let (status, body) = app.post(path, None, json!({"content_type": "tweet", "object_id": tweet_id})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(body["detail"], "Authentication credentials were not provided.");
    }
    let (status, body) =
        app.post("/api/likes/", Some(&alice.token), json!({"content_type": "user", "object_id": tweet_id})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("bad_content_type", body);
    let (status, body) =
        app.post("/api/likes/", Some(&alice.token), json!({"content_type": "tweet", "object_id": 12345})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("unknown_object", body);
    let (status, body) = app
        .post("/api/likes/cancel/", Some(&alice.token), json!({"content_type": "comment", "object_id": tweet_id}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a tweet id is no comment");
    assert_eq!(body["errors"]["object_id"][0], "Object does not exist.");
    let (status, body) =
        app.post("/api/likes/", Some(&alice.token), json!({"content_type": "tweet", "object_id": "x"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"]["object_id"][0], "A valid integer is required.");
    // Form bodies carry the id as text.
    let response = app
        .client
        .post(format!("{}/api/likes/", app.address))
        .bearer_auth(&alice.token)
        .form(&[("content_type", "tweet".to_owned()), ("object_id", tweet_id.to_string())])
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn concurrent_likes_and_cancels_keep_the_exact_count() {
    let app = spawn_app().await;
    let alice = app.signup("alice_l").await;
    let tweet_id = app.post_tweet(&alice, "a popular tweet").await["id"].as_u64().expect("id");
    let comment_id = app.comment(&alice, tweet_id, "a popular comment").await["id"].as_u64().expect("id");
    let mut fans = Vec::new();
    for i in 0..24 {
        fans.push(app.signup(&format!("fan_{i:02}")).await);
    }
    // Everyone likes the tweet and the comment twice, all at once.
    let likes = fans.iter().flat_map(|fan| {
        [("tweet", tweet_id), ("tweet", tweet_id), ("comment", comment_id), ("comment", comment_id)]
            .map(|(kind, id)| app.post("/api/likes/", Some(&fan.token), json!({"content_type": kind, "object_id": id})))
    });
    for (status, body) in futures::future::join_all(likes).await {
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let detail = app.tweet_detail(tweet_id, None).await;
    assert_eq!(detail["likes_count"], 24);
    assert_eq!(detail["likes"].as_array().map(Vec::len), Some(24));
    assert_eq!(detail["comments"][0]["likes_count"], 24);

    // Half cancel (twice each) while the other half like again: only the cancels count.
    let mixed = fans.iter().enumerate().flat_map(|(i, fan)| {
        let path = if i % 2 == 0 { "/api/likes/cancel/" } else { "/api/likes/" };
        [("tweet", tweet_id), ("tweet", tweet_id), ("comment", comment_id)]
            .map(|(kind, id)| app.post(path, Some(&fan.token), json!({"content_type": kind, "object_id": id})))
    });
    let results = futures::future::join_all(mixed).await;
    assert!(results.iter().all(|(status, _)| status.is_success()), "{results:?}");
    let deleted: u64 = results.iter().filter_map(|(_, body)| body["deleted"].as_u64()).sum();
    assert_eq!(deleted, 24, "each of the 12 cancelled one tweet like and one comment like");

    let detail = app.tweet_detail(tweet_id, None).await;
    assert_eq!(detail["likes_count"], 12);
    assert_eq!(detail["likes"].as_array().map(Vec::len), Some(12));
    assert_eq!(detail["comments"][0]["likes_count"], 12);
    assert_eq!(app.tweet_in_list(&alice, tweet_id, None).await["likes_count"], 12);
    assert_eq!(app.tweet_in_feed(&alice, tweet_id).await["likes_count"], 12);
    for (i, fan) in fans.iter().enumerate() {
        assert_eq!(app.tweet_in_list(&alice, tweet_id, Some(fan)).await["has_liked"], i % 2 == 1);
    }
}

#[tokio::test]
async fn a_stale_cache_fill_cannot_follow_an_invalidation() {
    let app = spawn_app().await;
    let redis = rookery_origin::cache::Redis::new(&app.config.redis).expect("a Redis URL");
    let key = redis.key("tweet:{1}");
    redis.fill_json(&[(key.clone(), json!({"likes_count": 1}))], 60).await;
    assert_eq!(
        redis.get_json::<serde_json::Value>(std::slice::from_ref(&key)).await,
        vec![Some(json!({"likes_count": 1}))]
    );
    // A writer commits likes_count = 2 and invalidates; a reader that loaded 1 before the commit fills late.
    redis.invalidate(std::slice::from_ref(&key)).await.expect("invalidated");
    redis.fill_json(&[(key.clone(), json!({"likes_count": 1}))], 60).await;
    assert_eq!(
        redis.get_json::<serde_json::Value>(std::slice::from_ref(&key)).await,
        vec![None],
        "the stale row stays out"
    );
    redis.delete(std::slice::from_ref(&key)).await.expect("deleted");
    redis.fill_json(&[(key.clone(), json!({"likes_count": 2}))], 60).await;
    assert_eq!(
        redis.get_json::<serde_json::Value>(std::slice::from_ref(&key)).await,
        vec![Some(json!({"likes_count": 2}))]
    );
}
