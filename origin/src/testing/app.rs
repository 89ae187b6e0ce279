//! [`spawn_app`]: an origin served from the test's own process on free ports, with its own database, Redis
//! key prefix and RabbitMQ names, all removed again when its [`TestApp`] drops. Its typed calls are in
//! `endpoints`.

use std::path::{Path, PathBuf};

use reqwest::{multipart, Method, StatusCode};
use serde_json::Value;

use super::{
    client::{self, Reply},
    config,
    metrics::{self, Metrics},
};
use crate::{Application, Config};

pub struct TestApp {
    pub address: String,
    /// The admin listener: `/metrics`, `/readyz`, `/healthz`.
    pub admin_address: String,
    /// For requests the calls here do not make (their own headers, raw bodies).
    pub client: reqwest::Client,
    pub config: Config,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = Config::for_tests();
    adjust(&mut config);
    crate::telemetry::init_for_tests();
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
        let reply = client::send(&self.client, &self.address, method, path, token, body).await;
        (reply.status, reply.body)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.request(Method::POST, path, token, Some(body)).await
    }

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
        let request = client::request(&self.client, &self.address, method, path, token).multipart(form);
        let reply = Reply::receive(request).await;
        (reply.status, reply.body)
    }

    /// `GET path` on the admin listener.
    pub async fn admin_get(&self, path: &str) -> (StatusCode, Value) {
        let reply = client::send(&self.client, &self.admin_address, Method::GET, path, None, None).await;
        (reply.status, reply.body)
    }

    /// The admin listener's `/metrics` text.
    pub async fn metrics_text(&self) -> String {
        metrics::scrape(&self.client, &self.admin_address).await
    }

    /// The admin listener's `/metrics`, parsed.
    pub async fn metrics(&self) -> Metrics {
        Metrics::parse(&self.metrics_text().await)
    }

    /// The port the origin listens on.
    pub fn port(&self) -> u16 {
        self.address.rsplit(':').next().and_then(|p| p.parse().ok()).expect("a port")
    }

    /// The URL path of an absolute media URL the origin handed out.
    pub fn media_path(&self, url: &str) -> String {
        url.strip_prefix(self.config.http.public_url.trim_end_matches('/')).expect("a URL under PUBLIC_URL").to_owned()
    }

    /// Every file under the test's media directory.
    pub fn media_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
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

impl Drop for TestApp {
    /// Stops the server and removes the test's database and keys, even when the test failed.
    fn drop(&mut self) {
        self.server.abort();
        config::cleanup_blocking(&self.config);
    }
}
