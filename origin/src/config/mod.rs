//! Typed configuration in sections (HTTP, MySQL, Redis, RabbitMQ, authentication, fanout, media), read
//! once from the environment through clap, so `origin --help` lists every variable with its default. In
//! development a `.env` file in the working directory is read first (see [`load_dotenv`]). Every default
//! works on a development machine with MySQL/MariaDB, Redis and RabbitMQ on their standard local ports.

mod sections;

use anyhow::bail;
use clap::{CommandFactory, Parser};

pub use crate::media::config::MediaConfig;
pub use sections::{on_off, AmqpConfig, AuthConfig, DbConfig, FanoutConfig, HttpConfig, LogFormat, RedisConfig};

pub const DEV_TOKEN_SECRET: &str = "rookery-dev-token-secret-change-me";
pub const DEV_EDGE_SECRET: &str = "rookery-dev-edge-secret-change-me";

/// `Debug` redacts the secrets and the passwords in service URLs, so a logged configuration leaks nothing.
#[derive(Clone, Debug, clap::Args)]
pub struct Config {
    #[command(flatten)]
    pub http: HttpConfig,
    #[command(flatten)]
    pub db: DbConfig,
    #[command(flatten)]
    pub redis: RedisConfig,
    #[command(flatten)]
    pub amqp: AmqpConfig,
    #[command(flatten)]
    pub auth: AuthConfig,
    #[command(flatten)]
    pub fanout: FanoutConfig,
    #[command(flatten)]
    pub media: MediaConfig,
}

/// The configuration alone, for callers that have no command line of their own.
#[derive(Parser)]
#[command(name = "origin")]
struct ConfigOnly {
    #[command(flatten)]
    config: Config,
}

impl Config {
    /// The configuration from the environment only (command-line arguments are not read; empty
    /// variables count as set, see [`unset_empty_settings`]).
    pub fn from_env() -> anyhow::Result<Self> {
        let parsed = ConfigOnly::try_parse_from(["origin"])?;
        parsed.config.resolved()
    }

    /// Completes what clap parsed: the key rings from their secrets and the object-store options from
    /// `MEDIA_S3_*`; then [`Config::validate`]s it.
    pub fn resolved(mut self) -> anyhow::Result<Self> {
        self.auth.resolve()?;
        self.media.options = crate::media::config::Options::from_env("MEDIA_S3_");
        self.validate()?;
        Ok(self)
    }

