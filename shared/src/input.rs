//! Scalars of request bodies as clients send them: JSON carries numbers and booleans, form and multipart
//! bodies carry every value as text. The origin validates the text; these only accept both spellings.

use serde::{Deserialize, Serialize};

/// An id given as a JSON number or as text (`"123"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum LooseId {
    Number(u64),
    Text(String),
}

impl LooseId {
    /// The id, if it is a positive integer within the id range.
    pub fn value(&self) -> Option<u64> {
        let id = match self {
            Self::Number(n) => *n,
            Self::Text(text) => text.trim().parse().ok()?,
        };
        (1..=crate::ids::MAX_ID).contains(&id).then_some(id)
    }
}

/// A boolean given as JSON `true`/`false` or as text (`"true"`, `"False"`, `"1"`, `"0"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum LooseBool {
    Bool(bool),
    Text(String),
}

impl LooseBool {
    pub fn value(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            Self::Text(text) => parse_bool(text),
        }
    }
}

/// Django REST framework's spellings of a boolean.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// For `Option<Option<T>>` fields: absent stays `None`, `null` becomes `Some(None)`.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_booleans_in_both_spellings() {
        let id: LooseId = serde_json::from_str("12").expect("number");
        assert_eq!(id.value(), Some(12));
        let id: LooseId = serde_json::from_str("\" 12 \"").expect("text");
        assert_eq!(id.value(), Some(12));
        let id: LooseId = serde_json::from_str("\"abc\"").expect("text");
        assert_eq!(id.value(), None);
        assert_eq!(LooseId::Number(0).value(), None);
        let b: LooseBool = serde_json::from_str("false").expect("bool");
        assert_eq!(b.value(), Some(false));
        assert_eq!(LooseBool::Text("True".into()).value(), Some(true));
        assert_eq!(LooseBool::Text("maybe".into()).value(), None);
    }
}
