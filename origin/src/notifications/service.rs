//! Notification rules: who is told about what (never the actor about their own action), creating them
//! off the request path, and the recipient-only reads and marks.

use rookery_shared::{
    ids::{NotificationId, UserId},
    notifications::{Notification, NumberedPage, TargetType, NOTIFICATIONS_PAGE_SIZE},
    timestamp::Timestamp,
};
use sqlx::{MySql, Transaction};

use super::{
    store::{self, NotificationRow},
    verb::Verb,
};
use crate::{
    error::{ApiError, Result},
    events::Event,
    ids::created_at_of,
    outbox, read,
    state::AppState,
};

/// What happened to whom.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    pub recipient: UserId,
    pub actor: UserId,
    pub verb: Verb,
    pub target_type: TargetType,
    pub target_id: u64,
}

/// Enqueues the notification in the caller's transaction. `Ok(false)` (nothing enqueued) when the actor
/// is the recipient. After committing a `true`, wake the relay (`state.outbox_notify`).
pub async fn request(tx: &mut Transaction<'_, MySql>, state: &AppState, request: Request) -> anyhow::Result<bool> {
    if request.recipient == request.actor {
        return Ok(false);
    }
    let event = Event::NotificationRequested {
        notification_id: NotificationId(state.ids.next()),
        recipient_id: request.recipient,
        actor_id: request.actor,
        verb: request.verb,
        target_type: request.target_type,
        target_id: request.target_id,
    };
    outbox::store::enqueue(tx, &state.ids, &event).await?;
    Ok(true)
}

/// The consumer's step: stores a requested notification once, however often it is delivered. Other
/// events are not for this consumer and are ignored.
pub async fn record(state: &AppState, event: &Event) -> anyhow::Result<()> {
    let Event::NotificationRequested { notification_id, recipient_id, actor_id, verb, target_type, target_id } = *event
    else {
        return Ok(());
    };
    if recipient_id == actor_id {
        return Ok(());
    }
    let row = NotificationRow {
        id: notification_id,
        recipient_id,
        actor_id,
        verb: verb.text().to_owned(),
        target_type: target_type.as_str().to_owned(),
        target_id,
        unread: true,
    };
    let mut tx = state.db.begin().await?;
    // The target stays locked (shared) until the notification is in: a deletion of it either committed
    // first (nothing is recorded) or waits for this and takes the notification with it.
    if !store::target_exists(&mut tx, verb, target_type, target_id, actor_id).await? {
        tx.rollback().await?;
        tracing::debug!(notification_id = %notification_id, "notification dropped: its target is gone");
        return Ok(());
    }
    store::upsert(&mut *tx, &row, created_at_of(notification_id.0)).await?;
    tx.commit().await?;
    tracing::debug!(notification_id = %notification_id, "notification recorded");
    Ok(())
}

/// One numbered page (1-based) of the recipient's notifications, newest first. `query` is the request's
/// other query parameters, kept in the `next` and `previous` links.
pub async fn list(
    state: &AppState,
    recipient: UserId,
    unread: Option<bool>,
    page: u64,
    query: &[(String, String)],
) -> Result<NumberedPage<Notification>> {
    let count = store::count(&state.db, recipient, unread).await?;
    let pages = count.div_ceil(NOTIFICATIONS_PAGE_SIZE).max(1);
    if page == 0 || page > pages {
        return Err(ApiError::InvalidPage);
    }
    let rows = store::page(&state.db, recipient, unread, (page - 1) * NOTIFICATIONS_PAGE_SIZE, NOTIFICATIONS_PAGE_SIZE)
        .await?;
    let link = |n: u64| page_url(state, query, n);
    Ok(NumberedPage {
        count,
        next: (page < pages).then(|| link(page + 1)),
        previous: (page > 1).then(|| link(page - 1)),
        results: assemble(state, rows).await?,
    })
}

/// `{public_url}/api/notifications/?…` with `page` set to `n` (left out for the first page), the other
/// parameters sorted by name, as Django REST framework writes its links.
fn page_url(state: &AppState, query: &[(String, String)], n: u64) -> String {
    let mut params: Vec<(String, String)> = query.iter().filter(|(k, _)| k != "page").cloned().collect();
    if n > 1 {
        params.push(("page".into(), n.to_string()));
    }
    params.sort();
    let base = format!("{}/api/notifications/", state.config.http.public_url.trim_end_matches('/'));
    match serde_urlencoded::to_string(&params) {
        Ok(encoded) if !encoded.is_empty() => format!("{base}?{encoded}"),
        _ => base,
    }
}

pub async fn unread_count(state: &AppState, recipient: UserId) -> Result<u64> {
    Ok(store::count(&state.db, recipient, Some(true)).await?)
}

pub async fn mark_all_read(state: &AppState, recipient: UserId) -> Result<u64> {
    Ok(store::mark_all_read(&state.db, recipient).await?)
}

/// Marks one of the recipient's notifications read or unread; anyone else's is not found.
pub async fn set_unread(state: &AppState, recipient: UserId, id: NotificationId, unread: bool) -> Result<Notification> {
    let Some(mut row) = store::get(&state.db, recipient, id).await? else {
        return Err(ApiError::NotFound);
    };
    store::set_unread(&state.db, recipient, id, unread).await?;
    row.unread = unread;
    assemble(state, vec![row]).await?.pop().ok_or(ApiError::NotFound)
}

async fn assemble(state: &AppState, rows: Vec<NotificationRow>) -> Result<Vec<Notification>> {
    let actors: Vec<UserId> = rows.iter().map(|row| row.actor_id).collect();
    let users = read::users::users(state, &actors).await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            Some(Notification {
                id: row.id,
                actor: users.get(&row.actor_id)?.clone(),
                verb: row.verb,
                target_type: TargetType::parse(&row.target_type)?,
                target_id: row.target_id,
                timestamp: Timestamp(created_at_of(row.id.0)),
                unread: row.unread,
            })
        })
        .collect())
}
