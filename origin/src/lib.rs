//! The Rookery origin: an axum server that owns MySQL (the source of truth), Redis (timelines and caches)
//! and RabbitMQ (fanout).
//!
//! Layout (docs/architecture.md has the map and the import rules): [`startup`] builds the [`Application`]
//! and runs it; [`state::AppState`] is what handlers reach; each feature (e.g. [`accounts`]) has `routes`
//! (HTTP in and out only), `service` (the rules) and `store` (SQL and Redis); [`read`] assembles the API's
//! shapes for every feature, so no feature service calls another's. Cross-cutting pieces: [`auth`] (who is calling), [`extract`] (bodies and queries in the
//! contract's error envelope), [`error`], [`ids`], [`metrics`], [`health`], [`switches`] (gradual rollouts).
//! [`openapi`] holds the route table every feature's routes join, the OpenAPI document generated from it
//! (`/openapi.json`) and the API explorer (`/docs/`). `testing` is the test suites' kit, built only for tests
//! and with the `testing` feature.
//!
//! A request passes: request-id and trace layers → [`metrics::track`] → [`auth::identify`] (edge assertion or
//! bearer token) → [`ratelimit::enforce`] (direct callers only) → the feature's route → its service → its store, and back as JSON or an [`error::ApiError`].

pub mod accounts;
pub mod auth;
pub mod breaker;
pub mod broker;
pub mod cache;
pub mod comments;
pub mod complete;
pub mod config;
pub mod db;
pub mod error;
pub mod events;
pub mod extract;
pub mod fanout;
pub mod friendships;
pub mod headers;
pub mod health;
pub mod ids;
pub mod likes;
pub mod media;
pub mod metrics;
pub mod newsfeed;
pub mod node_lease;
pub mod notifications;
pub mod openapi;
pub mod ops;
pub mod outbox;
pub mod pagination;
pub mod profiles;
pub mod ratelimit;
pub mod read;
pub mod redact;
pub mod signal;
pub mod startup;
pub mod state;
pub mod switches;
pub mod telemetry;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod text;
pub mod tweets;
pub mod worker;

pub use config::Config;
pub use startup::Application;
