//! The RabbitMQ exchanges and queues of the fanout, declared idempotently on every new connection (by the
//! relay, so nothing it publishes is unroutable, and by each consumer).
//!
//! ```text
//! {p}.events (topic) --tweet.created, tweet.deleted--> {p}.fanout.plan --planner--> {p}.fanout.deliver
//!        |--notification.requested--> {p}.notifications --notifications::consumer--> MySQL
//!                                                            |                            |
//!                                 rejected or delivered too often (x-delivery-limit)      |
//!                                                            v                            v
//!                                                 {p}.dead (fanout exchange) --> {p}.dead (queue)
//! ```
//!
//! Work queues are quorum queues: replicated, and they count deliveries, so a message that keeps failing
//! is dead-lettered after [`DELIVERY_LIMIT`] attempts instead of looping forever.

use anyhow::Context;
use lapin::{
    options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions},
    types::{AMQPValue, FieldTable},
    Channel, ExchangeKind,
};

/// Redeliveries a work queue allows before it dead-letters a message.
pub const DELIVERY_LIMIT: i64 = 5;

/// Routing keys the planner consumes.
pub const PLANNED_TOPICS: [&str; 2] = ["tweet.created", "tweet.deleted"];

/// Every name under one deployment's prefix.
#[derive(Debug, Clone)]
pub struct Names {
    /// Topic exchange the relay publishes domain events to (routing key = event topic).
    pub events: String,
    /// Events waiting to be turned into delivery batches.
    pub plan: String,
    /// Delivery batches (published to the default exchange, routing key = this name).
    pub deliver: String,
    /// Notification requests, for the notification consumer.
    pub notify: String,
    /// Dead-letter exchange and queue (same name; the exchange is a fanout).
    pub dead: String,
}

impl Names {
    pub fn new(prefix: &str) -> Self {
        Self {
            events: format!("{prefix}.events"),
            plan: format!("{prefix}.fanout.plan"),
            deliver: format!("{prefix}.fanout.deliver"),
            notify: format!("{prefix}.notifications"),
            dead: format!("{prefix}.dead"),
        }
    }

    /// Queues to delete when a deployment (a test) is torn down.
    pub fn queues(&self) -> [&str; 4] {
        [&self.plan, &self.deliver, &self.notify, &self.dead]
    }

    /// Exchanges to delete when a deployment (a test) is torn down.
    pub fn exchanges(&self) -> [&str; 2] {
        [&self.events, &self.dead]
    }
}

/// Declares every exchange, queue and binding. Safe to repeat: declarations with the same arguments are
/// no-ops on the broker.
#[tracing::instrument(skip(channel))]
pub async fn declare(channel: &Channel, names: &Names) -> anyhow::Result<()> {
    let durable = ExchangeDeclareOptions { durable: true, ..ExchangeDeclareOptions::default() };
    channel
        .exchange_declare(&names.events, ExchangeKind::Topic, durable, FieldTable::default())
        .await
        .with_context(|| format!("while declaring exchange {}", names.events))?;
    channel
        .exchange_declare(&names.dead, ExchangeKind::Fanout, durable, FieldTable::default())
        .await
        .with_context(|| format!("while declaring exchange {}", names.dead))?;

    let queue = QueueDeclareOptions { durable: true, ..QueueDeclareOptions::default() };
    let mut dead_args = FieldTable::default();
    dead_args.insert("x-queue-type".into(), AMQPValue::LongString("quorum".into()));
    channel
        .queue_declare(&names.dead, queue, dead_args)
        .await
        .with_context(|| format!("while declaring queue {}", names.dead))?;
    channel
        .queue_bind(&names.dead, &names.dead, "", QueueBindOptions::default(), FieldTable::default())
        .await
        .with_context(|| format!("while binding queue {}", names.dead))?;

    for work in [&names.plan, &names.deliver, &names.notify] {
        channel
            .queue_declare(work, queue, work_queue_args(&names.dead))
            .await
            .with_context(|| format!("while declaring queue {work}"))?;
    }
    for topic in PLANNED_TOPICS {
        channel
            .queue_bind(&names.plan, &names.events, topic, QueueBindOptions::default(), FieldTable::default())
            .await
            .with_context(|| format!("while binding {} to {topic}", names.plan))?;
    }
    let topic = crate::events::NOTIFICATION_TOPIC;
    channel
        .queue_bind(&names.notify, &names.events, topic, QueueBindOptions::default(), FieldTable::default())
        .await
        .with_context(|| format!("while binding {} to {topic}", names.notify))?;
    Ok(())
}

fn work_queue_args(dead_letter_exchange: &str) -> FieldTable {
    let mut args = FieldTable::default();
    args.insert("x-queue-type".into(), AMQPValue::LongString("quorum".into()));
    args.insert("x-delivery-limit".into(), AMQPValue::LongLongInt(DELIVERY_LIMIT));
    args.insert("x-dead-letter-exchange".into(), AMQPValue::LongString(dead_letter_exchange.into()));
    args
}

/// Messages ready in `queue` (not counting those delivered and not yet acknowledged), by a passive
/// declare. A missing queue closes the channel; callers pass a channel they can throw away.
pub async fn ready_messages(channel: &Channel, queue: &str) -> anyhow::Result<u32> {
    let options = QueueDeclareOptions { passive: true, ..QueueDeclareOptions::default() };
    let declared = channel
        .queue_declare(queue, options, FieldTable::default())
        .await
        .with_context(|| format!("while inspecting queue {queue}"))?;
    Ok(declared.message_count())
}
