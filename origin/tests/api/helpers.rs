//! `spawn_app()` and the typed client every test uses.

use reqwest::{Method, StatusCode};
use rookery_origin::{testing, Application, Config};
use serde_json::{json, Value};

pub struct TestApp {
    pub address: String,
    /// The admin listener: `/metrics`, `/readyz`, `/healthz`.
    pub admin_address: String,
    pub client: reqwest::Client,
    pub config: Config,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// A signed-up user.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: u64,
    pub username: String,
    pub token: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = Config::for_tests();
    adjust(&mut config);
    rookery_origin::telemetry::init_for_tests();
    let app = Application::build(config.clone()).await.expect("the origin builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let admin_address = format!("http://127.0.0.1:{}", app.admin_port());
    let server = tokio::spawn(app.run_until_stopped());
    TestApp { address, admin_address, client: reqwest::Client::new(), config, server }
}

impl TestApp {
    /// Sends a request and returns the status and the body parsed as JSON (`Value::Null` if it is not JSON).
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the origin answers");
        let status = response.status();
        let text = response.text().await.expect("a body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.request(Method::GET, path, token, None).await
    }

    /// `GET path` on the admin listener.
    pub async fn admin_get(&self, path: &str) -> (StatusCode, Value) {
        let response =
            self.client.get(format!("{}{path}", self.admin_address)).send().await.expect("the admin listener answers");
        let status = response.status();
        let text = response.text().await.expect("a body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// The admin listener's `/metrics` text.
    pub async fn metrics_text(&self) -> String {
        let response = self.client.get(format!("{}/metrics", self.admin_address)).send().await.expect("metrics");
        response.text().await.expect("metrics text")
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.request(Method::POST, path, token, Some(body)).await
    }

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
}

/// Typed helpers for the social endpoints.
impl TestApp {
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

    /// Polls `check` until it returns true or `seconds` pass.
    pub async fn eventually<F, Fut>(&self, seconds: u64, mut check: F) -> bool
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(seconds);
        while tokio::time::Instant::now() < deadline {
            if check().await {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        false
    }
}

impl Drop for TestApp {
    /// Stops the server and removes the test's database and keys, even when the test failed.
    fn drop(&mut self) {
        self.server.abort();
        testing::cleanup_blocking(&self.config);
    }
}
