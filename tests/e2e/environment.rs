//! Development mode is explicit: only `ROOKERY_ENV=dev|development|test` lets the worker run with the
//! public development secrets or short ones. Anywhere else it answers every request with the 500
//! envelope, reaches no origin, and logs why.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use rookery_origin::testing::{eventually, send};
use rookery_shared::{error::messages, keys::KeyRing};
use serde_json::{json, Value};

use crate::harness::{free_port, Edge, EdgeVars};

fn vars(environment: &str, token_secret: &str, edge_secret: &str) -> EdgeVars {
    EdgeVars {
        // Nothing listens there: a configuration that is accepted shows as a 502.
        origin_url: format!("http://127.0.0.1:{}", free_port()),
        environment: environment.into(),
        token_keys: KeyRing::single(token_secret),
        edge_keys: KeyRing::single(edge_secret),
        session_cache_secs: 4,
        feed_cache_secs: 5,
        public_cache_secs: 0,
        rate_limits: false,
        trust_cf_connecting_ip: false,
        max_body_bytes: None,
    }
}

async fn get(edge: &Edge, path: &str) -> (StatusCode, Value) {
    let reply = send(&reqwest::Client::new(), &edge.url, Method::GET, path, None, None).await;
    (reply.status, reply.body)
}

#[tokio::test(flavor = "multi_thread")]
async fn outside_development_the_public_secrets_are_refused() {
    let dev_token = "rookery-dev-token-secret-change-me";
    let dev_edge = "rookery-dev-edge-secret-change-me";
    let private = "a-private-secret-of-more-than-32-characters";
    let (production, development, private_production) = tokio::join!(
        Edge::start(vars("production", dev_token, dev_edge)),
        Edge::start(vars("development", dev_token, dev_edge)),
        Edge::start(vars("production", private, &format!("{private}!"))),
    );

    for path in ["/api/accounts/login_status/", "/api/tweets/", "/metrics"] {
        let (status, body) = get(&production, path).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{path}: {body}");
        assert_eq!(body, json!({"detail": messages::INTERNAL}), "{path}");
    }
    // wrangler writes the worker's console a moment after the answer.
    eventually(Duration::from_secs(10), || async { production.log_tail().contains("public development secret") }).await;
    let log = production.log_tail();
    let reasons: Vec<&str> = log.lines().filter(|line| line.contains("public development secret")).collect();
    assert!(!reasons.is_empty(), "the reason is logged: {log}");
    assert!(
        reasons.iter().all(|line| !line.contains(dev_token) && !line.contains(dev_edge)),
        "the log names the key, never the secret: {reasons:?}"
    );

    for edge in [&development, &private_production] {
        let (status, body) = get(edge, "/api/accounts/login_status/").await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "accepted, then no origin: {body}");
    }
}
