//! The delivery worker: applies one batch (one tweet, up to `fanout_batch_size` followers) to the
//! followers' Redis home timelines in one pipelined round trip.
//!
//! Only timelines that exist are touched (a missing one is rebuilt whole from MySQL on its next read),
//! and adding or removing an id twice changes nothing, so a batch can be applied any number of times.

use anyhow::Context;
use rookery_shared::ids::{TweetId, UserId};
use serde::{Deserialize, Serialize};

use crate::{fanout::consumer::Outcome, fanout::store, newsfeed::timeline, state::AppState};

/// A delivery message on the `{prefix}.fanout.deliver` queue.
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// Applies one message from the deliver queue.
pub(crate) async fn handle(state: AppState, data: Vec<u8>) -> Outcome {
    let batch: DeliveryBatch = match serde_json::from_slice(&data) {
        Ok(batch) => batch,
        Err(error) => return Outcome::Reject(format!("not a delivery batch: {error}")),
    };
    match apply(&state, &batch).await {
        Ok(false) => Outcome::Ack,
        Ok(true) => {
            if batch.action == Action::Add {
                // The tweet's id carries its creation time (to the millisecond).
                let age = crate::ids::now_micros() - crate::ids::created_at_of(batch.tweet_id.0);
                #[expect(clippy::cast_precision_loss, reason = "an age in microseconds fits a double well enough")]
                state.metrics.fanout_lag.observe(age.max(0) as f64 / 1e6);
            }
            let label = [batch.action.label()];
            state.metrics.fanout_batches.with_label_values(&label).inc();
            state.metrics.fanout_deliveries.with_label_values(&label).inc_by(batch.followers.len() as u64);
            Outcome::Ack
        }
        Err(error) => Outcome::Retry(error),
    }
}

#[tracing::instrument(skip_all, fields(tweet = %batch.tweet_id, action = ?batch.action, followers = batch.followers.len()))]
/// `Ok(false)` when there was nothing to do (the tweet is gone).
async fn apply(state: &AppState, batch: &DeliveryBatch) -> anyhow::Result<bool> {
    match batch.action {
        Action::Add => {
            // A batch can run after the tweet's removal (retries, concurrent handlers): do not bring a
            // deleted tweet back.
            if !store::tweet_exists(&state.db, batch.tweet_id).await.context("while checking the tweet")? {
                return Ok(false);
            }
            let cap = state.config.timeline_cap;
            let pushed = match batch.author_id {
                Some(author) => timeline::deliver(&state.redis, author, batch.tweet_id, &batch.followers, cap).await,
                None => {
                    timeline::add(&state.redis, timeline::Kind::Home, &batch.followers, &[batch.tweet_id], cap).await
                }
            };
            pushed.context("while pushing to home timelines")?;
        }
        Action::Remove => timeline::retract(&state.redis, batch.tweet_id, &batch.followers)
            .await
            .context("while removing from home timelines")?,
    }
    Ok(true)
}
