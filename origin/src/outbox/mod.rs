//! The transactional outbox: events are stored with the change that causes them and handed to RabbitMQ
//! by the relay, so a write never waits for (or is lost with) the broker.

pub mod lease;
pub mod relay;
pub mod store;
