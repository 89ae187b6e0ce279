//! Follows: follow, unfollow, followers and followings lists. Following merges the followee's recent
//! tweets into the follower's home timeline; unfollowing takes them out.

pub mod routes;
pub mod service;
pub mod store;

pub use routes::router;
