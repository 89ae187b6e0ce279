//! Upload rules: what counts as an image, how large it may be, and writing and removing objects so that
//! a failed request leaves none behind. What is written is never the upload itself but its pixels
//! encoded again ([`reencode`]): no metadata reaches a reader, and a file that does not decode is refused.

use std::{collections::BTreeMap, sync::LazyLock};

use anyhow::anyhow;
use bytes::Bytes;
use tokio::sync::Semaphore;

use super::{
    form::FilePart,
    key::{self, Folder},
    reencode::{self, Encoded, Rejected},
    sniff::ImageKind,
    store,
};
use crate::{
    error::{ApiError, Result},
    state::AppState,
};

/// Photos a tweet may carry.
pub const MAX_PHOTOS: usize = 9;
pub const TOO_MANY_PHOTOS: &str = "You can upload 9 photos at most";
pub const NOT_AN_IMAGE: &str =
    "Upload a valid image. The file you uploaded was either not an image or a corrupted image.";
pub const EMPTY_FILE: &str = "The submitted file is empty.";
/// In the words of [`reencode::MAX_SIDE`] and [`reencode::MAX_PIXELS`].
pub const TOO_MANY_PIXELS: &str = "Upload a smaller image: at most 8192 pixels wide or high, and 32 megapixels in all.";

/// Decodes running at once in this process. At the caps one decode holds a few hundred MB, so the
/// blocking pool (hundreds of threads) must not run one per upload; one per core keeps the CPU busy.
static DECODE_SLOTS: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())));

/// An upload whose header was checked: an accepted format within the dimension caps. [`store`] decodes
/// it and writes it encoded again.
#[derive(Debug, Clone)]
pub struct Image {
    /// The form field it came in, for the field of the 400 if it fails to decode.
    pub field: String,
    pub kind: ImageKind,
    pub bytes: Bytes,
}

/// Checks one file: not empty, not over the size cap, and an image by its header (format and
/// dimensions; no pixel is decoded here). `Err` is the reason.
pub fn validate(state: &AppState, file: &FilePart) -> std::result::Result<Image, String> {
    if file.too_large {
        return Err(too_large(state.config.media.max_bytes));
    }
    if file.bytes.is_empty() {
        return Err(EMPTY_FILE.to_owned());
    }
    match reencode::inspect(&file.bytes) {
        Ok(header) => Ok(Image { field: file.field.clone(), kind: header.kind, bytes: file.bytes.clone() }),
        Err(rejected) => Err(reason(&rejected).to_owned()),
    }
}

fn reason(rejected: &Rejected) -> &'static str {
    match rejected {
        Rejected::TooLarge => TOO_MANY_PIXELS,
        Rejected::NotAnImage | Rejected::Encoding(_) => NOT_AN_IMAGE,
    }
}

fn too_large(max: usize) -> String {
    const MB: usize = 1024 * 1024;
    let size = if max.is_multiple_of(MB) {
        format!("{} MB", max / MB)
    } else if max.is_multiple_of(1024) {
        format!("{} KB", max / 1024)
    } else {
        format!("{max} bytes")
    };
    format!("Ensure this file is no larger than {size}.")
}

/// Decodes the images and writes them encoded again under fresh keys, in order. An image that does
/// not decode is a 400 under its form field, and nothing is written; if one write fails, the ones
/// written are removed.
pub async fn store(state: &AppState, folder: Folder, images: Vec<Image>) -> Result<Vec<String>> {
    let encoded = reencode_all(images).await?;
    let mut keys = Vec::with_capacity(encoded.len());
    for image in encoded {
        let key = key::new_key(folder, image.kind);
        if let Err(error) = store::put(state.media.as_ref(), &key, Bytes::from(image.bytes)).await {
            discard(state, &keys).await;
            return Err(error.into());
        }
        keys.push(key);
    }
    Ok(keys)
}

/// Every image encoded again (concurrently, as many at once as [`DECODE_SLOTS`] allows), or every
/// reason one was refused, by field.
async fn reencode_all(images: Vec<Image>) -> Result<Vec<Encoded>> {
    let fields: Vec<String> = images.iter().map(|image| image.field.clone()).collect();
    let results = futures::future::join_all(images.into_iter().map(|image| reencode_one(image.bytes))).await;
    let mut encoded = Vec::with_capacity(results.len());
    let mut errors = BTreeMap::<String, Vec<String>>::new();
    for (field, result) in fields.into_iter().zip(results) {
        match result? {
            Ok(image) => encoded.push(image),
            Err(Rejected::Encoding(error)) => {
                return Err(ApiError::Internal(anyhow!(error).context("while encoding an upload again")));
            }
            Err(rejected) => {
                let reasons = errors.entry(field).or_default();
                let why = reason(&rejected).to_owned();
                if !reasons.contains(&why) {
                    reasons.push(why);
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(encoded)
    } else {
        Err(ApiError::Invalid(errors))
    }
}

/// Decoding and encoding are CPU work: they run on the blocking pool, not on the async workers.
#[tracing::instrument(skip_all, fields(len = bytes.len()))]
async fn reencode_one(bytes: Bytes) -> Result<std::result::Result<Encoded, Rejected>> {
    let _slot = DECODE_SLOTS.acquire().await.map_err(|e| ApiError::Internal(anyhow!(e)))?;
    let result = tokio::task::spawn_blocking(move || reencode::reencode(&bytes))
        .await
        .map_err(|e| ApiError::Internal(anyhow!(e).context("while decoding an upload")))?;
    match &result {
        Ok(image) => {
            tracing::debug!(kind = ?image.kind, image.width, image.height, stored = image.bytes.len(), "upload encoded again")
        }
        Err(rejected) => tracing::debug!(?rejected, "upload refused"),
    }
    Ok(result)
}

/// Removes objects no row names (any more).
pub async fn discard(state: &AppState, keys: &[String]) {
    store::delete_all(state.media.as_ref(), keys).await;
}

/// The absolute URL of a stored object.
pub fn url(state: &AppState, key: &str) -> String {
    format!("{}/media/{key}", state.config.http.public_url.trim_end_matches('/'))
}
