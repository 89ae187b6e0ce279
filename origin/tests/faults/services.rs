//! Stopping and starting the machine's MariaDB, Redis and RabbitMQ, with guards that always start them
//! again.
//!
//! Starting goes through `scripts/services.sh`, the same script CI uses, which starts whichever service
//! does not answer on its port.

use std::{
    net::{SocketAddr, TcpStream},
    path::PathBuf,
    process::Command,
    time::{Duration, Instant},
};

use tokio::sync::{Mutex, MutexGuard};

/// Held by every fault test: they stop services the others need.
static EXCLUSIVE: Mutex<()> = Mutex::const_new(());

pub async fn exclusive() -> MutexGuard<'static, ()> {
    EXCLUSIVE.lock().await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    MariaDb,
    Redis,
    RabbitMq,
}

impl Service {
    fn port(self) -> u16 {
        match self {
            Self::MariaDb => 3306,
            Self::Redis => 6379,
            Self::RabbitMq => 5672,
        }
    }

    fn stop_command(self) -> Command {
        let mut command;
        match self {
            // Waits until the server has shut down.
            Self::MariaDb => {
                command = Command::new("mariadb-admin");
                command.args(["-uroot", "-h127.0.0.1", "shutdown"]);
            }
            // Redis here keeps nothing on disk, so this loses every key, as a crash would.
            Self::Redis => {
                command = Command::new("redis-cli");
                command.args(["-p", "6379", "shutdown", "nosave"]);
            }
            // Stops the broker application and closes every client connection; the node stays up.
            Self::RabbitMq => {
                command = Command::new("rabbitmqctl");
                command.arg("stop_app");
            }
        }
        command
    }
}

/// A stopped service. [`Stopped::start`] brings it back; dropping the guard does too, so a failing test
/// never leaves the machine without it.
pub struct Stopped {
    running: bool,
}

impl Stopped {
    /// Stops `service` and waits until its port no longer answers.
    pub async fn stop(service: Service) -> Self {
        // From here on dropping the guard starts the service (starting one that runs changes nothing).
        let guard = Self { running: false };
        let stopped = tokio::task::spawn_blocking(move || {
            let output = service.stop_command().output().expect("the stop command runs");
            // `redis-cli shutdown` reports the closed connection as an error on some versions.
            assert!(
                output.status.success() || service == Service::Redis,
                "stopping {service:?} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            wait_for(service.port(), false, Duration::from_secs(60))
        })
        .await
        .expect("the stop task");
        assert!(stopped, "{service:?} still answers on port {}", service.port());
        guard
    }

    /// Starts the service again and waits until it answers.
    pub async fn start(mut self) {
        tokio::task::spawn_blocking(start_all).await.expect("the start task");
        self.running = true;
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        if !self.running {
            start_all();
        }
    }
}

/// Runs `scripts/services.sh`, which starts every service that does not answer and waits for it.
fn start_all() {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/services.sh");
    let status = Command::new("bash").arg(script).status().expect("scripts/services.sh runs");
    assert!(status.success(), "scripts/services.sh could not start the services");
}

/// Whether something accepts connections on the local `port`.
pub fn answers(port: u16) -> bool {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok()
}

/// Waits until `port` answers (`up`) or stops answering (`!up`); false if `within` passed first.
fn wait_for(port: u16, up: bool, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if answers(port) == up {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}
