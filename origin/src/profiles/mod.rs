//! Profiles: nickname and avatar, and the `UserWithProfile` shape every other feature embeds (cached per
//! user and invalidated on every change, so a new nickname or avatar shows everywhere at once).

pub mod routes;
pub mod service;
pub mod store;

pub use routes::router;
