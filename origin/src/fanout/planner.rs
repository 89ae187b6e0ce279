//! The planner: turns a message of tweet events (up to a hundred, as the relay published them) into
//! delivery messages. Per message it counts the authors' followers and checks the tweets in two queries,
//! reads the followers of all authors with at most a page of them in one query per few thousand rows, and
//! pages through larger authors' followers once for all their tweets. Batches (one tweet, one page of
//! followers) are packed into messages of up to `fanout_batch_size` timeline writes: a burst of posts by
//! authors with a hundred followers each becomes one delivery message per ten tweets.
//!
//! Authors above `hybrid_threshold` are not pushed (their tweets are merged in at read time) when the
//! `fanout_hybrid` switch is on for them; outside its rollout they are pushed like everyone (reads merge
//! them in as well, so either way their followers see their tweets). Removals go
//! to every follower whatever the count, since removing an absent id costs nothing and the count may have
//! crossed the threshold since the tweet was pushed. The planner reads MySQL and publishes; it never
//! touches Redis.

use std::collections::{BTreeSet, HashMap};

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

/// Delivery messages published before their confirms are awaited together.
const CONFIRM_WINDOW: usize = 64;
/// Follower rows one query for small authors may return: authors with at most a page of followers are
/// read together until their counts add up to this.
const ROWS_PER_QUERY: u64 = 5_000;

/// Plans one message from the plan queue (the events the relay published together).
pub(crate) async fn handle(state: AppState, names: Names, channel: Channel, data: Vec<u8>) -> Outcome {
    let events = match crate::events::parse_message(&data) {
        Ok(events) => events,
        Err(error) => return Outcome::Reject(format!("not an event: {error}")),
    };
    match plan(&state, &names, &channel, &events).await {
        Ok(outcomes) => {
            for outcome in outcomes {
                state.metrics.fanout_plans.with_label_values(&[outcome]).inc();
            }
            Outcome::Ack
        }
        Err(error) => Outcome::Retry(error),
    }
}

/// One tweet to push to (or take out of) its author's followers' timelines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Work {
    author: UserId,
    tweet: TweetId,
    action: Action,
}

/// Publishes the events' delivery messages; returns what was decided per event (`pushed`, `pulled`,
/// `gone`, `ignored`).
#[tracing::instrument(skip_all, fields(events = events.len()))]
async fn plan(
    state: &AppState,
    names: &Names,
    channel: &Channel,
    events: &[Event],
) -> anyhow::Result<Vec<&'static str>> {
    let mut outcomes = Vec::with_capacity(events.len());
    let mut planned = Vec::new();
    for event in events {
        match *event {
            Event::TweetCreated { tweet_id, author_id } => {
                planned.push(Work { author: author_id, tweet: tweet_id, action: Action::Add });
            }
            Event::TweetDeleted { tweet_id, author_id } => {
                planned.push(Work { author: author_id, tweet: tweet_id, action: Action::Remove });
            }
            // Not routed to the plan queue; nothing to plan if one arrives anyway.
            Event::NotificationRequested { .. } => outcomes.push("ignored"),
        }
    }
    let authors: BTreeSet<UserId> = planned.iter().map(|work| work.author).collect();
    let authors: Vec<UserId> = authors.into_iter().collect();
    let counts: HashMap<UserId, u64> = friendships::store::followers_counts(&state.db, &authors)
        .await
        .context("while counting followers")?
        .into_iter()
        .map(|(user, count)| (user, u64::from(count)))
        .collect();
    let added: Vec<TweetId> = planned.iter().filter(|w| w.action == Action::Add).map(|w| w.tweet).collect();
    let existing: BTreeSet<TweetId> =
        store::existing_tweets(&state.db, &added).await.context("while checking the tweets")?.into_iter().collect();

    // Removals go to every follower whatever the count (see the module's comment).
    let mut work = BTreeSet::new();
    for item in planned {
        let count = counts.get(&item.author).copied().unwrap_or(0);
        let outcome = if item.action == Action::Remove {
            "pushed"
        } else if count > state.config.fanout.hybrid_threshold
            && state.switches.is_on(&switches::FANOUT_HYBRID, item.author.0).await
        {
            "pulled"
        } else if !existing.contains(&item.tweet) {
            "gone"
        } else {
            "pushed"
        };
        outcomes.push(outcome);
        if outcome == "pushed" {
            work.insert(item);
        }
    }

    let page = state.config.fanout.batch_size;
    let mut messages = Messages::new(channel, &names.deliver, page as usize);
    let (small, large): (Vec<Work>, Vec<Work>) =
        work.into_iter().partition(|item| counts.get(&item.author).copied().unwrap_or(0) <= u64::from(page));
    for chunk in small_author_chunks(&small, &counts) {
        let followers =
            friendships::store::followers_of_many(&state.db, &chunk).await.context("while reading followers")?;
        let mut of: HashMap<UserId, Vec<UserId>> = HashMap::new();
        for (author, follower) in followers {
            of.entry(author).or_default().push(follower);
        }
        for item in small.iter().filter(|item| chunk.contains(&item.author)) {
            let Some(followers) = of.get(&item.author) else { continue };
            for part in followers.chunks(page as usize) {
                messages.add(batch(item, part.to_vec())).await?;
            }
        }
    }
    let mut large_authors: Vec<UserId> = large.iter().map(|item| item.author).collect();
    large_authors.dedup();
    for author in large_authors {
        let items: Vec<&Work> = large.iter().filter(|item| item.author == author).collect();
        page_followers(state, author, page, &items, &mut messages).await?;
    }
    messages.finish().await?;
    Ok(outcomes)
}

