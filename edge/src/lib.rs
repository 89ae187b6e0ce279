//! The Rookery edge: a Cloudflare Worker in front of the origin. It answers what it can decide alone
//! (paths outside the public API, bad credentials, rate limits, fresh newsfeed pages, an unreachable
//! origin) and forwards the rest with a signed statement of what it established about the request.
//!
//! Layout, one concern per module:
//! - [`config`]: the typed configuration, read from the worker's bindings.
//! - [`public_api`]: the paths that are forwarded at all; anything else is a 404 here.
//! - [`client`]: the request id and the client IP.
//! - [`auth`]: bearer token → [`auth::Identity`], using [`session`] for the liveness check.
//! - [`session`]: the origin's answer on whether a session is live, cached in the Cache API, and its
//!   purge on logout.
//! - [`ratelimit`]: the contract's rate limits, counted by [`limiter_object::Limiter`], a Durable
//!   Object per caller that also holds each user's feed generation.
//! - [`feed_cache`]: which reads are a user's newsfeed pages, their keys, and the feed generation in
//!   those keys, moved on after each of the user's writes.
//! - [`public_cache`]: which reads are anonymous public reads (tweets, friendships, comments), shared by
//!   all anonymous callers for a few seconds, and their keys.
//! - [`page_cache`]: the lookup and store of both kinds of page in the Cache API.
//! - [`forward`]: the request to the origin and its answer back.
//! - [`errors`]: every answer the edge gives itself, as the contract's JSON envelopes.
//!
//! A request's flow ([`handle`]): read the config; note the request id and client IP; answer 404 for
//! a path outside the public API; authenticate (a present `Authorization` header must be a valid,
//! live bearer token, else 401 here); count the request against its rate limit (429 here when past
//! it); answer a user's newsfeed read from the feed cache, or an anonymous public read from the
//! public cache, when the page is there; otherwise read the body (413 past `MAX_BODY_BYTES`) and
//! forward it to the origin with the `x-rookery-edge` assertion, which signs its digest, and store a
//! fresh cacheable page; after a user's successful write move their feed generation on (after a
//! logout, also purge that session's cached status). Every response, the edge's own or the origin's,
//! carries `x-request-id`; limited ones carry `RateLimit-*`, cacheable reads `X-Cache`.

mod auth;
mod client;
mod config;
mod errors;
mod feed_cache;
mod forward;
mod limiter_object;
mod page_cache;
mod public_api;
mod public_cache;
mod ratelimit;
mod session;

use rookery_shared::REQUEST_ID_HEADER;
use worker::{console_error, console_warn, event, Context, Date, Env, Request, Response};

use crate::{auth::Identity, client::Client, config::Config, errors::EdgeError, forward::Forwarding};

#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let request_id = client::request_id(request.headers());
    let outcome = match Config::from_env(&env) {
        Ok(config) => {
            let client = Client::new(request_id.clone(), request.headers(), config.trust_cf_connecting_ip);
            handle(request, &env, &config, &client).await
        }
        Err(error) => Err(error.into()),
    };
    let mut response = outcome.unwrap_or_else(|error| {
        if error.status() >= 500 {
            console_error!("[{request_id}] {error}");
        }
        error.into_response()
    });
    // Responses built by the edge have mutable headers, so this cannot fail in practice; if it ever
    // did, the response is still worth returning.
    let _ = response.headers_mut().set(REQUEST_ID_HEADER, &request_id);
    Ok(response)
}

async fn handle(request: Request, env: &Env, config: &Config, client: &Client) -> Result<Response, EdgeError> {
    if !public_api::is_forwarded(&request.path()) {
        return Err(EdgeError::NotFound);
    }
    let now = now_secs();
    let identity = auth::authenticate(request.headers(), config, client, now).await?;
    let method = request.inner().method();
    let path = request.path();

    let admitted =
        if config.rate_limits { ratelimit::check(env, &method, &path, identity, client).await? } else { None };
    let (limit_headers, generation) = admitted.map(|a| (a.headers, a.generation)).unwrap_or_default();

    let feed_key = match identity {
        Identity::User { user_id, session_id }
            if config.feed_cache_secs > 0 && feed_cache::is_feed_read(&method, &path) =>
        {
            let generation = match generation {
                Some(generation) => Some(generation),
                None => feed_cache::generation(env, user_id)
                    .await
                    .map_err(|error| {
                        console_warn!("[{}] feed cache skipped: {error}", client.request_id);
                    })
                    .ok(),
            };
            let query = request.url()?.query().map(str::to_owned);
            generation.map(|g| feed_cache::key(config, user_id, session_id, g, query.as_deref()))
        }
        _ => None,
    };
    let cache = match feed_key {
        Some(key) => Some((key, config.feed_cache_secs)),
        None => {
            let query = request.url()?.query().map(str::to_owned);
            public_cache::key(config, identity, &method, &path, query.as_deref())
                .map(|key| (key, config.public_cache_secs))
        }
    };
    if let Some((key, _)) = &cache {
        if let Some(mut hit) = page_cache::lookup(key).await {
            set_headers(&mut hit, &limit_headers, Some("HIT"));
            return Ok(hit);
        }
    }

    let writer = match identity {
        Identity::User { user_id, .. } if feed_cache::is_write(&method) => Some(user_id),
        _ => None,
    };
    let logout_session = match identity {
        Identity::User { session_id, .. } if session::is_logout(&method, &path) => Some(session_id),
        _ => None,
    };
    let mut response = forward::to_origin(request, Forwarding { config, client, identity, now }).await?;
    let succeeded = (200..300).contains(&response.status_code());
    if let Some((key, max_age)) = &cache {
        response = page_cache::store(key, response, *max_age).await?;
    }
    if let (Some(user_id), true) = (writer, succeeded) {
        // Before the answer leaves: the user's next feed read must not find a page from before.
        if let Err(error) = feed_cache::bump(env, user_id).await {
            console_error!(
                "[{}] feed generation not moved on; the user's cached pages may lag by up to {}s: {error}",
                client.request_id,
                config.feed_cache_secs
            );
        }
    }
    if let (Some(session_id), true) = (logout_session, succeeded) {
        session::forget(session_id, config).await;
    }
    set_headers(&mut response, &limit_headers, cache.is_some().then_some("MISS"));
    Ok(response)
}

/// Adds the rate-limit headers and, on a cacheable read, `X-Cache`. The responses here all have mutable
/// headers (built by the edge or copied from the origin's), so `set` cannot fail in practice.
fn set_headers(response: &mut Response, limit_headers: &[(&str, String)], cache: Option<&str>) {
    let headers = response.headers_mut();
    for (name, value) in limit_headers {
        let _ = headers.set(name, value);
    }
    if let Some(cache) = cache {
        let _ = headers.set(page_cache::X_CACHE, cache);
    }
}

/// Seconds since the Unix epoch. Inside a request the runtime's clock only advances across I/O, which
/// is precise enough for token expiry and the assertion's 30-second window.
fn now_secs() -> i64 {
    i64::try_from(Date::now().as_millis() / 1000).unwrap_or(i64::MAX)
}
