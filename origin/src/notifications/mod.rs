//! Notifications: "commented on your tweet", "liked your tweet", "liked your comment", "followed you".
//!
//! The action that causes one enqueues a request in its own transaction ([`service::request`], skipped
//! for acting on one's own content); the [`consumer`] turns requests into rows, idempotently. Reading,
//! counting and marking are only ever the recipient's.

pub mod consumer;
pub mod routes;
pub mod service;
pub mod store;
pub mod verb;

pub use routes::router;
