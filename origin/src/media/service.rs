//! Upload rules: what counts as an image, how large it may be, and writing and removing objects so that
//! a failed request leaves none behind.

use bytes::Bytes;

use super::{
    form::FilePart,
    key::{self, Folder},
    sniff::{self, ImageKind},
    store,
};
use crate::{error::Result, state::AppState};

/// Photos a tweet may carry.
pub const MAX_PHOTOS: usize = 9;
pub const TOO_MANY_PHOTOS: &str = "You can upload 9 photos at most";
pub const NOT_AN_IMAGE: &str = "Upload a valid image. The file you uploaded was either not an image or a corrupted image.";
pub const EMPTY_FILE: &str = "The submitted file is empty.";

/// A validated upload.
#[derive(Debug, Clone)]
pub struct Image {
    pub kind: ImageKind,
    pub bytes: Bytes,
}

/// Checks one file: an image by its content, not empty, not over the size cap. `Err` is the reason.
pub fn validate(state: &AppState, file: &FilePart) -> std::result::Result<Image, String> {
    if file.too_large {
        return Err(too_large(state.config.media_max_bytes));
    }
    if file.bytes.is_empty() {
        return Err(EMPTY_FILE.to_owned());
    }
    match sniff::detect(&file.bytes) {
        Some(kind) => Ok(Image { kind, bytes: file.bytes.clone() }),
        None => Err(NOT_AN_IMAGE.to_owned()),
    }
}

fn too_large(max: usize) -> String {
    const MB: usize = 1024 * 1024;
    let size = if max % MB == 0 {
        format!("{} MB", max / MB)
    } else if max % 1024 == 0 {
        format!("{} KB", max / 1024)
    } else {
        format!("{max} bytes")
    };
    format!("Ensure this file is no larger than {size}.")
}

/// Writes the images under fresh keys, in order. If one write fails, the ones written are removed.
pub async fn store(state: &AppState, folder: Folder, images: Vec<Image>) -> Result<Vec<String>> {
    let mut keys = Vec::with_capacity(images.len());
    for image in images {
        let key = key::new_key(folder, image.kind);
        if let Err(error) = store::put(state.media.as_ref(), &key, image.bytes).await {
            discard(state, &keys).await;
            return Err(error.into());
        }
        keys.push(key);
    }
    Ok(keys)
}

/// Removes objects no row names (any more).
pub async fn discard(state: &AppState, keys: &[String]) {
    store::delete_all(state.media.as_ref(), keys).await;
}

/// The absolute URL of a stored object.
pub fn url(state: &AppState, key: &str) -> String {
    format!("{}/media/{key}", state.config.public_url.trim_end_matches('/'))
}
