//! What the edge passes to the origin and back, observed on a stub origin that records every request,
//! and the edge's answer when no origin is there at all.

use std::sync::{Arc, Mutex};

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::IntoResponse,
    routing::get,
    Json, Router,
};
use rookery_shared::{
    edge_assertion::{self, EdgeAssertion, Target, HEADER as EDGE_HEADER},
    error::messages,
    ids::{SessionId, UserId},
    keys::KeyRing,
    token::{self, Claims},
};
use serde_json::json;

use crate::harness::{free_port, now_secs, Edge, EdgeVars};

#[derive(Debug, Clone)]
struct Recorded {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

type Log = Arc<Mutex<Vec<Recorded>>>;

/// An origin that records each request, says every session is live, and answers a fixed body.
async fn start_stub_origin() -> (u16, Log) {
    let log: Log = Arc::default();
    let record = |State(log): State<Log>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes| async move {
        // An absolute redirect to the origin's own address, as frameworks write them.
        let redirect = (uri.path() == "/api/redirect").then(|| {
            let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or_default();
            format!("http://{host}/api/elsewhere/?page=2")
        });
        log.lock().expect("log").push(Recorded { method, uri, headers, body });
        if let Some(location) = redirect {
            return (StatusCode::PERMANENT_REDIRECT, [("location", location)]).into_response();
        }
        (StatusCode::CREATED, [("x-origin-header", "kept")], Json(json!({"from": "stub"}))).into_response()
    };
    let app = Router::new()
        .route(
            "/internal/sessions/{id}",
            get(|State(log): State<Log>, uri: Uri, headers: HeaderMap| async move {
                log.lock().expect("log").push(Recorded { method: Method::GET, uri, headers, body: Bytes::new() });
                Json(json!({"active": true}))
            }),
        )
        .fallback(record)
        .with_state(log.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener.local_addr().expect("an address").port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (port, log)
}

fn stub_vars(port: u16) -> EdgeVars {
    EdgeVars {
        origin_url: format!("http://127.0.0.1:{port}"),
        environment: "test".into(),
        token_keys: KeyRing::single("e2e-stub-token-secret"),
        edge_keys: KeyRing::single("e2e-stub-edge-secret"),
        session_cache_secs: 4,
        feed_cache_secs: 5,
        public_cache_secs: 0,
        rate_limits: false,
        trust_cf_connecting_ip: false,
        max_body_bytes: None,
    }
}

fn target<'a>(method: &'a str, path: &'a str, query: Option<&'a str>) -> Target<'a> {
    Target { method, path, query }
}

