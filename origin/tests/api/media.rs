mod fixtures;

use std::time::{Duration, Instant};

use image::{codecs::gif::GifDecoder, AnimationDecoder, GenericImageView, ImageFormat};
use reqwest::{multipart, Method, StatusCode};
use rookery_origin::{
    media::service::{NOT_AN_IMAGE, TOO_MANY_PIXELS},
    testing::{file_part, spawn_app, spawn_app_with, Account, TestApp},
};
use serde_json::{json, Value};

use self::fixtures::{
    animated_gif, contains, decode, encode, graphic, jpeg_markers, jpeg_with_gps_exif, photo, png_claiming,
    CAMERA_SERIAL, LATITUDE,
};
use crate::images::{jpeg, GIF, PNG, WEBP};

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
    let urls: Vec<String> = tweet["photo_urls"]
        .as_array()
        .expect("photo_urls")
        .iter()
        .map(|u| u.as_str().expect("a URL").to_owned())
        .collect();
    assert_eq!(urls.len(), 4);
    for (url, ext) in urls.iter().zip(["jpg", "png", "gif", "webp"]) {
        assert!(
            url.starts_with(&format!("{}/media/photos/", app.config.http.public_url))
                && url.ends_with(&format!(".{ext}")),
            "{url}"
        );
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
        // Encoded again in the format it came in.
        let served = response.bytes().await.expect("bytes");
        let (format, image) = decode(&served);
        assert_eq!((format, image.dimensions()), (decode(bytes).0, (1, 1)), "{url}");
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
    let app = spawn_app_with(|config| config.media.max_bytes = 1024).await;
    let alice = app.signup("alice_m").await;
    let mut big = PNG.to_vec();
    big.resize(1025, 0);
    let form = multipart::Form::new()
        .text("content", "a photo too large")
        .part("files", file_part(&big, "big.png", "image/png"));
    let (status, body) = app.multipart(Method::POST, "/api/tweets/", Some(&alice.token), form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("file_too_large", body);
    big.truncate(1024);
    let form = multipart::Form::new()
        .text("content", "a photo at the cap")
        .part("files", file_part(&big, "big.png", "image/png"));
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
    let (status, _) = app
        .post("/api/tweets/", Some(&alice.token), json!({"content": "x".repeat(app.config.http.max_body_bytes)}))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // Anonymous uploads are refused before anything is read.
    let form =
        multipart::Form::new().text("content", "anonymous photos").part("files", file_part(PNG, "a.png", "image/png"));
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

/// The tweets `author` has, by id.
async fn tweet_ids(app: &TestApp, author: &Account) -> Vec<u64> {
    app.collect_ids(&format!("/api/tweets/?user_id={}", author.id), None).await
}

fn invalid(field: &str, why: &str) -> Value {
    json!({"success": false, "message": "Please check input", "errors": {field: [why]}})
}

#[tokio::test]
async fn exif_with_gps_and_a_camera_serial_never_reaches_a_reader() {
    let app = spawn_app().await;
    let alice = app.signup("alice_m").await;
    let upload = jpeg_with_gps_exif(64, 48);
    let (status, tweet) = app.tweet_photos(&alice, &[&upload]).await;
    assert_eq!(status, StatusCode::CREATED, "{tweet}");
    let (status, profile) = app.put_avatar(&alice, &upload).await;
    assert_eq!(status, StatusCode::OK, "{profile}");

    for url in
        [tweet["photo_urls"][0].as_str().expect("a photo URL"), profile["avatar"].as_str().expect("an avatar URL")]
    {
        assert!(url.ends_with(".jpg"), "{url}");
        let (mime, served) = app.fetch_media(url).await;
        assert_eq!(mime, "image/jpeg");
        let (format, image) = decode(&served);
        assert_eq!((format, image.dimensions()), (ImageFormat::Jpeg, (64, 48)), "{url}");
        let markers = jpeg_markers(&served);
        assert!(
            !markers.contains(&0xE1) && !markers.contains(&0xE2) && !markers.contains(&0xFE),
            "{url}: {markers:02X?}"
        );
        assert!(!contains(&served, b"Exif"), "{url}: an Exif block");
        assert!(!contains(&served, CAMERA_SERIAL), "{url}: the camera serial");
        assert!(!contains(&served, &LATITUDE), "{url}: the GPS latitude");
    }
    // The stored files themselves, not only what is served.
    assert_eq!(app.media_files().len(), 2);
    for file in app.media_files() {
        let stored = std::fs::read(&file).expect("a stored file");
        assert!(!contains(&stored, CAMERA_SERIAL) && !contains(&stored, b"Exif"), "{}", file.display());
    }
}

#[tokio::test]
async fn a_truncated_png_is_refused_and_leaves_nothing() {
    let app = spawn_app().await;
    let alice = app.signup("alice_m").await;
    // Its header is whole; half of its pixel data is missing.
    let png = encode(&photo(64, 64), ImageFormat::Png);
    let truncated = &png[..png.len() / 2];

    // Alongside a good photo: neither is stored.
    let (status, body) = app.tweet_photos(&alice, &[&png, truncated]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, invalid("files", NOT_AN_IMAGE));
    assert!(app.media_files().is_empty(), "nothing written: {:?}", app.media_files());
    assert!(tweet_ids(&app, &alice).await.is_empty(), "no tweet was created");

    let (status, body) = app.put_avatar(&alice, truncated).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, invalid("avatar", NOT_AN_IMAGE));
    assert!(app.media_files().is_empty());
    assert_eq!(app.my_profile(&alice).await["avatar_url"], json!(null));

    // A header cut short is refused as well.
    let (status, body) = app.tweet_photos(&alice, &[&png[..40]]).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, invalid("files", NOT_AN_IMAGE)));
    assert!(app.media_files().is_empty());
}

