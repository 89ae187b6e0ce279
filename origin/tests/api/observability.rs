//! Metrics and logs. The metrics test reads `/metrics` after a tweet went through the fanout. The logs
//! test runs the real `origin` binary logging JSON at `debug` (statements at `trace`), creates, uses and
//! logs out an account through it, and checks its whole output for the request ids it must carry and the
//! secrets it must not.

use std::{
    io::{BufRead, BufReader, Read},
    process::{Child, Command, Stdio},
    sync::{mpsc, Arc, Mutex},
    thread::JoinHandle,
    time::Duration,
};

use reqwest::StatusCode;
use rookery_origin::{
    testing::{self, eventually, spawn_app},
    Config,
};
use rookery_shared::{
    edge_assertion::{self, EdgeAssertion},
    ids::{SessionId, UserId},
    keys::KeyRing,
};
use serde_json::{json, Value};

#[tokio::test]
async fn metrics_show_latency_by_status_cache_hits_and_fanout_lag() {
    let app = spawn_app().await;
    let author = app.signup("metered_a").await;
    let reader = app.signup("metered_r").await;
    app.follow(&reader, &author).await;
    app.feed(&reader, "").await;
    let tweet = app.post_tweet(&author, "count me").await["id"].as_u64().expect("id");
    let arrived =
        eventually(Duration::from_secs(30), || async { app.feed(&reader, "").await["results"][0]["id"] == tweet })
            .await;
    assert!(arrived, "the tweet never reached the feed");
    app.feed(&reader, "").await;

    let metrics = app.metrics().await;
    let series = |name: &str| metrics.value(name);
    let duration = r#"rookery_http_request_duration_seconds_count{method="POST",route="/api/tweets",status="201"}"#;
    assert_eq!(series(duration), 1.0);
    for cache in ["tweet", "user", "session"] {
        let hits = series(&format!(r#"rookery_cache_lookups_total{{cache="{cache}",result="hit"}}"#));
        let misses = series(&format!(r#"rookery_cache_lookups_total{{cache="{cache}",result="miss"}}"#));
        assert!(hits >= 1.0 && misses >= 1.0, "{cache}: {hits} hits, {misses} misses");
    }
    assert!(series(r#"rookery_cache_lookups_total{cache="pulled_authors",result="miss"}"#) >= 1.0);
    // The fanout: one delivery, its lag observed, and the queues' depths sampled.
    assert_eq!(series(r#"rookery_fanout_deliveries_total{action="add"}"#), 1.0);
    assert_eq!(series("rookery_fanout_delivery_lag_seconds_count"), 1.0);
    assert!(series("rookery_fanout_delivery_lag_seconds_sum") < 30.0);
    let deliver = format!(r#"rookery_queue_depth{{queue="{}.fanout.deliver"}}"#, app.config.amqp.prefix);
    assert!(
        eventually(Duration::from_secs(10), || async { app.metrics().await.get(&deliver) == Some(0.0) }).await,
        "{deliver} never sampled"
    );
}

/// An `origin serve` child process with its output collected line by line.
struct LoggedOrigin {
    child: Child,
    config: Config,
    address: String,
    lines: Arc<Mutex<Vec<String>>>,
    readers: Vec<JoinHandle<()>>,
}

impl LoggedOrigin {
    async fn start(config: Config) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_origin"))
            .arg("serve")
            .env_clear()
            .envs(testing::environment(&config))
            .env("LISTEN_ADDR", "127.0.0.1:0")
            .env("DATABASE_MAX_CONNECTIONS", "5")
            .env("RATE_LIMITS", "off")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "debug,sqlx=trace")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("origin starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (listening, address) = mpsc::channel();
        let stdout: Box<dyn Read + Send> = Box::new(child.stdout.take().expect("stdout"));
        let stderr: Box<dyn Read + Send> = Box::new(child.stderr.take().expect("stderr"));
        let readers = [stdout, stderr]
            .into_iter()
            .map(|stream| {
                let (lines, listening) = (lines.clone(), listening.clone());
                std::thread::spawn(move || {
                    for line in BufReader::new(stream).lines().map_while(Result::ok) {
                        if let Ok(event) = serde_json::from_str::<Value>(&line) {
                            if event["message"] == "origin listening" {
                                let _ = listening.send(event["addr"].as_str().unwrap_or_default().to_owned());
                            }
                        }
                        lines.lock().expect("the lines").push(line);
                    }
                })
            })
            .collect();
        let mut origin = Self { child, config, address: String::new(), lines, readers };
        let addr = tokio::task::spawn_blocking(move || address.recv_timeout(Duration::from_secs(60)))
            .await
            .expect("the wait")
            .unwrap_or_else(|_| {
                panic!("origin did not start:\n{}", origin.lines.lock().expect("the lines").join("\n"))
            });
        origin.address = format!("http://{addr}");
        origin
    }

    /// Stops the origin (SIGTERM, so shutdown is logged too) and returns everything it wrote.
    fn stop(&mut self) -> Vec<String> {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        for _ in 0..200 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        self.lines.lock().expect("the lines").clone()
    }
}

impl Drop for LoggedOrigin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        testing::cleanup_blocking(&self.config);
    }
}

/// The request id a JSON line was logged under, if it was logged inside a request.
fn request_id(line: &Value) -> Option<&str> {
    line["spans"].as_array()?.iter().find(|span| span["name"] == "request")?["request_id"].as_str()
}

#[tokio::test]
async fn json_logs_carry_request_ids_and_never_credentials() {
    let mut config = Config::for_tests();
    let tag = config.redis.prefix.trim_end_matches(':').to_owned();
    let (token_secret, edge_secret) =
        (format!("token-secret-{tag}-0123456789abcdef"), format!("edge-secret-{tag}-0123456789abcdef"));
    config.auth.token_keys = KeyRing::parse(&format!("t1:{token_secret}")).expect("a ring");
    config.auth.edge_keys = KeyRing::parse(&format!("e1:{edge_secret}")).expect("a ring");
    let mut origin = LoggedOrigin::start(config.clone()).await;
    let client = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", origin.address);
    let id = |step: &str| format!("{tag}-{step}");

    let (username, email, password) = ("logged_lu", format!("Log.Me.{tag}@Example.com"), format!("pw-{tag}-horse"));
    let signup = client
        .post(url("/api/accounts/signup/"))
        .header("x-request-id", id("signup"))
        .json(&json!({"username": username, "email": email, "password": password}))
        .send()
        .await
        .expect("signup");
    assert_eq!(signup.status(), StatusCode::CREATED);
    let signup: Value = signup.json().await.expect("json");
    let token = signup["token"].as_str().expect("a token").to_owned();
    let user_id = UserId(signup["user"]["id"].as_u64().expect("an id"));

    let wrong = json!({"username": username, "password": format!("{password}-wrong")});
    let refused = client
        .post(url("/api/accounts/login/"))
        .header("x-request-id", id("wrong"))
        .json(&wrong)
        .send()
        .await
        .expect("login");
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let login: Value = client
        .post(url("/api/accounts/login/"))
        .header("x-request-id", id("login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let second_token = login["token"].as_str().expect("a token").to_owned();

    let tweet = client
        .post(url("/api/tweets/"))
        .header("x-request-id", id("tweet"))
        .bearer_auth(&token)
        .json(&json!({"content": "logged, but not my token"}))
        .send()
        .await
        .expect("tweet");
    assert_eq!(tweet.status(), StatusCode::CREATED);
    let bad = client
        .get(url("/api/newsfeeds/"))
        .header("x-request-id", id("badtoken"))
        .bearer_auth(format!("{token}x"))
        .send()
        .await
        .expect("read");
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);

    // Through the edge: the request id arrives in the header and in the signed assertion.
    let path = "/api/accounts/login_status";
    let now = rookery_origin::ids::now_micros() / 1_000_000;
    let assertion = EdgeAssertion {
        issued_at: now,
        user: Some((user_id, SessionId(1))),
        client_ip: "203.0.113.9".into(),
        request_id: id("edge"),
        body_sha256: edge_assertion::body_digest(b""),
    };
    let target = edge_assertion::Target { method: "GET", path, query: None };
    let signed = assertion.encode(&config.auth.edge_keys, target);
    let via_edge = client
        .get(url(path))
        .header(edge_assertion::HEADER, &signed)
        .header("x-request-id", id("edge"))
        .send()
        .await
        .expect("status");
    assert_eq!(via_edge.status(), StatusCode::OK);
    let forged = assertion.encode(&KeyRing::single("not the edge secret"), target);
    let ignored = client
        .get(url(path))
        .header(edge_assertion::HEADER, &forged)
        .header("x-request-id", id("forged"))
        .send()
        .await
        .expect("status");
    assert_eq!(ignored.status(), StatusCode::OK);

    let logout = client
        .post(url("/api/accounts/logout/"))
        .header("x-request-id", id("logout"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("logout");
    assert_eq!(logout.status(), StatusCode::OK);

    let db = sqlx::MySqlPool::connect(&config.db.url).await.expect("the test database");
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = ?")
        .bind(user_id)
        .fetch_one(&db)
        .await
        .expect("the hash");
    db.close().await;
    let lines = origin.stop();
    let output = lines.join("\n");

    // Nothing secret, in any form the origin handles it.
    let token_signature = token.rsplit('.').next().expect("a signature").to_owned();
    for (what, secret) in [
        ("the token", token.as_str()),
        ("the token's signature", token_signature.as_str()),
        ("the second token", second_token.as_str()),
        ("the password", password.as_str()),
        ("the email", email.as_str()),
        ("the email, lower-cased", email.to_lowercase().as_str()),
        ("the password hash", hash.as_str()),
        ("the token secret", token_secret.as_str()),
        ("the edge secret", edge_secret.as_str()),
        ("the edge assertion", signed.as_str()),
    ] {
        assert!(!output.contains(secret), "{what} was logged");
    }

    // Every line is JSON; every line logged inside a request names its request id.
    let events: Vec<Value> =
        lines.iter().map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"))).collect();
    for event in &events {
        if event["spans"].as_array().is_some_and(|spans| spans.iter().any(|span| span["name"] == "request")) {
            assert!(request_id(event).is_some_and(|id| !id.is_empty()), "no request id: {event}");
        }
    }
    // Each request has its access line, with its status, under the id the caller (or the edge) sent.
    for (step, status) in [
        ("signup", 201),
        ("wrong", 400),
        ("login", 200),
        ("tweet", 201),
        ("badtoken", 401),
        ("edge", 200),
        ("forged", 200),
        ("logout", 200),
    ] {
        let wanted = id(step);
        let access = events.iter().find(|event| {
            request_id(event) == Some(wanted.as_str()) && event["message"] == "finished processing request"
        });
        let access = access.unwrap_or_else(|| panic!("no access line for {step}"));
        assert_eq!(access["status"], status, "{access}");
        assert_eq!(access["level"], "INFO");
    }
    // A warning raised deep inside a request is tied to it as well.
    assert!(
        events.iter().any(|event| event["message"] == "ignoring an invalid edge assertion"
            && request_id(event) == Some(id("forged").as_str())),
        "the forged assertion's warning is not tied to its request"
    );
    // sqlx logged statements (so they were checked above), with placeholders for the values.
    assert!(events.iter().any(|event| event["target"] == "sqlx::query"), "no statements logged at trace");
}
