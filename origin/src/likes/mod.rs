//! Likes of tweets and comments: one generic like (`content_type` + `object_id`), idempotent, with the
//! liked object's stored counter changed in the same transaction, and `has_liked` for any page.

mod content_type;
pub mod routes;
pub mod service;
pub mod store;

pub use content_type::ContentType;
pub use routes::router;
