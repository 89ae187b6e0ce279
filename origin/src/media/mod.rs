//! Uploaded images (avatars, tweet photos): validation by content, storage in an object store (a local
//! directory by default, any S3-compatible store by configuration) and serving at stable URLs.
//!
//! An upload is never stored as it came: its header is checked (format, dimensions) when the form is
//! validated, then [`reencode`] decodes it and encodes the pixels again in the same format, so no
//! metadata (EXIF GPS positions, camera serials, ICC, XMP, text chunks) reaches a reader and a file that
//! does not decode is refused. Objects are written before the database rows that name them and deleted
//! again if that transaction fails, so a rejected or failed upload leaves nothing behind. This module
//! knows nothing about tweets or profiles: they call [`service`].

pub mod config;
pub mod form;
pub mod key;
pub mod reencode;
pub mod routes;
pub mod service;
pub mod sniff;
pub mod store;

pub use routes::router;
