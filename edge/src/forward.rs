//! Passing a request to the origin and its answer back.
//!
//! The origin receives the client's method, path, query, headers and body bytes (streamed, not
//! buffered, so uploads of any size pass unchanged), minus hop-by-hop headers, Cloudflare's own `cf-*`
//! headers and anything claiming to be an edge assertion. The edge adds `x-rookery-edge` (who it
//! authenticated, the client IP and the request id, signed for this method and path) and
//! `x-request-id`. The origin's status, headers and body come back as they are; only a `Location`
//! pointing at the origin itself is rewritten to the public address.

use rookery_shared::{
    edge_assertion::{self, EdgeAssertion},
    REQUEST_ID_HEADER,
};
use worker::{
    console_error, web_sys, Fetch, Headers, Request, Response, ResponseBody, ResponseBuilder, Url,
};

use crate::{auth::Identity, client::Client, config::Config, errors::EdgeError};

/// Connection-level headers (RFC 9110 §7.6.1) that describe one hop and must not be relayed.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Headers the edge sets itself on the way to the origin; a client's values are dropped.
const EDGE_OWNED: &[&str] = &[
    edge_assertion::HEADER,
    REQUEST_ID_HEADER,
    "host",
    "x-forwarded-host",
    "x-forwarded-proto",
];

/// What the origin needs to know about a request beyond the request itself.
pub struct Forwarding<'a> {
    pub config: &'a Config,
    pub client: &'a Client,
    pub identity: Identity,
    pub now: i64,
}

pub async fn to_origin(
    request: Request,
    forwarding: Forwarding<'_>,
) -> Result<Response, EdgeError> {
    let Forwarding {
        config,
        client,
        identity,
        now,
    } = forwarding;
    let public_url = request.url()?;
    let inner = request.inner();
    let method = inner.method();
    let path = public_url.path();

    let headers = Headers::new();
    copy_headers(request.headers(), &headers, |name| {
        EDGE_OWNED.contains(&name) || name.starts_with("cf-")
    })?;
    let assertion = EdgeAssertion {
        issued_at: now,
        user: identity.user(),
        client_ip: client.ip.clone(),
        request_id: client.request_id.clone(),
    };
    headers.set(
        edge_assertion::HEADER,
        &assertion.encode(config.edge_secret.as_bytes(), &method, path),
    )?;
    headers.set(REQUEST_ID_HEADER, &client.request_id)?;
    if let Some(host) = public_url.host_str() {
        let host = match public_url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        headers.set("x-forwarded-host", &host)?;
    }
    headers.set("x-forwarded-proto", public_url.scheme())?;

    let init = web_sys::RequestInit::new();
    init.set_method(&method);
    init.set_headers(&headers.0);
    // The origin's redirects are the client's to follow, not the edge's.
    init.set_redirect(web_sys::RequestRedirect::Manual);
    // The Fetch API refuses to build a GET or HEAD request with a body (a runtime error, so a 500),
    // while clients may send one. Such a body has no defined meaning (RFC 9110 §9.3.1) and the origin
    // reads none on these methods, so it is dropped and the origin answers as it would without it.
    if let Some(body) = inner.body().filter(|_| !bodiless(&method)) {
        init.set_body(&body);
    }
    let mut target = format!("{}{path}", config.origin_url);
    if let Some(query) = public_url.query() {
        target.push('?');
        target.push_str(query);
    }
    let outgoing =
        web_sys::Request::new_with_str_and_init(&target, &init).map_err(worker::Error::from)?;

    let response = Fetch::Request(Request::from(outgoing))
        .send()
        .await
        .map_err(|error| {
            console_error!(
                "[{}] {method} {path}: origin unreachable: {error}",
                client.request_id
            );
            EdgeError::BadGateway
        })?;
    relay(response, config, &public_url)
}

/// Methods whose requests the Fetch API builds only without a body.
fn bodiless(method: &str) -> bool {
    method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD")
}

/// The origin's answer with fresh, mutable headers (a fetched response's headers are immutable).
fn relay(response: Response, config: &Config, public_url: &Url) -> Result<Response, EdgeError> {
    let headers = Headers::new();
    copy_headers(response.headers(), &headers, |_| false)?;
    if let Some(location) = response.headers().get("location")? {
        let rest = location
            .strip_prefix(&config.origin_url)
            .filter(|rest| rest.is_empty() || rest.starts_with(['/', '?']));
        if let Some(rest) = rest {
            let public_origin = public_url.origin().ascii_serialization();
            headers.set("location", &format!("{public_origin}{rest}"))?;
        }
    }
    let builder = ResponseBuilder::new()
        .with_status(response.status_code())
        .with_headers(headers);
    Ok(match response.body() {
        ResponseBody::Stream(stream) => builder.stream(stream.clone()),
        ResponseBody::Body(bytes) => builder.fixed(bytes.clone()),
        ResponseBody::Empty => builder.empty(),
    })
}

/// Copies every header except hop-by-hop ones, those the `Connection` header names, and those `skip`
/// selects. Names arrive lower-cased from the runtime.
fn copy_headers(
    from: &Headers,
    to: &Headers,
    skip: impl Fn(&str) -> bool,
) -> Result<(), EdgeError> {
    let connection = from
        .get("connection")?
        .unwrap_or_default()
        .to_ascii_lowercase();
    let named_by_connection: Vec<&str> = connection.split(',').map(str::trim).collect();
    for (name, value) in from.entries() {
        if HOP_BY_HOP.contains(&name.as_str())
            || named_by_connection.contains(&name.as_str())
            || skip(&name)
        {
            continue;
        }
        to.append(&name, &value)?;
    }
    Ok(())
}
