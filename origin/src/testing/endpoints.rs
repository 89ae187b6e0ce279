//! Typed calls on a [`TestApp`], one an endpoint, in the words of the API contract: each asserts that the
//! call succeeded and returns what the test goes on with.

use std::time::Duration;

use reqwest::{multipart, Method, StatusCode};
use serde_json::{json, Value};

use super::{app::TestApp, eventually::eventually};

/// A signed-up user.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: u64,
    pub username: String,
    pub token: String,
}

/// A file for a multipart form.
pub fn file_part(bytes: &[u8], name: &str, mime: &str) -> multipart::Part {
    multipart::Part::bytes(bytes.to_vec()).file_name(name.to_owned()).mime_str(mime).expect("a mime type")
}

/// Accounts, tweets, follows and newsfeeds.
impl TestApp {
    pub async fn signup(&self, username: &str) -> Account {
        let (status, body) = self
            .post(
                "/api/accounts/signup/",
                None,
                json!({"username": username, "email": format!("{username}@example.com"), "password": "correct horse"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "signup of {username}: {body}");
        Account {
            id: body["user"]["id"].as_u64().expect("an id"),
            username: body["user"]["username"].as_str().expect("a username").to_owned(),
            token: body["token"].as_str().expect("a token").to_owned(),
        }
    }

    pub async fn post_tweet(&self, author: &Account, content: &str) -> Value {
        let (status, body) = self.post("/api/tweets/", Some(&author.token), json!({"content": content})).await;
        assert_eq!(status, StatusCode::CREATED, "tweet by {}: {body}", author.username);
        body
    }

    pub async fn follow(&self, follower: &Account, followee: &Account) {
        let (status, body) =
            self.post(&format!("/api/friendships/{}/follow/", followee.id), Some(&follower.token), json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{} follows {}: {body}", follower.username, followee.username);
    }

    /// One newsfeed page for `reader` with the raw query string `query` ("" for the first page).
    pub async fn feed(&self, reader: &Account, query: &str) -> Value {
        let (status, body) = self.get(&format!("/api/newsfeeds/?{query}"), Some(&reader.token)).await;
        assert_eq!(status, StatusCode::OK, "feed of {}: {body}", reader.username);
        body
    }

    /// Every item id of a paged list, following `next_cursor` until the end.
    pub async fn collect_ids(&self, path: &str, token: Option<&str>) -> Vec<u64> {
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        let separator = if path.contains('?') { '&' } else { '?' };
        for _ in 0..1000 {
            let url = match &cursor {
                Some(c) => format!("{path}{separator}cursor={c}"),
                None => path.to_owned(),
            };
            let (status, body) = self.get(&url, token).await;
            assert_eq!(status, StatusCode::OK, "{url}: {body}");
            for item in body["results"].as_array().expect("results") {
                ids.push(item["id"].as_u64().or_else(|| item["user"]["id"].as_u64()).expect("an id"));
            }
            if body["has_next_page"] != true {
                assert!(body["next_cursor"].is_null());
                return ids;
            }
            cursor = Some(body["next_cursor"].as_str().expect("a cursor").to_owned());
        }
        panic!("more than 1000 pages");
    }
}

/// Comments, likes, tweet views and notifications.
impl TestApp {
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
        let reached =
            eventually(Duration::from_secs(20), || async { self.notifications(user, "").await["count"] == count })
                .await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        let page = self.notifications(user, "").await;
        assert!(reached && page["count"] == count, "expected {count} notifications for {}: {page}", user.username);
        page
    }
}

/// Profiles and uploads.
impl TestApp {
    pub async fn my_profile(&self, user: &Account) -> Value {
        let (status, body) = self.get("/api/profiles/me/", Some(&user.token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// `PUT`s `bytes` as the user's avatar: the status and the body.
    pub async fn put_avatar(&self, user: &Account, bytes: &[u8]) -> (StatusCode, Value) {
        let profile_id = self.my_profile(user).await["id"].as_u64().expect("a profile id");
        let form = multipart::Form::new().part("avatar", file_part(bytes, "avatar.img", "application/octet-stream"));
        self.multipart(Method::PUT, &format!("/api/profiles/{profile_id}/"), Some(&user.token), form).await
    }

    /// Posts a tweet with these photos: the status and the body.
    pub async fn tweet_photos(&self, author: &Account, photos: &[&[u8]]) -> (StatusCode, Value) {
        let mut form = multipart::Form::new().text("content", "a tweet with photos");
        for (i, bytes) in photos.iter().enumerate() {
            form = form.part("files", file_part(bytes, &format!("{i}.img"), "application/octet-stream"));
        }
        self.multipart(Method::POST, "/api/tweets/", Some(&author.token), form).await
    }

    /// `GET` a media URL the origin handed out: the content type and the bytes.
    pub async fn fetch_media(&self, url: &str) -> (String, Vec<u8>) {
        let response =
            self.client.get(format!("{}{}", self.address, self.media_path(url))).send().await.expect("answer");
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        let mime = response.headers()["content-type"].to_str().expect("ASCII").to_owned();
        (mime, response.bytes().await.expect("bytes").to_vec())
    }
}
