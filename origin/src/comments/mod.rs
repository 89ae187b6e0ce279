//! Comments on tweets: create, update (content only), delete, and a tweet's comments oldest first. The
//! tweet's `comments_count` changes in the comment's transaction.

pub mod routes;
pub mod service;
pub mod store;

pub use routes::router;