    /// Refuses settings that are unsafe or cannot work.
    pub fn validate(&self) -> anyhow::Result<()> {
        if !self.auth.dev_mode() {
            let keys = self.auth.token_keys.keys().iter().chain(self.auth.edge_keys.keys());
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
        if self.db.node_id.is_some_and(|node| node > 15) {
            bail!("NODE_ID must be between 0 and 15");
        }
        if self.fanout.batch_size == 0 || self.fanout.timeline_cap < 40 {
            bail!("FANOUT_BATCH_SIZE must be positive and TIMELINE_CAP at least 40");
        }
        if self.amqp.urls().is_empty() {
            bail!("AMQP_URL names no RabbitMQ node");
        }
        if self.media.max_bytes == 0 {
            bail!("MEDIA_MAX_BYTES must be positive");
        }
        if self.http.request_timeout_secs == 0 {
            bail!("REQUEST_TIMEOUT_SECS must be positive");
        }
        if self.auth.token_ttl_secs <= 0 {
            bail!("TOKEN_TTL_SECS must be positive");
        }
        Ok(())
    }

    /// The environment that [`Config::from_env`] reads back as this configuration (the `MEDIA_S3_*`
    /// options aside), for running the `origin` binary with it.
    pub fn to_env(&self) -> Vec<(&'static str, String)> {
        let on_off = |on: bool| if on { "on" } else { "off" }.to_owned();
        let Self { http, db, redis, amqp, auth, fanout, media } = self;
        let mut env = vec![
            ("LISTEN_ADDR", http.listen.to_string()),
            ("ADMIN_ADDR", http.admin_listen.to_string()),
            ("PUBLIC_URL", http.public_url.clone()),
            ("MAX_BODY_BYTES", http.max_body_bytes.to_string()),
            ("REQUEST_TIMEOUT_SECS", http.request_timeout_secs.to_string()),
            ("RATE_LIMITS", on_off(http.rate_limits)),
            ("LOG_FORMAT", if http.log_format == LogFormat::Json { "json" } else { "text" }.to_owned()),
            ("DATABASE_URL", db.url.clone()),
            ("DATABASE_MAX_CONNECTIONS", db.max_connections.to_string()),
            ("REDIS_URL", redis.url.clone()),
            ("REDIS_PREFIX", redis.prefix.clone()),
            ("REDIS_WAIT_REPLICAS", redis.wait_replicas.to_string()),
            ("AMQP_URL", amqp.url.clone()),
            ("AMQP_PREFIX", amqp.prefix.clone()),
            ("ROOKERY_ENV", auth.environment.clone()),
            ("TOKEN_SECRETS", auth.token_keys.to_list()),
            ("EDGE_SECRETS", auth.edge_keys.to_list()),
            ("TOKEN_TTL_SECS", auth.token_ttl_secs.to_string()),
            ("RUN_CONSUMERS", on_off(fanout.run_consumers)),
            ("FANOUT_BATCH_SIZE", fanout.batch_size.to_string()),
            ("HYBRID_THRESHOLD", fanout.hybrid_threshold.to_string()),
            ("FANOUT_MAX_BACKLOG", fanout.max_backlog.to_string()),
            ("FANOUT_MAX_LAG_MS", fanout.max_lag_ms.to_string()),
            ("TIMELINE_CAP", fanout.timeline_cap.to_string()),
            ("MEDIA_DIR", media.dir.display().to_string()),
            ("MEDIA_MAX_BYTES", media.max_bytes.to_string()),
        ];
        if let Some(node) = db.node_id {
            env.push(("NODE_ID", node.to_string()));
        }
        if let Some(urls) = &redis.cluster_urls {
            env.push(("REDIS_CLUSTER_URLS", urls.clone()));
        }
        if let Some(url) = &media.url {
            env.push(("MEDIA_URL", url.clone()));
        }
        env
    }
}

/// Reads `.env` from the working directory, if there is one, into the environment; variables already set
/// win. Skipped when `ROOKERY_ENV` is set to anything but development, so a production host never picks
/// up a stray file. Returns the file read.
pub fn load_dotenv() -> Option<std::path::PathBuf> {
    if std::env::var("ROOKERY_ENV").is_ok_and(|env| !env.is_empty() && !is_development(&env)) {
        return None;
    }
    dotenvy::dotenv().ok()
}

/// Removes the settings set to an empty string (`NODE_ID=`), which mean "not set" here as in most
/// deployment tools, so their defaults apply. Call it before any thread starts: it changes the
/// environment.
pub fn unset_empty_settings() {
    for arg in ConfigOnly::command().get_arguments() {
        if let Some(name) = arg.get_env() {
            if std::env::var_os(name).is_some_and(|value| value.is_empty()) {
                std::env::remove_var(name);
            }
        }
    }
}

/// The values of `ROOKERY_ENV` that mean development; anything else, or nothing, is production.
pub fn is_development(env: &str) -> bool {
    matches!(env, "dev" | "development" | "test")
}

/// Outside development every secret must be at least this long.
pub const MIN_SECRET_LEN: usize = 32;

#[cfg(test)]
mod tests {
    use rookery_shared::keys::KeyRing;

    use super::*;

    fn dev() -> Config {
        let mut c = crate::testing::test_config();
        c.db.url = "mysql://root@127.0.0.1:3306/rookery?ssl-mode=disabled".into();
        c
    }

