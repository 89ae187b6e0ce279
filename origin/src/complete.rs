//! Every request runs to completion in a task of its own.
//!
//! hyper drops a request's future when its client hangs up. Dropped at the wrong moment, a handler
//! leaves a `BEGIN` sent and unanswered (a server-side transaction the pool does not know about), a
//! command half read (a connection out of step with its server), or a write committed but its follow-up
//! (timelines, caches, the relay's wake-up) never done. Spawning the work detaches it from the
//! connection: a hang-up only drops the wait for the answer, never the work.
//!
//! The request timeout sits outside this layer, so a request that runs too long gets its 408 while its
//! work still finishes.

use axum::{
    extract::Request,
    middleware::Next,
    response::{IntoResponse, Response},
};
use tracing::Instrument;

use crate::error::ApiError;

pub async fn run_to_completion(request: Request, next: Next) -> Response {
    let work = next.run(request).instrument(tracing::Span::current());
    match tokio::spawn(work).await {
        Ok(response) => response,
        Err(error) => ApiError::Internal(anyhow::anyhow!("a handler failed: {error}")).into_response(),
    }
}
