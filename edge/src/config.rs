//! The worker's configuration, read from its bindings into one typed value at the start of each
//! request and passed by reference to every step. Parsing is a handful of string reads; doing it per
//! request keeps the worker free of global state.
//!
//! Bindings: `ORIGIN_URL`, `SESSION_CACHE_SECS`, `FEED_CACHE_SECS`, `PUBLIC_CACHE_SECS`,
//! `RATE_LIMITS`, `TRUST_CF_CONNECTING_IP`, `MAX_BODY_BYTES` are `[vars]` in `wrangler.toml`, `LIMITER`
//! is the rate limiter's Durable Object namespace; `ROOKERY_ENV` and the key rings (`TOKEN_SECRETS` and
//! `EDGE_SECRETS`, or one `TOKEN_SECRET` and `EDGE_SECRET`) come from `.dev.vars` locally and from
//! `wrangler secret put` in production. Any of them can be overridden with
//! `wrangler dev --var NAME:VALUE`.
//!
//! Outside development (`ROOKERY_ENV` other than `dev`, `development` or `test`, or unset) a key that
//! is one of the public development secrets, or shorter than 32 characters, is a configuration error:
//! the worker then answers every request with the 500 envelope and logs why, rather than accept tokens
//! anyone can forge.

use rookery_shared::keys::{KeyError, KeyRing};
use worker::{Env, Url};

/// Seconds a session check is cached when `SESSION_CACHE_SECS` is not set.
const DEFAULT_SESSION_CACHE_SECS: u32 = 4;
/// Seconds a newsfeed page is cached when `FEED_CACHE_SECS` is not set.
const DEFAULT_FEED_CACHE_SECS: u32 = 5;
/// Seconds an anonymous public read is cached when `PUBLIC_CACHE_SECS` is not set.
const DEFAULT_PUBLIC_CACHE_SECS: u32 = 5;
/// The largest body forwarded when `MAX_BODY_BYTES` is not set: a tweet with 9 photos of 5 MiB each
/// plus the form's own fields and boundaries.
const DEFAULT_MAX_BODY_BYTES: u64 = 50 * 1024 * 1024;

/// The secrets `.dev.vars.example` (and the origin's development defaults) publish; never valid
/// outside development.
const DEV_SECRETS: [&str; 2] = ["rookery-dev-token-secret-change-me", "rookery-dev-edge-secret-change-me"];
/// Outside development every key must be at least this long (the origin's rule too).
const MIN_SECRET_LEN: usize = 32;

