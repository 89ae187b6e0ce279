//! The origin processes of the cluster run: `origin serve` and `origin worker` binaries (built by
//! `make test-cluster`), each with its own ports and log, stopped when dropped.

use std::{
    fs::File,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use rookery_origin::{testing::eventually, Config};
use rookery_tests::{free_port, repo_root};

/// One `origin` process.
pub struct Process {
    pub name: String,
    /// The public API (`serve` only).
    pub url: String,
    /// `/healthz`, `/readyz`, `/metrics`.
    pub admin_url: String,
    child: Child,
    log: PathBuf,
}

impl Process {
    /// Starts `origin <command>` with `config`'s environment (plus `extra`) and waits until it is ready.
    pub async fn start(name: &str, command: &str, config: &Config, extra: &[(&str, &str)]) -> Self {
        let (port, admin_port) = (free_port(), free_port());
        let binary = repo_root().join("target/debug/origin");
        let log = std::env::temp_dir().join(format!("rookery-cluster-{name}-{}.log", std::process::id()));
        let output = File::create(&log).expect("a log file");
        let mut cmd = Command::new(&binary);
        cmd.arg(command)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .envs(config.to_env())
            .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("ADMIN_ADDR", format!("127.0.0.1:{admin_port}"))
            .envs(extra.iter().copied())
            .stdin(Stdio::null())
            .stdout(output.try_clone().expect("a log handle"))
            .stderr(output);
        let child = cmd.spawn().unwrap_or_else(|error| panic!("{} starts ({error}); build it first", binary.display()));
        let mut process = Self {
            name: name.to_owned(),
            url: format!("http://127.0.0.1:{port}"),
            admin_url: format!("http://127.0.0.1:{admin_port}"),
            child,
            log,
        };
        process.wait_until_ready().await;
        process
    }

    async fn wait_until_ready(&mut self) {
        let client = reqwest::Client::new();
        let url = format!("{}/readyz", self.admin_url);
        let ready = eventually(Duration::from_secs(60), async || {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited ({status}) before it was ready:\n{}", self.name, self.log_tail());
            }
            client.get(&url).send().await.is_ok_and(|response| response.status().is_success())
        })
        .await;
        assert!(ready, "{} was not ready within 60 s:\n{}", self.name, self.log_tail());
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process at once (SIGKILL): no shutdown, no lease released, messages unacknowledged.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Counter `name` summed over its series, or over those whose label `label` is one of `values`.
    pub async fn counter(&self, name: &str, label: Option<(&str, &[&str])>) -> f64 {
        let text = rookery_origin::testing::scrape(&reqwest::Client::new(), &self.admin_url).await;
        let metrics = rookery_origin::testing::Metrics::parse(&text);
        metrics
            .samples(name)
            .filter(|sample| {
                label.is_none_or(|(label, values)| sample.label(label).is_some_and(|v| values.contains(&v)))
            })
            .map(|sample| sample.value)
            .sum()
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Process {
    /// SIGTERM, so the process releases its leases; SIGKILL if it lingers.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
            for _ in 0..100 {
                if !matches!(self.child.try_wait(), Ok(None)) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}
