//! Accounts: signup, login, logout, login status, and the login sessions behind tokens.
//!
//! `routes` parses and answers HTTP, `service` holds the rules (validation, hashing, sessions), `store`
//! holds the SQL and the Redis session cache.

pub mod email;
pub mod routes;
pub mod service;
pub mod store;
mod validate;

pub use routes::router;
