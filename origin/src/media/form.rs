//! [`UploadForm`]: a request body that may carry files. `multipart/form-data` gives text fields and file
//! parts; JSON and form-urlencoded bodies are read as [`Input`] (no files), so the upload endpoints
//! accept everything the others do.

use axum::{
    body::{Body, Bytes},
    extract::{FromRequest, Multipart, Request},
    http::{header, StatusCode},
};
use http_body_util::Limited;
use serde::de::DeserializeOwned;

use crate::{error::ApiError, extract::Input, state::AppState};

/// File parts read into memory; any beyond are only counted (the caller refuses them anyway).
pub const MAX_FILES_READ: usize = 10;

/// One file part.
#[derive(Debug, Clone)]
pub struct FilePart {
    /// The form field it came in (`files`, `avatar`).
    pub field: String,
    /// Empty when `too_large`.
    pub bytes: Bytes,
    /// Longer than `media_max_bytes`; the rest was not read.
    pub too_large: bool,
}

pub struct UploadForm<T> {
    pub fields: T,
    pub files: Vec<FilePart>,
    /// File parts in the body, including those not read.
    pub file_count: usize,
}

impl<T> UploadForm<T> {
    /// The files sent in `field`, in order.
    pub fn files_in<'a>(&'a self, field: &'a str) -> impl Iterator<Item = &'a FilePart> + 'a {
        self.files.iter().filter(move |file| file.field == field)
    }
}

impl<T: DeserializeOwned> FromRequest<AppState> for UploadForm<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let is_multipart = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
        if !is_multipart {
            // The route allows bodies big enough for photos; text bodies keep the usual limit.
            let limit = state.config.http.max_body_bytes;
            let request = request.map(|body| Body::new(Limited::new(body, limit)));
            let Input(fields) = Input::<T>::from_request(request, state).await?;
            return Ok(Self { fields, files: Vec::new(), file_count: 0 });
        }
        let mut multipart = Multipart::from_request(request, state)
            .await
            .map_err(|e| ApiError::BadRequest(format!("Multipart form parse error - {}", e.body_text())))?;
        let max = state.config.media.max_bytes;
        let mut texts: Vec<(String, String)> = Vec::new();
        // The route's limit is sized for photos; text fields together keep the limit of a text body.
        let mut text_budget = state.config.http.max_body_bytes;
        let mut files = Vec::new();
        let mut file_count = 0;
        while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
            let name = field.name().unwrap_or_default().to_owned();
            if field.file_name().is_none() {
                let mut text = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    text_budget = text_budget.checked_sub(chunk.len()).ok_or(ApiError::PayloadTooLarge)?;
                    text.extend_from_slice(&chunk);
                }
                // As `Field::text` decodes: invalid UTF-8 becomes replacement characters.
                texts.push((name, String::from_utf8_lossy(&text).into_owned()));
                continue;
            }
            file_count += 1;
            if files.len() >= MAX_FILES_READ {
                continue;
            }
            let mut bytes = Vec::new();
            let mut too_large = false;
            while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                if bytes.len() + chunk.len() > max {
                    too_large = true;
                    bytes = Vec::new();
                    break;
                }
                bytes.extend_from_slice(&chunk);
            }
            files.push(FilePart { field: name, bytes: Bytes::from(bytes), too_large });
        }
        let encoded = serde_urlencoded::to_string(&texts)
            .map_err(|e| ApiError::BadRequest(format!("Multipart form parse error - {e}")))?;
        let fields = crate::extract::from_form(encoded.as_bytes())?;
        Ok(Self { fields, files, file_count })
    }
}

fn multipart_error(error: axum::extract::multipart::MultipartError) -> ApiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge
    } else {
        ApiError::BadRequest(format!("Multipart form parse error - {}", error.body_text()))
    }
}
