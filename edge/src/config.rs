//! The worker's configuration, read from its bindings into one typed value at the start of each
//! request and passed by reference to every step. Parsing is a handful of string reads; doing it per
//! request keeps the worker free of global state.
//!
//! Bindings: `ORIGIN_URL`, `SESSION_CACHE_SECS`, `FEED_CACHE_SECS`, `PUBLIC_CACHE_SECS`,
//! `RATE_LIMITS` are `[vars]` in
//! `wrangler.toml`, `LIMITER` is the rate limiter's Durable Object namespace;
//! `TOKEN_SECRET` and `EDGE_SECRET` are secrets (`.dev.vars` locally, `wrangler secret put` in
//! production). Any of them can be overridden with `wrangler dev --var NAME:VALUE`.

use worker::{Env, Url};

/// Seconds a session check is cached when `SESSION_CACHE_SECS` is not set.
const DEFAULT_SESSION_CACHE_SECS: u32 = 4;
/// Seconds a newsfeed page is cached when `FEED_CACHE_SECS` is not set.
const DEFAULT_FEED_CACHE_SECS: u32 = 5;
/// Seconds an anonymous public read is cached when `PUBLIC_CACHE_SECS` is not set.
const DEFAULT_PUBLIC_CACHE_SECS: u32 = 5;

#[derive(Debug, Clone)]
pub struct Config {
    /// Scheme, host and port of the origin, without a trailing slash. The origin must be served at the
    /// root: the edge assertion signs the path the client asked for, and the origin checks it against
    /// the path it receives.
    pub origin_url: String,
    /// Verifies bearer tokens; the origin signs them with the same secret.
    pub token_secret: String,
    /// Signs the `x-rookery-edge` assertion; the origin verifies it with the same secret.
    pub edge_secret: String,
    /// How long a session's liveness is cached. It bounds how long a token keeps working at the edge
    /// after a logout that did not pass through this edge. 0 disables the cache.
    pub session_cache_secs: u32,
    /// How long a user's newsfeed page is served from the edge. It bounds how stale a page can be for
    /// changes the reader did not make (their own writes through the edge show at once). 0 disables
    /// the feed cache.
    pub feed_cache_secs: u32,
    /// How long an anonymous public read (tweet lists and details, followers, followings, comments) is
    /// served from the edge: how stale such a page can be for anonymous readers. 0 disables it.
    pub public_cache_secs: u32,
    /// Whether rate limits apply ("on"/"off"); tests and benchmarks switch them off.
    pub rate_limits: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("binding {0} is not set")]
    Missing(&'static str),
    #[error("binding {name} is invalid: {why}")]
    Invalid {
        name: &'static str,
        why: &'static str,
    },
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Self::from_lookup(|name| env.var(name).ok().map(|value| value.to_string()))
    }

    /// Builds the configuration from any name → value lookup, so the rules can be tested natively.
    fn from_lookup(lookup: impl Fn(&'static str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| {
            lookup(name)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        Ok(Self {
            origin_url: parse_origin_url(&required("ORIGIN_URL")?)?,
            token_secret: required("TOKEN_SECRET")?,
            edge_secret: required("EDGE_SECRET")?,
            session_cache_secs: seconds(&lookup, "SESSION_CACHE_SECS", DEFAULT_SESSION_CACHE_SECS)?,
            feed_cache_secs: seconds(&lookup, "FEED_CACHE_SECS", DEFAULT_FEED_CACHE_SECS)?,
            public_cache_secs: seconds(&lookup, "PUBLIC_CACHE_SECS", DEFAULT_PUBLIC_CACHE_SECS)?,
            rate_limits: match lookup("RATE_LIMITS").as_deref().map(str::trim) {
                None | Some("on") => true,
                Some("off") => false,
                Some(_) => {
                    return Err(ConfigError::Invalid {
                        name: "RATE_LIMITS",
                        why: "expected on or off",
                    })
                }
            },
        })
    }
}

/// A whole number of seconds, or `default` when the binding is not set.
fn seconds(
    lookup: &impl Fn(&'static str) -> Option<String>,
    name: &'static str,
    default: u32,
) -> Result<u32, ConfigError> {
    match lookup(name) {
        None => Ok(default),
        Some(text) => text.trim().parse().map_err(|_| ConfigError::Invalid {
            name,
            why: "expected a whole number of seconds",
        }),
    }
}

fn parse_origin_url(text: &str) -> Result<String, ConfigError> {
    let invalid = |why| ConfigError::Invalid {
        name: "ORIGIN_URL",
        why,
    };
    let url = Url::parse(text).map_err(|_| invalid("not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("expected an http or https URL"));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("expected scheme, host and port only"));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&'static str, &str)]) -> Result<Config, ConfigError> {
        let pairs: Vec<(&'static str, String)> = pairs
            .iter()
            .map(|(name, value)| (*name, (*value).to_owned()))
            .collect();
        Config::from_lookup(|name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, value)| value.clone())
        })
    }

    const BASE: [(&str, &str); 3] = [
        ("ORIGIN_URL", "http://127.0.0.1:8000/"),
        ("TOKEN_SECRET", "t"),
        ("EDGE_SECRET", "e"),
    ];

    #[test]
    fn defaults_and_normalised_origin() {
        let c = config(&BASE).expect("valid");
        assert_eq!(c.origin_url, "http://127.0.0.1:8000");
        assert_eq!(c.session_cache_secs, 4);
        assert_eq!(c.feed_cache_secs, 5);
        assert_eq!(c.public_cache_secs, 5);
        assert!(c.rate_limits);
    }

    #[test]
    fn reads_every_var() {
        let mut pairs = BASE.to_vec();
        pairs.extend([
            ("SESSION_CACHE_SECS", "0"),
            ("FEED_CACHE_SECS", "9"),
            ("PUBLIC_CACHE_SECS", "0"),
            ("RATE_LIMITS", "off"),
        ]);
        let c = config(&pairs).expect("valid");
        assert_eq!(c.session_cache_secs, 0);
        assert_eq!(c.feed_cache_secs, 9);
        assert_eq!(c.public_cache_secs, 0);
        assert!(!c.rate_limits);
    }

    #[test]
    fn rejects_missing_and_invalid() {
        assert_eq!(
            config(&BASE[..2]).err(),
            Some(ConfigError::Missing("EDGE_SECRET"))
        );
        for (name, value) in [
            ("ORIGIN_URL", "127.0.0.1:8000"),
            ("ORIGIN_URL", "ftp://example.com"),
            ("ORIGIN_URL", "http://example.com/prefix"),
            ("SESSION_CACHE_SECS", "-1"),
            ("FEED_CACHE_SECS", "5s"),
            ("RATE_LIMITS", "yes"),
        ] {
            let mut pairs = BASE.to_vec();
            pairs.retain(|(n, _)| *n != name);
            pairs.push((name, value));
            assert!(
                matches!(config(&pairs), Err(ConfigError::Invalid { .. })),
                "{name}={value} accepted"
            );
        }
    }
}
