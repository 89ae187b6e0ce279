//! The planner: turns one tweet event into delivery batches, one per page of the author's followers.
//!
//! Authors above `hybrid_threshold` are not pushed (their tweets are merged in at read time) when the
//! `fanout_hybrid` switch is on for them; outside its rollout they are pushed like everyone (reads merge
//! them in as well, so either way their followers see their tweets). Removals go
//! to every follower whatever the count, since removing an absent id costs nothing and the count may have
//! crossed the threshold since the tweet was pushed. The planner reads MySQL and publishes; it never
//! touches Redis.

use anyhow::Context;
use lapin::{options::BasicPublishOptions, BasicProperties, Channel};
use rookery_shared::ids::{TweetId, UserId};

use crate::{
    events::Event,
    fanout::{
        consumer::Outcome,
        delivery::{Action, DeliveryBatch},
        store,
        topology::Names,
    },
    friendships,
    outbox::relay::await_confirms,
    state::AppState,
    switches,
};

/// Delivery batches published before their confirms are awaited together.
const CONFIRM_WINDOW: usize = 64;

/// Plans one message from the plan queue.
pub(crate) async fn handle(state: AppState, names: Names, channel: Channel, data: Vec<u8>) -> Outcome {
    let event: Event = match serde_json::from_slice(&data) {
        Ok(event) => event,
        Err(error) => return Outcome::Reject(format!("not an event: {error}")),
    };
    match plan(&state, &names, &channel, &event).await {
        Ok(outcome) => {
            state.metrics.fanout_plans.with_label_values(&[outcome]).inc();
            Outcome::Ack
        }
        Err(error) => Outcome::Retry(error),
    }
}

/// Publishes the event's delivery batches; returns what was decided (`pushed`, `pulled`, `gone`).
#[tracing::instrument(skip(state, names, channel))]
async fn plan(state: &AppState, names: &Names, channel: &Channel, event: &Event) -> anyhow::Result<&'static str> {
    let (tweet, author, action) = match *event {
        Event::TweetCreated { tweet_id, author_id } => (tweet_id, author_id, Action::Add),
        Event::TweetDeleted { tweet_id, author_id } => (tweet_id, author_id, Action::Remove),
        // Not routed to the plan queue; nothing to plan if one arrives anyway.
        Event::NotificationRequested { .. } => return Ok("ignored"),
    };
    if action == Action::Add {
        let followers =
            friendships::store::followers_count(&state.db, author).await.context("while counting followers")?;
        if followers > state.config.hybrid_threshold && state.switches.is_on(&switches::FANOUT_HYBRID, author.0).await {
            return Ok("pulled");
        }
        if !store::tweet_exists(&state.db, tweet).await.context("while checking the tweet")? {
            return Ok("gone");
        }
    }
    publish_batches(state, names, channel, tweet, author, action).await?;
    Ok("pushed")
}

/// Pages through the author's followers (keyset, `fanout_batch_size` a page) and publishes one delivery
/// batch per page. A failure part-way is retried from the start; batches already delivered are harmless
/// to apply again.
async fn publish_batches(
    state: &AppState,
    names: &Names,
    channel: &Channel,
    tweet: TweetId,
    author: UserId,
    action: Action,
) -> anyhow::Result<()> {
    let page_size = state.config.fanout_batch_size;
    let mut after = 0;
    let mut pending = Vec::new();
    loop {
        let page = friendships::store::follower_batch(&state.db, author, after, page_size)
            .await
            .context("while reading followers")?;
        let Some(&(last, _)) = page.last() else { break };
        after = last;
        let followers = page.iter().map(|&(_, user)| user).collect();
        let batch = DeliveryBatch { tweet_id: tweet, author_id: Some(author), action, followers };
        let properties = BasicProperties::default().with_delivery_mode(2).with_content_type("application/json".into());
        let confirm = channel
            .basic_publish(
                "",
                &names.deliver,
                BasicPublishOptions { mandatory: true, ..BasicPublishOptions::default() },
                &serde_json::to_vec(&batch)?,
                properties,
            )
            .await
            .context("while publishing a delivery batch")?;
        pending.push(confirm);
        if pending.len() >= CONFIRM_WINDOW {
            await_confirms(std::mem::take(&mut pending)).await?;
        }
        if page.len() < page_size as usize {
            break;
        }
    }
    await_confirms(pending).await
}
