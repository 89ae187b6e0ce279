//! What crosses the wire between clients, the Rookery edge worker and the origin.
//!
//! Nothing here does I/O or holds business rules; the crate builds for `wasm32-unknown-unknown` so the
//! edge uses exactly the same definitions as the origin.
//!
//! - [`token`]: the bearer token format (HMAC-SHA256), issued by the origin, verified on both sides;
//!   [`keys`]: the named keys it and the edge assertion are signed with, for rotation.
//! - [`edge_assertion`]: the signed header with which the edge tells the origin whom it authenticated.
//! - [`error`]: the contract's error envelopes.
//! - [`ids`], [`timestamp`]: id newtypes and the contract's datetime format.
//! - [`ratelimit`]: the rate-limit table and the sliding-window rule the edge and the origin both apply.
//! - [`accounts`], [`users`], [`tweets`], [`friendships`], [`comments`], [`likes`], [`notifications`],
//!   [`profiles`], [`pagination`]: request and response bodies; [`input`]: loosely typed body scalars;
//!   [`internal`]: edge-to-origin calls.
//!
//! A request through the edge: the client sends `Authorization: Bearer <token>`; the edge checks it with
//! [`token::verify`], asks the origin (cached for a few seconds) whether the session is still live, and
//! forwards the request with an [`edge_assertion::EdgeAssertion`] header. The origin trusts that header
//! only when its signature checks out; direct callers are authenticated from the bearer token itself.

pub mod accounts;
pub mod comments;
pub mod edge_assertion;
pub mod error;
pub mod friendships;
pub mod ids;
pub mod input;
pub mod internal;
pub mod keys;
pub mod likes;
pub mod notifications;
pub mod pagination;
pub mod profiles;
pub mod ratelimit;
pub mod timestamp;
pub mod token;
pub mod tweets;
pub mod users;

/// Header carrying the request id from the edge to the origin and back to the client.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
