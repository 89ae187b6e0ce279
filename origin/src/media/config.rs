//! Where uploads are stored and how large they may be: the media section of the configuration.

use std::path::PathBuf;

use crate::redact::redact_url;

#[derive(Clone, clap::Args)]
#[command(next_help_heading = "Media")]
pub struct MediaConfig {
    /// Uploaded media go to this local directory, unless MEDIA_URL names an object store.
    #[arg(id = "media_dir", long = "media-dir", env = "MEDIA_DIR", default_value = "./var/media")]
    pub dir: PathBuf,
    /// An object-store URL such as `s3://bucket/prefix` (`memory:///` for throwaway runs); its options
    /// come from `MEDIA_S3_*` variables (`MEDIA_S3_ENDPOINT`, `MEDIA_S3_ACCESS_KEY_ID`, …).
    #[arg(id = "media_url", long = "media-url", env = "MEDIA_URL")]
    pub url: Option<String>,
    /// Largest accepted upload, per file, in bytes.
    #[arg(id = "media_max_bytes", long = "media-max-bytes", env = "MEDIA_MAX_BYTES", default_value_t = 5 * 1024 * 1024)]
    pub max_bytes: usize,
    /// The `MEDIA_S3_*` variables, read when the configuration is.
    #[arg(skip)]
    pub options: Options,
}

impl std::fmt::Debug for MediaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaConfig")
            .field("dir", &self.dir)
            .field("url", &self.url.as_deref().map(redact_url))
            .field("options", &self.options)
            .field("max_bytes", &self.max_bytes)
            .finish()
    }
}

/// Object-store options (credentials among them). `Debug` shows the names only.
#[derive(Clone, Default)]
pub struct Options(pub Vec<(String, String)>);

impl Options {
    /// Every `{prefix}NAME=value` variable as `("name", value)`: `MEDIA_S3_ENDPOINT` → `endpoint`,
    /// `MEDIA_S3_ACCESS_KEY_ID` → `access_key_id`, `MEDIA_S3_ALLOW_HTTP` → `allow_http`.
    pub fn from_env(prefix: &str) -> Self {
        let mut options: Vec<(String, String)> = std::env::vars()
            .filter_map(|(name, value)| Some((name.strip_prefix(prefix)?.to_ascii_lowercase(), value)))
            .filter(|(name, value)| !name.is_empty() && !value.is_empty())
            .collect();
        options.sort();
        Self(options)
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.iter().map(|(name, _)| name)).finish()
    }
}
