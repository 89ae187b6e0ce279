//! Builds the application (connections, migrations, listener) and runs the HTTP server and the
//! background tasks under one shutdown signal.

use std::{future::Future, net::SocketAddr};

use anyhow::Context;
use axum::{
    extract::{DefaultBodyLimit, Request},
    http::{HeaderValue, Method, StatusCode},
    middleware,
    response::{IntoResponse, Response},
    Router, ServiceExt,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::Layer;
use tower_http::{
    catch_panic::CatchPanicLayer,
    normalize_path::NormalizePathLayer,
    request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::{DefaultOnResponse, TraceLayer},
    LatencyUnit,
};

use crate::{
    auth, complete, config::Config, error::ApiError, headers, health, metrics, openapi, state::AppState,
    worker::Background,
};

/// How long shutdown waits for requests' detached work.
const WORK_DRAIN: std::time::Duration = std::time::Duration::from_secs(30);

pub struct Application {
    listener: TcpListener,
    /// `/metrics`, `/readyz`, `/healthz` for operators, apart from the public API ([`health::admin_router`]).
    admin: TcpListener,
    state: AppState,
}

impl Application {
    /// Connects to MySQL (creating and migrating the database), prepares Redis and RabbitMQ clients and
    /// binds the listener. Redis and RabbitMQ may be down: the application starts and degrades.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let (listen, admin_listen) = (config.http.listen, config.http.admin_listen);
        let state = AppState::connect(config).await?;
        let listener = TcpListener::bind(listen).await.with_context(|| format!("while binding {listen}"))?;
        let admin = TcpListener::bind(admin_listen).await.with_context(|| format!("while binding {admin_listen}"))?;
        Ok(Self { listener, admin, state })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    pub fn admin_port(&self) -> u16 {
        self.admin.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until ctrl-c or SIGTERM.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run(crate::signal::shutdown()).await
    }

    /// Serves until `signal` completes, then stops accepting requests, lets in-flight requests and the
    /// background tasks finish their current work, and returns.
    pub async fn run(self, signal: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let Self { listener, admin, state } = self;
        let work = state.work.clone();
        let shutdown = CancellationToken::new();
        let background = Background::start(&state, shutdown.clone(), state.config.fanout.run_consumers);

        let app = NormalizePathLayer::trim_trailing_slash().layer(router(state.clone())?);
        let node_lease = state.node_lease.clone();
        let admin_app = health::admin_router(state);
        tracing::info!(addr = %listener.local_addr()?, admin = %admin.local_addr()?, "origin listening");
        let public =
            axum::serve(listener, ServiceExt::<Request>::into_make_service_with_connect_info::<SocketAddr>(app))
                .with_graceful_shutdown(shutdown.clone().cancelled_owned());
        let admin = axum::serve(admin, admin_app).with_graceful_shutdown(shutdown.clone().cancelled_owned());
        let trigger = async {
            tokio::select! {
                () = signal => shutdown.cancel(),
                () = shutdown.cancelled() => {}
            }
        };
        let (public, admin, ()) = tokio::join!(public, admin, trigger);
        public.context("while serving HTTP")?;
        admin.context("while serving the admin listener")?;
        // Work of requests whose clients left (or got their 408) is not waited for by the server.
        work.finish(WORK_DRAIN).await;
        background.finish().await;
        node_lease.release().await;
        tracing::info!("origin stopped");
        Ok(())
    }
}

/// The full HTTP surface with its middleware. The routes come from [`openapi::table`], which documents
/// each of them; add routes there, not here.
pub fn router(state: AppState) -> anyhow::Result<Router> {
    let body_limit = state.config.http.max_body_bytes;
    let request_timeout = state.config.http.request_timeout();
    let router = openapi::router(&state.config)?
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|method: Method| async move { ApiError::MethodNotAllowed(method.to_string()) })
        .layer(middleware::from_fn_with_state(state.clone(), crate::ratelimit::enforce))
        .layer(middleware::from_fn_with_state(state.clone(), auth::identify))
        // Everything above touches MySQL and Redis: it runs to completion whether or not the client stays.
        .layer(middleware::from_fn_with_state(state.work.clone(), complete::run_to_completion))
        .layer(DefaultBodyLimit::max(body_limit))
        // A body that arrives too slowly (or stops arriving) is cut off with a 408 rather than
        // holding the connection; inside the trace layer, so the 408 is logged with its request id.
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, request_timeout))
        .layer(middleware::map_response(timeout_envelope))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let request_id = request
                        .headers()
                        .get(rookery_shared::REQUEST_ID_HEADER)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id)
                })
                // One access line per request (status, latency), inside the span, so it carries the request id.
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO).latency_unit(LatencyUnit::Micros)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(RandomRequestId))
        .layer(CatchPanicLayer::custom(|_| -> Response {
            ApiError::Internal(anyhow::anyhow!("a handler panicked")).into_response()
        }))
        .layer(middleware::from_fn(headers::protect))
        // Outermost: 408s and panics are counted too.
        .layer(middleware::from_fn_with_state(state.clone(), metrics::track))
        .with_state(state);
    Ok(router)
}

/// Gives the timeout layer's bodiless 408 the contract's envelope.
async fn timeout_envelope(response: Response) -> Response {
    if response.status() == StatusCode::REQUEST_TIMEOUT {
        return ApiError::RequestTimeout.into_response();
    }
    response
}

/// Request ids for direct calls (the edge sends its own).
#[derive(Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let id = format!("{:016x}", rand::random::<u64>());
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}
