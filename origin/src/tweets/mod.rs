//! Tweets: create, detail, delete, and a user's tweets with endless pagination. [`crate::read::tweets`]
//! turns tweet ids into the `Tweet` shape for every list and feed.

pub mod routes;
pub mod service;
pub mod store;

pub use routes::router;
