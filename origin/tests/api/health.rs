use reqwest::StatusCode;
use rookery_origin::testing::{spawn_app, spawn_app_with};

#[tokio::test]
async fn healthz_answers() {
    let app = spawn_app().await;
    let (status, body) = app.get("/healthz", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn readyz_reports_every_dependency_up() {
    let app = spawn_app().await;
    // The broker connects in the background; give it a moment.
    let mut last = None;
    for _ in 0..50 {
        let (status, body) = app.admin_get("/readyz").await;
        if status == StatusCode::OK {
            assert_eq!(body["mysql"], "up");
            assert_eq!(body["redis"], "up");
            assert_eq!(body["rabbitmq"], "up");
            return;
        }
        last = Some(body);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("never ready: {last:?}");
}

#[tokio::test]
async fn a_node_list_whose_first_node_is_down_connects_to_the_next() {
    // Two "nodes" of a cluster: one that refuses connections, then the machine's broker.
    let app = spawn_app_with(|c| c.amqp.url = format!("amqp://guest:guest@127.0.0.1:1/%2f,{}", c.amqp.url)).await;
    let mut last = None;
    for _ in 0..100 {
        let (status, body) = app.admin_get("/readyz").await;
        if status == StatusCode::OK {
            assert_eq!(body["rabbitmq"], "up");
            return;
        }
        last = Some(body);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("never connected to the live node: {last:?}");
}

#[tokio::test]
async fn readyz_names_unreachable_dependencies() {
    let app = spawn_app_with(|c| {
        c.redis.url = "redis://127.0.0.1:1/".into();
        c.amqp.url = "amqp://guest:guest@127.0.0.1:1/%2f".into();
    })
    .await;
    let (status, body) = app.admin_get("/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["mysql"], "up");
    assert_eq!(body["redis"], "down");
    assert_eq!(body["rabbitmq"], "down");
    assert_eq!(body["detail"], "Unavailable: redis, rabbitmq.");
}

#[tokio::test]
async fn metrics_count_requests_by_route() {
    let app = spawn_app().await;
    app.get("/api/accounts/login_status/", None).await;
    let text = app.metrics_text().await;
    assert!(
        text.contains(r#"rookery_http_requests_total{method="GET",route="/api/accounts/login_status",status="200"} 1"#),
        "{text}"
    );
}

#[tokio::test]
async fn readiness_and_metrics_are_on_the_admin_listener_only() {
    let app = spawn_app().await;
    for path in ["/metrics", "/readyz", "/internal/sessions/1"] {
        let (status, body) = app.get(path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path} on the public listener: {body}");
        assert_eq!(body, serde_json::json!({"detail": "Not found."}), "{path}");
    }
    let (status, _) = app.admin_get("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert!(app.metrics_text().await.contains("rookery_http_requests_total"));
    // The admin listener serves nothing else.
    let (status, _) = app.admin_get("/api/accounts/login_status/").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
