//! `GET /media/<key>`: stored uploads at stable URLs, typed by their content and cached for good (a key
//! never names different bytes).

use axum::{
    extract::{Path, State},
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{key, sniff, store};
use crate::{
    error::{ApiError, Result},
    openapi::responses::NotFound,
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(serve))
}

/// An uploaded image
///
/// The image as stored at upload: decoded and encoded again in the format it came in, with no metadata.
/// Typed by its content. A key never names different bytes, so the answer may be cached for good. The
/// URLs come from `photo_urls` and `avatar_url`.
#[utoipa::path(
    get,
    path = "/media/{*key}",
    tag = "media",
    params(("key" = String, Path, description = "The object key from a media URL.")),
    responses(
        (status = 200, description = "The image, with `Cache-Control: public, max-age=31536000, immutable`.",
            content(("image/jpeg"), ("image/png"), ("image/gif"), ("image/webp"))),
        (status = 404, response = NotFound),
    ),
)]
async fn serve(State(state): State<AppState>, Path(key): Path<String>) -> Result<Response> {
    if !key::is_valid(&key) {
        return Err(ApiError::NotFound);
    }
    let bytes = store::get(state.media.as_ref(), &key).await?.ok_or(ApiError::NotFound)?;
    let kind = sniff::detect(&bytes).ok_or(ApiError::NotFound)?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind.mime()));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(response)
}
