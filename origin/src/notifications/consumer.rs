//! The notification worker: requests from `{prefix}.notifications` become rows. Inserting is idempotent
//! (the id travels in the request), so redeliveries are harmless; failures are retried and end in the
//! dead-letter queue, as the fanout's do.

use tokio_util::sync::CancellationToken;

use super::service;
use crate::{
    fanout::{
        consumer::{self, Outcome, Subscription},
        topology::Names,
    },
    state::AppState,
};

const PREFETCH: u16 = 32;
const CONCURRENCY: usize = 8;

/// Consumes until `shutdown`, following the broker through reconnects.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    let names = Names::new(&state.config.amqp.prefix);
    let subscription =
        Subscription { queue: names.notify, prefetch: PREFETCH, concurrency: CONCURRENCY, confirms: false };
    let handler_state = state.clone();
    consumer::run(state, shutdown, subscription, move |_, data| handle(handler_state.clone(), data)).await;
}

async fn handle(state: AppState, data: Vec<u8>) -> Outcome {
    let events = match crate::events::parse_message(&data) {
        Ok(events) => events,
        Err(error) => return Outcome::Reject(format!("not an event: {error}")),
    };
    // One at a time: a failure part-way retries the message, and recording is idempotent.
    for event in &events {
        if let Err(error) = service::record(&state, event).await {
            return Outcome::Retry(error);
        }
    }
    Outcome::Ack
}
