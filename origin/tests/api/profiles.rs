use reqwest::{multipart, Method, StatusCode};
use rookery_origin::testing::{file_part, spawn_app, Account, TestApp};
use serde_json::{json, Value};

use crate::images::{GIF, PNG};

async fn my_profile(app: &TestApp, user: &Account) -> Value {
    let (status, body) = app.get("/api/profiles/me/", Some(&user.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn me_and_permissions() {
    let app = spawn_app().await;
    let alice = app.signup("alice_p").await;
    let mallory = app.signup("mallory_p").await;
    let me = my_profile(&app, &alice).await;
    assert_eq!(me["user_id"], alice.id);
    assert_eq!((me["nickname"].clone(), me["avatar_url"].clone()), (json!(null), json!(null)));
    let profile_id = me["id"].as_u64().expect("a profile id");
    assert_ne!(profile_id, alice.id, "profiles have their own ids");
    let path = format!("/api/profiles/{profile_id}/");

    let (status, body) = app.get("/api/profiles/me/", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["detail"], "Authentication credentials were not provided.");
    let (status, body) = app.put(&path, None, json!({"nickname": "anon"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    insta::assert_json_snapshot!("anonymous_update", body);
    let (status, body) = app.put(&path, Some(&mallory.token), json!({"nickname": "mallory"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    insta::assert_json_snapshot!("other_user_update", body);
    let (status, _) =
        app.request(Method::PATCH, &path, Some(&mallory.token), Some(json!({"nickname": "mallory"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = app.put("/api/profiles/12345/", Some(&alice.token), json!({"nickname": "nobody"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"detail": "Not found."}));
    assert_eq!(my_profile(&app, &alice).await["nickname"], json!(null), "nothing changed");

    let (status, body) = app.put(&path, Some(&alice.token), json!({"nickname": "x".repeat(201)})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("nickname_too_long", body);
    let (status, body) = app.put(&path, Some(&alice.token), json!({"nickname": "Alice 🐦"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"nickname": "Alice 🐦", "avatar": null}));
    // PATCH too; fields left out stay as they are.
    let (status, body) = app.request(Method::PATCH, &path, Some(&alice.token), Some(json!({}))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["nickname"], "Alice 🐦");
    let (_, body) = app.request(Method::PATCH, &path, Some(&alice.token), Some(json!({"nickname": null}))).await;
    assert_eq!(body["nickname"], json!(null));
    let (status, body) = app.put(&path, Some(&alice.token), json!({"avatar": "http://elsewhere/a.png"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"]["avatar"][0], "The submitted data was not a file. Check the encoding type on the form.");
}

/// Alice's user shape in each place it appears: her tweet in her list, the detail, her comment, her
/// like, Bob's feed, Bob's followers and Bob's notifications.
async fn places(app: &TestApp, alice: &Account, bob: &Account, tweet_id: u64) -> Vec<Value> {
    let listed = app.tweet_in_list(alice, tweet_id, None).await["user"].clone();
    let detail = app.tweet_detail(tweet_id, None).await;
    let fed = app.tweet_in_feed(bob, tweet_id).await["user"].clone();
    let (_, followers) = app.get(&format!("/api/friendships/{}/followers/", bob.id), None).await;
    let notified = app.settle_notifications(bob, 2).await["results"][0]["actor"].clone();
    vec![
        listed,
        detail["user"].clone(),
        detail["comments"][0]["user"].clone(),
        detail["likes"][0]["user"].clone(),
        fed,
        followers["results"][0]["user"].clone(),
        notified,
    ]
}

#[tokio::test]
async fn a_new_nickname_and_avatar_show_everywhere_at_once() {
    let app = spawn_app().await;
    let alice = app.signup("alice_p").await;
    let bob = app.signup("bobby_p").await;
    app.follow(&bob, &alice).await;
    app.follow(&alice, &bob).await;
    let tweet_id = app.post_tweet(&alice, "who wrote this?").await["id"].as_u64().expect("id");
    app.comment(&alice, tweet_id, "me").await;
    app.like(&alice, "tweet", tweet_id).await;
    app.like(&alice, "tweet", app.post_tweet(&bob, "bob's own tweet").await["id"].as_u64().expect("id")).await;

    // Every place Alice appears, read once so every cache holds the old shape.
    for user in places(&app, &alice, &bob, tweet_id).await {
        assert_eq!(user["nickname"], json!(null), "{user}");
    }

    let profile_id = my_profile(&app, &alice).await["id"].as_u64().expect("id");
    let form = multipart::Form::new().text("nickname", "Alice").part("avatar", file_part(PNG, "me.png", "image/png"));
    let (status, body) =
        app.multipart(Method::PUT, &format!("/api/profiles/{profile_id}/"), Some(&alice.token), form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["nickname"], "Alice");
    let avatar = body["avatar"].as_str().expect("an avatar URL").to_owned();
    assert!(
        avatar.starts_with(&format!("{}/media/avatars/", app.config.http.public_url)) && avatar.ends_with(".png"),
        "{avatar}"
    );
    assert_eq!(my_profile(&app, &alice).await["avatar_url"], avatar);

    for user in places(&app, &alice, &bob, tweet_id).await {
        assert_eq!((user["nickname"].clone(), user["avatar_url"].clone()), (json!("Alice"), json!(avatar)), "{user}");
        assert_eq!(user["id"], alice.id);
    }
    let response = app.client.get(format!("{}{}", app.address, app.media_path(&avatar))).send().await.expect("answer");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/png");
    // Stored re-encoded (no metadata survives), so compare the pixels, not the bytes.
    let served = image::load_from_memory(&response.bytes().await.expect("bytes")).expect("a PNG");
    let uploaded = image::load_from_memory(PNG).expect("the test PNG");
    assert_eq!(served.to_rgba8(), uploaded.to_rgba8());

    // A new avatar replaces the old file; an empty one clears it.
    let form = multipart::Form::new().part("avatar", file_part(GIF, "me.gif", "image/gif"));
    let (status, body) =
        app.multipart(Method::PATCH, &format!("/api/profiles/{profile_id}/"), Some(&alice.token), form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["nickname"], "Alice", "left as it was");
    let gif = body["avatar"].as_str().expect("an avatar URL").to_owned();
    assert!(gif.ends_with(".gif"));
    assert_eq!(app.media_files().len(), 1, "the replaced avatar is removed");
    let (status, _) = app.get(&app.media_path(&avatar), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(app.tweet_detail(tweet_id, None).await["user"]["avatar_url"], gif);

    let (status, body) = app
        .put(&format!("/api/profiles/{profile_id}/"), Some(&alice.token), json!({"avatar": null, "nickname": ""}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"nickname": null, "avatar": null}));
    assert!(app.media_files().is_empty());
    assert_eq!(
        app.tweet_detail(tweet_id, None).await["user"],
        json!({"id": alice.id, "username": "alice_p", "nickname": null, "avatar_url": null})
    );
}

#[tokio::test]
async fn a_rejected_avatar_changes_nothing() {
    let app = spawn_app().await;
    let alice = app.signup("alice_p").await;
    let profile_id = my_profile(&app, &alice).await["id"].as_u64().expect("id");
    let form = multipart::Form::new()
        .text("nickname", "Alice")
        .part("avatar", file_part(b"just some text\n", "avatar.png", "image/png"));
    let (status, body) =
        app.multipart(Method::PUT, &format!("/api/profiles/{profile_id}/"), Some(&alice.token), form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("avatar_not_an_image", body);
    assert!(app.media_files().is_empty());
    let me = my_profile(&app, &alice).await;
    assert_eq!((me["nickname"].clone(), me["avatar_url"].clone()), (json!(null), json!(null)));
}
