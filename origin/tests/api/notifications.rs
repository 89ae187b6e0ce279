use std::time::Duration;

use reqwest::StatusCode;
use rookery_origin::{
    events::Event,
    ids::IdGenerator,
    notifications::verb::Verb,
    outbox,
    testing::{eventually, spawn_app},
};
use rookery_shared::{
    ids::{NotificationId, UserId},
    notifications::TargetType,
};
use serde_json::json;

#[tokio::test]
async fn who_is_told_about_what() {
    let app = spawn_app().await;
    let alice = app.signup("alice_n").await;
    let bob = app.signup("bobby_n").await;
    let tweet_id = app.post_tweet(&alice, "notify me about this").await["id"].as_u64().expect("id");

    // Acting on one's own content notifies nobody.
    let own_comment = app.comment(&alice, tweet_id, "my own comment").await["id"].as_u64().expect("id");
    app.like(&alice, "tweet", tweet_id).await;
    app.like(&alice, "comment", own_comment).await;

    // Bob comments, likes the tweet (twice), likes the comment, follows.
    let bob_comment = app.comment(&bob, tweet_id, "bob was here").await["id"].as_u64().expect("id");
    app.like(&bob, "tweet", tweet_id).await;
    app.like(&bob, "tweet", tweet_id).await;
    app.like(&bob, "comment", own_comment).await;
    app.follow(&bob, &alice).await;
    // Alice acting on Bob's comment tells Bob.
    app.like(&alice, "comment", bob_comment).await;

    let page = app.settle_notifications(&alice, 4).await;
    let seen: Vec<(String, String, u64)> = page["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|n| {
            assert_eq!(n["actor"], json!({"id": bob.id, "username": "bobby_n", "nickname": null, "avatar_url": null}));
            assert_eq!(n["unread"], true);
            assert!(n["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
            (
                n["verb"].as_str().unwrap_or_default().to_owned(),
                n["target_type"].as_str().unwrap_or_default().to_owned(),
                n["target_id"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("followed you".to_owned(), "user".to_owned(), bob.id),
            ("liked your comment".to_owned(), "comment".to_owned(), own_comment),
            ("liked your tweet".to_owned(), "tweet".to_owned(), tweet_id),
            ("commented on your tweet".to_owned(), "tweet".to_owned(), tweet_id),
        ],
        "newest first"
    );
    let bobs = app.settle_notifications(&bob, 1).await;
    assert_eq!(bobs["results"][0]["verb"], "liked your comment");
    assert_eq!(bobs["results"][0]["actor"]["id"], alice.id);

    // Unlike and like again: the same notification, refreshed to the top; repeating it is still nothing.
    app.unlike(&bob, "tweet", tweet_id).await;
    app.like(&bob, "tweet", tweet_id).await;
    app.like(&bob, "tweet", tweet_id).await;
    let refreshed = eventually(Duration::from_secs(20), || async {
        app.notifications(&alice, "").await["results"][0]["verb"] == "liked your tweet"
    })
    .await;
    assert!(refreshed, "the like's notification moved to the top");
    app.settle_notifications(&alice, 4).await;
}

#[tokio::test]
async fn numbered_pages_unread_filter_and_marking() {
    let app = spawn_app().await;
    let alice = app.signup("alice_n").await;
    let mut followers = Vec::new();
    for i in 0..12 {
        let follower = app.signup(&format!("follower_{i:02}")).await;
        app.follow(&follower, &alice).await;
        followers.push(follower);
    }
    let first = app.settle_notifications(&alice, 12).await;
    let base = format!("{}/api/notifications/", app.config.http.public_url);
    assert_eq!(first["results"].as_array().map(Vec::len), Some(10));
    assert_eq!(first["next"], format!("{base}?page=2"));
    assert_eq!(first["previous"], json!(null));
    assert_eq!(first["results"][0]["actor"]["id"], followers[11].id, "newest first");
    let second = app.notifications(&alice, "page=2").await;
    assert_eq!(second["results"].as_array().map(Vec::len), Some(2));
    assert_eq!(second["next"], json!(null));
    assert_eq!(second["previous"], base);
    assert_eq!(second["results"][1]["actor"]["id"], followers[0].id);
    let (status, body) = app.get("/api/notifications/?page=3", Some(&alice.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    insta::assert_json_snapshot!("invalid_page", body);
    let (status, _) = app.get("/api/notifications/?page=abc", Some(&alice.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    assert_eq!(app.unread_count(&alice).await, 12);
    // Mark one read, then unread again, then read.
    let newest = first["results"][0]["id"].as_u64().expect("id");
    let path = format!("/api/notifications/{newest}/");
    let (status, body) =
        app.put(&path, Some(&alice.token), json!({"unread": false, "verb": "ignored", "actor": 1})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["unread"], false);
    assert_eq!(body["verb"], "followed you");
    assert_eq!(body["id"], newest);
    assert_eq!(app.unread_count(&alice).await, 11);
    let (_, body) = app.put(&path, Some(&alice.token), json!({"unread": true})).await;
    assert_eq!(body["unread"], true);
    assert_eq!(app.unread_count(&alice).await, 12);
    let (_, body) = app.put(&path, Some(&alice.token), json!({"unread": "false"})).await;
    assert_eq!(body["unread"], false);

    let unread = app.notifications(&alice, "unread=true").await;
    assert_eq!(unread["count"], 11);
    assert_eq!(unread["next"], format!("{base}?page=2&unread=true"));
    let read = app.notifications(&alice, "unread=false").await;
    assert_eq!(read["count"], 1);
    assert_eq!(read["results"][0]["id"], newest);
    let (_, later) = app.get("/api/notifications/?unread=true&page=2", Some(&alice.token)).await;
    assert_eq!(later["previous"], format!("{base}?unread=true"));

    let (status, body) = app.post("/api/notifications/mark-all-as-read/", Some(&alice.token), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"marked_count": 11}));
    assert_eq!(app.unread_count(&alice).await, 0);
    let (_, body) = app.post("/api/notifications/mark-all-as-read/", Some(&alice.token), json!({})).await;
    assert_eq!(body, json!({"marked_count": 0}));
    assert_eq!(app.notifications(&alice, "unread=true").await["count"], 0);
}

#[tokio::test]
async fn only_the_recipient_sees_or_changes_notifications() {
    let app = spawn_app().await;
    let alice = app.signup("alice_n").await;
    let bob = app.signup("bobby_n").await;
    app.follow(&bob, &alice).await;
    let page = app.settle_notifications(&alice, 1).await;
    let id = page["results"][0]["id"].as_u64().expect("id");
    let path = format!("/api/notifications/{id}/");

    let (status, body) = app.put(&path, Some(&bob.token), json!({"unread": false})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    insta::assert_json_snapshot!("others_notification", body);
    assert_eq!(app.notifications(&bob, "").await["count"], 0);
    assert_eq!(app.unread_count(&bob).await, 0);
    let (_, body) = app.post("/api/notifications/mark-all-as-read/", Some(&bob.token), json!({})).await;
    assert_eq!(body["marked_count"], 0);
    assert_eq!(app.unread_count(&alice).await, 1, "Bob's marking did not touch Alice's");

    for (status, body) in [
        app.get("/api/notifications/", None).await,
        app.get("/api/notifications/unread-count/", None).await,
        app.post("/api/notifications/mark-all-as-read/", None, json!({})).await,
        app.put(&path, None, json!({"unread": false})).await,
    ] {
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["detail"], "Authentication credentials were not provided.");
    }
    let (status, body) = app.put(&path, Some(&alice.token), json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("missing_unread", body);
    let (status, body) = app.put(&path, Some(&alice.token), json!({"unread": "maybe"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"]["unread"][0], "Must be a valid boolean.");
    let (status, _) = app.put("/api/notifications/12345/", Some(&alice.token), json!({"unread": false})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_redelivered_request_creates_one_notification() {
    let app = spawn_app().await;
    let alice = app.signup("alice_n").await;
    let bob = app.signup("bobby_n").await;
    let db = sqlx::MySqlPool::connect(&app.config.db.url).await.expect("the test database");
    let ids = IdGenerator::new(15);
    let event = Event::NotificationRequested {
        notification_id: NotificationId(ids.next()),
        recipient_id: UserId(alice.id),
        actor_id: UserId(bob.id),
        verb: Verb::Followed,
        target_type: TargetType::User,
        target_id: bob.id,
    };
    // The same request relayed three times, as after a relay crash between publishing and deleting.
    for _ in 0..3 {
        let mut tx = db.begin().await.expect("a transaction");
        outbox::store::enqueue(&mut tx, &ids, &event).await.expect("enqueued");
        tx.commit().await.expect("committed");
    }
    app.settle_notifications(&alice, 1).await;
    let drained = eventually(Duration::from_secs(10), || async {
        matches!(outbox::store::backlog(&db, u64::MAX).await, Ok((0, _)))
    })
    .await;
    assert!(drained, "the outbox is relayed");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.notifications(&alice, "").await["count"], 1);
    db.close().await;
}

#[tokio::test]
async fn repeated_cycles_refresh_one_notification_instead_of_adding_more() {
    let app = spawn_app().await;
    let alice = app.signup("alice_cy").await;
    let bob = app.signup("bobby_cy").await;
    let tweet_id = app.post_tweet(&alice, "like me, or do not").await["id"].as_u64().expect("id");
    for cycle in 0..3 {
        app.follow(&bob, &alice).await;
        app.like(&bob, "tweet", tweet_id).await;
        // Each cycle's notifications are in before the next cycle starts.
        app.settle_notifications(&alice, 2).await;
        if cycle == 0 {
            // Read, so the refresh below has something to change.
            let (status, body) = app.post("/api/notifications/mark-all-as-read/", Some(&alice.token), json!({})).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(app.unread_count(&alice).await, 0);
        }
        app.post(&format!("/api/friendships/{}/unfollow/", alice.id), Some(&bob.token), json!({})).await;
        app.unlike(&bob, "tweet", tweet_id).await;
    }
    let page = app.settle_notifications(&alice, 2).await;
    let verbs: Vec<&str> =
        page["results"].as_array().expect("results").iter().filter_map(|n| n["verb"].as_str()).collect();
    assert_eq!(verbs, ["liked your tweet", "followed you"], "newest first, once each");
    assert_eq!(app.unread_count(&alice).await, 2, "a refreshed notification is unread again");
}

#[tokio::test]
async fn notifications_go_with_the_tweet_or_comment_they_are_about() {
    let app = spawn_app().await;
    let alice = app.signup("alice_gone").await;
    let bob = app.signup("bobby_gone").await;
    let carol = app.signup("carol_gone").await;
    let tweet_id = app.post_tweet(&alice, "this will be deleted").await["id"].as_u64().expect("id");
    let kept = app.post_tweet(&alice, "this one stays").await["id"].as_u64().expect("id");
    let bob_comment = app.comment(&bob, tweet_id, "bob comments").await["id"].as_u64().expect("id");
    app.like(&bob, "tweet", tweet_id).await;
    app.like(&carol, "comment", bob_comment).await;
    app.like(&carol, "tweet", kept).await;
    let carol_comment = app.comment(&carol, kept, "carol comments once").await["id"].as_u64().expect("id");
    let carol_second = app.comment(&carol, kept, "and twice").await["id"].as_u64().expect("id");
    app.like(&bob, "comment", carol_comment).await;
    app.settle_notifications(&alice, 4).await;
    app.settle_notifications(&bob, 1).await;
    app.settle_notifications(&carol, 1).await;
    assert_eq!(app.unread_count(&alice).await, 4);

    // The tweet goes, with bob's comment and its like: alice keeps carol's like and comment on the other
    // tweet; bob loses carol's like of his deleted comment.
    let (status, body) = app.delete(&format!("/api/tweets/{tweet_id}/"), Some(&alice.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page = app.settle_notifications(&alice, 2).await;
    assert!(page["results"].as_array().expect("results").iter().all(|n| n["target_id"] == kept), "{page}");
    assert_eq!(app.unread_count(&alice).await, 2);
    app.settle_notifications(&bob, 0).await;

    // One of carol's two comments goes: "commented on your tweet" stays, bob's like of it goes.
    let (status, body) = app.delete(&format!("/api/comments/{carol_comment}/"), Some(&carol.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.settle_notifications(&carol, 0).await;
    app.settle_notifications(&alice, 2).await;
    // Her last comment there goes: so does the notification about it.
    let (status, body) = app.delete(&format!("/api/comments/{carol_second}/"), Some(&carol.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page = app.settle_notifications(&alice, 1).await;
    assert_eq!(page["results"][0]["verb"], "liked your tweet", "{page}");
}
