use reqwest::{multipart, Method, StatusCode};
use serde_json::json;

use crate::{
    helpers::{spawn_app, spawn_app_with},
    social_helpers::{file_part, jpeg, GIF, PNG, WEBP},
};

#[tokio::test]
async fn a_tweet_with_four_kinds_of_photo_in_order() {
    let app = spawn_app().await;
    let alice = app.signup("alice_m").await;
    let jpeg = jpeg();
    // Names and declared types are ignored: the content decides.
    let photos: [(&[u8], &str, &str); 4] = [
        (&jpeg, "one.jpeg", "image/jpeg"),
        (PNG, "two.bin", "application/octet-stream"),
        (GIF, "three.png", "image/png"),
        (WEBP, "four.webp", "image/webp"),
    ];
    let mut form = multipart::Form::new().text("content", "four photos, one tweet");
    for (bytes, name, mime) in photos {
        form = form.part("files", file_part(bytes, name, mime));
    }
    let (status, tweet) = app.multipart(Method::POST, "/api/tweets/", Some(&alice.token), form).await;
    assert_eq!(status, StatusCode::CREATED, "{tweet}");
    assert_eq!(tweet["content"], "four photos, one tweet");
    let urls: Vec<String> = tweet["photo_urls"].as_array().expect("photo_urls").iter().map(|u| u.as_str().expect("a URL").to_owned()).collect();
    assert_eq!(urls.len(), 4);
    for (url, ext) in urls.iter().zip(["jpg", "png", "gif", "webp"]) {
        assert!(url.starts_with(&format!("{}/media/photos/", app.config.public_url)) && url.ends_with(&format!(".{ext}")), "{url}");
    }
    let id = tweet["id"].as_u64().expect("id");
    assert_eq!(app.tweet_detail(id, None).await["photo_urls"], json!(urls));
    assert_eq!(app.tweet_in_list(&alice, id, None).await["photo_urls"], json!(urls));
    assert_eq!(app.tweet_in_feed(&alice, id).await["photo_urls"], json!(urls));

    for (url, (bytes, _, _)) in urls.iter().zip(photos) {
        let response = app.client.get(format!("{}{}", app.address, app.media_path(url))).send().await.expect("answer");
        assert_eq!(response.status(), StatusCode::OK);
        let mime = match url.rsplit('.').next() {
            Some("jpg") => "image/jpeg",
            Some("png") => "image/png",
            Some("gif") => "image/gif",
            _ => "image/webp",
        };
        assert_eq!(response.headers()["content-type"], mime);
        assert_eq!(response.headers()["cache-control"], "public, max-age=31536000, immutable");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        assert_eq!(response.bytes().await.expect("bytes").as_ref(), bytes, "stored byte for byte");
    }
    assert_eq!(app.media_files().len(), 4);

    // Deleting the tweet removes its files.
    let (status, _) = app.delete(&format!("/api/tweets/{id}/"), Some(&alice.token)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(app.media_files().is_empty());
    let (status, _) = app.get(&app.media_path(&urls[0]), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_renamed_text_file_is_refused_and_leaves_nothing() {
    let app = spawn_app().await;
    let alice = app.signup("alice_m").await;
    let form = multipart::Form::new()
        .text("content", "this tweet has a fake photo")
        .part("files", file_part(PNG, "real.png", "image/png"))
        .part("files", file_part(b"I am not a picture, just text.\n", "fake.png", "image/png"));
    let (status, body) = app.multipart(Method::POST, "/api/tweets/", Some(&alice.token), form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("not_an_image", body);
    assert!(app.media_files().is_empty(), "nothing written: {:?}", app.media_files());
    let (_, list) = app.get(&format!("/api/tweets/?user_id={}", alice.id), None).await;
    assert_eq!(list["results"], json!([]), "no tweet was created");

    // Content and files are checked together.
    let form = multipart::Form::new().text("content", "short").part("files", file_part(b"", "empty.png", "image/png"));
    let (status, body) = app.multipart(Method::POST, "/api/tweets/", Some(&alice.token), form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("short_content_and_empty_file", body);
}

#[tokio::test]
async fn more_than_nine_photos_are_refused() {
    let app = spawn_app().await;
    let alice = app.signup("alice_m").await;
    let mut form = multipart::Form::new().text("content", "ten photos is too many");
    for i in 0..10 {
        form = form.part("files", file_part(PNG, &format!("{i}.png"), "image/png"));
    }
    let (status, body) = app.multipart(Method::POST, "/api/tweets/", Some(&alice.token), form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("too_many_photos", body);
    assert!(app.media_files().is_empty());

    let mut form = multipart::Form::new().text("content", "nine photos is fine");
    for i in 0..9 {
        form = form.part("files", file_part(PNG, &format!("{i}.png"), "image/png"));
    }
    let (status, body) = app.multipart(Method::POST, "/api/tweets/", Some(&alice.token), form).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["photo_urls"].as_array().map(Vec::len), Some(9));
    assert_eq!(app.media_files().len(), 9);
}

#[tokio::test]
async fn the_size_cap_is_configurable() {
    let app = spawn_app_with(|config| config.media_max_bytes = 1024).await;
    let alice = app.signup("alice_m").await;
    let mut big = PNG.to_vec();
    big.resize(1025, 0);
    let form = multipart::Form::new().text("content", "a photo too large").part("files", file_part(&big, "big.png", "image/png"));
    let (status, body) = app.multipart(Method::POST, "/api/tweets/", Some(&alice.token), form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("file_too_large", body);
    big.truncate(1024);
    let form = multipart::Form::new().text("content", "a photo at the cap").part("files", file_part(&big, "big.png", "image/png"));
    let (status, _) = app.multipart(Method::POST, "/api/tweets/", Some(&alice.token), form).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn bad_multipart_and_bad_keys_never_500() {
    let app = spawn_app().await;
    let alice = app.signup("alice_m").await;
    let response = app
        .client
        .post(format!("{}/api/tweets/", app.address))
        .bearer_auth(&alice.token)
        .header("content-type", "multipart/form-data; boundary=XYZ")
        .body("--XYZ\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\nunterminated")
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["success"], false);
    assert!(body["message"].as_str().is_some_and(|m| m.starts_with("Multipart form parse error")), "{body}");
    let response = app
        .client
        .post(format!("{}/api/tweets/", app.address))
        .bearer_auth(&alice.token)
        .header("content-type", "multipart/form-data")
        .body("no boundary")
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // JSON bodies keep the ordinary size limit on the upload route.
    let (status, _) = app.post("/api/tweets/", Some(&alice.token), json!({"content": "x".repeat(app.config.max_body_bytes)})).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // Anonymous uploads are refused before anything is read.
    let form = multipart::Form::new().text("content", "anonymous photos").part("files", file_part(PNG, "a.png", "image/png"));
    let (status, _) = app.multipart(Method::POST, "/api/tweets/", None, form).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(app.media_files().is_empty());

    for path in [
        "/media/photos/0123456789abcdef0123456789abcdef.png",
        "/media/photos/0123456789abcdef0123456789abcdef.exe",
        "/media/photos/..%2F..%2Fetc%2Fpasswd",
        "/media/../Cargo.toml",
        "/media/avatars/",
        "/media/",
    ] {
        let (status, body) = app.get(path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body, json!({"detail": "Not found."}), "{path}");
    }
}