/// A multipart body of a little over 150 KB whose bytes are not valid UTF-8.
fn multipart_body(boundary: &str) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\nhello edge\r\n").as_bytes(),
    );
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.png\"\r\n\
             Content-Type: image/png\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend((0..150_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_reach_the_origin_intact_with_a_signed_assertion() {
    let (port, log) = start_stub_origin().await;
    let edge = Edge::start(stub_vars(port)).await;
    let now = now_secs();
    let claims = Claims { user_id: UserId(7), session_id: SessionId(9), issued_at: now, expires_at: now + 600 };
    let bearer = token::sign(&edge.vars.token_keys, &claims);
    let boundary = "e2e-boundary-7f3a";
    let body = multipart_body(boundary);

    let response = reqwest::Client::new()
        .post(format!("{}/api/tweets/?user_id=7&q=a%20b", edge.url))
        .bearer_auth(&bearer)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .header("x-request-id", "e2e-forward-1")
        .header("x-custom", "passed")
        .header("cf-connecting-ip", "203.0.113.50")
        .header(EDGE_HEADER, "v1;0;1;1;6.6.6.6;spoofed;AAAA")
        .body(body.clone())
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    assert_eq!(response.headers()["x-origin-header"], "kept");
    assert_eq!(response.headers()["x-request-id"], "e2e-forward-1");
    assert_eq!(response.json::<serde_json::Value>().await.expect("json"), json!({"from": "stub"}));

    let log = log.lock().expect("log").clone();
    let [check, forwarded] = &log[..] else { panic!("expected a session check and the request: {log:#?}") };

    assert_eq!(check.uri.path(), "/internal/sessions/9");
    let check_assertion = check.headers[EDGE_HEADER].to_str().expect("ascii");
    let check_assertion = EdgeAssertion::decode(
        &edge.vars.edge_keys,
        check_assertion,
        target("GET", "/internal/sessions/9", None),
        now_secs(),
    )
    .expect("the session check carries a valid assertion");
    assert_eq!(check_assertion.request_id, "e2e-forward-1");
    assert_eq!(check_assertion.body_sha256, edge_assertion::body_digest(b""));

    assert_eq!(forwarded.method, Method::POST);
    assert_eq!(forwarded.uri.to_string(), "/api/tweets/?user_id=7&q=a%20b");
    assert_eq!(forwarded.body.len(), body.len());
    assert!(forwarded.body[..] == body[..], "the body changed on the way");
    assert_eq!(forwarded.headers["content-type"], format!("multipart/form-data; boundary={boundary}").as_str());
    assert_eq!(forwarded.headers["x-custom"], "passed");
    assert_eq!(forwarded.headers["x-request-id"], "e2e-forward-1");
    assert!(!forwarded.headers.contains_key("cf-connecting-ip"));
    let values: Vec<_> = forwarded.headers.get_all(EDGE_HEADER).iter().collect();
    assert_eq!(values.len(), 1, "the client's assertion must be dropped, not appended to");
    let value = values[0].to_str().expect("ascii");
    let assertion = EdgeAssertion::decode(
        &edge.vars.edge_keys,
        value,
        target("POST", "/api/tweets/", Some("user_id=7&q=a%20b")),
        now_secs(),
    )
    .expect("a valid assertion for this method, path and query");
    assert_eq!(assertion.user, Some((UserId(7), SessionId(9))));
    // Not trusted by default: the client wrote CF-Connecting-IP itself, so the edge does not know the IP.
    assert_eq!(assertion.client_ip, "unknown");
    assert_eq!(assertion.request_id, "e2e-forward-1");
    assert_eq!(assertion.body_sha256, edge_assertion::body_digest(&body), "the assertion names the body forwarded");
    for other in [target("POST", "/api/tweets/", None), target("POST", "/api/tweets/", Some("user_id=8&q=a%20b"))] {
        assert!(
            EdgeAssertion::decode(&edge.vars.edge_keys, value, other, now_secs()).is_err(),
            "the assertion is bound to the query: {other:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn anonymous_requests_and_redirects_pass_through() {
    let (port, log) = start_stub_origin().await;
    let edge = Edge::start(stub_vars(port)).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("a client");

    let response = client.delete(format!("{}/api/comments/5/", edge.url)).send().await.expect("an answer");
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    let redirect = client.get(format!("{}/api/redirect", edge.url)).send().await.expect("an answer");
    assert_eq!(redirect.status(), reqwest::StatusCode::PERMANENT_REDIRECT);
    // The origin's own address is rewritten to the edge's, the client's way back in.
    assert_eq!(redirect.headers()["location"], format!("{}/api/elsewhere/?page=2", edge.url).as_str());

    let log = log.lock().expect("log").clone();
    assert_eq!(log.len(), 2, "no session check without a token: {log:#?}");
    let request_id = log[0].headers["x-request-id"].to_str().expect("ascii");
    let assertion = EdgeAssertion::decode(
        &edge.vars.edge_keys,
        log[0].headers[EDGE_HEADER].to_str().expect("ascii"),
        target("DELETE", "/api/comments/5/", None),
        now_secs(),
    )
    .expect("a valid assertion");
    assert_eq!(assertion.user, None);
    assert_eq!(assertion.body_sha256, edge_assertion::body_digest(b""));
    assert_eq!(assertion.request_id, request_id);
}

/// The Fetch API cannot build a GET or HEAD request with a body; the edge once answered such a request
/// with a 500. It forwards it without the body instead.
#[tokio::test(flavor = "multi_thread")]
async fn a_get_with_a_body_is_forwarded_without_it() {
    let (port, log) = start_stub_origin().await;
    let edge = Edge::start(stub_vars(port)).await;
    let client = reqwest::Client::new();

    for method in [Method::GET, Method::HEAD] {
        let response = client
            .request(method.clone(), format!("{}/api/accounts/login/", edge.url))
            .header("content-type", "application/json")
            .body(r#"{"username": "linghu_chong"}"#)
            .send()
            .await
            .expect("an answer");
        assert_eq!(response.status(), reqwest::StatusCode::CREATED, "{method}");
    }

    let log = log.lock().expect("log").clone();
    let methods: Vec<_> = log.iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, [Method::GET, Method::HEAD], "{log:#?}");
    assert!(log.iter().all(|r| r.body.is_empty()), "{log:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_origin_gets_the_502_envelope() {
    let vars = stub_vars(free_port());
    let edge = Edge::start(vars.clone()).await;
    let now = now_secs();
    let claims = Claims { user_id: UserId(1), session_id: SessionId(2), issued_at: now, expires_at: now + 600 };
    let bearer = token::sign(&vars.token_keys, &claims);

    for token in [None, Some(bearer.as_str())] {
        let mut request = reqwest::Client::new().get(format!("{}/api/accounts/login_status/", edge.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("an answer");
        assert_eq!(response.status(), reqwest::StatusCode::BAD_GATEWAY, "token: {token:?}");
        assert!(response.headers()["content-type"].to_str().is_ok_and(|t| t.starts_with("application/json")));
        assert!(response.headers().contains_key("x-request-id"));
        let body: serde_json::Value = response.json().await.expect("a JSON body");
        assert_eq!(body, json!({"detail": messages::BAD_GATEWAY}));
    }
}

/// A POST of `len` bytes sent with `Transfer-Encoding: chunked` (no `Content-Length`) in 16 KiB
/// chunks, over a plain socket; the answer's status code.
fn post_chunked(base: &str, path: &str, len: usize) -> u16 {
    use std::io::{Read, Write};
    let address = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).expect("the edge accepts a connection");
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30))).expect("a timeout");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/octet-stream\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    // The edge may answer and close before the last chunk: a failed write is not the test's concern.
    let _ = stream.write_all(head.as_bytes());
    let chunk = vec![b'x'; 16 * 1024];
    let mut sent = 0;
    while sent < len {
        let n = chunk.len().min(len - sent);
        let framed = [format!("{n:x}\r\n").as_bytes(), &chunk[..n], b"\r\n"].concat();
        if stream.write_all(&framed).is_err() {
            break;
        }
        sent += n;
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    answer
        .split(' ')
        .nth(1)
        .and_then(|status| status.parse().ok())
        .unwrap_or_else(|| panic!("an HTTP answer: {answer:?}"))
}

/// The edge holds a body whole to sign its digest, so it caps it: past `MAX_BODY_BYTES`, declared or
/// streamed, the client gets the contract's 413 envelope and the origin nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_body_over_the_limit_gets_413_and_never_reaches_the_origin() {
    let (port, log) = start_stub_origin().await;
    let edge = Edge::start(EdgeVars { max_body_bytes: Some(100_000), ..stub_vars(port) }).await;
    let client = reqwest::Client::new();
    let boundary = "e2e-boundary-large";
    let multipart = multipart_body(boundary);
    assert!(multipart.len() > 100_000);

    let response = client
        .post(format!("{}/api/tweets/", edge.url))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(multipart)
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), reqwest::StatusCode::PAYLOAD_TOO_LARGE);
    assert!(response.headers().contains_key("x-request-id"));
    let body: serde_json::Value = response.json().await.expect("a JSON body");
    assert_eq!(body, json!({"success": false, "message": "Request body is too large."}));

    let url = edge.url.clone();
    let status = tokio::task::spawn_blocking(move || post_chunked(&url, "/api/tweets/", 150_000))
        .await
        .expect("the chunked upload ran");
    assert_eq!(status, 413, "a chunked body without Content-Length is capped too");
    assert!(log.lock().expect("log").is_empty(), "nothing reached the origin");

    // At the limit it passes, byte for byte.
    let exact = vec![7u8; 100_000];
    let response =
        client.post(format!("{}/api/tweets/", edge.url)).body(exact.clone()).send().await.expect("an answer");
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    let url = edge.url.clone();
    let status = tokio::task::spawn_blocking(move || post_chunked(&url, "/api/tweets/", 90_000))
        .await
        .expect("the chunked upload ran");
    assert_eq!(status, 201, "a chunked body under the limit passes");
    let log = log.lock().expect("log").clone();
    let sizes: Vec<usize> = log.iter().map(|r| r.body.len()).collect();
    assert_eq!(sizes, [100_000, 90_000], "{log:#?}");
    assert!(log[0].body[..] == exact[..]);
}
