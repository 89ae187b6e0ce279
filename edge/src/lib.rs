//! The Rookery edge: a Cloudflare Worker in front of the origin. It answers what it can decide alone
//! (bad credentials, an unreachable origin) and forwards everything else with a signed statement of
//! what it established about the request.
//!
//! Layout, one concern per module:
//! - [`config`]: the typed configuration, read from the worker's bindings.
//! - [`client`]: the request id and the client IP.
//! - [`auth`]: bearer token → [`auth::Identity`], using [`session`] for the liveness check.
//! - [`session`]: the origin's answer on whether a session is live, cached in the Cache API, and its
//!   purge on logout.
//! - [`forward`]: the request to the origin and its answer back.
//! - [`errors`]: every answer the edge gives itself, as the contract's JSON envelopes.
//!
//! A request's flow ([`handle`]): read the config; note the request id and client IP; authenticate
//! (a present `Authorization` header must be a valid, live bearer token, else 401 here); forward to
//! the origin with the `x-rookery-edge` assertion; after a successful logout, purge that session's
//! cached status. Every response, the edge's own or the origin's, carries `x-request-id`.
//!
//! Rate limiting (a Durable Object per key) and the per-user newsfeed cache slot into [`handle`]
//! between authentication and forwarding: both need the identity and client, and both may answer
//! without reaching the origin.

mod auth;
mod client;
mod config;
mod errors;
mod forward;
mod session;

use rookery_shared::REQUEST_ID_HEADER;
use worker::{console_error, event, Context, Date, Env, Request, Response};

use crate::{
    auth::Identity, client::Client, config::Config, errors::EdgeError, forward::Forwarding,
};

#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let client = Client::from_headers(request.headers());
    let mut response = handle(request, &env, &client)
        .await
        .unwrap_or_else(|error| {
            if error.status() >= 500 {
                console_error!("[{}] {error}", client.request_id);
            }
            error.into_response()
        });
    // Responses built by the edge have mutable headers, so this cannot fail in practice; if it ever
    // did, the response is still worth returning.
    let _ = response
        .headers_mut()
        .set(REQUEST_ID_HEADER, &client.request_id);
    Ok(response)
}

async fn handle(request: Request, env: &Env, client: &Client) -> Result<Response, EdgeError> {
    let config = Config::from_env(env)?;
    let now = now_secs();
    let identity = auth::authenticate(request.headers(), &config, client, now).await?;

    let logout_session = match identity {
        Identity::User { session_id, .. }
            if session::is_logout(&request.inner().method(), &request.path()) =>
        {
            Some(session_id)
        }
        _ => None,
    };
    let response = forward::to_origin(
        request,
        Forwarding {
            config: &config,
            client,
            identity,
            now,
        },
    )
    .await?;
    if let Some(session_id) = logout_session {
        if (200..300).contains(&response.status_code()) {
            session::forget(session_id, &config).await;
        }
    }
    Ok(response)
}

/// Seconds since the Unix epoch. Inside a request the runtime's clock only advances across I/O, which
/// is precise enough for token expiry and the assertion's 30-second window.
fn now_secs() -> i64 {
    i64::try_from(Date::now().as_millis() / 1000).unwrap_or(i64::MAX)
}
