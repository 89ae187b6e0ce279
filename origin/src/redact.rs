//! Hiding secrets from logs and `Debug` output.

/// The URL with its password (if any) replaced; a value that does not parse is hidden whole.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) => {
            if url.password().is_some() {
                // Fails only for URLs that cannot have credentials, which then have no password either.
                let _ = url.set_password(Some("redacted"));
            }
            url.to_string()
        }
        Err(_) => "<not a URL>".to_owned(),
    }
}
