//! The one way a test talks HTTP: a request to a base URL (an origin, its admin listener, an edge) with the
//! caller's bearer token, and the answer read as a [`Reply`].

use reqwest::{header::HeaderMap, Method, RequestBuilder, StatusCode};
use serde_json::Value;

/// An answer: status, headers and the body as JSON (`Value::Null` when it is not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// Sends `request` and reads its answer; panics, naming the URL, when nothing answers.
    pub async fn receive(request: RequestBuilder) -> Self {
        let response = request.send().await.unwrap_or_else(|error| panic!("no answer: {error}"));
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a body");
        Self { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::Null) }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// `method` `base` + `path`, with `token` as the bearer token when given, for a request that needs more
/// (its own headers, a form) before [`Reply::receive`].
pub fn request(
    client: &reqwest::Client,
    base: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
) -> RequestBuilder {
    let request = client.request(method, format!("{base}{path}"));
    match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
}

/// Sends `method` `base` + `path` with the bearer token and the JSON body when given.
pub async fn send(
    client: &reqwest::Client,
    base: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let mut request = request(client, base, method, path, token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    Reply::receive(request).await
}
