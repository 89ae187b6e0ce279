//! Typed helpers for comments, likes, notifications, profiles and uploads, and real image bytes.

use reqwest::{multipart, Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{Account, TestApp};

/// A 1×1 PNG (RGBA, deflated).
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0A, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00,
    0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// A 1×1 GIF89a.
pub const GIF: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00,
    0x21, 0xF9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02,
    0x02, 0x44, 0x01, 0x00, 0x3B,
];

/// A 1×1 lossless WebP.
pub const WEBP: &[u8] = &[
    0x52, 0x49, 0x46, 0x46, 0x1A, 0x00, 0x00, 0x00, 0x57, 0x45, 0x42, 0x50, 0x56, 0x50, 0x38, 0x4C, 0x0D, 0x00, 0x00,
    0x00, 0x2F, 0x00, 0x00, 0x00, 0x10, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xFE, 0x07, 0x00,
];

/// A 1×1 grey baseline JPEG: all-ones quantisation, one-code Huffman tables, one block of zeros.
pub fn jpeg() -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8];
    bytes.extend([0xFF, 0xDB, 0x00, 0x43, 0x00]);
    bytes.extend([1u8; 64]);
    bytes.extend([0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x01, 0x00, 0x01, 0x01, 0x01, 0x11, 0x00]);
    for class in [0x00, 0x10] {
        bytes.extend([0xFF, 0xC4, 0x00, 0x14, class, 0x01]);
        bytes.extend([0u8; 15]);
        bytes.push(0x00);
    }
    bytes.extend([0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]);
    bytes.push(0x3F);
    bytes.extend([0xFF, 0xD9]);
    bytes
}

pub fn file_part(bytes: &[u8], name: &str, mime: &str) -> multipart::Part {
    multipart::Part::bytes(bytes.to_vec()).file_name(name.to_owned()).mime_str(mime).expect("a mime type")
}

impl TestApp {
    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.request(Method::PUT, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.request(Method::DELETE, path, token, None).await
    }

    /// Sends a multipart form; returns the status and the JSON body.
    pub async fn multipart(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        form: multipart::Form,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.address)).multipart(form);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("the origin answers");
        let status = response.status();
        let text = response.text().await.expect("a body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn comment(&self, author: &Account, tweet_id: u64, content: &str) -> Value {
        let (status, body) =
            self.post("/api/comments/", Some(&author.token), json!({"tweet_id": tweet_id, "content": content})).await;
        assert_eq!(status, StatusCode::CREATED, "comment by {}: {body}", author.username);
        body
    }

    pub async fn like(&self, user: &Account, content_type: &str, object_id: u64) -> Value {
        let (status, body) = self
            .post("/api/likes/", Some(&user.token), json!({"content_type": content_type, "object_id": object_id}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "like by {}: {body}", user.username);
        body
    }

    /// Cancels a like; returns `deleted`.
    pub async fn unlike(&self, user: &Account, content_type: &str, object_id: u64) -> u64 {
        let (status, body) = self
            .post(
                "/api/likes/cancel/",
                Some(&user.token),
                json!({"content_type": content_type, "object_id": object_id}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "unlike by {}: {body}", user.username);
        assert_eq!(body["success"], true);
        body["deleted"].as_u64().expect("deleted")
    }

    pub async fn tweet_detail(&self, id: u64, viewer: Option<&Account>) -> Value {
        let (status, body) = self.get(&format!("/api/tweets/{id}/"), viewer.map(|v| v.token.as_str())).await;
        assert_eq!(status, StatusCode::OK, "detail of {id}: {body}");
        body
    }

    /// The tweet as the author's tweet list shows it to `viewer`.
    pub async fn tweet_in_list(&self, author: &Account, id: u64, viewer: Option<&Account>) -> Value {
        let (status, body) =
            self.get(&format!("/api/tweets/?user_id={}", author.id), viewer.map(|v| v.token.as_str())).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["results"]
            .as_array()
            .expect("results")
            .iter()
            .find(|t| t["id"] == id)
            .cloned()
            .expect("the tweet is listed")
    }

    /// The tweet as `reader`'s newsfeed shows it.
    pub async fn tweet_in_feed(&self, reader: &Account, id: u64) -> Value {
        let feed = self.feed(reader, "").await;
        feed["results"]
            .as_array()
            .expect("results")
            .iter()
            .find(|i| i["id"] == id)
            .map(|i| i["tweet"].clone())
            .expect("the tweet is in the feed")
    }

    pub async fn unread_count(&self, user: &Account) -> u64 {
        let (status, body) = self.get("/api/notifications/unread-count/", Some(&user.token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["unread_count"].as_u64().expect("unread_count")
    }

    pub async fn notifications(&self, user: &Account, query: &str) -> Value {
        let (status, body) = self.get(&format!("/api/notifications/?{query}"), Some(&user.token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// Waits until `user` has exactly `count` notifications, then a little longer to let any stray extra
    /// one arrive, and checks the count again.
    pub async fn settle_notifications(&self, user: &Account, count: u64) -> Value {
        let reached = self.eventually(20, || async { self.notifications(user, "").await["count"] == count }).await;
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        let page = self.notifications(user, "").await;
        assert!(reached && page["count"] == count, "expected {count} notifications for {}: {page}", user.username);
        page
    }

    /// The URL path of an absolute media URL the origin handed out.
    pub fn media_path(&self, url: &str) -> String {
        url.strip_prefix(self.config.http.public_url.trim_end_matches('/')).expect("a URL under PUBLIC_URL").to_owned()
    }

    /// Every file under the test's media directory.
    pub fn media_files(&self) -> Vec<std::path::PathBuf> {
        fn walk(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else { return };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, found);
                } else {
                    found.push(path);
                }
            }
        }
        let mut found = Vec::new();
        walk(&self.config.media.dir, &mut found);
        found
    }
}
