//! Profiles: nickname and avatar, and the `UserWithProfile` shape every other feature embeds.

pub mod service;
pub mod store;
