//! The read model: the API's shapes of tweets, comments, likes and users, assembled from the stores
//! through the object caches, and the invalidation of those caches.
//!
//! Every feature service may read through it; it calls no feature service itself (only stores, caches
//! and media URLs), which keeps the features from calling each other in a circle. A write that changes
//! what a cached shape shows calls the `forget` next to that cache after its transaction commits.

pub mod comments;
pub mod likes;
pub mod tweets;
pub mod users;
