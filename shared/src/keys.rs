//! Named HMAC keys, so secrets can be rotated without logging anyone out.
//!
//! A key ring is written `id:secret,id:secret,…` (as in `TOKEN_SECRETS` and `EDGE_SECRETS`). The first
//! key signs; every key listed verifies what was signed with it, found by the id the signature carries.
//! Rotation: put a new key first and keep the old one after it (old tokens keep working); once every
//! token signed with the old key has expired, or the window you allow has passed, drop it.

use std::fmt;

/// Longest key id: ids travel inside every token and every edge assertion.
pub const MAX_ID_LEN: usize = 16;

#[derive(Clone, PartialEq, Eq)]
pub struct Key {
    pub id: String,
    pub secret: Vec<u8>,
}

/// Never prints a secret.
impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({}, {} bytes)", self.id, self.secret.len())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRing {
    /// Never empty; the first key signs.
    keys: Vec<Key>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("no key given")]
    Empty,
    #[error("key {0:?} is not written id:secret")]
    NoId(usize),
    #[error("key id {0:?} is not 1-16 characters of A-Z, a-z, 0-9, _ and -")]
    BadId(String),
    #[error("key {0:?} has an empty secret")]
    EmptySecret(String),
    #[error("key id {0:?} is listed twice")]
    Duplicate(String),
}

impl KeyRing {
    /// Parses `id:secret,id:secret,…`; white space around each part is ignored.
    pub fn parse(list: &str) -> Result<Self, KeyError> {
        let mut keys: Vec<Key> = Vec::new();
        for (position, entry) in list.split(',').map(str::trim).filter(|e| !e.is_empty()).enumerate() {
            let (id, secret) = entry.split_once(':').ok_or(KeyError::NoId(position + 1))?;
            let (id, secret) = (id.trim(), secret.trim());
            if !is_valid_id(id) {
                return Err(KeyError::BadId(id.to_owned()));
            }
            if secret.is_empty() {
                return Err(KeyError::EmptySecret(id.to_owned()));
            }
            if keys.iter().any(|key| key.id == id) {
                return Err(KeyError::Duplicate(id.to_owned()));
            }
            keys.push(Key { id: id.to_owned(), secret: secret.as_bytes().to_vec() });
        }
        if keys.is_empty() {
            return Err(KeyError::Empty);
        }
        Ok(Self { keys })
    }

    /// One key with id `0`: a deployment configured with a single secret.
    pub fn single(secret: &str) -> Self {
        Self { keys: vec![Key { id: "0".to_owned(), secret: secret.as_bytes().to_vec() }] }
    }

    /// The key that signs.
    pub fn signing(&self) -> &Key {
        &self.keys[0]
    }

    /// The key with this id, if it is still accepted.
    pub fn find(&self, id: &str) -> Option<&Key> {
        self.keys.iter().find(|key| key.id == id)
    }

    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// The ring written back as `parse` reads it, secrets included: for handing a configuration to a
    /// process, never for logs.
    pub fn to_list(&self) -> String {
        let entries: Vec<String> =
            self.keys.iter().map(|key| format!("{}:{}", key.id, String::from_utf8_lossy(&key.secret))).collect();
        entries.join(",")
    }
}

fn is_valid_id(id: &str) -> bool {
    (1..=MAX_ID_LEN).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_key_signs_and_all_verify() {
        let ring = KeyRing::parse(" new:s3cret , old:0ld:with:colons ").expect("a ring");
        assert_eq!(ring.signing().id, "new");
        assert_eq!(ring.find("old").map(|k| k.secret.clone()), Some(b"0ld:with:colons".to_vec()));
        assert_eq!(ring.find("gone"), None);
        assert_eq!(ring.keys().len(), 2);
        assert_eq!(KeyRing::parse(&ring.to_list()), Ok(ring));
    }

    #[test]
    fn refuses_what_cannot_be_a_ring() {
        assert_eq!(KeyRing::parse(""), Err(KeyError::Empty));
        assert_eq!(KeyRing::parse(" , "), Err(KeyError::Empty));
        assert_eq!(KeyRing::parse("nosecret"), Err(KeyError::NoId(1)));
        assert_eq!(KeyRing::parse("a:x,b:"), Err(KeyError::EmptySecret("b".into())));
        assert_eq!(KeyRing::parse("a;b:x"), Err(KeyError::BadId("a;b".into())));
        assert_eq!(KeyRing::parse(&format!("{}:x", "k".repeat(17))), Err(KeyError::BadId("k".repeat(17))));
        assert_eq!(KeyRing::parse("a:x,a:y"), Err(KeyError::Duplicate("a".into())));
    }

    #[test]
    fn debug_output_hides_secrets() {
        let ring = KeyRing::parse("k1:topsecretvalue").expect("a ring");
        assert!(!format!("{ring:?}").contains("topsecret"));
    }
}
