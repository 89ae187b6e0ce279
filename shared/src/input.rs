//! Scalars of request bodies as clients send them: JSON carries numbers and booleans, form and multipart
//! bodies carry every value as text. The origin validates the text; these only accept both spellings.
//!
//! Deserialising them never fails, whatever the client sent (`-1`, `1.5`, `[]`, `{}`): a value of the wrong
//! kind is kept as [`LooseId::Invalid`] / [`LooseBool::Invalid`], so the rules that read it report the
//! field by name in the contract's words instead of a parser's message.

use std::fmt;

use serde::{
    de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor},
    Deserialize, Deserializer, Serialize,
};

/// An id given as a JSON number or as text (`"123"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum LooseId {
    Number(u64),
    Text(String),
    /// Anything else: a negative or fractional number, a boolean, a list, an object.
    #[serde(skip)]
    Invalid,
}

impl LooseId {
    /// The id, if it is a positive integer within the id range.
    pub fn value(&self) -> Option<u64> {
        let id = match self {
            Self::Number(n) => *n,
            Self::Text(text) => text.trim().parse().ok()?,
            Self::Invalid => return None,
        };
        (1..=crate::ids::MAX_ID).contains(&id).then_some(id)
    }
}

/// A boolean given as JSON `true`/`false` or as text (`"true"`, `"False"`, `"1"`, `"0"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum LooseBool {
    Bool(bool),
    Text(String),
    /// Anything else: a number, a list, an object.
    #[serde(skip)]
    Invalid,
}

impl LooseBool {
    pub fn value(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            Self::Text(text) => parse_bool(text),
            Self::Invalid => None,
        }
    }
}

/// Which scalar a [`Loose`] visitor builds.
trait Scalar: Sized {
    const EXPECTING: &'static str;
    fn from_u64(n: u64) -> Self;
    fn from_bool(b: bool) -> Self;
    fn from_text(text: &str) -> Self;
    fn invalid() -> Self;
}

impl Scalar for LooseId {
    const EXPECTING: &'static str = "an id";
    fn from_u64(n: u64) -> Self {
        Self::Number(n)
    }
    fn from_bool(_: bool) -> Self {
        Self::Invalid
    }
    fn from_text(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
    fn invalid() -> Self {
        Self::Invalid
    }
}

impl Scalar for LooseBool {
    const EXPECTING: &'static str = "a boolean";
    fn from_u64(_: u64) -> Self {
        Self::Invalid
    }
    fn from_bool(b: bool) -> Self {
        Self::Bool(b)
    }
    fn from_text(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
    fn invalid() -> Self {
        Self::Invalid
    }
}

/// Accepts any value; what is not the scalar becomes its `Invalid`.
struct Loose<T>(std::marker::PhantomData<T>);

impl<'de, T: Scalar> Visitor<'de> for Loose<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<T, E> {
        Ok(T::from_u64(n))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<T, E> {
        Ok(u64::try_from(n).map_or_else(|_| T::invalid(), T::from_u64))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<T, E> {
        Ok(T::invalid())
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<T, E> {
        Ok(T::from_bool(b))
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        Ok(T::from_text(text))
    }
    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Ok(T::invalid())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(T::invalid())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(T::invalid())
    }
}

impl<'de> Deserialize<'de> for LooseId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Loose::<Self>(std::marker::PhantomData))
    }
}

impl<'de> Deserialize<'de> for LooseBool {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Loose::<Self>(std::marker::PhantomData))
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

    #[test]
    fn values_of_the_wrong_kind_are_kept_as_invalid_not_refused() {
        for json in ["-1", "1.5", "true", "[1]", "{\"a\": 1}", "null"] {
            let id: LooseId = serde_json::from_str(json).expect(json);
            assert_eq!(id.value(), None, "{json}");
        }
        for json in ["2", "-1", "1.5", "[true]", "{}"] {
            let b: LooseBool = serde_json::from_str(json).expect(json);
            assert_eq!(b.value(), None, "{json}");
        }
    }
}
