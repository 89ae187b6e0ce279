use reqwest::StatusCode;

use crate::helpers::{spawn_app, spawn_app_with};

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
        let (status, body) = app.get("/readyz", None).await;
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
async fn readyz_names_unreachable_dependencies() {
    let app = spawn_app_with(|c| {
        c.redis_url = "redis://127.0.0.1:1/".into();
        c.amqp_url = "amqp://guest:guest@127.0.0.1:1/%2f".into();
    })
    .await;
    let (status, body) = app.get("/readyz", None).await;
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
    let text = app.client.get(format!("{}/metrics", app.address)).send().await.expect("metrics").text().await.expect("text");
    assert!(
        text.contains(r#"rookery_http_requests_total{method="GET",route="/api/accounts/login_status",status="200"} 1"#),
        "{text}"
    );
}
