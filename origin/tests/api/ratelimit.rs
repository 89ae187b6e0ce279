//! The contract's rate limits on direct calls to the origin (the edge limits its own traffic, and the
//! origin does not count that traffic again).

use std::time::Duration;

use reqwest::{Method, StatusCode};
use rookery_origin::testing::{self, spawn_app_with, Reply, TestApp};
use rookery_shared::edge_assertion::{self, EdgeAssertion};
use serde_json::{json, Value};

/// A request to the origin, with its headers in the reply.
async fn send(app: &TestApp, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
    testing::send(&app.client, &app.address, method, path, token, body).await
}

async fn limited_app() -> TestApp {
    spawn_app_with(|c| c.http.rate_limits = true).await
}

/// The contract's 429: the envelope, `Retry-After` and the `RateLimit-*` headers.
fn assert_limited(reply: &Reply, limit: &str, what: &str) {
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "{what}: {}", reply.body);
    assert_eq!(reply.body, json!({"detail": "Too many requests, try again later."}), "{what}");
    let retry_after: u64 = reply.header("retry-after").and_then(|v| v.parse().ok()).expect("Retry-After");
    assert!((1..=60).contains(&retry_after), "{what}: Retry-After {retry_after}");
    assert_eq!(reply.header("ratelimit-limit"), Some(limit), "{what}");
    assert_eq!(reply.header("ratelimit-remaining"), Some("0"), "{what}");
    assert!(reply.header("ratelimit-reset").is_some_and(|v| v.parse::<u64>().is_ok()), "{what}");
}

#[tokio::test]
async fn ip_limited_accounts_endpoint_refuses_the_fourth_request_in_a_second() {
    let app = limited_app().await;
    for expected_remaining in ["2", "1", "0"] {
        let reply = send(&app, Method::GET, "/api/accounts/login_status/", None, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.header("ratelimit-limit"), Some("3"));
        assert_eq!(reply.header("ratelimit-remaining"), Some(expected_remaining));
        assert_eq!(reply.header("ratelimit-policy"), Some("3;w=1"));
    }
    let refused = send(&app, Method::GET, "/api/accounts/login_status/", None, None).await;
    assert_limited(&refused, "3", "login_status");

    // Another endpoint is another budget.
    let login = send(
        &app,
        Method::POST,
        "/api/accounts/login/",
        None,
        Some(json!({"username": "nobody_here", "password": "x"})),
    )
    .await;
    assert_eq!(login.status, StatusCode::BAD_REQUEST, "{}", login.body);

    // The window slides: a second later there is room again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let again = send(&app, Method::GET, "/api/accounts/login_status/", None, None).await;
    assert_eq!(again.status, StatusCode::OK);

    let metrics = app.metrics_text().await;
    assert!(metrics.contains("rookery_rate_limited_total{scope=\"accounts_login_status\"} 1"), "{metrics}");
}

#[tokio::test]
async fn user_limits_are_per_user() {
    let app = limited_app().await;
    let alice = app.signup("rl_alice").await;
    let bob = app.signup("rl_bobby").await;
    for _ in 0..5 {
        let reply = send(&app, Method::GET, "/api/newsfeeds/", Some(&alice.token), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    let refused = send(&app, Method::GET, "/api/newsfeeds/", Some(&alice.token), None).await;
    assert_limited(&refused, "5", "alice's sixth feed read");

    let other = send(&app, Method::GET, "/api/newsfeeds/", Some(&bob.token), None).await;
    assert_eq!(other.status, StatusCode::OK, "bob is not limited by alice's reads");
    assert_eq!(other.header("ratelimit-remaining"), Some("4"));
}

#[tokio::test]
async fn tweets_are_limited_to_one_a_second_and_five_a_minute() {
    let app = limited_app().await;
    let author = app.signup("rl_author").await;
    let other = app.signup("rl_other").await;
    let post = |token: String, n: u32| {
        let app = &app;
        async move {
            send(app, Method::POST, "/api/tweets/", Some(&token), Some(json!({"content": format!("tweet number {n}")})))
                .await
        }
    };
    for n in 0..5 {
        let reply = post(author.token.clone(), n).await;
        assert_eq!(reply.status, StatusCode::CREATED, "tweet {n}: {}", reply.body);
        if n == 0 {
            let second = post(author.token.clone(), 100).await;
            assert_limited(&second, "1", "a second tweet within the second");
            assert_eq!(second.header("retry-after"), Some("1"));
        }
        tokio::time::sleep(Duration::from_millis(1050)).await;
    }
    let sixth = post(author.token.clone(), 5).await;
    assert_limited(&sixth, "5", "the sixth tweet within the minute");
    let retry_after: u64 = sixth.header("retry-after").and_then(|v| v.parse().ok()).expect("Retry-After");
    assert!((50..=60).contains(&retry_after), "waits for the minute's first tweet to age out: {retry_after}");

    let unaffected = post(other.token.clone(), 0).await;
    assert_eq!(unaffected.status, StatusCode::CREATED, "another author is not limited: {}", unaffected.body);
}

#[tokio::test]
async fn requests_the_edge_asserted_are_not_counted_again() {
    let app = limited_app().await;
    let alice = app.signup("rl_edged").await;
    let path = "/api/newsfeeds/";
    let (user_id, session_id) = session_of(&app, &alice.token);
    for _ in 0..8 {
        let now =
            i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs())
                .expect("i64");
        let assertion = EdgeAssertion {
            issued_at: now,
            user: Some((user_id.into(), session_id.into())),
            client_ip: "203.0.113.5".into(),
            request_id: "rl-edge".into(),
            body_sha256: edge_assertion::body_digest(b""),
        };
        let reply = app
            .client
            .get(format!("{}{path}", app.address))
            .header(
                edge_assertion::HEADER,
                assertion
                    .encode(&app.config.auth.edge_keys, edge_assertion::Target { method: "GET", path, query: None }),
            )
            .send()
            .await
            .expect("an answer");
        assert_eq!(reply.status(), StatusCode::OK);
        assert!(reply.headers().get("ratelimit-limit").is_none(), "edge traffic carries no origin limit headers");
    }
    // The direct budget is untouched by the edge's requests.
    let direct = send(&app, Method::GET, path, Some(&alice.token), None).await;
    assert_eq!(direct.status, StatusCode::OK);
    assert_eq!(direct.header("ratelimit-remaining"), Some("4"));
}

/// The user and session ids inside a token.
fn session_of(app: &TestApp, token: &str) -> (u64, u64) {
    let claims = rookery_shared::token::verify(&app.config.auth.token_keys, token, 0).expect("a valid token");
    (claims.user_id.0, claims.session_id.0)
}

#[tokio::test]
async fn switched_off_nothing_is_limited() {
    let app = spawn_app_with(|c| c.http.rate_limits = false).await;
    for _ in 0..6 {
        let reply = send(&app, Method::GET, "/api/accounts/login_status/", None, None).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(reply.header("ratelimit-limit").is_none());
    }
}

#[tokio::test]
async fn redis_unreachable_fails_open() {
    let app = spawn_app_with(|c| {
        c.http.rate_limits = true;
        c.redis.url = "redis://127.0.0.1:1/".into();
    })
    .await;
    for _ in 0..5 {
        let reply = send(&app, Method::GET, "/api/accounts/login_status/", None, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    let metrics = app.metrics_text().await;
    assert!(metrics.contains("rookery_rate_limit_unchecked_total 5"), "{metrics}");
}
