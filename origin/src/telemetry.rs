//! Logging set-up: human-readable lines by default, JSON lines with `LOG_FORMAT=json`. Filter with
//! `RUST_LOG` (default `info`).
//!
//! Every line logged while a request is handled is inside its `request` span, whose fields are the
//! method, the path (never the query) and the request id: the edge's `x-request-id`, or one made up here
//! for direct calls. JSON lines carry that span under `span` (the innermost one) and `spans` (all of
//! them, outermost first), so `spans[0].request_id` ties a line to the request at the edge.
//!
//! What is never logged: tokens, passwords and their hashes, emails, secrets (configuration's `Debug`
//! redacts them), header values. sqlx logs statement texts only at `trace`, with placeholders, never the
//! bound values.

use tracing_subscriber::{fmt, prelude::*, EnvFilter};

const DEFAULT_FILTER: &str = "info,sqlx=warn,lapin=warn";

pub fn init(json: bool) {
    let registry = tracing_subscriber::registry().with(filter());
    // A second initialisation (several apps in one test process) is harmless: the first one wins.
    let _ = if json {
        let layer = fmt::layer().json().flatten_event(true).with_current_span(true).with_span_list(true);
        registry.with(layer).try_init()
    } else {
        registry.with(fmt::layer()).try_init()
    };
}

/// For tests that run origins in-process: lines go through the test harness's capture, so they are
/// shown with a failing test and not with passing ones.
pub fn init_for_tests() {
    let _ = tracing_subscriber::registry().with(filter()).with(fmt::layer().with_test_writer()).try_init();
}

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER))
}
