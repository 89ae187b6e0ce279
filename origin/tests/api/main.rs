//! Integration tests of the origin against real MySQL, Redis and RabbitMQ. Each test spawns its own
//! origin with its own database, Redis prefix and queue names (see `helpers::spawn_app`).

mod accounts;
mod errors;
mod fanout;
mod friendships;
mod health;
mod helpers;
mod newsfeed;
mod ops;
mod ratelimit;
mod tweets;
