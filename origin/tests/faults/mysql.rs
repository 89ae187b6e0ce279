//! MySQL stopped under a running origin: writes get a clear 503, at once once the origin knows the server
//! is gone (its breaker), nothing is half written, and once the server is back the same process serves
//! again without a restart.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use rookery_origin::testing::{eventually, spawn_app};
use rookery_shared::error::messages;
use serde_json::{json, Value};

use crate::services::{self, Service, Stopped};

/// The pool waits 3 s for a connection; an answer may take a little longer than that.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);
/// Far below the pool's 3 s wait: an answer this quick did not wait for a connection.
const FAST: Duration = Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_get_503_while_mysql_is_down_and_the_origin_recovers_by_itself() {
    let _exclusive = services::exclusive().await;
    let app = spawn_app().await;
    let author = app.signup("author_ada").await;
    let fan = app.signup("fan_bob").await;
    app.follow(&fan, &author).await;
    let first = app.post_tweet(&author, "before").await["id"].as_u64().expect("an id");
    let (status, comment) =
        app.post("/api/comments/", Some(&fan.token), json!({"tweet_id": first, "content": "nice"})).await;
    assert_eq!(status, StatusCode::CREATED, "{comment}");
    assert!(
        eventually(Duration::from_secs(30), || async {
            app.collect_ids("/api/newsfeeds/", Some(&fan.token)).await == [first]
        })
        .await
    );

    let outage = Stopped::stop(Service::MariaDb).await;
    let down_at = Instant::now();
    let (status, ready) = app.admin_get("/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "readyz with MySQL down: {ready}");

    let writes: [(Method, String, Option<&str>, Value); 7] = [
        (Method::POST, "/api/tweets/".into(), Some(&author.token), json!({"content": "during"})),
        (Method::POST, "/api/comments/".into(), Some(&fan.token), json!({"tweet_id": first, "content": "during"})),
        (Method::POST, "/api/likes/".into(), Some(&fan.token), json!({"content_type": "tweet", "object_id": first})),
        (Method::POST, format!("/api/friendships/{}/unfollow/", author.id), Some(&fan.token), json!({})),
        (Method::DELETE, format!("/api/tweets/{first}/"), Some(&author.token), json!({})),
        (
            Method::POST,
            "/api/accounts/signup/".into(),
            None,
            json!({"username": "during_cyd", "email": "cyd@example.com", "password": "correct horse"}),
        ),
        (
            Method::POST,
            "/api/accounts/login/".into(),
            None,
            json!({"username": "author_ada", "password": "correct horse"}),
        ),
    ];
    let mut slow = 0;
    for (method, path, token, body) in &writes {
        let sent = Instant::now();
        let (status, answer) = app.request(method.clone(), path, *token, Some(body.clone())).await;
        let took = sent.elapsed();
        println!("mysql down: {method} {path} → {status} in {took:.1?}");
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{method} {path} with MySQL down: {answer}");
        assert_eq!(answer, json!({"detail": messages::ORIGIN_UNAVAILABLE}), "{method} {path}");
        assert!(took < ANSWER_WITHIN, "{method} {path} took {took:?}");
        slow += usize::from(took >= FAST);
    }
    // The readiness probe found the server gone; after that only the breaker's probes wait (one a second).
    assert!(slow <= 2, "{slow} of {} writes waited for the pool instead of failing fast", writes.len());
    // Reads either come from Redis or get the same clear 503; never anything else.
    for path in
        ["/api/newsfeeds/".to_owned(), format!("/api/tweets/{first}/"), format!("/api/tweets/?user_id={}", author.id)]
    {
        let (status, answer) = app.get(&path, Some(&fan.token)).await;
        println!("mysql down: GET {path} → {status}");
        assert!(matches!(status, StatusCode::OK | StatusCode::SERVICE_UNAVAILABLE), "GET {path}: {status} {answer}");
    }

    outage.start().await;
    let back = Instant::now();
    println!("mysql down: the server was stopped for {:.1?}", back - down_at);
    let recovered = eventually(Duration::from_secs(60), || async {
        app.post("/api/tweets/", Some(&author.token), json!({"content": "after the outage"})).await.0
            == StatusCode::CREATED
    })
    .await;
    assert!(recovered, "the origin did not serve writes again without a restart");
    println!("mysql down: writes accepted again {:.1?} after the server answered", back.elapsed());

    // Nothing from the outage was written, and everything from before is intact.
    let tweets = app.collect_ids(&format!("/api/tweets/?user_id={}", author.id), Some(&author.token)).await;
    assert_eq!(tweets.len(), 2, "the author's tweets: {tweets:?}");
    assert_eq!(tweets[1], first);
    let after = tweets[0];
    let (_, detail) = app.get(&format!("/api/tweets/{first}/"), Some(&fan.token)).await;
    assert_eq!(detail["comments_count"], 1, "{detail}");
    assert_eq!(detail["likes_count"], 0, "{detail}");
    let (_, user) = app.get(&format!("/api/friendships/{}/followers/", author.id), Some(&fan.token)).await;
    assert_eq!(user["results"].as_array().map(Vec::len), Some(1), "the follow was kept: {user}");
    let (status, _) =
        app.post("/api/accounts/login/", None, json!({"username": "during_cyd", "password": "correct horse"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the signup during the outage left an account");
    assert!(
        eventually(Duration::from_secs(30), || async {
            app.collect_ids("/api/newsfeeds/", Some(&fan.token)).await == [after, first]
        })
        .await,
        "the fan's feed after recovery"
    );
}
