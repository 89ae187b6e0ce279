//! The delivery worker: applies one delivery message (batches of tweets for pages of followers, up to
//! `fanout_batch_size` timeline writes in all) to the followers' Redis home timelines in one pipelined
//! round trip, after one MySQL query that drops tweets deleted meanwhile.
//!
//! Only timelines that exist are touched (a missing one is rebuilt whole from MySQL on its next read),
//! and adding or removing an id twice changes nothing, so a message can be applied any number of times.

use std::collections::BTreeSet;

use anyhow::Context;
use rookery_shared::ids::{TweetId, UserId};
use serde::{Deserialize, Serialize};

use crate::{fanout::consumer::Outcome, fanout::store, newsfeed::timeline, state::AppState};

/// One tweet for one page of followers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryBatch {
    pub tweet_id: TweetId,
    /// The tweet's author: a follower who unfollowed them since the batch was planned is skipped. Absent
    /// in batches planned by earlier releases, which are delivered without that check.
    #[serde(default)]
    pub author_id: Option<UserId>,
    pub action: Action,
    pub followers: Vec<UserId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Push the tweet into the followers' home timelines.
    Add,
    /// Take it out of them.
    Remove,
}

impl Action {
    fn label(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Remove => "remove",
        }
    }
}

/// A message on the `{prefix}.fanout.deliver` queue: a JSON array of batches (the planner packs several
/// tweets' batches into one message), or one batch object as earlier releases published.
pub fn parse_message(data: &[u8]) -> serde_json::Result<Vec<DeliveryBatch>> {
    if data.trim_ascii_start().starts_with(b"[") {
        serde_json::from_slice(data)
    } else {
        serde_json::from_slice(data).map(|batch| vec![batch])
    }
}

/// Timeline writes a message holds (followers × tweets).
pub fn deliveries(batches: &[DeliveryBatch]) -> usize {
    batches.iter().map(|batch| batch.followers.len()).sum()
}

/// Applies one message from the deliver queue.
pub(crate) async fn handle(state: AppState, data: Vec<u8>) -> Outcome {
    let batches = match parse_message(&data) {
        Ok(batches) => batches,
        Err(error) => return Outcome::Reject(format!("not a delivery batch: {error}")),
    };
    match apply(&state, batches).await {
        Ok(applied) => {
            if let Some(lag_ms) = record(&state, &applied) {
                super::backlog::publish_lag(&state.redis, lag_ms).await;
            }
            Outcome::Ack
        }
        Err(error) => Outcome::Retry(error),
    }
}

/// Applies the batches whose tweets still exist (removals always); returns those applied.
#[tracing::instrument(skip_all, fields(batches = batches.len(), deliveries = deliveries(&batches)))]
async fn apply(state: &AppState, batches: Vec<DeliveryBatch>) -> anyhow::Result<Vec<DeliveryBatch>> {
    let added: Vec<TweetId> = batches.iter().filter(|b| b.action == Action::Add).map(|b| b.tweet_id).collect();
    // A batch can run after the tweet's removal (retries, concurrent handlers): do not bring a deleted
    // tweet back.
    let existing: BTreeSet<TweetId> = if added.is_empty() {
        BTreeSet::new()
    } else {
        store::existing_tweets(&state.db, &added).await.context("while checking the tweets")?.into_iter().collect()
    };
    let applied: Vec<DeliveryBatch> =
        batches.into_iter().filter(|b| b.action == Action::Remove || existing.contains(&b.tweet_id)).collect();
    let (adds, removes): (Vec<&DeliveryBatch>, Vec<&DeliveryBatch>) =
        applied.iter().partition(|batch| batch.action == Action::Add);
    let pushes: Vec<timeline::Push> = adds
        .iter()
        .map(|b| timeline::Push { tweet: b.tweet_id, author: b.author_id, followers: &b.followers })
        .collect();
    let retractions: Vec<(TweetId, &[UserId])> = removes.iter().map(|b| (b.tweet_id, b.followers.as_slice())).collect();
    let cap = state.config.fanout.timeline_cap;
    let (pushed, retracted) =
        tokio::join!(timeline::deliver(&state.redis, &pushes, cap), timeline::retract(&state.redis, &retractions));
    pushed.context("while pushing to home timelines")?;
    retracted.context("while removing from home timelines")?;
    Ok(applied)
}

/// Counts what was applied; returns the age (ms) of the oldest tweet added, if any.
fn record(state: &AppState, applied: &[DeliveryBatch]) -> Option<i64> {
    let now = crate::ids::now_micros();
    let mut oldest: Option<i64> = None;
    for action in [Action::Add, Action::Remove] {
        let of_action: Vec<&DeliveryBatch> = applied.iter().filter(|batch| batch.action == action).collect();
        if of_action.is_empty() {
            continue;
        }
        let label = [action.label()];
        state.metrics.fanout_batches.with_label_values(&label).inc();
        let writes = of_action.iter().map(|batch| batch.followers.len() as u64).sum();
        state.metrics.fanout_deliveries.with_label_values(&label).inc_by(writes);
        if action == Action::Add {
            for batch in of_action {
                // The tweet's id carries its creation time (to the millisecond).
                let age = (now - crate::ids::created_at_of(batch.tweet_id.0)).max(0);
                #[expect(clippy::cast_precision_loss, reason = "an age in microseconds fits a double well enough")]
                state.metrics.fanout_lag.observe(age as f64 / 1e6);
                oldest = oldest.max(Some(age / 1000));
            }
        }
    }
    oldest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_an_array_of_batches_or_one_batch() {
        let batch = DeliveryBatch {
            tweet_id: TweetId(9),
            author_id: Some(UserId(1)),
            action: Action::Add,
            followers: vec![UserId(2), UserId(3)],
        };
        let one = serde_json::to_vec(&batch).expect("json");
        assert_eq!(parse_message(&one).expect("a message"), vec![batch.clone()]);
        let many = serde_json::to_vec(&[&batch, &batch]).expect("json");
        assert_eq!(parse_message(&many).expect("a message").len(), 2);
        assert_eq!(deliveries(&parse_message(&many).expect("a message")), 4);
        assert!(parse_message(br#"[{"tweet_id": 9}]"#).is_err());
    }
}
