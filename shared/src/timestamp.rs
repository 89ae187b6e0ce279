//! The contract's datetime: ISO-8601 UTC with microseconds and `Z` on output; on input also `+00:00`,
//! no fraction, a space instead of `T`, or an integer count of microseconds since the Unix epoch.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{format_description::well_known::Rfc3339, macros::format_description, OffsetDateTime};

/// Microseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(
        value_type = String,
        format = DateTime,
        description = "ISO-8601 UTC with microseconds and `Z`.",
        example = "2026-11-27T21:05:36.123456Z"
    )
)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn micros(self) -> i64 {
        self.0
    }

    /// Parses any accepted input form; `None` when it is none of them.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            return text.parse().ok().map(Self);
        }
        let mut iso = text.replacen(' ', "T", 1);
        // A bare date-time without an offset is taken as UTC, as Django does with USE_TZ.
        let has_offset = iso.ends_with('Z') || iso.ends_with('z') || {
            let tail = iso.get(iso.len().saturating_sub(6)..).unwrap_or("");
            tail.starts_with('+') || tail.starts_with('-')
        };
        if !has_offset {
            iso.push('Z');
        }
        let parsed = OffsetDateTime::parse(&iso, &Rfc3339).ok()?;
        i64::try_from(parsed.unix_timestamp_nanos() / 1_000).ok().map(Self)
    }

    pub fn to_iso(self) -> String {
        let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000)
            .ok()
            .and_then(|t| t.format(&format).ok())
            .unwrap_or_else(|| "1970-01-01T00:00:00.000000Z".to_owned())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_iso())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).ok_or_else(|| serde::de::Error::custom("invalid datetime"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_795_813_536_123_456; // 2026-11-27T21:05:36.123456Z

    #[test]
    fn formats_with_microseconds_and_z() {
        assert_eq!(Timestamp(T).to_iso(), "2026-11-27T21:05:36.123456Z");
        assert_eq!(Timestamp(T - 123_456).to_iso(), "2026-11-27T21:05:36.000000Z");
    }

    #[test]
    fn parses_every_accepted_form() {
        for text in [
            "2026-11-27T21:05:36.123456Z",
            "2026-11-27T21:05:36.123456+00:00",
            "2026-11-27 21:05:36.123456",
            "2026-11-27T23:05:36.123456+02:00",
            "1795813536123456",
        ] {
            assert_eq!(Timestamp::parse(text), Some(Timestamp(T)), "{text}");
        }
        assert_eq!(Timestamp::parse("2026-11-27T21:05:36Z"), Some(Timestamp(T - 123_456)));
    }

    #[test]
    fn rejects_garbage() {
        for text in ["", "yesterday", "2026-13-01T00:00:00Z", "-5", "1e9", "99999999999999999999999"] {
            assert_eq!(Timestamp::parse(text), None, "{text}");
        }
    }
}
