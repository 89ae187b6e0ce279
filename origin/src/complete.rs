//! Every request runs to completion in a task of its own.
//!
//! hyper drops a request's future when its client hangs up. Dropped at the wrong moment, a handler
//! leaves a `BEGIN` sent and unanswered (a server-side transaction the pool does not know about), a
//! command half read (a connection out of step with its server), or a write committed but its follow-up
//! (timelines, caches, the relay's wake-up) never done. Spawning the work detaches it from the
//! connection: a hang-up only drops the wait for the answer, never the work.
//!
//! The request timeout sits outside this layer, so a request that runs too long gets its 408 while its
//! work still finishes. The tasks are tracked ([`Work`]): shutdown waits for them too, not only for the
//! connections still open.

use std::time::Duration;

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::error::ApiError;

/// The requests' detached work.
#[derive(Clone, Default)]
pub struct Work(TaskTracker);

impl Work {
    /// Waits (at most `limit`) for every request's work to finish; no new work is expected by then.
    pub async fn finish(&self, limit: Duration) {
        self.0.close();
        if tokio::time::timeout(limit, self.0.wait()).await.is_err() {
            tracing::warn!(left = self.0.len(), "requests' work still running at shutdown");
        }
    }
}

pub async fn run_to_completion(State(work): State<Work>, request: Request, next: Next) -> Response {
    let work_done = next.run(request).instrument(tracing::Span::current());
    match work.0.spawn(work_done).await {
        Ok(response) => response,
        Err(error) => ApiError::Internal(anyhow::anyhow!("a handler failed: {error}")).into_response(),
    }
}
