//! `/openapi.json` against the routes the server really has, and the explorer's files at `/docs/`.

use std::collections::{BTreeSet, HashMap};

use reqwest::{header, StatusCode};
use rookery_origin::{
    openapi::contract_path,
    startup,
    testing::{spawn_app, TestApp},
};
use serde_json::Value;

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

/// `(METHOD, path)` of every route `router` serves, paths spelled as the document spells them.
///
/// axum has no API to list a router's routes; its `Debug` output names each route's path and, per
/// route, the `Allow` header it answers a 405 with, which lists exactly the methods it has. A route
/// added with `route_service` (any method) shows up as `*`, which no document entry matches.
fn served_routes(router: &axum::Router) -> BTreeSet<(String, String)> {
    let text = format!("{router:?}");
    // The fallback router (the 404 handler) comes after the routes.
    let text = text.split("fallback_router").next().unwrap_or_default();
    let (routes, paths) = text.split_once("paths: {").expect("axum's Debug output lists the paths");
    let route_id = |entry: &str| entry.split_once(')').map(|(id, rest)| (id.to_owned(), rest.to_owned()));

    let mut path_of = HashMap::new();
    for entry in paths.split("RouteId(").skip(1) {
        let (id, rest) = route_id(entry).expect("RouteId(n): \"path\"");
        let path = rest.split('"').nth(1).expect("a quoted path");
        path_of.insert(id, path.to_owned());
    }
    let mut served = BTreeSet::new();
    for entry in routes.split("RouteId(").skip(1) {
        let (id, rest) = route_id(entry).expect("RouteId(n): endpoint");
        let path = contract_path(path_of.get(&id).unwrap_or_else(|| panic!("no path for route {id} in {text}")));
        let methods: Vec<String> = if rest.trim_start_matches([':', ' ']).starts_with("MethodRouter") {
            let allow = rest.split("allow_header: Bytes(b\"").nth(1).and_then(|a| a.split('"').next());
            let allow = allow.unwrap_or_else(|| panic!("route {path} has no Allow header: {rest}"));
            let methods: Vec<&str> = allow.split(',').collect();
            // `get` also answers HEAD; the document lists GET only.
            let implied_head = methods.contains(&"GET");
            methods.into_iter().filter(|m| !(implied_head && *m == "HEAD")).map(str::to_owned).collect()
        } else {
            vec!["*".to_owned()]
        };
        served.extend(methods.into_iter().map(|method| (method, path.clone())));
    }
    assert!(served.len() > 20, "could not read the routes from axum's Debug output: {text}");
    served
}

