//! The configuration's sections, one per concern. Every setting is an environment variable (and a flag
//! of the same name), listed with its default by `origin --help`.

use std::{net::SocketAddr, time::Duration};

use anyhow::Context;
use rookery_shared::keys::KeyRing;

use super::{DEV_EDGE_SECRET, DEV_TOKEN_SECRET};
use crate::redact::redact_url;

/// The public and admin listeners, and what every request is allowed.
#[derive(Clone, Debug, clap::Args)]
#[command(next_help_heading = "HTTP")]
pub struct HttpConfig {
    /// Address the HTTP server binds; port 0 picks a free port.
    #[arg(id = "listen_addr", long = "listen-addr", env = "LISTEN_ADDR", default_value = "127.0.0.1:8000")]
    pub listen: SocketAddr,
    /// The admin listener (`/metrics`, `/readyz`, `/healthz` for operators and probes, never the public
    /// API). Keep it on a private interface.
    #[arg(id = "admin_addr", long = "admin-addr", env = "ADMIN_ADDR", default_value = "127.0.0.1:9100")]
    pub admin_listen: SocketAddr,
    /// Base of the absolute URLs the origin gives out for media (what clients can reach).
    #[arg(id = "public_url", long = "public-url", env = "PUBLIC_URL", default_value = "http://127.0.0.1:8000")]
    pub public_url: String,
    /// Largest accepted JSON or form body, in bytes.
    #[arg(id = "max_body_bytes", long = "max-body-bytes", env = "MAX_BODY_BYTES", default_value_t = 64 * 1024)]
    pub max_body_bytes: usize,
    /// Longest a request may take, body included; past it the client gets a 408 and the connection is
    /// freed, so a client that sends its body slowly, or stops sending it, cannot hold a connection.
    #[arg(
        id = "request_timeout_secs",
        long = "request-timeout-secs",
        env = "REQUEST_TIMEOUT_SECS",
        default_value_t = 60
    )]
    pub request_timeout_secs: u64,
    /// Whether rate limits are enforced (`off` for tests and benchmarks).
    #[arg(id = "rate_limits", long = "rate-limits", env = "RATE_LIMITS", default_value = "on", value_parser = on_off, action = clap::ArgAction::Set)]
    pub rate_limits: bool,
    /// `text` (human-readable) or `json` (one object a line) logs.
    #[arg(id = "log_format", long = "log-format", env = "LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,
}

impl HttpConfig {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// MySQL, the source of truth, and the ids of its rows.
#[derive(Clone, clap::Args)]
#[command(next_help_heading = "MySQL")]
pub struct DbConfig {
    /// MySQL URL including the database name; the database is created if missing.
    #[arg(
        id = "database_url",
        long = "database-url",
        env = "DATABASE_URL",
        default_value = "mysql://root@127.0.0.1:3306/rookery"
    )]
    pub url: String,
    #[arg(
        id = "database_max_connections",
        long = "database-max-connections",
        env = "DATABASE_MAX_CONNECTIONS",
        default_value_t = 20
    )]
    pub max_connections: u32,
    /// 0..=15: the id generator's node id, which no two running processes share. Unset (the usual), each
    /// process leases a free one in MySQL; set, the process leases that one or refuses to start.
    #[arg(id = "node_id", long = "node-id", env = "NODE_ID", value_parser = clap::value_parser!(u16).range(0..=15))]
    pub node_id: Option<u16>,
}

impl DbConfig {
    /// The database name from the URL.
    pub fn name(&self) -> anyhow::Result<&str> {
        let (_, rest) = self.url.rsplit_once('/').context("DATABASE_URL has no database name")?;
        let name = rest.split('?').next().unwrap_or_default();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            anyhow::bail!("DATABASE_URL's database name must be letters, digits and underscores");
        }
        Ok(name)
    }

    /// The URL pointing at the server only (no database), to create the database.
    pub fn server_url(&self) -> anyhow::Result<String> {
        self.name()?;
        let (base, _) = self.url.rsplit_once('/').context("DATABASE_URL has no database name")?;
        let query = self.url.split_once('?').map(|(_, q)| format!("?{q}")).unwrap_or_default();
        Ok(format!("{base}/{query}"))
    }
}

impl std::fmt::Debug for DbConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbConfig")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("node_id", &self.node_id)
            .finish()
    }
}

