use reqwest::StatusCode;
use rookery_origin::testing::spawn_app;
use serde_json::json;

#[tokio::test]
async fn follow_returns_the_followee_and_rejects_repeats_self_and_unknown() {
    let app = spawn_app().await;
    let alice = app.signup("alice_f").await;
    let bob = app.signup("bob_f_1").await;
    let path = format!("/api/friendships/{}/follow/", bob.id);
    let (status, body) = app.post(&path, Some(&alice.token), json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["user"], json!({"id": bob.id, "username": "bob_f_1", "nickname": null, "avatar_url": null}));
    assert_eq!(body["has_followed"], true);
    assert!(body["created_at"].as_str().is_some());

    let (status, body) = app.post(&path, Some(&alice.token), json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("already_followed", body);

    let (status, body) =
        app.post(&format!("/api/friendships/{}/follow/", alice.id), Some(&alice.token), json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["success"], false);

    let (status, _) = app.post("/api/friendships/424242/follow/", Some(&alice.token), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.post(&path, None, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn unfollow_reports_whether_a_follow_existed() {
    let app = spawn_app().await;
    let alice = app.signup("alice_f").await;
    let bob = app.signup("bob_f_1").await;
    app.follow(&alice, &bob).await;
    let path = format!("/api/friendships/{}/unfollow/", bob.id);
    let (status, body) = app.post(&path, Some(&alice.token), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"success": true, "deleted": 1}));
    let (_, body) = app.post(&path, Some(&alice.token), json!({})).await;
    assert_eq!(body, json!({"success": true, "deleted": 0}));

    let (status, body) =
        app.post(&format!("/api/friendships/{}/unfollow/", alice.id), Some(&alice.token), json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("unfollow_self", body);
    let (status, _) = app.post("/api/friendships/424242/unfollow/", Some(&alice.token), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn lists_are_newest_first_with_has_followed_for_the_requester() {
    let app = spawn_app().await;
    let star = app.signup("star_f1").await;
    let mut fans = Vec::new();
    for i in 0..25 {
        let fan = app.signup(&format!("fan_f{i:03}")).await;
        app.follow(&fan, &star).await;
        fans.push(fan);
    }
    let viewer = app.signup("viewer_f").await;
    app.follow(&viewer, &fans[24]).await;
    app.follow(&viewer, &fans[3]).await;

    let path = format!("/api/friendships/{}/followers/", star.id);
    let ids = app.collect_ids(&path, None).await;
    let expected: Vec<u64> = fans.iter().rev().map(|f| f.id).collect();
    assert_eq!(ids, expected);

    let (_, page) = app.get(&path, Some(&viewer.token)).await;
    let results = page["results"].as_array().expect("results");
    assert_eq!(results.len(), 20);
    assert_eq!(page["has_next_page"], true);
    for item in results {
        let id = item["user"]["id"].as_u64().expect("id");
        assert_eq!(item["has_followed"], id == fans[24].id || id == fans[3].id, "{item}");
    }
    let (_, anonymous) = app.get(&path, None).await;
    assert!(anonymous["results"].as_array().expect("results").iter().all(|i| i["has_followed"] == false));

    let (_, followings) = app.get(&format!("/api/friendships/{}/followings/", viewer.id), None).await;
    let ids: Vec<u64> = followings["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|i| i["user"]["id"].as_u64().expect("id"))
        .collect();
    assert_eq!(ids, vec![fans[3].id, fans[24].id]);
    assert_eq!(followings["has_next_page"], false);
}
