//! Domain events: written to the outbox in the transaction that causes them, relayed to RabbitMQ, and
//! consumed by the fanout and notification workers. Consumers must be idempotent: an event can
//! be delivered more than once.

use rookery_shared::{
    ids::{NotificationId, TweetId, UserId},
    notifications::TargetType,
};

use crate::notifications::verb::Verb;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// Push the tweet into the followers' home timelines.
    TweetCreated { tweet_id: TweetId, author_id: UserId },
    /// Remove the tweet from the followers' home timelines.
    TweetDeleted { tweet_id: TweetId, author_id: UserId },
    /// Tell `recipient_id` that `actor_id` did something. The id is chosen in the causing transaction, so
    /// redeliveries insert the notification once.
    NotificationRequested {
        notification_id: NotificationId,
        recipient_id: UserId,
        actor_id: UserId,
        verb: Verb,
        target_type: TargetType,
        target_id: u64,
    },
}

/// The routing key of notification requests.
pub const NOTIFICATION_TOPIC: &str = "notification.requested";

impl Event {
    /// The routing key it is published under.
    pub fn topic(&self) -> &'static str {
        match self {
            Self::TweetCreated { .. } => "tweet.created",
            Self::TweetDeleted { .. } => "tweet.deleted",
            Self::NotificationRequested { .. } => NOTIFICATION_TOPIC,
        }
    }
}
