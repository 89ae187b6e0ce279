//! The origin binary as a child process, configured through its environment like a deployment, so a
//! test can kill it with SIGKILL and start it again.

use std::{
    fs::File,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use rookery_origin::Config;

pub struct OriginProcess {
    child: Child,
    pub address: String,
}

impl OriginProcess {
    /// Starts `origin serve` with `config` (its listen port must be set) and waits until it is ready.
    pub async fn start(config: &Config, log: &PathBuf) -> Self {
        let out = File::options().create(true).append(true).open(log).expect("the log file");
        let child = Command::new(env!("CARGO_BIN_EXE_origin"))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(environment(config))
            .stdout(out.try_clone().expect("the log file"))
            .stderr(out)
            .stdin(Stdio::null())
            .spawn()
            .expect("the origin binary starts");
        let process = Self { child, address: format!("http://{}", config.listen) };
        let client = reqwest::Client::new();
        for _ in 0..600 {
            let ready = client.get(format!("{}/readyz", process.address)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return process;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the origin was not ready within a minute; see {}", log.display());
    }

    /// SIGKILL: no shutdown, no draining, nothing acknowledged that was not already.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("the killed origin is reaped");
    }
}

impl Drop for OriginProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.kill();
        }
    }
}

/// The variables `Config::from_env` reads, for `config`.
fn environment(config: &Config) -> Vec<(&'static str, String)> {
    vec![
        ("ROOKERY_ENV", "test".into()),
        ("LISTEN_ADDR", config.listen.to_string()),
        ("DATABASE_URL", config.database_url.clone()),
        ("DATABASE_MAX_CONNECTIONS", config.database_max_connections.to_string()),
        ("REDIS_URL", config.redis_url.clone()),
        ("REDIS_PREFIX", config.redis_prefix.clone()),
        ("AMQP_URL", config.amqp_url.clone()),
        ("AMQP_PREFIX", config.amqp_prefix.clone()),
        ("TOKEN_SECRET", config.token_secret.clone()),
        ("EDGE_SECRET", config.edge_secret.clone()),
        ("RATE_LIMITS", if config.rate_limits { "on" } else { "off" }.into()),
        ("RUN_CONSUMERS", if config.run_consumers { "on" } else { "off" }.into()),
        ("FANOUT_BATCH_SIZE", config.fanout_batch_size.to_string()),
        ("HYBRID_THRESHOLD", config.hybrid_threshold.to_string()),
        ("TIMELINE_CAP", config.timeline_cap.to_string()),
        ("MEDIA_DIR", config.media_dir.display().to_string()),
        ("RUST_LOG", "info".into()),
    ]
}
