//! The API explorer and the OpenAPI document through the edge: the page and every file it loads come
//! back exactly as the origin serves them, so the explorer works on the edge's host too.

use reqwest::{header, Method, StatusCode};

use crate::harness::spawn_stack;

#[tokio::test(flavor = "multi_thread")]
async fn the_explorer_and_the_openapi_document_are_served_through_the_edge() {
    let stack = spawn_stack(4).await;

    let document = stack.edge(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(document.status, StatusCode::OK);
    assert_eq!(document.header("content-type"), Some("application/json"));
    assert_eq!(document.body["openapi"], "3.1.0");
    assert!(document.body["paths"]["/api/accounts/signup/"]["post"].is_object());
    let direct = stack.origin(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(document.body, direct.body);

    let get = |base: &str, path: &str| stack.client.get(format!("{base}{path}")).send();
    let page = get(&stack.edge.url, "/docs/").await.expect("the page");
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert!(page.headers().contains_key(header::CONTENT_SECURITY_POLICY));
    let html = page.text().await.expect("html");
    let files: Vec<&str> = html.split('"').filter(|s| s.starts_with("/docs/")).collect();
    assert_eq!(files.len(), 4, "{html}");
    for file in files {
        let through_edge = get(&stack.edge.url, file).await.expect("a file");
        assert_eq!(through_edge.status(), StatusCode::OK, "{file}");
        let content_type = through_edge.headers()[header::CONTENT_TYPE].clone();
        let cache = through_edge.headers()[header::CACHE_CONTROL].clone();
        let etag = through_edge.headers()[header::ETAG].clone();
        let direct = get(&stack.origin.url, file).await.expect("a file");
        assert_eq!(content_type, direct.headers()[header::CONTENT_TYPE], "{file}");
        assert_eq!(cache, "public, max-age=31536000, immutable", "{file}");
        let bytes = through_edge.bytes().await.expect("bytes");
        assert_eq!(bytes, direct.bytes().await.expect("bytes"), "{file} differs through the edge");

        let again = stack
            .client
            .get(format!("{}{file}", stack.edge.url))
            .header(header::IF_NONE_MATCH, etag)
            .send()
            .await
            .expect("a file");
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{file}");
    }
}
