//! Typed configuration, read once from the environment. Every default works on a development machine with
//! MySQL/MariaDB, Redis and RabbitMQ on their standard local ports.

use std::net::SocketAddr;

use anyhow::{bail, Context};
use rookery_shared::keys::KeyRing;

pub const DEV_TOKEN_SECRET: &str = "rookery-dev-token-secret-change-me";
pub const DEV_EDGE_SECRET: &str = "rookery-dev-edge-secret-change-me";

/// `Debug` redacts the secrets and the passwords in service URLs, so a logged configuration leaks nothing.
#[derive(Clone)]
pub struct Config {
    /// Address the HTTP server binds; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Address of the admin listener (`ADMIN_ADDR`): `/metrics`, `/readyz` and `/healthz` for operators
    /// and probes, never the public API. Keep it on a private interface.
    pub admin_listen: SocketAddr,
    /// MySQL URL including the database name; the database is created if missing.
    pub database_url: String,
    pub database_max_connections: u32,
    pub redis_url: String,
    /// Prefix of every Redis key this instance writes, so several deployments or tests share a server.
    pub redis_prefix: String,
    pub amqp_url: String,
    /// Prefix of every RabbitMQ exchange and queue name.
    pub amqp_prefix: String,
    /// Keys of bearer tokens (`TOKEN_SECRETS`, or one `TOKEN_SECRET`); the first signs. Shared with the edge.
    pub token_keys: KeyRing,
    /// Keys of the edge assertion header (`EDGE_SECRETS`, or one `EDGE_SECRET`); shared with the edge.
    pub edge_keys: KeyRing,
    pub token_ttl_secs: i64,
    /// Development mode (`ROOKERY_ENV=dev`, `development` or `test`, and only then) allows the well-known
    /// development secrets and short ones.
    pub dev_mode: bool,
    /// Whether rate limits are enforced (`RATE_LIMITS=off` disables them for tests and benchmarks).
    pub rate_limits: bool,
    /// 0..=15: distinguishes id generators of concurrently running origin processes.
    pub node_id: u16,
    /// Largest accepted JSON or form body, in bytes.
    pub max_body_bytes: usize,
    /// Longest a request may take, body included (`REQUEST_TIMEOUT_SECS`); past it the client gets a
    /// 408 and the connection is freed, so a client that sends its body slowly, or stops sending it,
    /// cannot hold a connection and a task forever.
    pub request_timeout: std::time::Duration,
    /// Emit logs as JSON lines instead of human-readable text.
    pub log_json: bool,
    /// Run the fanout consumers inside `serve` (the default); `origin worker` runs them on their own.
    pub run_consumers: bool,
    /// Followers per fanout delivery message.
    pub fanout_batch_size: u32,
    /// Authors with more followers than this are not pushed to timelines; their tweets are merged into
    /// followers' pages at read time.
    pub hybrid_threshold: u64,
    /// Outbox rows plus queued fanout messages above which posting answers 503 (`Retry-After`); 0 turns
    /// this backpressure off.
    pub fanout_max_backlog: u64,
    /// Fanout lag (ms) above which posting waits, then answers 503; 0 turns this bound off.
    pub fanout_max_lag_ms: u64,
    /// Largest number of tweet ids kept per Redis timeline; older pages come from MySQL.
    pub timeline_cap: usize,
    /// Base of the absolute URLs the origin gives out for media (what clients can reach).
    pub public_url: String,
    /// Uploaded media: a local directory (`MEDIA_DIR`), unless `media_url` names an object store.
    pub media_dir: std::path::PathBuf,
    /// An object-store URL such as `s3://bucket/prefix` (`MEDIA_URL`); its options come from `MEDIA_S3_*`.
    pub media_url: Option<String>,
    /// `MEDIA_S3_ENDPOINT=…` becomes `("aws_endpoint", …)`, and so on; values are never logged.
    pub media_options: crate::media::store::Options,
    /// Largest accepted upload, per file.
    pub media_max_bytes: usize,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let dev_mode = var("ROOKERY_ENV").is_some_and(|v| is_development(&v));
        let config = Self {
            listen: var("LISTEN_ADDR")
                .unwrap_or_else(|| "127.0.0.1:8000".into())
                .parse()
                .context("LISTEN_ADDR is not a socket address")?,
            admin_listen: var("ADMIN_ADDR")
                .unwrap_or_else(|| "127.0.0.1:9100".into())
                .parse()
                .context("ADMIN_ADDR is not a socket address")?,
            database_url: var("DATABASE_URL").unwrap_or_else(|| "mysql://root@127.0.0.1:3306/rookery".into()),
            database_max_connections: parse("DATABASE_MAX_CONNECTIONS", 20)?,
            redis_url: var("REDIS_URL").unwrap_or_else(|| "redis://127.0.0.1:6379/".into()),
            redis_prefix: var("REDIS_PREFIX").unwrap_or_else(|| "rk:".into()),
            amqp_url: var("AMQP_URL").unwrap_or_else(|| "amqp://guest:guest@127.0.0.1:5672/%2f".into()),
            amqp_prefix: var("AMQP_PREFIX").unwrap_or_else(|| "rookery".into()),
            token_keys: key_ring("TOKEN_SECRETS", "TOKEN_SECRET", DEV_TOKEN_SECRET, dev_mode)?,
            edge_keys: key_ring("EDGE_SECRETS", "EDGE_SECRET", DEV_EDGE_SECRET, dev_mode)?,
            token_ttl_secs: parse("TOKEN_TTL_SECS", 30 * 24 * 3600)?,
            dev_mode,
            rate_limits: var("RATE_LIMITS").is_none_or(|v| !matches!(v.as_str(), "off" | "0" | "false")),
            node_id: parse("NODE_ID", 0)?,
            max_body_bytes: parse("MAX_BODY_BYTES", 64 * 1024)?,
            request_timeout: std::time::Duration::from_secs(parse("REQUEST_TIMEOUT_SECS", 60)?),
            log_json: var("LOG_FORMAT").is_some_and(|v| v == "json"),
            run_consumers: var("RUN_CONSUMERS").is_none_or(|v| !matches!(v.as_str(), "off" | "0" | "false")),
            fanout_batch_size: parse("FANOUT_BATCH_SIZE", 1000)?,
            hybrid_threshold: parse("HYBRID_THRESHOLD", 10_000)?,
            fanout_max_backlog: parse("FANOUT_MAX_BACKLOG", 20_000)?,
            fanout_max_lag_ms: parse("FANOUT_MAX_LAG_MS", 500)?,
            timeline_cap: parse("TIMELINE_CAP", 800)?,
            public_url: var("PUBLIC_URL").unwrap_or_else(|| "http://127.0.0.1:8000".into()),
            media_dir: var("MEDIA_DIR").unwrap_or_else(|| "./var/media".into()).into(),
            media_url: var("MEDIA_URL"),
            media_options: crate::media::store::Options::from_env("MEDIA_S3_"),
            media_max_bytes: parse("MEDIA_MAX_BYTES", 5 * 1024 * 1024)?,
        };
        config.validate()?;
        Ok(config)
    }

    /// Refuses settings that are unsafe or cannot work.
    pub fn validate(&self) -> anyhow::Result<()> {
        if !self.dev_mode {
            let keys = self.token_keys.keys().iter().chain(self.edge_keys.keys());
            for key in keys {
                if key.secret == DEV_TOKEN_SECRET.as_bytes() || key.secret == DEV_EDGE_SECRET.as_bytes() {
                    bail!(
                        "key {:?} is a public development secret; set TOKEN_SECRETS and EDGE_SECRETS, or run with \
                         ROOKERY_ENV=development",
                        key.id
                    );
                }
                if key.secret.len() < MIN_SECRET_LEN {
                    bail!("key {:?} is shorter than {MIN_SECRET_LEN} characters", key.id);
                }
            }
        }
        if self.node_id > 15 {
            bail!("NODE_ID must be between 0 and 15");
        }
        if self.fanout_batch_size == 0 || self.timeline_cap < 40 {
            bail!("FANOUT_BATCH_SIZE must be positive and TIMELINE_CAP at least 40");
        }
        if self.media_max_bytes == 0 {
            bail!("MEDIA_MAX_BYTES must be positive");
        }
        if self.request_timeout.is_zero() {
            bail!("REQUEST_TIMEOUT_SECS must be positive");
        }
        if self.token_ttl_secs <= 0 {
            bail!("TOKEN_TTL_SECS must be positive");
        }
        Ok(())
    }

    /// The database name from `database_url`.
    pub fn database_name(&self) -> anyhow::Result<&str> {
        let (_, rest) = self.database_url.rsplit_once('/').context("DATABASE_URL has no database name")?;
        let name = rest.split('?').next().unwrap_or_default();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            bail!("DATABASE_URL's database name must be letters, digits and underscores");
        }
        Ok(name)
    }

    /// `database_url` pointing at the server only (no database), to create the database.
    pub fn server_url(&self) -> anyhow::Result<String> {
        self.database_name()?;
        let (base, _) = self.database_url.rsplit_once('/').context("DATABASE_URL has no database name")?;
        let query = self.database_url.split_once('?').map(|(_, q)| format!("?{q}")).unwrap_or_default();
        Ok(format!("{base}/{query}"))
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("admin_listen", &self.admin_listen)
            .field("database_url", &redact_url(&self.database_url))
            .field("database_max_connections", &self.database_max_connections)
            .field("redis_url", &redact_url(&self.redis_url))
            .field("redis_prefix", &self.redis_prefix)
            .field("amqp_url", &redact_url(&self.amqp_url))
            .field("amqp_prefix", &self.amqp_prefix)
            .field("token_keys", &self.token_keys)
            .field("edge_keys", &self.edge_keys)
            .field("token_ttl_secs", &self.token_ttl_secs)
            .field("dev_mode", &self.dev_mode)
            .field("rate_limits", &self.rate_limits)
            .field("node_id", &self.node_id)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("request_timeout", &self.request_timeout)
            .field("log_json", &self.log_json)
            .field("run_consumers", &self.run_consumers)
            .field("fanout_batch_size", &self.fanout_batch_size)
            .field("hybrid_threshold", &self.hybrid_threshold)
            .field("fanout_max_backlog", &self.fanout_max_backlog)
            .field("fanout_max_lag_ms", &self.fanout_max_lag_ms)
            .field("timeline_cap", &self.timeline_cap)
            .field("public_url", &self.public_url)
            .field("media_dir", &self.media_dir)
            .field("media_url", &self.media_url.as_deref().map(redact_url))
            .field("media_options", &self.media_options)
            .field("media_max_bytes", &self.media_max_bytes)
            .finish()
    }
}