/// Redis: timelines, object caches, session answers, rate limits. Derived data only.
#[derive(Clone, clap::Args)]
#[command(next_help_heading = "Redis")]
pub struct RedisConfig {
    /// One Redis server (`redis://`, or `rediss://` for TLS).
    #[arg(id = "redis_url", long = "redis-url", env = "REDIS_URL", default_value = "redis://127.0.0.1:6379/")]
    pub url: String,
    /// Prefix of every key this deployment writes, so several deployments or tests share a server.
    #[arg(id = "redis_prefix", long = "redis-prefix", env = "REDIS_PREFIX", default_value = "rk:")]
    pub prefix: String,
    /// A Redis Cluster instead of one server: some of its nodes, comma-separated (the client finds the
    /// rest). Set, it replaces `REDIS_URL`.
    #[arg(id = "redis_cluster_urls", long = "redis-cluster-urls", env = "REDIS_CLUSTER_URLS")]
    pub cluster_urls: Option<String>,
    /// With a cluster: how many replicas must hold a timeline delivery before it counts as done (`WAIT`),
    /// so that a master failing over to its replica loses none. 0 for a cluster without replicas.
    #[arg(id = "redis_wait_replicas", long = "redis-wait-replicas", env = "REDIS_WAIT_REPLICAS", default_value_t = 1)]
    pub wait_replicas: u32,
}

impl RedisConfig {
    /// The cluster's nodes as `REDIS_CLUSTER_URLS` lists them; empty for a single server.
    pub fn cluster_nodes(&self) -> Vec<String> {
        self.cluster_urls
            .iter()
            .flat_map(|urls| urls.split(','))
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let nodes: Vec<String> = self.cluster_nodes().iter().map(|url| redact_url(url)).collect();
        f.debug_struct("RedisConfig")
            .field("url", &redact_url(&self.url))
            .field("prefix", &self.prefix)
            .field("cluster_nodes", &nodes)
            .field("wait_replicas", &self.wait_replicas)
            .finish()
    }
}

/// RabbitMQ: fanout and notification delivery.
#[derive(Clone, clap::Args)]
#[command(next_help_heading = "RabbitMQ")]
pub struct AmqpConfig {
    /// The RabbitMQ server, with credentials and vhost; the nodes of a cluster comma-separated (a lost
    /// connection is made again to the next node that answers).
    #[arg(
        id = "amqp_url",
        long = "amqp-url",
        env = "AMQP_URL",
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f"
    )]
    pub url: String,
    /// Prefix of every exchange and queue name.
    #[arg(id = "amqp_prefix", long = "amqp-prefix", env = "AMQP_PREFIX", default_value = "rookery")]
    pub prefix: String,
}

impl AmqpConfig {
    /// The nodes `url` lists (comma-separated), in order.
    pub fn urls(&self) -> Vec<String> {
        self.url.split(',').map(str::trim).filter(|url| !url.is_empty()).map(str::to_owned).collect()
    }
}

impl std::fmt::Debug for AmqpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let urls: Vec<String> = self.urls().iter().map(|url| redact_url(url)).collect();
        f.debug_struct("AmqpConfig").field("urls", &urls).field("prefix", &self.prefix).finish()
    }
}

/// Bearer tokens and the edge's assertion: their keys (shared with the edge) and lifetimes.
#[derive(Clone, clap::Args)]
#[command(next_help_heading = "Authentication")]
pub struct AuthConfig {
    /// `development` (or `dev`, `test`) allows the public development secrets and short ones; anything
    /// else is production.
    #[arg(id = "rookery_env", long = "rookery-env", env = "ROOKERY_ENV", default_value = "production")]
    pub environment: String,
    /// Bearer-token keys, `id:secret,…`; the first signs, the others still verify.
    #[arg(id = "token_secrets", long = "token-secrets", env = "TOKEN_SECRETS", hide_env_values = true)]
    pub token_secrets: Option<String>,
    /// One bearer-token secret, when TOKEN_SECRETS is not set.
    #[arg(id = "token_secret", long = "token-secret", env = "TOKEN_SECRET", hide_env_values = true)]
    pub token_secret: Option<String>,
    /// Keys of the edge assertion header, `id:secret,…`.
    #[arg(id = "edge_secrets", long = "edge-secrets", env = "EDGE_SECRETS", hide_env_values = true)]
    pub edge_secrets: Option<String>,
    /// One edge assertion secret, when EDGE_SECRETS is not set.
    #[arg(id = "edge_secret", long = "edge-secret", env = "EDGE_SECRET", hide_env_values = true)]
    pub edge_secret: Option<String>,
    /// How long a bearer token lives, in seconds.
    #[arg(id = "token_ttl_secs", long = "token-ttl-secs", env = "TOKEN_TTL_SECS", default_value_t = 30 * 24 * 3600)]
    pub token_ttl_secs: i64,
    /// The bearer-token keys: from TOKEN_SECRETS, else TOKEN_SECRET, else the development secret (which
    /// only development accepts).
    #[arg(skip = KeyRing::single(DEV_TOKEN_SECRET))]
    pub token_keys: KeyRing,
    /// The edge assertion keys, chosen like `token_keys`.
    #[arg(skip = KeyRing::single(DEV_EDGE_SECRET))]
    pub edge_keys: KeyRing,
}

