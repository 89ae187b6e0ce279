//! Headers every answer carries: `X-Content-Type-Options: nosniff` (a browser never second-guesses the
//! declared type, so an uploaded file or a JSON body is never run as a page), and on API answers that do
//! not say otherwise, `Cache-Control: no-store`: profiles, notifications, feeds and the token a login
//! returns must not stay in a shared cache or on a shared computer's disk. Answers that are meant to be
//! cached (media, the API explorer's assets) set their own `Cache-Control`, which is kept.

use axum::{
    extract::Request,
    http::{header, HeaderValue},
    middleware::Next,
    response::Response,
};

pub async fn protect(request: Request, next: Next) -> Response {
    let private =
        request.uri().path().starts_with("/api/") || request.uri().path().starts_with(crate::auth::INTERNAL_PREFIX);
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if private && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