#[derive(Debug, Clone)]
pub struct Config {
    /// Scheme, host and port of the origin, without a trailing slash. The origin must be served at the
    /// root: the edge assertion signs the path the client asked for, and the origin checks it against
    /// the path it receives.
    pub origin_url: String,
    /// Verifies bearer tokens (any key of the ring, found by the token's key id); the origin signs them
    /// with the first key of the same ring.
    pub token_keys: KeyRing,
    /// Signs the `x-rookery-edge` assertion with its first key; the origin verifies it with a ring
    /// that holds that key.
    pub edge_keys: KeyRing,
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
    /// Whether `CF-Connecting-IP` names the client: true only behind Cloudflare, which overwrites it.
    /// Anywhere else a client writes it freely, so the edge does not know the IP ([`crate::client`]).
    pub trust_cf_connecting_ip: bool,
    /// The largest request body the edge buffers and forwards; a larger one is answered 413.
    pub max_body_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("binding {0} is not set")]
    Missing(&'static str),
    #[error("binding {list} (or {single}) is not set")]
    MissingKeys { list: &'static str, single: &'static str },
    #[error("binding {name} is invalid: {why}")]
    Invalid { name: &'static str, why: &'static str },
    #[error("binding {name} is not a key ring (id:secret,...): {error}")]
    Keys { name: &'static str, error: KeyError },
    /// A key anyone could know, outside development. Names the key, never its secret.
    #[error(
        "binding {name}: key {id:?} {why}; outside development every key must be a private secret \
         of at least 32 characters (set ROOKERY_ENV=development in .dev.vars for local runs)"
    )]
    Unsafe { name: &'static str, id: String, why: &'static str },
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Self::from_lookup(|name| env.var(name).ok().map(|value| value.to_string()))
    }

    /// Builds the configuration from any name → value lookup, so the rules can be tested natively.
    fn from_lookup(lookup: impl Fn(&'static str) -> Option<String>) -> Result<Self, ConfigError> {
        let lookup =
            |name: &'static str| lookup(name).map(|value| value.trim().to_owned()).filter(|value| !value.is_empty());
        let development =
            lookup("ROOKERY_ENV").is_some_and(|env| matches!(env.as_str(), "dev" | "development" | "test"));
        let (token_name, token_keys) = key_ring(&lookup, "TOKEN_SECRETS", "TOKEN_SECRET")?;
        let (edge_name, edge_keys) = key_ring(&lookup, "EDGE_SECRETS", "EDGE_SECRET")?;
        if !development {
            refuse_public_keys(token_name, &token_keys)?;
            refuse_public_keys(edge_name, &edge_keys)?;
        }
        Ok(Self {
            origin_url: parse_origin_url(&lookup("ORIGIN_URL").ok_or(ConfigError::Missing("ORIGIN_URL"))?)?,
            token_keys,
            edge_keys,
            session_cache_secs: number(&lookup, "SESSION_CACHE_SECS", DEFAULT_SESSION_CACHE_SECS)?,
            feed_cache_secs: number(&lookup, "FEED_CACHE_SECS", DEFAULT_FEED_CACHE_SECS)?,
            public_cache_secs: number(&lookup, "PUBLIC_CACHE_SECS", DEFAULT_PUBLIC_CACHE_SECS)?,
            rate_limits: switch(&lookup, "RATE_LIMITS", ["on", "off"], "expected on or off")?.unwrap_or(true),
            trust_cf_connecting_ip: switch(
                &lookup,
                "TRUST_CF_CONNECTING_IP",
                ["true", "false"],
                "expected true or false",
            )?
            .unwrap_or(false),
            max_body_bytes: match number(&lookup, "MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)? {
                0 => {
                    return Err(ConfigError::Invalid {
                        name: "MAX_BODY_BYTES",
                        why: "expected a positive number of bytes",
                    })
                }
                bytes => bytes,
            },
        })
    }

    /// The origin's host and port: `ORIGIN_URL` without its scheme. The Cache API is shared by
    /// everything on the zone, so every cache key names it: two origins (or two test databases) never
    /// read each other's entries.
    pub fn origin_host(&self) -> &str {
        self.origin_url.split_once("://").map_or(&self.origin_url, |(_, host)| host)
    }

    /// A development configuration for the unit tests of other modules.
    #[cfg(test)]
    pub fn for_tests() -> Self {
        Self::from_lookup(|name| {
            let value = match name {
                "ORIGIN_URL" => "http://127.0.0.1:8000",
                "ROOKERY_ENV" => "test",
                "TOKEN_SECRET" => "t",
                "EDGE_SECRET" => "e",
                _ => return None,
            };
            Some(value.to_owned())
        })
        .unwrap_or_else(|error| panic!("the test configuration is valid: {error}"))
    }
}

