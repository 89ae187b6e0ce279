//! `/healthz` (the process answers), `/readyz` (which dependencies are reachable) and `/metrics`.
//!
//! Only `/healthz` is part of the public API. Readiness and metrics say things about the deployment
//! (which dependency is down, every route's traffic) that are nobody's business but the operator's, so
//! they are served on the admin listener (`ADMIN_ADDR`, on a private interface) with `/healthz` again.

use std::time::Duration;

use axum::{extract::State, http::StatusCode, routing::get, Json, Router};
use serde_json::{json, Value};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{metrics, state::AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz))
}

/// The admin listener's routes; everything else there is a 404.
pub fn admin_router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::render))
        .fallback(|| async { crate::error::ApiError::NotFound })
        .with_state(state)
}

/// Liveness
///
/// The process answers.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operational",
    responses((status = 200, description = "Up.", body = Object, example = json!({"status": "ok"}))),
)]
async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Readiness
///
/// 200 when MySQL, Redis and RabbitMQ all answer; otherwise 503 naming the ones that do not. Without
/// Redis or RabbitMQ the origin still serves (slower reads, delayed fanout), so load balancers that only
/// need "can serve" should probe MySQL-readiness via the `mysql` field or use `/healthz`.
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let limit = Duration::from_secs(1);
    // The probe runs in its own task: giving up on it after `limit` must not drop a query halfway.
    let db = state.db.clone();
    let mysql = tokio::spawn(async move { sqlx::query("SELECT 1").execute(&db).await.is_ok() });
    let (mysql, redis) =
        tokio::join!(tokio::time::timeout(limit, mysql), tokio::time::timeout(limit, state.redis.ping()));
    let checks = [
        ("mysql", matches!(mysql, Ok(Ok(true)))),
        ("redis", matches!(redis, Ok(Ok(())))),
        ("rabbitmq", state.broker.connection().is_some()),
    ];
    let down: Vec<&str> = checks.iter().filter(|(_, up)| !up).map(|(name, _)| *name).collect();
    let mut body = json!({
        "status": if down.is_empty() { "ready" } else { "degraded" },
        "unavailable": down,
    });
    for (name, up) in checks {
        body[name] = json!(if up { "up" } else { "down" });
    }
    if down.is_empty() {
        (StatusCode::OK, Json(body))
    } else {
        body["detail"] = json!(format!("Unavailable: {}.", down.join(", ")));
        (StatusCode::SERVICE_UNAVAILABLE, Json(body))
    }
}
