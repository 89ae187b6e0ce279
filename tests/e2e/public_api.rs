//! Only the public API goes through the edge: `/api/...`, `/docs` and `/openapi.json`. The origin's
//! own calls (`/internal/...`) and its operators' endpoints get the edge's 404 envelope, whatever
//! credentials come with them, and the origin is never asked.

use reqwest::{Method, StatusCode};
use rookery_shared::{error::messages, token};
use serde_json::json;

use crate::harness::{now_secs, spawn_stack};

#[tokio::test(flavor = "multi_thread")]
async fn paths_outside_the_public_api_are_answered_404_by_the_edge() {
    let stack = spawn_stack(4).await;
    let account = stack.signup("private_paths").await;
    // A live session: forwarded with the edge's assertion, this path would answer {"active": true}.
    let login_status = stack.edge(Method::GET, "/api/accounts/login_status/", Some(&account.token), None).await;
    assert_eq!(login_status.status, StatusCode::OK, "{}", login_status.body);

    let claims =
        token::verify(&stack.origin.config.auth.token_keys, &account.token, now_secs()).expect("a valid token");
    let served = stack.origin.requests_served().await;
    let paths = [
        "/internal/sessions/1".to_owned(),
        // The caller's own session.
        format!("/internal/sessions/{}", claims.session_id),
        "/metrics".to_owned(),
        "/readyz".to_owned(),
        "/".to_owned(),
    ];
    for path in &paths {
        // Decided before authentication: a good, a bad or no token makes no difference.
        for token in [None, Some(account.token.as_str()), Some("not-a-token")] {
            let mut request = stack.client.get(format!("{}{path}", stack.edge.url));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.expect("an answer");
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path} {token:?}");
            assert!(response.headers().contains_key("x-request-id"), "{path}");
            let text = response.text().await.expect("a body");
            assert!(!text.contains("active") && !text.contains("rookery_"), "{path}: {text}");
            let body: serde_json::Value = serde_json::from_str(&text).expect("JSON");
            assert_eq!(body, json!({"detail": messages::NOT_FOUND}), "{path}");
        }
    }
    for method in [Method::POST, Method::DELETE] {
        let reply = stack.edge(method.clone(), "/internal/sessions/1", None, None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method}");
    }
    // Dot segments, sent as they are (an HTTP client library would resolve them first): the edge
    // sees the resolved path.
    for raw in ["/api/../internal/sessions/1", "/api/%2e%2e/internal/sessions/1", "/api/./../metrics"] {
        let url = stack.edge.url.clone();
        let (status, body) = tokio::task::spawn_blocking(move || raw_get(&url, raw)).await.expect("the request ran");
        assert_eq!(status, 404, "{raw}: {body}");
        assert!(body.contains(messages::NOT_FOUND) && !body.contains("active"), "{raw}: {body}");
    }
    assert_eq!(
        stack.origin.requests_served().await,
        served,
        "the origin was asked about a path outside the public API"
    );
    // What the public document describes besides `/api/` still passes: liveness and the explorer.
    for path in ["/healthz", "/openapi.json"] {
        let reply = stack.edge(Method::GET, path, None, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
    }
}

/// `GET <path>` with the path written exactly as given; the status and the raw answer.
fn raw_get(base: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let address = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).expect("the edge accepts a connection");
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30))).expect("a timeout");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("the request is sent");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|status| status.parse().ok())
        .unwrap_or_else(|| panic!("an HTTP answer: {answer:?}"));
    (status, answer)
}
