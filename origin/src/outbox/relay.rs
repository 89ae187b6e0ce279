//! The relay: moves outbox rows to RabbitMQ and deletes them once the broker has confirmed them.
//!
//! One process of a deployment relays at a time (its [`Lease`]); the others stand by. Each round claims a
//! batch in a MySQL transaction (`FOR UPDATE`: a standby taking over while the old holder finishes its
//! round waits for that round's commit), publishes it on a publisher-confirm channel as one message
//! per topic and hundred events, waits for all confirms at once and only then deletes the rows and commits. Any failure rolls back: the rows stay and are published
//! again later. A row can therefore reach the broker twice, never zero times; consumers are idempotent.
//!
//! While RabbitMQ is down rows accumulate (writes keep working) and the relay waits for the broker's next
//! connection. It never decides what an event means; it only moves bytes.

use std::time::Duration;

use anyhow::{bail, Context};
use lapin::{
    options::{BasicPublishOptions, ConfirmSelectOptions},
    publisher_confirm::Confirmation,
    BasicProperties, Channel, Connection,
};
use tokio::time::{sleep, timeout};
use tokio_util::sync::CancellationToken;

use crate::{
    fanout::topology::{self, Names},
    outbox::lease::Lease,
    outbox::store::{self, OutboxRow},
    state::AppState,
};

/// Rows per transaction: enough to amortise the round trips, small enough to keep locks short.
const BATCH: u32 = 500;
/// Events per published message: a planner handles one message's events together.
const EVENTS_PER_MESSAGE: usize = 100;
/// How long the relay sleeps when nobody wakes it.
const IDLE_POLL: Duration = Duration::from_millis(100);
/// A broker that has not confirmed a batch by then is treated as failed (the batch is retried).
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a standing-by relay asks for the lease.
const STANDBY_POLL: Duration = Duration::from_secs(1);
/// Pause after a failed round before trying again.
const RETRY_AFTER: Duration = Duration::from_millis(500);

/// Relays until `shutdown`; a batch being published when it fires is finished first.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    let names = Names::new(&state.config.amqp.prefix);
    let mut lease = match Lease::new(&state.config) {
        Ok(lease) => lease,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "the outbox relay cannot start");
            return;
        }
    };
    loop {
        let Some(connection) = state.broker.connected(&shutdown).await else { break };
        match relay_on(&state, &connection, &names, &mut lease, &shutdown).await {
            Ok(()) => break,
            Err(error) => tracing::warn!(error = format!("{error:#}"), "outbox relay failed; retrying"),
        }
        tokio::select! {
            () = sleep(RETRY_AFTER) => {}
            () = shutdown.cancelled() => break,
        }
    }
    lease.release().await;
}

/// Relays over one connection until `shutdown` (`Ok`) or a failure (`Err`, to retry on a fresh channel).
async fn relay_on(
    state: &AppState,
    connection: &Connection,
    names: &Names,
    lease: &mut Lease,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    let channel = connection.create_channel().await.context("while opening the relay channel")?;
    let result = async {
        channel.confirm_select(ConfirmSelectOptions::default()).await.context("while enabling publisher confirms")?;
        // Declaring the queues too (not only the exchange) means nothing the relay publishes can be
        // dropped as unroutable, even when no consumer has started yet.
        topology::declare(&channel, names).await?;
        tracing::info!("outbox relay publishing");
        while !shutdown.is_cancelled() {
            if !lease.held().await {
                // Another process relays; take over if it goes away.
                tokio::select! {
                    () = sleep(STANDBY_POLL) => {}
                    () = shutdown.cancelled() => {}
                }
                continue;
            }
            let relayed = relay_batch(state, &channel, names).await?;
            if relayed < BATCH as usize {
                // Drained (or the rest is locked by another relay): wait for news.
                tokio::select! {
                    () = state.outbox_notify.notified() => {}
                    () = sleep(IDLE_POLL) => {}
                    () = shutdown.cancelled() => {}
                }
            }
        }
        Ok(())
    }
    .await;
    // Best effort: a channel that failed may already be gone.
    let _ = timeout(Duration::from_secs(1), channel.close(200, "relay stopping")).await;
    result
}