/// `(METHOD, path)` of every operation in the document.
fn documented_routes(document: &Value) -> BTreeSet<(String, String)> {
    let paths = document["paths"].as_object().expect("paths");
    let mut documented = BTreeSet::new();
    for (path, item) in paths {
        for method in METHODS {
            if item.get(method).is_some() {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    documented
}

async fn openapi(app: &TestApp) -> Value {
    let (status, document) = app.get("/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    document
}

#[tokio::test]
async fn every_served_route_is_documented_and_every_documented_route_is_served() {
    let app = spawn_app().await;
    let document = openapi(&app).await;
    // The same router the server runs, built from a state on the test's own database.
    let state = rookery_origin::state::AppState::connect(app.config.clone()).await.expect("state");
    let router = startup::router(state).expect("router");

    let served = served_routes(&router);
    let documented = documented_routes(&document);
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "routes without an OpenAPI description (register them with utoipa_axum::routes! and a \
         #[utoipa::path] annotation, not .route()): {undocumented:?}"
    );
    assert!(unserved.is_empty(), "documented but not served: {unserved:?}");
    // The contract's operations are all there.
    for route in [
        ("POST", "/api/accounts/signup/"),
        ("GET", "/api/tweets/{id}/"),
        ("PATCH", "/api/profiles/{id}/"),
        ("PUT", "/api/notifications/{id}/"),
        ("GET", "/openapi.json"),
        ("GET", "/docs/"),
    ] {
        assert!(documented.contains(&(route.0.to_owned(), route.1.to_owned())), "{route:?} missing");
    }
}

#[tokio::test]
async fn every_operation_is_described_with_its_parameters_and_error_envelopes() {
    let app = spawn_app().await;
    let document = openapi(&app).await;
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let mut operation_ids = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in METHODS {
            let Some(operation) = item.get(method) else { continue };
            let name = format!("{} {path}", method.to_uppercase());
            let summary = operation["summary"].as_str().unwrap_or_default();
            assert!(!summary.trim().is_empty(), "{name} has no summary (a doc comment on its handler)");
            assert!(operation["tags"].as_array().is_some_and(|t| !t.is_empty()), "{name} has no tag");
            let id = operation["operationId"].as_str().expect("an operation id");
            assert!(operation_ids.insert(id.to_owned()), "{name}: operation id {id} is not unique");

            let parameters = operation["parameters"].as_array().cloned().unwrap_or_default();
            for segment in path.split('/').filter(|s| s.starts_with('{')) {
                let param = segment.trim_matches(['{', '}']);
                assert!(
                    parameters.iter().any(|p| p["name"] == param && p["in"] == "path"),
                    "{name}: path parameter {param} is not described"
                );
            }

            let responses = operation["responses"].as_object().expect("responses");
            assert!(responses.keys().any(|status| status.starts_with('2')), "{name} has no success response");
            for (status, response) in responses {
                let response = match response["$ref"].as_str() {
                    Some(reference) => {
                        let component = reference.rsplit('/').next().unwrap_or_default();
                        &document["components"]["responses"][component]
                    }
                    None => response,
                };
                let description = response["description"].as_str().unwrap_or_default();
                assert!(!description.is_empty(), "{name} {status} has no description");
                if path.starts_with("/api/") && status.starts_with(['4', '5']) {
                    let schema = &response["content"]["application/json"]["schema"]["$ref"];
                    assert!(
                        schema == "#/components/schemas/Detail" || schema == "#/components/schemas/Failure",
                        "{name} {status} is not one of the contract's error envelopes: {response}"
                    );
                }
            }
            if path.starts_with("/api/") {
                for status in ["401", "500", "503"] {
                    assert!(responses.contains_key(status), "{name} does not list {status}");
                }
            }
            if let Some(body) = operation.get("requestBody") {
                let content = body["content"].as_object().expect("request content");
                assert!(
                    content.contains_key("application/json")
                        && content.contains_key("application/x-www-form-urlencoded"),
                    "{name}: bodies are JSON or form-urlencoded"
                );
            }
        }
    }
    // Uploads are described as multipart with binary file parts.
    for (path, method, file_field) in [("/api/tweets/", "post", "files"), ("/api/profiles/{id}/", "put", "avatar")] {
        let multipart =
            &document["paths"][path][method]["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"];
        let schema = multipart.as_str().and_then(|r| r.rsplit('/').next()).expect("a multipart body");
        let field = document["components"]["schemas"][schema]["properties"][file_field].to_string();
        assert!(field.contains("ImageFile"), "{path} {file_field}: {field}");
    }
    assert_eq!(document["components"]["schemas"]["ImageFile"]["format"], "binary");
    // Pagination parameters are described where lists page.
    let params = document["paths"]["/api/newsfeeds/"]["get"]["parameters"].to_string();
    for name in ["created_at__lt", "created_at__gt", "cursor"] {
        assert!(params.contains(name), "newsfeed lacks {name}: {params}");
    }
    // Protected operations name the bearer scheme; optional ones also allow none.
    assert_eq!(document["paths"]["/api/newsfeeds/"]["get"]["security"], serde_json::json!([{"bearer": []}]));
    assert_eq!(document["paths"]["/api/tweets/"]["get"]["security"], serde_json::json!([{}, {"bearer": []}]));
}

#[tokio::test]
async fn openapi_json_is_served_as_json_and_revalidated() {
    let app = spawn_app().await;
    let url = format!("{}/openapi.json", app.address);
    let response = app.client.get(&url).send().await.expect("answer");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache");
    let etag = response.headers()[header::ETAG].clone();
    let again = app.client.get(&url).header(header::IF_NONE_MATCH, etag).send().await.expect("answer");
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn the_explorer_page_and_its_files_are_served_from_the_binary() {
    let app = spawn_app().await;
    for path in ["/docs/", "/docs"] {
        let response = app.client.get(format!("{}{path}", app.address)).send().await.expect("answer");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache");
        let policy = response.headers()[header::CONTENT_SECURITY_POLICY].to_str().expect("ascii");
        assert!(policy.contains("script-src 'self'"), "{policy}");
    }
    let html = app.client.get(format!("{}/docs/", app.address)).send().await.expect("page").text().await.expect("html");
    // Every file the page loads is on this server, named with a content hash.
    let references: Vec<&str> = html
        .split(['"', '\''])
        .filter(|s| s.starts_with("/docs/") || s.starts_with("http") || s.starts_with("//"))
        .collect();
    let expected = [
        ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
        ("swagger-ui.css", "text/css; charset=utf-8"),
        ("explorer.js", "text/javascript; charset=utf-8"),
        ("favicon-32x32.png", "image/png"),
    ];
    assert_eq!(references.len(), expected.len(), "{references:?}");
    for (file, content_type) in expected {
        let reference = references
            .iter()
            .find(|r| r.starts_with(&format!("/docs/{file}?v=")))
            .unwrap_or_else(|| panic!("{file} is not loaded by {html}"));
        let response = app.client.get(format!("{}{reference}", app.address)).send().await.expect("file");
        assert_eq!(response.status(), StatusCode::OK, "{reference}");
        assert_eq!(response.headers()[header::CONTENT_TYPE], content_type, "{reference}");
        assert_eq!(response.headers()[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
        let etag = response.headers()[header::ETAG].clone();
        assert!(response.bytes().await.expect("bytes").len() > 500, "{reference}");
        let again = app
            .client
            .get(format!("{}{reference}", app.address))
            .header(header::IF_NONE_MATCH, etag)
            .send()
            .await
            .expect("file");
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{reference}");
    }
    let (status, body) = app.get("/docs/%2e%2e%2fCargo.toml", None).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, serde_json::json!({"detail": "Not found."})));
    let (status, body) = app.get("/docs/nothing.js", None).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, serde_json::json!({"detail": "Not found."})));
}