/// The URL with its password (if any) replaced; a value that does not parse is hidden whole.
fn redact_url(raw: &str) -> String {
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

/// The values of `ROOKERY_ENV` that mean development; anything else, or nothing, is production.
pub fn is_development(env: &str) -> bool {
    matches!(env, "dev" | "development" | "test")
}

/// Outside development every secret must be at least this long.
pub const MIN_SECRET_LEN: usize = 32;

/// The ring in `list_var` (`id:secret,…`), else the one secret in `single_var`, else (development only)
/// the public development secret.
fn key_ring(list_var: &str, single_var: &str, dev_secret: &str, dev_mode: bool) -> anyhow::Result<KeyRing> {
    if let Some(list) = var(list_var) {
        return KeyRing::parse(&list).map_err(|error| anyhow::anyhow!("{list_var} is not valid: {error}"));
    }
    match var(single_var) {
        // Trimmed as the edge trims its bindings: a secret read from a file often ends in a newline.
        Some(secret) => Ok(KeyRing::single(secret.trim())),
        None if dev_mode => Ok(KeyRing::single(dev_secret)),
        None => bail!("{list_var} (or {single_var}) must be set; for development set ROOKERY_ENV=development"),
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn parse<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match var(name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| anyhow::anyhow!("{name}={v:?} is not valid")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev() -> Config {
        let mut c = crate::testing::test_config();
        c.database_url = "mysql://root@127.0.0.1:3306/rookery?ssl-mode=disabled".into();
        c
    }

    #[test]
    fn splits_database_url() {
        let c = dev();
        assert_eq!(c.database_name().ok(), Some("rookery"));
        assert_eq!(c.server_url().ok().as_deref(), Some("mysql://root@127.0.0.1:3306/?ssl-mode=disabled"));
    }

    #[test]
    fn debug_output_redacts_secrets_and_passwords() {
        let mut c = dev();
        c.token_keys = KeyRing::parse("t1:token-secret-value-0123456789abcdef").expect("a ring");
        c.edge_keys = KeyRing::parse("e1:edge-secret-value-0123456789abcdef").expect("a ring");
        c.database_url = "mysql://app:db-password@db.internal:3306/rookery".into();
        c.redis_url = "redis://:redis-password@cache.internal:6379/".into();
        c.amqp_url = "amqp://app:amqp-password@mq.internal:5672/%2f".into();
        let shown = format!("{c:?}");
        for secret in ["token-secret-value", "edge-secret-value", "db-password", "redis-password", "amqp-password"] {
            assert!(!shown.contains(secret), "{secret} shown in {shown}");
        }
        assert!(shown.contains("mysql://app:redacted@db.internal:3306/rookery"), "{shown}");
        assert!(shown.contains("hybrid_threshold: 10000"), "{shown}");
    }

    #[test]
    fn production_refuses_development_and_short_secrets_in_every_key() {
        let mut c = dev();
        c.dev_mode = false;
        assert!(c.validate().is_err(), "the development secrets");
        c.token_keys = KeyRing::single(&"x".repeat(40));
        c.edge_keys = KeyRing::single(&"y".repeat(40));
        assert!(c.validate().is_ok());
        c.token_keys = KeyRing::parse(&format!("new:{},old:{DEV_TOKEN_SECRET}", "x".repeat(40))).expect("a ring");
        assert!(c.validate().is_err(), "a development secret kept as an old key");
        c.token_keys = KeyRing::parse(&format!("new:{},old:short", "x".repeat(40))).expect("a ring");
        assert!(c.validate().is_err(), "a short old key");
        c.dev_mode = true;
        assert!(c.validate().is_ok(), "development accepts them");
    }

    #[test]
    fn development_is_only_what_is_named_so() {
        for env in ["dev", "development", "test"] {
            assert!(is_development(env), "{env}");
        }
        for env in ["", "prod", "production", "staging", "Dev"] {
            assert!(!is_development(env), "{env}");
        }
    }
}
