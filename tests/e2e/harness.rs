//! The real system for end-to-end tests: an origin running in this process (its own database, Redis
//! prefix and queue names, unique key rings) and the edge worker under `wrangler dev` in front of it.
//!
//! [`spawn_stack`] starts both; dropping the [`Stack`] stops wrangler (its whole process group) and
//! removes the origin's database and keys, also when the test failed. [`Edge::start`] alone serves tests
//! that need no origin or a stub one.
//!
//! The edge process itself lives in [`crate::wrangler`].

use std::time::Duration;

use reqwest::{Method, StatusCode};
use rookery_origin::{
    testing::{self, send, Account, Metrics, Reply, Sample},
    Application, Config,
};
use rookery_shared::keys::KeyRing;
use serde_json::{json, Value};

pub use rookery_tests::{
    free_port,
    wrangler::{Edge, EdgeVars},
};

/// Seconds since the Unix epoch, as tokens and edge assertions count them.
pub fn now_secs() -> i64 {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("a clock after 1970");
    i64::try_from(since_epoch.as_secs()).expect("seconds fit in i64")
}

/// Builds the worker once per test process; every later call returns the first outcome.
/// An origin served from this process.
pub struct Origin {
    pub url: String,
    /// The admin listener: `/metrics`, `/readyz`, `/healthz`.
    pub admin_url: String,
    pub config: Config,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
    /// Asks the server to stop gracefully (its background tasks included).
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// Whether dropping this origin removes its database and keys; false once [`Origin::restart_with`]
    /// handed them to its successor.
    owns_data: bool,
}

impl Origin {
    /// An origin with its own database, key prefix and queue names, and key rings no other test (and
    /// not `.dev.vars`) uses, so the edge works only if the harness passed them on.
    /// `adjust` sets the test's own settings (e.g. `rate_limits`, or other key rings).
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config::for_tests();
        let tag = config.redis.prefix.trim_end_matches(':').to_owned();
        config.auth.token_keys = KeyRing::single(&format!("e2e-token-secret-{tag}"));
        config.auth.edge_keys = KeyRing::single(&format!("e2e-edge-secret-{tag}"));
        adjust(&mut config);
        Self::serve(config).await
    }

    /// Stops this origin and starts another on the same addresses, database, Redis prefix and queues,
    /// with `adjust` applied to the configuration: a redeploy, e.g. with rotated keys. An edge in front
    /// of it keeps working with the new one.
    pub async fn restart_with(mut self, adjust: impl FnOnce(&mut Config)) -> Self {
        self.owns_data = false;
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let stopped = tokio::time::timeout(Duration::from_secs(30), &mut self.server).await;
        assert!(matches!(stopped, Ok(Ok(Ok(())))), "the origin stops: {stopped:?}");
        let mut config = self.config.clone();
        config.http.listen = ([127, 0, 0, 1], self.port()).into();
        config.http.admin_listen = ([127, 0, 0, 1], port_of(&self.admin_url)).into();
        adjust(&mut config);
        Self::serve(config).await
    }

    async fn serve(config: Config) -> Self {
        rookery_origin::telemetry::init_for_tests();
        let app = Application::build(config.clone()).await.expect("the origin builds");
        let url = format!("http://127.0.0.1:{}", app.port());
        let admin_url = format!("http://127.0.0.1:{}", app.admin_port());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run(async {
            let _ = stopped.await;
        }));
        Self { url, admin_url, config, server, stop: Some(stop), owns_data: true }
    }

    pub fn port(&self) -> u16 {
        port_of(&self.url)
    }

    /// Requests the origin has served, from `rookery_http_requests_total`, not counting the scrapes.
    pub async fn requests_served(&self) -> u64 {
        sum_requests(&self.metrics().await)
    }

    /// Requests the origin has served for one method and route template (e.g. `/api/newsfeeds`).
    pub async fn requests_for(&self, method: &str, route: &str) -> u64 {
        sum_requests_for(&self.metrics().await, method, route)
    }

    async fn metrics(&self) -> String {
        testing::scrape(&reqwest::Client::new(), &self.admin_url).await
    }
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().and_then(|p| p.parse().ok()).expect("a port")
}

/// Sums the `rookery_http_requests_total` samples of one method and route.
pub fn sum_requests_for(metrics: &str, method: &str, route: &str) -> u64 {
    sum_requests_where(metrics, |sample| sample.label("method") == Some(method) && sample.label("route") == Some(route))
}

/// Sums the `rookery_http_requests_total` samples whose route is not `/metrics`.
pub fn sum_requests(metrics: &str) -> u64 {
    sum_requests_where(metrics, |sample| sample.label("route") != Some("/metrics"))
}

fn sum_requests_where(metrics: &str, wanted: impl Fn(&Sample) -> bool) -> u64 {
    Metrics::parse(metrics)
        .samples("rookery_http_requests_total")
        .filter(|sample| wanted(sample))
        // Counters are whole numbers far below 2^53.
        .map(|sample| sample.value as u64)
        .sum()
}

