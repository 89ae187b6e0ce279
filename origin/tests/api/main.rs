//! Integration tests of the origin against real MySQL, Redis and RabbitMQ. Each test spawns its own
//! origin with its own database, Redis prefix and queue names (see `rookery_origin::testing::spawn_app`, the test kit behind the `testing` feature).

mod accounts;
mod attacks;
mod backpressure;
mod bad_ids;
mod bad_input;
mod comments;
mod docs_page;
mod edge_assertion;
mod errors;
mod fanout;
mod friendships;
mod health;
mod images;
mod likes;
mod media;
mod newsfeed;
mod node_lease;
mod notifications;
mod observability;
mod openapi;
mod ops;
mod profiles;
mod ratelimit;
mod raw_http;
mod startup;
mod switches;
mod tricky_text;
mod tweets;