/// The ring in `list` (`id:secret,...`), else the one secret in `single` as key `0`; with the name of
/// the binding it came from, for error messages.
fn key_ring(
    lookup: &impl Fn(&'static str) -> Option<String>,
    list: &'static str,
    single: &'static str,
) -> Result<(&'static str, KeyRing), ConfigError> {
    if let Some(text) = lookup(list) {
        let ring = KeyRing::parse(&text).map_err(|error| ConfigError::Keys { name: list, error })?;
        return Ok((list, ring));
    }
    let secret = lookup(single).ok_or(ConfigError::MissingKeys { list, single })?;
    Ok((single, KeyRing::single(&secret)))
}

/// Outside development: no key may be a published development secret or a short one.
fn refuse_public_keys(name: &'static str, ring: &KeyRing) -> Result<(), ConfigError> {
    for key in ring.keys() {
        let why = if DEV_SECRETS.iter().any(|dev| key.secret == dev.as_bytes()) {
            "is a public development secret"
        } else if key.secret.len() < MIN_SECRET_LEN {
            "is shorter than 32 characters"
        } else {
            continue;
        };
        return Err(ConfigError::Unsafe { name, id: key.id.clone(), why });
    }
    Ok(())
}

/// A whole number, or `default` when the binding is not set.
fn number<T: std::str::FromStr>(
    lookup: &impl Fn(&'static str) -> Option<String>,
    name: &'static str,
    default: T,
) -> Result<T, ConfigError> {
    match lookup(name) {
        None => Ok(default),
        Some(text) => text.parse().map_err(|_| ConfigError::Invalid { name, why: "expected a whole number" }),
    }
}

/// `Some(true)` for `yes`, `Some(false)` for `no`, `None` when the binding is not set.
fn switch(
    lookup: &impl Fn(&'static str) -> Option<String>,
    name: &'static str,
    [yes, no]: [&'static str; 2],
    why: &'static str,
) -> Result<Option<bool>, ConfigError> {
    match lookup(name) {
        None => Ok(None),
        Some(word) if word == yes => Ok(Some(true)),
        Some(word) if word == no => Ok(Some(false)),
        Some(_) => Err(ConfigError::Invalid { name, why }),
    }
}

fn parse_origin_url(text: &str) -> Result<String, ConfigError> {
    let invalid = |why| ConfigError::Invalid { name: "ORIGIN_URL", why };
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
        let pairs: Vec<(&'static str, String)> =
            pairs.iter().map(|(name, value)| (*name, (*value).to_owned())).collect();
        Config::from_lookup(|name| pairs.iter().find(|(n, _)| *n == name).map(|(_, value)| value.clone()))
    }

    /// `pairs` with `changes` applied: a name in `changes` replaces (or, with "", removes) the base's.
    fn with(
        pairs: &[(&'static str, &'static str)],
        changes: &[(&'static str, &'static str)],
    ) -> Vec<(&'static str, &'static str)> {
        let mut result: Vec<_> =
            pairs.iter().filter(|(name, _)| !changes.iter().any(|(n, _)| n == name)).copied().collect();
        result.extend(changes.iter().filter(|(_, value)| !value.is_empty()));
        result
    }

    const LONG_TOKEN: &str = "a-private-token-secret-of-40-characters!!";
    const LONG_EDGE: &str = "a-private-edge-secret-of-40-characters!!!";

    const BASE: [(&str, &str); 4] = [
        ("ORIGIN_URL", "http://127.0.0.1:8000/"),
        ("ROOKERY_ENV", "development"),
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
        assert!(!c.trust_cf_connecting_ip, "CF-Connecting-IP is not trusted unless set");
        assert_eq!(c.max_body_bytes, 52_428_800);
    }

    #[test]
    fn origin_host_is_the_origin_url_without_its_scheme() {
        for (url, host) in [
            ("http://127.0.0.1:8000/", "127.0.0.1:8000"),
            ("https://origin.example.com", "origin.example.com"),
            ("HTTPS://Origin.Example.com:8443/", "origin.example.com:8443"),
            ("http://[::1]:8000", "[::1]:8000"),
        ] {
            let c = config(&with(&BASE, &[("ORIGIN_URL", url)])).expect("valid");
            assert_eq!(c.origin_host(), host, "{url}");
        }
    }

    #[test]
    fn reads_every_var() {
        let pairs = with(
            &BASE,
            &[
                ("SESSION_CACHE_SECS", "0"),
                ("FEED_CACHE_SECS", "9"),
                ("PUBLIC_CACHE_SECS", "0"),
                ("RATE_LIMITS", "off"),
                ("TRUST_CF_CONNECTING_IP", "true"),
                ("MAX_BODY_BYTES", "1024"),
            ],
        );
        let c = config(&pairs).expect("valid");
        assert_eq!(c.session_cache_secs, 0);
        assert_eq!(c.feed_cache_secs, 9);
        assert_eq!(c.public_cache_secs, 0);
        assert!(!c.rate_limits);
        assert!(c.trust_cf_connecting_ip);
        assert_eq!(c.max_body_bytes, 1024);
        let c = config(&with(&BASE, &[("TRUST_CF_CONNECTING_IP", "false")])).expect("valid");
        assert!(!c.trust_cf_connecting_ip);
    }

    #[test]
    fn rejects_missing_and_invalid() {
        assert_eq!(
            config(&with(&BASE, &[("EDGE_SECRET", "")])).err(),
            Some(ConfigError::MissingKeys { list: "EDGE_SECRETS", single: "EDGE_SECRET" })
        );
        for (name, value) in [
            ("ORIGIN_URL", "127.0.0.1:8000"),
            ("ORIGIN_URL", "ftp://example.com"),
            ("ORIGIN_URL", "http://example.com/prefix"),
            ("SESSION_CACHE_SECS", "-1"),
            ("FEED_CACHE_SECS", "5s"),
            ("RATE_LIMITS", "yes"),
            ("TRUST_CF_CONNECTING_IP", "on"),
            ("TRUST_CF_CONNECTING_IP", "1"),
            ("MAX_BODY_BYTES", "0"),
            ("MAX_BODY_BYTES", "50MiB"),
        ] {
            assert!(
                matches!(config(&with(&BASE, &[(name, value)])), Err(ConfigError::Invalid { .. })),
                "{name}={value} accepted"
            );
        }
    }

    #[test]
    fn key_rings_come_from_the_lists_or_one_secret() {
        let single = config(&BASE).expect("valid");
        assert_eq!(single.token_keys, KeyRing::single("t"));
        assert_eq!(single.edge_keys, KeyRing::single("e"));

        let rotated = config(&with(
            &BASE,
            &[("TOKEN_SECRETS", "k2:new-token-secret,k1:old-token-secret"), ("EDGE_SECRETS", "e2:new-edge-secret")],
        ))
        .expect("valid");
        assert_eq!(rotated.token_keys.signing().id, "k2");
        assert!(rotated.token_keys.find("k1").is_some(), "the old key still verifies");
        assert_eq!(rotated.edge_keys.signing().id, "e2");
        assert_eq!(rotated.edge_keys.keys().len(), 1);

        let broken = config(&with(&BASE, &[("TOKEN_SECRETS", "no-id-here")]));
        assert!(matches!(broken, Err(ConfigError::Keys { name: "TOKEN_SECRETS", .. })), "{broken:?}");
    }

    #[test]
    fn only_the_named_environments_are_development() {
        let dev_secrets = [
            ("TOKEN_SECRET", "rookery-dev-token-secret-change-me"),
            ("EDGE_SECRET", "rookery-dev-edge-secret-change-me"),
        ];
        let base = with(&BASE, &dev_secrets);
        for env in ["dev", "development", "test", " test "] {
            let accepted = config(&with(&base, &[("ROOKERY_ENV", env)]));
            assert!(accepted.is_ok(), "{env}: {accepted:?}");
        }
        for env in ["", "production", "staging", "Development", "prod"] {
            let refused = config(&with(&base, &[("ROOKERY_ENV", env)]));
            assert!(matches!(refused, Err(ConfigError::Unsafe { .. })), "{env:?}: {refused:?}");
        }
    }

    #[test]
    fn outside_development_public_and_short_keys_are_refused() {
        let production = with(&BASE, &[("ROOKERY_ENV", ""), ("TOKEN_SECRET", LONG_TOKEN), ("EDGE_SECRET", LONG_EDGE)]);
        assert!(config(&production).is_ok());
        let dev_token = "rookery-dev-token-secret-change-me";
        let dev_edge = "rookery-dev-edge-secret-change-me";
        let old_dev_key = "k2:a-private-token-secret-of-40-characters!!,k1:rookery-dev-token-secret-change-me";
        let short_old_key = "e2:a-private-edge-secret-of-40-characters!!!,e1:tiny-secret";
        for (changes, name, id) in [
            (("TOKEN_SECRET", dev_token), "TOKEN_SECRET", "0"),
            (("EDGE_SECRET", dev_edge), "EDGE_SECRET", "0"),
            // The edge's secret as the token's: still public.
            (("TOKEN_SECRET", dev_edge), "TOKEN_SECRET", "0"),
            (("EDGE_SECRET", "only-31-characters-long-secret!"), "EDGE_SECRET", "0"),
            (("TOKEN_SECRETS", old_dev_key), "TOKEN_SECRETS", "k1"),
            (("EDGE_SECRETS", short_old_key), "EDGE_SECRETS", "e1"),
        ] {
            let refused = config(&with(&production, &[changes]));
            assert!(
                matches!(&refused, Err(ConfigError::Unsafe { name: n, id: i, .. }) if *n == name && i == id),
                "{changes:?}: {refused:?}"
            );
            let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(!message.contains("change-me") && !message.contains("tiny-secret"), "{message}");
            // The same keys are accepted in development.
            let dev = with(&production, &[changes, ("ROOKERY_ENV", "development")]);
            assert!(config(&dev).is_ok(), "{changes:?} in development");
        }
        assert!(config(&with(&production, &[("EDGE_SECRET", "exactly-32-characters-long-key!!")])).is_ok());
    }
}