    /// Parses `env` as the command line clap would build from those variables (each variable's flag,
    /// found through the command's own description), so the test never touches the process environment.
    fn parse_env(env: &[(&'static str, String)]) -> Config {
        let command = ConfigOnly::command();
        let mut args = vec!["origin".to_owned()];
        for (name, value) in env {
            let arg = command
                .get_arguments()
                .find(|arg| arg.get_env().is_some_and(|e| e == *name))
                .unwrap_or_else(|| panic!("{name} is no setting"));
            args.push(format!("--{}={value}", arg.get_long().expect("every setting has a flag")));
        }
        ConfigOnly::try_parse_from(args).expect("parses").config.resolved().expect("valid")
    }

    #[test]
    fn every_setting_round_trips_through_its_environment_variable() {
        let mut c = dev();
        c.http.rate_limits = true;
        c.http.log_format = LogFormat::Json;
        c.db.node_id = Some(7);
        c.redis.cluster_urls = Some("redis://127.0.0.1:7000,redis://127.0.0.1:7001".into());
        c.redis.wait_replicas = 2;
        c.fanout.run_consumers = false;
        c.fanout.max_lag_ms = 250;
        c.media.url = Some("memory:///".into());
        c.auth.token_keys = KeyRing::parse("t2:second-secret-0123456789abcdef,t1:first-secret").expect("a ring");
        let env = c.to_env();
        let back = parse_env(&env);
        assert_eq!(format!("{back:?}"), format!("{c:?}"));
        assert_eq!(back.auth.token_keys.to_list(), c.auth.token_keys.to_list());
        assert_eq!(back.auth.edge_keys.to_list(), c.auth.edge_keys.to_list());

        // And nothing is left out: every variable the command reads is written (the single-secret
        // variables are the alternatives of the key lists).
        let written: Vec<&str> = env.iter().map(|(name, _)| *name).collect();
        for arg in ConfigOnly::command().get_arguments() {
            let Some(name) = arg.get_env().and_then(|n| n.to_str()) else { continue };
            if !["TOKEN_SECRET", "EDGE_SECRET"].contains(&name) {
                assert!(written.contains(&name), "to_env leaves out {name}");
            }
        }
    }

    #[test]
    fn defaults_are_what_the_help_says() {
        let c = ConfigOnly::try_parse_from(["origin", "--rookery-env=development"]).expect("parses").config;
        let c = c.resolved().expect("valid");
        assert_eq!(c.http.listen.to_string(), "127.0.0.1:8000");
        assert_eq!(c.db.url, "mysql://root@127.0.0.1:3306/rookery");
        assert_eq!(c.fanout.max_lag_ms, 500);
        assert_eq!(c.fanout.max_backlog, 20_000);
        assert!(c.http.rate_limits && c.fanout.run_consumers);
        assert_eq!(c.auth.token_keys.to_list(), KeyRing::single(DEV_TOKEN_SECRET).to_list());
        let help = ConfigOnly::command().render_long_help().to_string();
        for name in ["LISTEN_ADDR", "DATABASE_URL", "FANOUT_MAX_LAG_MS", "MEDIA_URL", "TOKEN_SECRETS"] {
            assert!(help.contains(name), "{name} missing from --help");
        }
    }

    #[test]
    fn bad_values_are_refused_with_the_variable_named() {
        for args in [["origin", "--rate-limits=maybe"], ["origin", "--node-id=16"], ["origin", "--listen-addr=nowhere"]]
        {
            assert!(ConfigOnly::try_parse_from(args).is_err(), "{args:?}");
        }
    }

    #[test]
    fn splits_database_url() {
        let c = dev();
        assert_eq!(c.db.name().ok(), Some("rookery"));
        assert_eq!(c.db.server_url().ok().as_deref(), Some("mysql://root@127.0.0.1:3306/?ssl-mode=disabled"));
    }

    #[test]
    fn debug_output_redacts_secrets_and_passwords() {
        let mut c = dev();
        c.auth.token_keys = KeyRing::parse("t1:token-secret-value-0123456789abcdef").expect("a ring");
        c.auth.edge_keys = KeyRing::parse("e1:edge-secret-value-0123456789abcdef").expect("a ring");
        c.auth.token_secret = Some("raw-token-secret-0123456789abcdef".into());
        c.db.url = "mysql://app:db-password@db.internal:3306/rookery".into();
        c.redis.url = "redis://:redis-password@cache.internal:6379/".into();
        c.redis.cluster_urls = Some("redis://:redis-password2@cache1.internal:7000".into());
        c.amqp.url =
            "amqp://app:amqp-password@mq.internal:5672/%2f, amqp://app:amqp-password2@mq2.internal:5672/%2f".into();
        let shown = format!("{c:?}");
        for secret in [
            "token-secret-value",
            "edge-secret-value",
            "raw-token-secret",
            "db-password",
            "redis-password",
            "amqp-password",
        ] {
            assert!(!shown.contains(secret), "{secret} shown in {shown}");
        }
        assert!(shown.contains("mysql://app:redacted@db.internal:3306/rookery"), "{shown}");
        assert!(shown.contains("amqp://app:redacted@mq2.internal:5672/%2f"), "{shown}");
        assert!(shown.contains("hybrid_threshold: 10000"), "{shown}");
    }

    #[test]
    fn production_refuses_development_and_short_secrets_in_every_key() {
        let mut c = dev();
        c.auth.environment = "production".into();
        assert!(c.validate().is_err(), "the development secrets");
        c.auth.token_keys = KeyRing::single(&"x".repeat(40));
        c.auth.edge_keys = KeyRing::single(&"y".repeat(40));
        assert!(c.validate().is_ok());
        c.auth.token_keys = KeyRing::parse(&format!("new:{},old:{DEV_TOKEN_SECRET}", "x".repeat(40))).expect("a ring");
        assert!(c.validate().is_err(), "a development secret kept as an old key");
        c.auth.token_keys = KeyRing::parse(&format!("new:{},old:short", "x".repeat(40))).expect("a ring");
        assert!(c.validate().is_err(), "a short old key");
        c.auth.environment = "development".into();
        assert!(c.validate().is_ok(), "development accepts them");
    }

    #[test]
    fn production_without_secrets_is_refused() {
        let c = ConfigOnly::try_parse_from(["origin", "--rookery-env=production"]).expect("parses").config;
        assert!(c.resolved().is_err());
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
