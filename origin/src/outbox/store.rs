//! SQL of the outbox table.

use rookery_shared::ids::MAX_ID;
use sqlx::{MySql, MySqlExecutor, Transaction};

use crate::{events::Event, ids::IdGenerator};

#[derive(Debug, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: u64,
    pub topic: String,
    pub payload: String,
    pub created_at: i64,
}

/// Adds `event` to the outbox inside the caller's transaction.
#[tracing::instrument(skip(tx, ids))]
pub async fn enqueue(tx: &mut Transaction<'_, MySql>, ids: &IdGenerator, event: &Event) -> anyhow::Result<()> {
    let id = ids.next();
    debug_assert!(id <= MAX_ID);
    sqlx::query("INSERT INTO outbox (id, topic, payload, created_at) VALUES (?, ?, ?, ?)")
        .bind(id)
        .bind(event.topic())
        .bind(serde_json::to_string(event)?)
        .bind(crate::ids::now_micros())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Locks up to `limit` of the oldest rows for this relay. One relay claims at a time (the lease), so a
/// plain `FOR UPDATE` does: in the moment after a takeover, when the old holder may still be finishing a
/// round, the new one waits for that round's commit and then sees its rows gone. `SKIP LOCKED`, which
/// TiDB does not implement, is not needed.
#[tracing::instrument(skip(tx))]
pub async fn claim(tx: &mut Transaction<'_, MySql>, limit: u32) -> sqlx::Result<Vec<OutboxRow>> {
    sqlx::query_as("SELECT id, topic, payload, created_at FROM outbox ORDER BY id LIMIT ? FOR UPDATE")
        .bind(limit)
        .fetch_all(&mut **tx)
        .await
}

/// Removes rows the broker has confirmed.
#[tracing::instrument(skip_all, fields(count = ids.len()))]
pub async fn delete(tx: &mut Transaction<'_, MySql>, ids: &[u64]) -> sqlx::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut query = sqlx::QueryBuilder::new("DELETE FROM outbox WHERE id IN ");
    crate::db::push_list(&mut query, ids.iter().copied());
    query.build().execute(&mut **tx).await.map(drop)
}

/// `(rows waiting, age of the oldest in microseconds)`, for metrics, backpressure and tests. Counts at most
/// `cap` rows and finds the oldest by the primary key (ids are time-ordered), so sampling it several
/// times a second costs the same however large the backlog has grown.
pub async fn backlog(db: impl MySqlExecutor<'_> + Copy, cap: u64) -> sqlx::Result<(i64, i64)> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM (SELECT 1 FROM outbox LIMIT ?) AS waiting")
        .bind(cap)
        .fetch_one(db)
        .await?;
    let oldest: Option<i64> =
        sqlx::query_scalar("SELECT created_at FROM outbox ORDER BY id LIMIT 1").fetch_optional(db).await?;
    Ok((count, oldest.map_or(0, |t| (crate::ids::now_micros() - t).max(0))))
}
