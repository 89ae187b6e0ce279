//! The dead-letter queue (`{prefix}.dead`): messages a consumer rejected, or that failed
//! `x-delivery-limit` times (Redis unreachable for longer than the retries last, say). `count` tells how
//! many wait there; `replay` puts each back on the queue it died in, so the consumers process it again
//! once the cause is fixed. Every handler is idempotent, so replaying is always safe.

use anyhow::Context;
use lapin::{
    options::{BasicAckOptions, BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions},
    types::{AMQPValue, FieldTable},
    BasicProperties, Channel, Connection,
};

use crate::{
    config::Config,
    fanout::topology::{self, Names},
};

/// What a replay did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Put back on the queue they died in.
    pub replayed: u64,
    /// Left in the dead-letter queue: they do not say which queue they came from.
    pub kept: u64,
}

/// Messages waiting in the dead-letter queue.
pub async fn count(config: &Config) -> anyhow::Result<u32> {
    let (connection, channel, names) = open(config).await?;
    let count = topology::ready_messages(&channel, &names.dead).await;
    let _ = connection.close(200, "counted").await;
    count
}

/// Moves every message that is in the dead-letter queue now back to the queue it died in. Messages that
/// die again meanwhile wait for the next replay, so this always ends.
pub async fn replay(config: &Config) -> anyhow::Result<Replayed> {
    let (connection, channel, names) = open(config).await?;
    let waiting = topology::ready_messages(&channel, &names.dead).await?;
    let mut outcome = Replayed::default();
    for _ in 0..waiting {
        let Some(message) = channel
            .basic_get(&names.dead, BasicGetOptions { no_ack: false })
            .await
            .context("while taking a dead letter")?
        else {
            break;
        };
        let delivery = message.delivery;
        let Some(queue) = origin_queue(&delivery.properties) else {
            // Not acknowledged: closing the channel returns it to the dead-letter queue.
            outcome.kept += 1;
            continue;
        };
        let properties = republished_properties(&delivery.properties);
        channel
            .basic_publish("", &queue, BasicPublishOptions::default(), &delivery.data, properties)
            .await
            .with_context(|| format!("while publishing a dead letter back to {queue}"))?
            .await
            .with_context(|| format!("while waiting for the broker to confirm a message to {queue}"))?;
        delivery.acker.ack(BasicAckOptions::default()).await.context("while removing a replayed dead letter")?;
        outcome.replayed += 1;
    }
    channel.close(200, "replayed").await.context("while closing the channel")?;
    let _ = connection.close(200, "replayed").await;
    Ok(outcome)
}

async fn open(config: &Config) -> anyhow::Result<(Connection, Channel, Names)> {
    let (connection, _) =
        crate::broker::connect_any(&config.amqp.urls(), 0).await.context("while connecting to RabbitMQ")?;
    let channel = connection.create_channel().await.context("while opening a channel")?;
    channel.confirm_select(ConfirmSelectOptions::default()).await.context("while enabling confirms")?;
    let names = Names::new(&config.amqp.prefix);
    topology::declare(&channel, &names).await?;
    Ok((connection, channel, names))
}

/// The queue the broker says the message first died in.
fn origin_queue(properties: &BasicProperties) -> Option<String> {
    match properties.headers().as_ref()?.inner().get("x-first-death-queue")? {
        AMQPValue::LongString(queue) => Some(queue.to_string()),
        AMQPValue::ShortString(queue) => Some(queue.to_string()),
        _ => None,
    }
}

/// The original properties without the broker's death records, so a replayed message starts afresh.
fn republished_properties(properties: &BasicProperties) -> BasicProperties {
    let mut headers = FieldTable::default();
    if let Some(original) = properties.headers() {
        for (name, value) in original.inner() {
            let name = name.as_str();
            if !(name == "x-death" || name.starts_with("x-first-death") || name.starts_with("x-last-death")) {
                headers.insert(name.into(), value.clone());
            }
        }
    }
    let mut republished = BasicProperties::default().with_headers(headers).with_delivery_mode(2);
    if let Some(content_type) = properties.content_type() {
        republished = republished.with_content_type(content_type.clone());
    }
    if let Some(message_id) = properties.message_id() {
        republished = republished.with_message_id(message_id.clone());
    }
    republished
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_queue_of_death_and_drops_the_death_records() {
        let mut headers = FieldTable::default();
        headers.insert("x-first-death-queue".into(), AMQPValue::LongString("rookery.fanout.deliver".into()));
        headers.insert("x-death".into(), AMQPValue::FieldArray(Default::default()));
        headers.insert("trace".into(), AMQPValue::LongString("abc".into()));
        let properties = BasicProperties::default().with_headers(headers);
        assert_eq!(origin_queue(&properties).as_deref(), Some("rookery.fanout.deliver"));
        let kept = republished_properties(&properties);
        let kept = kept.headers().as_ref().expect("headers").inner();
        assert!(kept.contains_key("trace"));
        assert!(!kept.contains_key("x-death") && !kept.contains_key("x-first-death-queue"));
        assert_eq!(origin_queue(&BasicProperties::default()), None);
    }
}
