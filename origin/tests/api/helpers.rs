//! `spawn_app()` and the typed client every test uses.

use reqwest::{Method, StatusCode};
use rookery_origin::{testing, Application, Config};
use serde_json::{json, Value};

pub struct TestApp {
    pub address: String,
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
    rookery_origin::telemetry::init(false);
    let app = Application::build(config.clone()).await.expect("the origin builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let server = tokio::spawn(app.run_until_stopped());
    TestApp { address, client: reqwest::Client::new(), config, server }
}

impl TestApp {
    /// Sends a request and returns the status and the body parsed as JSON (`Value::Null` if it is not JSON).
    pub async fn request(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
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

impl Drop for TestApp {
    /// Stops the server and removes the test's database and keys, even when the test failed.
    fn drop(&mut self) {
        self.server.abort();
        let config = self.config.clone();
        let cleaned = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(testing::cleanup(&config))
        })
        .join();
        if !matches!(cleaned, Ok(Ok(()))) {
            eprintln!("clean-up of {} failed", self.config.database_url);
        }
    }
}
