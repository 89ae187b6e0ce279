//! The test kit: what the test suites need to run real origins and talk to them. It is compiled only for
//! this crate's unit tests and with the `testing` feature, which `tests/api`, `tests/faults` and the
//! end-to-end crate turn on through their dev-dependencies; no production build contains it.
//!
//! - `config`: [`test_config`], a configuration with its own database, Redis key prefix and RabbitMQ names,
//!   and [`cleanup`], which removes all three;
//! - `app`: [`spawn_app`], an origin served from the test's own process as a [`TestApp`], and `endpoints`,
//!   its typed calls (`app.signup("linghu")`, `app.post_tweet(&user, "...")`);
//! - `client`: the one way a test sends a request ([`send`], [`request`]) and reads the answer ([`Reply`]);
//! - `eventually`: [`eventually`], for effects that happen asynchronously;
//! - `metrics`: [`Metrics`], the samples of a Prometheus `/metrics` page.
//!
//! Production code must not reach into this module.

#[cfg(feature = "testing")]
mod app;
#[cfg(feature = "testing")]
mod client;
mod config;
#[cfg(feature = "testing")]
mod endpoints;
mod eventually;
mod metrics;

#[cfg(feature = "testing")]
pub use self::{
    app::{spawn_app, spawn_app_with, TestApp},
    client::{request, send, Reply},
    endpoints::{file_part, Account},
    metrics::scrape,
};
pub use self::{
    config::{cleanup, cleanup_blocking, environment, test_config},
    eventually::eventually,
    metrics::{Metrics, Sample},
};
