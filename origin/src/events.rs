//! Domain events: written to the outbox in the transaction that causes them, relayed to RabbitMQ, and
//! consumed by the fanout (and, later, notification) workers. Consumers must be idempotent: an event can
//! be delivered more than once.

use rookery_shared::ids::{TweetId, UserId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// Push the tweet into the followers' home timelines.
    TweetCreated { tweet_id: TweetId, author_id: UserId },
    /// Remove the tweet from the followers' home timelines.
    TweetDeleted { tweet_id: TweetId, author_id: UserId },
}

impl Event {
    /// The routing key it is published under.
    pub fn topic(&self) -> &'static str {
        match self {
            Self::TweetCreated { .. } => "tweet.created",
            Self::TweetDeleted { .. } => "tweet.deleted",
        }
    }
}
