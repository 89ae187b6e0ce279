//! Uploaded images (avatars, tweet photos): validation by content, storage in an object store (a local
//! directory by default, any S3-compatible store by configuration) and serving at stable URLs.
//!
//! Objects are written before the database rows that name them and deleted again if that transaction
//! fails, so a rejected or failed upload leaves nothing behind; files are stored byte for byte as
//! uploaded. This module knows nothing about tweets or profiles: they call [`service`].

pub mod form;
pub mod key;
pub mod routes;
pub mod service;
pub mod sniff;
pub mod store;

pub use routes::router;
