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

/// The events of one broker message. The relay publishes a JSON array of the events of one topic relayed
/// together; a single event object (as earlier releases published) is read as an array of one.
pub fn parse_message(data: &[u8]) -> serde_json::Result<Vec<Event>> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Message {
        Many(Vec<Event>),
        One(Event),
    }
    // An untagged enum hides why neither shape fitted; the array's own error says more.
    match serde_json::from_slice::<Message>(data) {
        Ok(Message::Many(events)) => Ok(events),
        Ok(Message::One(event)) => Ok(vec![event]),
        Err(_) if data.trim_ascii_start().starts_with(b"[") => serde_json::from_slice::<Vec<Event>>(data),
        Err(_) => serde_json::from_slice::<Event>(data).map(|event| vec![event]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_holds_one_event_or_an_array_of_them() {
        let created = Event::TweetCreated { tweet_id: TweetId(5), author_id: UserId(2) };
        let deleted = Event::TweetDeleted { tweet_id: TweetId(6), author_id: UserId(2) };
        let one = serde_json::to_vec(&created).expect("json");
        assert_eq!(parse_message(&one).expect("a message"), vec![created.clone()]);
        let many = serde_json::to_vec(&[&created, &deleted]).expect("json");
        assert_eq!(parse_message(&many).expect("a message"), vec![created, deleted]);
        let error = parse_message(br#"[{"type": "tweet_created"}]"#).expect_err("not an event").to_string();
        assert!(error.contains("missing field"), "{error}");
        assert!(parse_message(b"{}").is_err());
    }
}
