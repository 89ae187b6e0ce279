//! Passing a request to the origin and its answer back.
//!
//! The origin receives the client's method, path, query, headers and body bytes, minus hop-by-hop
//! headers, Cloudflare's own `cf-*` headers and anything claiming to be an edge assertion. The edge
//! adds `x-rookery-edge` (who it authenticated, the client IP, the request id and the SHA-256 of the
//! body, signed for this method, path and query string) and `x-request-id`. The origin's status,
//! headers and body come back as they are; only a `Location` pointing at the origin itself is
//! rewritten to the public address.
//!
//! The body is read whole before it is forwarded, because the assertion signs its digest: a captured
//! assertion is then good for nothing but the very same request. Reading stops, and the client gets
//! the 413 envelope, once the body passes `MAX_BODY_BYTES` (50 MiB by default, room for a tweet's nine
//! 5 MiB photos); a declared `Content-Length` over it is refused before a byte is read. The query
//! string forwarded is exactly the one signed.

use futures_util::StreamExt;
use rookery_shared::{
    edge_assertion::{self, EdgeAssertion, Target},
    REQUEST_ID_HEADER,
};
use worker::{console_error, js_sys, web_sys, Fetch, Headers, Request, Response, ResponseBody, ResponseBuilder, Url};

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
/// (`content-length` is the runtime's to set from the bytes forwarded.)
const EDGE_OWNED: &[&str] =
    &[edge_assertion::HEADER, REQUEST_ID_HEADER, "content-length", "host", "x-forwarded-host", "x-forwarded-proto"];

/// What the origin needs to know about a request beyond the request itself.
pub struct Forwarding<'a> {
    pub config: &'a Config,
    pub client: &'a Client,
    pub identity: Identity,
    pub now: i64,
}

pub async fn to_origin(mut request: Request, forwarding: Forwarding<'_>) -> Result<Response, EdgeError> {
    let Forwarding { config, client, identity, now } = forwarding;
    let public_url = request.url()?;
    let method = request.inner().method();
    let path = public_url.path();
    let query = public_url.query();
    let body = read_body(&mut request, &method, config.max_body_bytes).await?;

    let headers = Headers::new();
    copy_headers(request.headers(), &headers, |name| EDGE_OWNED.contains(&name) || name.starts_with("cf-"))?;
    let assertion = EdgeAssertion {
        issued_at: now,
        user: identity.user(),
        client_ip: client.ip.clone(),
        request_id: client.request_id.clone(),
        body_sha256: edge_assertion::body_digest(body.as_deref().unwrap_or_default()),
    };
    let target = Target { method: &method, path, query };
    headers.set(edge_assertion::HEADER, &assertion.encode(&config.edge_keys, target))?;
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
    if let Some(body) = &body {
        init.set_body(&js_sys::Uint8Array::from(body.as_slice()));
    }
    let target = origin_target(&config.origin_url, path, query);
    let outgoing = web_sys::Request::new_with_str_and_init(&target, &init).map_err(worker::Error::from)?;

    let response = Fetch::Request(Request::from(outgoing)).send().await.map_err(|error| {
        console_error!("[{}] {method} {path}: origin unreachable: {error}", client.request_id);
        EdgeError::BadGateway
    })?;
    relay(response, config, &public_url)
}

/// The origin's URL for `path` and `query`: the query string exactly as the client sent it (and as
/// the assertion signed it), an empty one included.
fn origin_target(origin_url: &str, path: &str, query: Option<&str>) -> String {
    let mut target = format!("{origin_url}{path}");
    if let Some(query) = query {
        target.push('?');
        target.push_str(query);
    }
    target
}

/// The request's body, read whole, or `None` when there is none to forward. Past `max` bytes (declared
/// or read) the request is refused with 413.
///
/// The Fetch API refuses to build a GET or HEAD request with a body (a runtime error, so a 500), while
/// clients may send one. Such a body has no defined meaning (RFC 9110 §9.3.1) and the origin reads
/// none on these methods, so it is not read and the origin answers as it would without it.
async fn read_body(request: &mut Request, method: &str, max: u64) -> Result<Option<Vec<u8>>, EdgeError> {
    if bodiless(method) || request.inner().body().is_none() {
        return Ok(None);
    }
    let declared = request.headers().get("content-length")?.and_then(|length| length.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > max) {
        return Err(EdgeError::PayloadTooLarge);
    }
    let mut stream = request.stream()?;
    let mut body = Vec::with_capacity(declared.and_then(|n| usize::try_from(n).ok()).unwrap_or(0));
    while let Some(chunk) = stream.next().await {
        body.extend_from_slice(&chunk?);
        if body.len() as u64 > max {
            return Err(EdgeError::PayloadTooLarge);
        }
    }
    Ok(Some(body))
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
        let rest =
            location.strip_prefix(&config.origin_url).filter(|rest| rest.is_empty() || rest.starts_with(['/', '?']));
        if let Some(rest) = rest {
            let public_origin = public_url.origin().ascii_serialization();
            headers.set("location", &format!("{public_origin}{rest}"))?;
        }
    }
    Ok(with_headers(&response, headers))
}

/// `response`'s status and body under `headers`: how a fetched or cached answer, whose own headers are
/// immutable, is passed on with headers the edge can still set.
pub fn with_headers(response: &Response, headers: Headers) -> Response {
    let builder = ResponseBuilder::new().with_status(response.status_code()).with_headers(headers);
    match response.body() {
        ResponseBody::Stream(stream) => builder.stream(stream.clone()),
        ResponseBody::Body(bytes) => builder.fixed(bytes.clone()),
        ResponseBody::Empty => builder.empty(),
    }
}

/// Copies every header except hop-by-hop ones, those the `Connection` header names, and those `skip`
/// selects. Names arrive lower-cased from the runtime.
fn copy_headers(from: &Headers, to: &Headers, skip: impl Fn(&str) -> bool) -> Result<(), EdgeError> {
    let connection = from.get("connection")?.unwrap_or_default().to_ascii_lowercase();
    let named_by_connection: Vec<&str> = connection.split(',').map(str::trim).collect();
    for (name, value) in from.entries() {
        if HOP_BY_HOP.contains(&name.as_str()) || named_by_connection.contains(&name.as_str()) || skip(&name) {
            continue;
        }
        to.append(&name, &value)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_gets_the_query_string_as_sent() {
        let origin = "http://127.0.0.1:8000";
        assert_eq!(
            origin_target(origin, "/api/newsfeeds/", Some("cursor=a%2Bb&x=1")),
            "http://127.0.0.1:8000/api/newsfeeds/?cursor=a%2Bb&x=1"
        );
        assert_eq!(origin_target(origin, "/api/tweets/", None), "http://127.0.0.1:8000/api/tweets/");
        assert_eq!(origin_target(origin, "/api/tweets/", Some("")), "http://127.0.0.1:8000/api/tweets/?");
    }
}
