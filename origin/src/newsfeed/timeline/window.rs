//! A timeline's window as the API reads it: Redis first, rebuilt from MySQL when missing (one rebuild per
//! timeline at a time, across processes), MySQL for windows Redis cannot answer or when Redis is away.

use rookery_shared::ids::UserId;

use super::{Kind, Read, Window};
use crate::{error::Result, pagination, state::AppState, tweets};

/// The ids of `user`'s timeline of `kind` in `window`, newest first, up to `limit + 1` of them.
pub async fn window_ids(state: &AppState, kind: Kind, user: UserId, window: Window) -> Result<Vec<u64>> {
    match super::read(&state.redis, kind, user, window).await {
        Ok(Read::Hit(ids)) => {
            state.metrics.timeline_reads.with_label_values(&[kind_label(kind), "hit"]).inc();
            return Ok(ids);
        }
        Ok(Read::Missing) => {
            state.metrics.timeline_reads.with_label_values(&[kind_label(kind), "rebuild"]).inc();
            if let Err(error) = rebuild_from_mysql(state, kind, user).await {
                tracing::warn!(error = format!("{error:#}"), user_id = %user, "timeline rebuild failed");
            }
        }
        Ok(Read::Partial) => {
            state.metrics.timeline_reads.with_label_values(&[kind_label(kind), "mysql"]).inc();
        }
        Err(error) => {
            state.metrics.timeline_reads.with_label_values(&[kind_label(kind), "redis_down"]).inc();
            tracing::debug!(%error, "timeline read from MySQL: Redis unavailable");
        }
    }
    let (below, from, limit) = pagination::bounds(&window);
    Ok(mysql_ids(state, kind, user, below, from, limit).await?)
}

/// Rebuilds a timeline from MySQL. `Ok(false)` when another process is rebuilding it right now.
pub async fn rebuild_from_mysql(state: &AppState, kind: Kind, user: UserId) -> anyhow::Result<bool> {
    let cap = state.config.fanout.timeline_cap;
    let limit = u32::try_from(cap + 1).unwrap_or(u32::MAX);
    let rebuilt = super::rebuild(&state.redis, kind, user, cap, || async move {
        Ok(mysql_ids(state, kind, user, u64::MAX, 0, limit).await?)
    })
    .await?;
    Ok(rebuilt.is_some())
}

async fn mysql_ids(
    state: &AppState,
    kind: Kind,
    user: UserId,
    below: u64,
    from: u64,
    limit: u32,
) -> sqlx::Result<Vec<u64>> {
    match kind {
        Kind::User => tweets::store::ids_by_user(&state.db, user, below, from, limit).await,
        Kind::Home => tweets::store::ids_for_home(&state.db, user, below, from, limit).await,
    }
}

fn kind_label(kind: Kind) -> &'static str {
    match kind {
        Kind::User => "user",
        Kind::Home => "home",
    }
}
