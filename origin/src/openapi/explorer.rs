//! `GET /openapi.json` (the document) and the API explorer: `GET /docs/` (Swagger UI) and its files
//! under `/docs/<file>`, all compiled into the binary so the page needs no network but this server.
//!
//! The page is revalidated on every load (`no-cache` with an `ETag`); it names each file with a hash of
//! its content (`?v=`), so the files themselves are cached for good and an upgrade is picked up at once.
//! URLs are root-relative, so the page works on any host that forwards these paths, e.g. the edge.

use std::{
    collections::HashMap,
    hash::{DefaultHasher, Hash, Hasher},
    sync::{Arc, LazyLock},
};

use axum::{
    body::Bytes,
    extract::Path,
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Extension,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::responses::NotFound;
use crate::{error::ApiError, state::AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(openapi_json)).routes(routes!(page)).routes(routes!(file))
}

/// The serialised OpenAPI document, made once when the router is built.
#[derive(Clone)]
pub struct Document(Arc<Served>);

impl Document {
    pub fn new(document: &utoipa::openapi::OpenApi) -> anyhow::Result<Self> {
        let json = serde_json::to_vec_pretty(document)?;
        Ok(Self(Arc::new(Served::new(json, "application/json", "no-cache"))))
    }
}

/// A body with the headers it is served with.
struct Served {
    bytes: Bytes,
    content_type: &'static str,
    cache_control: &'static str,
    etag: String,
}

impl Served {
    fn new(bytes: impl Into<Bytes>, content_type: &'static str, cache_control: &'static str) -> Self {
        let bytes = bytes.into();
        let etag = format!("\"{}\"", content_hash(&bytes));
        Self { bytes, content_type, cache_control, etag }
    }

    /// 200 with the body, or 304 when the client already holds this version.
    fn respond(&self, request: &HeaderMap) -> Response {
        let fresh = request
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == self.etag || tag.trim() == "*"));
        let mut response =
            if fresh { StatusCode::NOT_MODIFIED.into_response() } else { self.bytes.clone().into_response() };
        let headers = response.headers_mut();
        if !fresh {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(self.cache_control));
        if let Ok(etag) = HeaderValue::from_str(&self.etag) {
            headers.insert(header::ETAG, etag);
        }
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        response
    }
}

/// Short, stable for a given build, and only used to tell versions apart (not for security).
fn content_hash(bytes: &[u8]) -> String {
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// The explorer's files: name, content type, bytes. The Swagger UI files are vendored unchanged (see
/// `origin/assets/swagger-ui/README.md`).
const FILES: [(&str, &str, &[u8]); 4] = [
    (
        "swagger-ui-bundle.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js"),
    ),
    ("swagger-ui.css", "text/css; charset=utf-8", include_bytes!("../../assets/swagger-ui/swagger-ui.css")),
    ("favicon-32x32.png", "image/png", include_bytes!("../../assets/swagger-ui/favicon-32x32.png")),
    ("explorer.js", "text/javascript; charset=utf-8", include_bytes!("explorer.js")),
];

/// Scripts and styles only from this server; Swagger UI sets inline styles and uses `data:` images.
const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

struct Explorer {
    page: Served,
    files: HashMap<&'static str, Served>,
}

static EXPLORER: LazyLock<Explorer> = LazyLock::new(|| {
    let mut page = include_str!("explorer.html").to_owned();
    let mut files = HashMap::new();
    for (name, content_type, bytes) in FILES {
        let file = Served::new(bytes, content_type, "public, max-age=31536000, immutable");
        page = page.replace(&format!("{{{{{name}}}}}"), &format!("/docs/{name}?v={}", file.etag.trim_matches('"')));
        files.insert(name, file);
    }
    Explorer { page: Served::new(page, "text/html; charset=utf-8", "no-cache"), files }
});

/// The OpenAPI document
///
/// This API's OpenAPI 3.1 description, generated from the server's own route table.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operational",
    responses((status = 200, description = "The document.", content_type = "application/json", body = Object)),
)]
async fn openapi_json(Extension(document): Extension<Document>, headers: HeaderMap) -> Response {
    document.0.respond(&headers)
}

/// The API explorer
///
/// This page: sign up, press **Authorize**, paste the token, and try any call.
#[utoipa::path(
    get,
    path = "/docs",
    tag = "operational",
    responses((status = 200, description = "The explorer's HTML page.", content_type = "text/html", body = String)),
)]
async fn page(headers: HeaderMap) -> Response {
    let mut response = EXPLORER.page.respond(&headers);
    response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_POLICY));
    response
}

/// A file of the API explorer
///
/// The scripts, styles and icon the explorer page loads.
#[utoipa::path(
    get,
    path = "/docs/{file}",
    tag = "operational",
    params(("file" = String, Path, description = "The file name, e.g. `swagger-ui.css`.")),
    responses(
        (status = 200, description = "The file, cached for good (its URL carries a hash of its content).",
            content(("text/javascript"), ("text/css"), ("image/png"))),
        (status = 404, response = NotFound),
    ),
)]
async fn file(Path(name): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    let file = EXPLORER.files.get(name.as_str()).ok_or(ApiError::NotFound)?;
    Ok(file.respond(&headers))
}
