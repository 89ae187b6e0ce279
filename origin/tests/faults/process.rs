//! The origin binary as a child process, configured through its environment like a deployment, so a
//! test can kill it with SIGKILL and start it again.

use std::{
    fs::File,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use rookery_origin::{
    testing::{self, eventually},
    Config,
};

pub struct OriginProcess {
    child: Child,
    pub address: String,
    /// The admin listener (`/readyz`, `/metrics`).
    pub admin_address: String,
}

impl OriginProcess {
    /// Starts `origin serve` with `config` (its listen port must be set) and waits until it is ready.
    pub async fn start(config: &Config, log: &PathBuf) -> Self {
        let out = File::options().create(true).append(true).open(log).expect("the log file");
        let child = Command::new(env!("CARGO_BIN_EXE_origin"))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(testing::environment(config))
            .env("RUST_LOG", "info")
            .stdout(out.try_clone().expect("the log file"))
            .stderr(out)
            .stdin(Stdio::null())
            .spawn()
            .expect("the origin binary starts");
        let process = Self {
            child,
            address: format!("http://{}", config.http.listen),
            admin_address: format!("http://{}", config.http.admin_listen),
        };
        let client = reqwest::Client::new();
        let ready = eventually(Duration::from_secs(60), || async {
            let ready = client.get(format!("{}/readyz", process.admin_address)).send().await;
            ready.is_ok_and(|r| r.status().is_success())
        })
        .await;
        assert!(ready, "the origin was not ready within a minute; see {}", log.display());
        process
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
