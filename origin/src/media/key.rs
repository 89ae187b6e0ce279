//! Object keys: `<kind>/<128 random bits as hex>.<ext>`. Unguessable, and strict enough that a key taken
//! from a URL can never name anything else (no `..`, no separators, no other directories).

use super::sniff::ImageKind;

/// Where an upload belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Folder {
    Photos,
    Avatars,
}

impl Folder {
    fn as_str(self) -> &'static str {
        match self {
            Self::Photos => "photos",
            Self::Avatars => "avatars",
        }
    }
}

/// A fresh key for an image of `kind`.
pub fn new_key(folder: Folder, kind: ImageKind) -> String {
    format!("{}/{:032x}.{}", folder.as_str(), rand::random::<u128>(), kind.extension())
}

/// Whether `key` has exactly the shape [`new_key`] produces.
pub fn is_valid(key: &str) -> bool {
    let Some((folder, file)) = key.split_once('/') else { return false };
    let Some((name, ext)) = file.split_once('.') else { return false };
    matches!(folder, "photos" | "avatars")
        && name.len() == 32
        && name.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && matches!(ext, "jpg" | "png" | "gif" | "webp")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_keys_are_valid_and_distinct() {
        let a = new_key(Folder::Photos, ImageKind::Png);
        let b = new_key(Folder::Photos, ImageKind::Png);
        assert!(is_valid(&a) && is_valid(&b) && a != b, "{a} {b}");
        assert!(a.starts_with("photos/") && a.ends_with(".png"));
        assert!(is_valid(&new_key(Folder::Avatars, ImageKind::Webp)));
    }

    #[test]
    fn rejects_anything_else() {
        for key in [
            "",
            "photos/",
            "../etc/passwd",
            "photos/../../etc/passwd",
            "photos/0123456789abcdef0123456789abcdef.exe",
            "photos/0123456789ABCDEF0123456789ABCDEF.png",
            "photos/0123456789abcdef0123456789abcde.png",
            "other/0123456789abcdef0123456789abcdef.png",
            "photos/x/0123456789abcdef0123456789abcdef.png",
            "photos/0123456789abcdef0123456789abcdef.png.png",
            "photos/0123456789abcdef0123456789abcdef.png/",
        ] {
            assert!(!is_valid(key), "{key}");
        }
        assert!(is_valid("photos/0123456789abcdef0123456789abcdef.png"));
    }
}
