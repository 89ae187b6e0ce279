//! The accepted image formats, and what a stored object is, judged by its first bytes (never by its
//! name). Uploads themselves are judged by decoding them ([`super::reencode`]).

/// The image formats the API accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Jpeg,
    Png,
    Gif,
    Webp,
}

impl ImageKind {
    /// The extension stored in object keys.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Gif => "gif",
            Self::Webp => "webp",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
        }
    }
}

/// The format whose signature `bytes` start with, if any.
pub fn detect(bytes: &[u8]) -> Option<ImageKind> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(ImageKind::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(ImageKind::Png);
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Some(ImageKind::Gif);
    }
    // RIFF <size:4> WEBP, then a VP8 / VP8L / VP8X chunk.
    if bytes.len() >= 16 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" && bytes[12..15] == *b"VP8" {
        return Some(ImageKind::Webp);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_signatures_only() {
        assert_eq!(detect(b"\xFF\xD8\xFF\xE0\x00\x10JFIF"), Some(ImageKind::Jpeg));
        assert_eq!(detect(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some(ImageKind::Png));
        assert_eq!(detect(b"GIF89a\x01\0\x01\0"), Some(ImageKind::Gif));
        assert_eq!(detect(b"RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0\0"), Some(ImageKind::Webp));
        assert_eq!(detect(b"RIFF\x1a\0\0\0WAVEfmt \x10\0\0\0"), None);
        assert_eq!(detect(b"hello, this is text"), None);
        assert_eq!(detect(b""), None);
        assert_eq!(detect(b"\x89PN"), None);
    }
}