impl Drop for Origin {
    /// Stops the server and removes the test's database and keys, even when the test failed.
    fn drop(&mut self) {
        self.server.abort();
        if self.owns_data {
            testing::cleanup_blocking(&self.config);
        }
    }
}

/// An origin with the edge in front of it. Fields drop in order: the edge stops before the origin is
/// cleaned up.
pub struct Stack {
    pub edge: Edge,
    pub origin: Origin,
    pub client: reqwest::Client,
}

pub async fn spawn_stack(session_cache_secs: u32) -> Stack {
    spawn_stack_with(|_| {}, |vars| vars.session_cache_secs = session_cache_secs).await
}

/// A stack whose origin configuration and edge variables the test adjusts.
pub async fn spawn_stack_with(
    adjust_origin: impl FnOnce(&mut Config),
    adjust_edge: impl FnOnce(&mut EdgeVars),
) -> Stack {
    let origin = Origin::start_with(adjust_origin).await;
    let mut vars = EdgeVars::for_origin(&origin.config, origin.port(), 4);
    adjust_edge(&mut vars);
    let edge = Edge::start(vars).await;
    Stack { edge, origin, client: reqwest::Client::new() }
}

impl Stack {
    /// A request through the edge.
    pub async fn edge(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        send(&self.client, &self.edge.url, method, path, token, body).await
    }

    /// A request straight to the origin, bypassing the edge.
    pub async fn origin(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        send(&self.client, &self.origin.url, method, path, token, body).await
    }

    /// Signs up through the edge; with rate limits on, waits out a 429 (signup is 3/s per IP).
    pub async fn signup(&self, username: &str) -> Account {
        let body = json!({
            "username": username,
            "email": format!("{username}@example.com"),
            "password": "correct horse",
        });
        let mut reply = self.edge(Method::POST, "/api/accounts/signup/", None, Some(body.clone())).await;
        for _ in 0..5 {
            if reply.status != StatusCode::TOO_MANY_REQUESTS {
                break;
            }
            let wait: u64 = reply.header("retry-after").and_then(|v| v.parse().ok()).unwrap_or(1);
            tokio::time::sleep(Duration::from_secs(wait)).await;
            reply = self.edge(Method::POST, "/api/accounts/signup/", None, Some(body.clone())).await;
        }
        assert_eq!(reply.status, StatusCode::CREATED, "signup of {username}: {}", reply.body);
        Account {
            id: reply.body["user"]["id"].as_u64().expect("an id"),
            username: reply.body["user"]["username"].as_str().expect("a username").to_owned(),
            token: reply.body["token"].as_str().expect("a token").to_owned(),
        }
    }
}

/// Typed requests through the edge for the social endpoints.
impl Stack {
    /// Posts a tweet through the edge and returns its id.
    pub async fn post_tweet(&self, author: &Account, content: &str) -> u64 {
        let reply =
            self.edge(Method::POST, "/api/tweets/", Some(&author.token), Some(json!({ "content": content }))).await;
        assert_eq!(reply.status, StatusCode::CREATED, "tweet by {}: {}", author.username, reply.body);
        reply.body["id"].as_u64().expect("a tweet id")
    }

    pub async fn follow(&self, follower: &Account, followee: &Account) {
        let reply = self
            .edge(
                Method::POST,
                &format!("/api/friendships/{}/follow/", followee.id),
                Some(&follower.token),
                Some(json!({})),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "{} follows {}: {}",
            follower.username,
            followee.username,
            reply.body
        );
    }

    /// A newsfeed page through the edge (`query` without the `?`, "" for the first page).
    pub async fn feed(&self, reader: &Account, query: &str) -> Reply {
        let path = if query.is_empty() { "/api/newsfeeds/".to_owned() } else { format!("/api/newsfeeds/?{query}") };
        let reply = self.edge(Method::GET, &path, Some(&reader.token), None).await;
        assert_eq!(reply.status, StatusCode::OK, "feed of {}: {}", reader.username, reply.body);
        reply
    }
}

/// The tweet ids of a newsfeed page, newest first.
pub fn feed_ids(page: &Value) -> Vec<u64> {
    page["results"].as_array().expect("results").iter().map(|item| item["id"].as_u64().expect("an id")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_request_counters_without_scrapes() {
        let text = "# HELP rookery_http_requests_total HTTP requests\n\
            rookery_http_requests_total{method=\"GET\",route=\"/metrics\",status=\"200\"} 3\n\
            rookery_http_requests_total{method=\"POST\",route=\"/api/accounts/signup\",status=\"201\"} 2\n\
            rookery_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1\n\
            rookery_http_request_duration_seconds_count{method=\"GET\",route=\"/metrics\"} 3\n";
        assert_eq!(sum_requests(text), 3);
    }
}
