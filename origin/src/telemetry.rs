//! Logging set-up: human-readable lines by default, JSON lines with `LOG_FORMAT=json`. Filter with
//! `RUST_LOG` (default `info`).

use tracing_subscriber::{fmt, prelude::*, EnvFilter};

pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,lapin=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    // A second initialisation (several apps in one test process) is harmless: the first one wins.
    let _ = if json {
        registry.with(fmt::layer().json().flatten_event(true)).try_init()
    } else {
        registry.with(fmt::layer()).try_init()
    };
}
