//! `origin feeds rebuild`: rebuilds Redis timelines from MySQL, for one user or all of them.

use futures::{StreamExt, TryStreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use rookery_shared::ids::UserId;

use crate::{
    newsfeed::timeline::{self, Kind},
    state::AppState,
};

/// Rebuilds the home and own-tweets timelines of `user`.
pub async fn rebuild_user(state: &AppState, user: UserId) -> anyhow::Result<()> {
    for kind in [Kind::Home, Kind::User] {
        if !timeline::rebuild_from_mysql(state, kind, user).await? {
            tracing::info!(user_id = %user, "timeline already being rebuilt elsewhere");
        }
    }
    Ok(())
}

/// Rebuilds every user's timelines, eight at a time, with a progress bar. Returns how many users.
pub async fn rebuild_all(state: &AppState, progress: bool) -> anyhow::Result<u64> {
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&state.db).await?;
    let bar = if progress { ProgressBar::new(u64::try_from(total).unwrap_or_default()) } else { ProgressBar::hidden() };
    if let Ok(style) = ProgressStyle::with_template("rebuild [{bar:40}] {pos}/{len} {per_sec} eta {eta}") {
        bar.set_style(style.progress_chars("=> "));
    }
    let mut after = 0u64;
    let mut done = 0u64;
    loop {
        let users: Vec<UserId> = sqlx::query_scalar("SELECT id FROM users WHERE id > ? ORDER BY id LIMIT 1000")
            .bind(after)
            .fetch_all(&state.db)
            .await?;
        let Some(last) = users.last() else { break };
        after = last.0;
        futures::stream::iter(users.iter().copied().map(|user| rebuild_user(state, user)))
            .buffer_unordered(8)
            .inspect_ok(|()| bar.inc(1))
            .try_collect::<Vec<()>>()
            .await?;
        done += users.len() as u64;
    }
    bar.finish();
    Ok(done)
}