/// One round: claim, publish, confirm, delete, commit. Returns the number of rows relayed.
#[tracing::instrument(skip_all)]
async fn relay_batch(state: &AppState, channel: &Channel, names: &Names) -> anyhow::Result<usize> {
    let mut conn = state.db.acquire().await.context("while taking a connection for the relay")?;
    // READ COMMITTED: the claim locks only the rows it returns. Under REPEATABLE READ it would also lock
    // the gap after them, and every INSERT into the outbox (every tweet being posted) would wait for
    // this round's publish and confirms to finish.
    sqlx::query("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        .execute(&mut *conn)
        .await
        .context("while setting the relay's isolation level")?;
    let mut tx = sqlx::Connection::begin(&mut *conn).await.context("while starting the relay transaction")?;
    let rows = store::claim(&mut tx, BATCH).await.context("while claiming outbox rows")?;
    if rows.is_empty() {
        tx.rollback().await.context("while ending an empty relay round")?;
        return Ok(0);
    }
    if let Err(error) = publish(channel, &names.events, &rows).await {
        // The rows stay for the next round.
        let _ = tx.rollback().await;
        return Err(error);
    }
    let ids: Vec<u64> = rows.iter().map(|row| row.id).collect();
    store::delete(&mut tx, &ids).await.context("while deleting relayed outbox rows")?;
    tx.commit().await.context("while committing relayed outbox rows")?;
    for row in &rows {
        state.metrics.events_published.with_label_values(&[row.topic.as_str()]).inc();
    }
    tracing::debug!(count = rows.len(), "relayed outbox rows");
    Ok(rows.len())
}

/// Publishes the rows as few messages as their topics allow (the payloads of one topic, in claim order, as
/// one JSON array of at most [`EVENTS_PER_MESSAGE`]), then waits for all their confirms together. Fewer,
/// larger messages are what lets the broker and the consumers keep up with a burst of posts.
async fn publish(channel: &Channel, exchange: &str, rows: &[OutboxRow]) -> anyhow::Result<()> {
    let mut pending = Vec::new();
    // A row that is not an event (only a bug writes one) travels alone, as it is: it cannot spoil an array
    // of good events, and its consumer dead-letters exactly that row.
    let (events, strays): (Vec<&OutboxRow>, Vec<&OutboxRow>) =
        rows.iter().partition(|row| serde_json::from_str::<crate::events::Event>(&row.payload).is_ok());
    for row in strays {
        let properties = BasicProperties::default().with_delivery_mode(2).with_message_id(row.id.to_string().into());
        let options = BasicPublishOptions { mandatory: true, ..BasicPublishOptions::default() };
        let confirm = channel
            .basic_publish(exchange, &row.topic, options, row.payload.as_bytes(), properties)
            .await
            .with_context(|| format!("while publishing outbox row {}", row.id))?;
        pending.push(confirm);
    }
    for (topic, group) in by_topic(&events) {
        for chunk in group.chunks(EVENTS_PER_MESSAGE) {
            let properties = BasicProperties::default()
                .with_delivery_mode(2)
                .with_content_type("application/json".into())
                .with_message_id(chunk[0].id.to_string().into());
            // Mandatory: a message no queue takes comes back, and the round fails instead of losing it.
            let options = BasicPublishOptions { mandatory: true, ..BasicPublishOptions::default() };
            let confirm = channel
                .basic_publish(exchange, topic, options, &json_array(chunk), properties)
                .await
                .with_context(|| format!("while publishing outbox rows from {}", chunk[0].id))?;
            pending.push(confirm);
        }
    }
    await_confirms(pending).await
}

/// The rows grouped by topic, each group in claim (id) order.
fn by_topic<'a>(rows: &[&'a OutboxRow]) -> Vec<(&'a str, Vec<&'a OutboxRow>)> {
    let mut groups: Vec<(&str, Vec<&OutboxRow>)> = Vec::new();
    for &row in rows {
        match groups.iter_mut().find(|(topic, _)| *topic == row.topic) {
            Some((_, group)) => group.push(row),
            None => groups.push((row.topic.as_str(), vec![row])),
        }
    }
    groups
}

/// The payloads (each a JSON object already) as one JSON array.
fn json_array(rows: &[&OutboxRow]) -> Vec<u8> {
    let mut body = Vec::with_capacity(rows.iter().map(|row| row.payload.len() + 1).sum::<usize>() + 2);
    body.push(b'[');
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(row.payload.as_bytes());
    }
    body.push(b']');
    body
}

/// Waits for the broker to confirm every publish; a nack, a returned message or a timeout fails all.
pub(crate) async fn await_confirms(pending: Vec<lapin::publisher_confirm::PublisherConfirm>) -> anyhow::Result<()> {
    let confirmations = timeout(CONFIRM_TIMEOUT, futures::future::join_all(pending))
        .await
        .context("timed out waiting for publisher confirms")?;
    for confirmation in confirmations {
        match confirmation.context("while waiting for a publisher confirm")? {
            Confirmation::Ack(None) => {}
            Confirmation::Ack(Some(returned)) => {
                bail!("the broker returned an unroutable message: {}", returned.reply_text)
            }
            Confirmation::Nack(_) => bail!("the broker refused a message"),
            Confirmation::NotRequested => bail!("the channel is not in confirm mode"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: u64, topic: &str, payload: &str) -> OutboxRow {
        OutboxRow { id, topic: topic.to_owned(), payload: payload.to_owned(), created_at: 0 }
    }

    #[test]
    fn rows_become_one_array_per_topic_in_order() {
        let rows = [row(1, "a", "{\"n\":1}"), row(2, "b", "{\"n\":2}"), row(3, "a", "{\"n\":3}")];
        let groups = by_topic(&rows.iter().collect::<Vec<_>>());
        assert_eq!(groups.iter().map(|(topic, group)| (*topic, group.len())).collect::<Vec<_>>(), [("a", 2), ("b", 1)]);
        assert_eq!(json_array(&groups[0].1), b"[{\"n\":1},{\"n\":3}]");
        let parsed: serde_json::Value = serde_json::from_slice(&json_array(&groups[1].1)).expect("json");
        assert_eq!(parsed, serde_json::json!([{"n": 2}]));
    }
}