impl AuthConfig {
    pub fn dev_mode(&self) -> bool {
        super::is_development(&self.environment)
    }

    /// Sets the key rings from the secrets given.
    pub(super) fn resolve(&mut self) -> anyhow::Result<()> {
        if !self.dev_mode() {
            if self.token_secrets.is_none() && self.token_secret.is_none() {
                anyhow::bail!(
                    "TOKEN_SECRETS (or TOKEN_SECRET) must be set; for development set ROOKERY_ENV=development"
                );
            }
            if self.edge_secrets.is_none() && self.edge_secret.is_none() {
                anyhow::bail!("EDGE_SECRETS (or EDGE_SECRET) must be set; for development set ROOKERY_ENV=development");
            }
        }
        if let Some(ring) = ring(self.token_secrets.as_deref(), self.token_secret.as_deref(), "TOKEN_SECRETS")? {
            self.token_keys = ring;
        }
        if let Some(ring) = ring(self.edge_secrets.as_deref(), self.edge_secret.as_deref(), "EDGE_SECRETS")? {
            self.edge_keys = ring;
        }
        Ok(())
    }
}

/// The ring in `list` (`id:secret,…`), else the one `single` secret, trimmed as the edge trims its
/// bindings (a secret read from a file often ends in a newline).
fn ring(list: Option<&str>, single: Option<&str>, name: &str) -> anyhow::Result<Option<KeyRing>> {
    if let Some(list) = list {
        return KeyRing::parse(list).map(Some).map_err(|error| anyhow::anyhow!("{name} is not valid: {error}"));
    }
    Ok(single.map(|secret| KeyRing::single(secret.trim())))
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("environment", &self.environment)
            .field("token_keys", &self.token_keys)
            .field("edge_keys", &self.edge_keys)
            .field("token_ttl_secs", &self.token_ttl_secs)
            .finish_non_exhaustive()
    }
}

/// The push pipeline: where it runs, its batches, the hybrid threshold and its backpressure.
#[derive(Clone, Debug, clap::Args)]
#[command(next_help_heading = "Fanout")]
pub struct FanoutConfig {
    /// Run the fanout consumers inside `serve` (`off` when `origin worker` runs them).
    #[arg(id = "run_consumers", long = "run-consumers", env = "RUN_CONSUMERS", default_value = "on", value_parser = on_off, action = clap::ArgAction::Set)]
    pub run_consumers: bool,
    /// Timeline writes per fanout delivery message.
    #[arg(id = "fanout_batch_size", long = "fanout-batch-size", env = "FANOUT_BATCH_SIZE", default_value_t = 1000)]
    pub batch_size: u32,
    /// Authors with more followers than this are not pushed to timelines; their tweets are merged into
    /// followers' pages at read time.
    #[arg(id = "hybrid_threshold", long = "hybrid-threshold", env = "HYBRID_THRESHOLD", default_value_t = 10_000)]
    pub hybrid_threshold: u64,
    /// Outbox rows plus queued fanout messages above which posting answers 503 (`Retry-After`); 0 turns
    /// this bound off.
    #[arg(
        id = "fanout_max_backlog",
        long = "fanout-max-backlog",
        env = "FANOUT_MAX_BACKLOG",
        default_value_t = 20_000
    )]
    pub max_backlog: u64,
    /// Fanout lag (ms) above which posting waits, then answers 503; 0 turns this bound off.
    #[arg(id = "fanout_max_lag_ms", long = "fanout-max-lag-ms", env = "FANOUT_MAX_LAG_MS", default_value_t = 500)]
    pub max_lag_ms: u64,
    /// Largest number of tweet ids kept per Redis timeline; older pages come from MySQL.
    #[arg(id = "timeline_cap", long = "timeline-cap", env = "TIMELINE_CAP", default_value_t = 800)]
    pub timeline_cap: usize,
}

/// `on`/`off` (also `true`/`false`, `1`/`0`, `yes`/`no`).
pub fn on_off(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Ok(true),
        "off" | "false" | "0" | "no" => Ok(false),
        _ => Err(format!("{text:?} is neither on nor off")),
    }
}
