//! The push-model newsfeed: Redis timelines filled by the fanout, rebuilt from MySQL when missing, with
//! high-follower authors merged in at read time.

pub mod pulled;
pub mod routes;
pub mod service;
pub mod timeline;

pub use routes::router;