#[tokio::test]
async fn a_file_that_only_starts_like_a_gif_is_refused() {
    let app = spawn_app().await;
    let alice = app.signup("alice_m").await;
    let script = b"<html><script>fetch('/api/accounts/logout/', {method: 'POST'})</script></html>";
    // Read as a GIF header, `<htm` claims an image of 26684×27956.
    let html = [b"GIF89a".as_slice(), script].concat();
    // With a believable 1×1 screen: it fails where the image data should begin.
    let plausible = [b"GIF89a\x01\x00\x01\x00\x00\x00\x00".as_slice(), script].concat();
    for (upload, why) in [(&html, TOO_MANY_PIXELS), (&plausible, NOT_AN_IMAGE)] {
        let (status, body) = app.tweet_photos(&alice, &[upload]).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, invalid("files", why)));
        let (status, body) = app.put_avatar(&alice, upload).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, invalid("avatar", why)));
    }
    assert!(app.media_files().is_empty(), "nothing written: {:?}", app.media_files());
    assert!(tweet_ids(&app, &alice).await.is_empty());
    assert_eq!(app.my_profile(&alice).await["avatar_url"], json!(null));
}

#[tokio::test]
async fn a_png_claiming_huge_dimensions_is_refused_before_decoding() {
    let app = spawn_app().await;
    let alice = app.signup("alice_m").await;
    // 10^10 pixels: 40 GB of RGBA, were the header believed.
    let bomb = png_claiming(100_000, 100_000);
    let started = Instant::now();
    let (status, body) = app.tweet_photos(&alice, &[&bomb]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("image_too_large", body);
    let (status, body) = app.put_avatar(&alice, &bomb).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, invalid("avatar", TOO_MANY_PIXELS)));
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert!(app.media_files().is_empty());

    // Each side within the cap but too many pixels in all.
    let (status, body) = app.tweet_photos(&alice, &[&png_claiming(8192, 8192)]).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, invalid("files", TOO_MANY_PIXELS)));

    // The origin is unharmed and still takes photos.
    let (status, _) = app.get("/healthz", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app.tweet_photos(&alice, &[PNG]).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(app.media_files().len(), 1);
}

#[tokio::test]
async fn png_webp_and_gif_keep_their_format_and_their_pixels() {
    let app = spawn_app().await;
    let alice = app.signup("alice_m").await;
    let graphic = graphic(24, 16);
    let uploads = [
        (encode(&graphic, ImageFormat::Png), ImageFormat::Png, "png", "image/png"),
        (encode(&graphic, ImageFormat::WebP), ImageFormat::WebP, "webp", "image/webp"),
        (encode(&graphic, ImageFormat::Gif), ImageFormat::Gif, "gif", "image/gif"),
        (encode(&photo(24, 16), ImageFormat::Jpeg), ImageFormat::Jpeg, "jpg", "image/jpeg"),
    ];
    let photos: Vec<&[u8]> = uploads.iter().map(|(bytes, ..)| bytes.as_slice()).collect();
    let (status, tweet) = app.tweet_photos(&alice, &photos).await;
    assert_eq!(status, StatusCode::CREATED, "{tweet}");
    for (url, (_, format, ext, mime)) in tweet["photo_urls"].as_array().expect("photo_urls").iter().zip(&uploads) {
        let url = url.as_str().expect("a URL");
        assert!(url.ends_with(&format!(".{ext}")), "{url}");
        let (served_mime, served) = app.fetch_media(url).await;
        assert_eq!(served_mime, *mime);
        let (served_format, image) = decode(&served);
        assert_eq!((served_format, image.dimensions()), (*format, (24, 16)), "{url}");
        if *format != ImageFormat::Jpeg {
            // Lossless formats (and a GIF of few colours) keep every pixel.
            assert_eq!(image.to_rgba8(), graphic.to_rgba8(), "{url}");
        }
    }

    // An animated GIF keeps its first frame.
    let (status, profile) = app.put_avatar(&alice, &animated_gif(8, 8)).await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    let (mime, served) = app.fetch_media(profile["avatar"].as_str().expect("an avatar URL")).await;
    assert_eq!(mime, "image/gif");
    let frames =
        GifDecoder::new(std::io::Cursor::new(served)).expect("a GIF").into_frames().collect_frames().expect("frames");
    assert_eq!(frames.len(), 1);
    assert!(frames[0].buffer().pixels().all(|pixel| pixel.0 == [255, 0, 0, 255]), "the first frame, red");
}
