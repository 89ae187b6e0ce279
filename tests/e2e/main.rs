//! End-to-end tests: the edge worker under `wrangler dev` in front of a real origin (or a stub origin
//! where the test is about the edge alone). Needs MySQL, Redis and RabbitMQ as the origin's own tests
//! do, `npm ci`, and the edge tools (`make edge-tools`); the harness builds the worker itself.

mod accounts;
mod assertion;
mod docs;
mod environment;
mod feed_cache;
mod flood;
mod forwarding;
mod harness;
mod key_rotation;
mod public_api;
mod ratelimit;
mod token_attacks;
