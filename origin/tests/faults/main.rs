//! Fault tests: the origin against real MySQL, Redis and RabbitMQ while one of them goes away, and the
//! origin process itself killed in the middle of a fanout.
//!
//! These tests stop and start the machine's shared services, so they run one at a time (each holds
//! [`services::exclusive`]) and every stopped service is started again when its guard drops, also when a
//! test fails. Each prints its figures (run with `--nocapture`); `docs/reliability.md` records one run.

mod hangups;
mod load;
mod mysql;
mod origin_killed;
mod process;
mod rabbitmq;
mod redis;
mod services;