/// The distinct authors of `small` in groups whose follower counts add up to at most
/// [`ROWS_PER_QUERY`] (a group holds at least one author).
fn small_author_chunks(small: &[Work], counts: &HashMap<UserId, u64>) -> Vec<Vec<UserId>> {
    let mut authors: Vec<UserId> = small.iter().map(|item| item.author).collect();
    authors.dedup();
    let mut chunks: Vec<Vec<UserId>> = Vec::new();
    let mut rows = 0;
    for author in authors {
        let count = counts.get(&author).copied().unwrap_or(0);
        match chunks.last_mut() {
            Some(chunk) if rows + count <= ROWS_PER_QUERY => chunk.push(author),
            _ => {
                chunks.push(vec![author]);
                rows = 0;
            }
        }
        rows += count;
    }
    chunks
}

/// Pages through a large author's followers (keyset, `page` a page) once for all of `items` (their
/// tweets in this message) and adds one batch per tweet and page. A failure part-way is retried from the
/// start; batches already delivered are harmless to apply again.
async fn page_followers(
    state: &AppState,
    author: UserId,
    page: u32,
    items: &[&Work],
    messages: &mut Messages<'_>,
) -> anyhow::Result<()> {
    let mut after = 0;
    loop {
        let rows = friendships::store::follower_batch(&state.db, author, after, page)
            .await
            .context("while reading followers")?;
        let Some(&(last, _)) = rows.last() else { break };
        after = last;
        let followers: Vec<UserId> = rows.iter().map(|&(_, user)| user).collect();
        for item in items {
            messages.add(batch(item, followers.clone())).await?;
        }
        if rows.len() < page as usize {
            break;
        }
    }
    Ok(())
}

fn batch(item: &Work, followers: Vec<UserId>) -> DeliveryBatch {
    DeliveryBatch { tweet_id: item.tweet, author_id: Some(item.author), action: item.action, followers }
}

/// Packs batches into delivery messages of at most `limit` timeline writes each and publishes them,
/// awaiting confirms a window at a time.
struct Messages<'a> {
    channel: &'a Channel,
    queue: &'a str,
    limit: usize,
    packed: Vec<DeliveryBatch>,
    writes: usize,
    pending: Vec<lapin::publisher_confirm::PublisherConfirm>,
}

impl<'a> Messages<'a> {
    fn new(channel: &'a Channel, queue: &'a str, limit: usize) -> Self {
        Self { channel, queue, limit, packed: Vec::new(), writes: 0, pending: Vec::new() }
    }

    async fn add(&mut self, batch: DeliveryBatch) -> anyhow::Result<()> {
        if !self.packed.is_empty() && self.writes + batch.followers.len() > self.limit {
            self.flush().await?;
        }
        self.writes += batch.followers.len();
        self.packed.push(batch);
        Ok(())
    }

    async fn flush(&mut self) -> anyhow::Result<()> {
        if self.packed.is_empty() {
            return Ok(());
        }
        let body = serde_json::to_vec(&self.packed)?;
        self.packed.clear();
        self.writes = 0;
        let properties = BasicProperties::default().with_delivery_mode(2).with_content_type("application/json".into());
        let confirm = self
            .channel
            .basic_publish(
                "",
                self.queue,
                BasicPublishOptions { mandatory: true, ..BasicPublishOptions::default() },
                &body,
                properties,
            )
            .await
            .context("while publishing a delivery message")?;
        self.pending.push(confirm);
        if self.pending.len() >= CONFIRM_WINDOW {
            await_confirms(std::mem::take(&mut self.pending)).await?;
        }
        Ok(())
    }

    async fn finish(mut self) -> anyhow::Result<()> {
        self.flush().await?;
        await_confirms(self.pending).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_authors_are_read_in_groups_bounded_by_their_counts() {
        let work = |author| Work { author: UserId(author), tweet: TweetId(author * 10), action: Action::Add };
        let small = [work(1), work(1), work(2), work(3), work(4)];
        let counts: HashMap<UserId, u64> =
            [(UserId(1), 3_000), (UserId(2), 2_000), (UserId(3), 1), (UserId(4), 0)].into();
        let chunks = small_author_chunks(&small, &counts);
        assert_eq!(chunks, vec![vec![UserId(1), UserId(2)], vec![UserId(3), UserId(4)]]);
    }
}
