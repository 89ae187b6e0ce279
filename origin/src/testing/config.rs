//! A configuration for a test's origin with its own database, Redis key prefix and RabbitMQ names, and the
//! clean-up that removes all three.

use std::{str::FromStr, time::Duration};

use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
use redis::AsyncCommands;
use rookery_shared::keys::KeyRing;
use sqlx::{mysql::MySqlConnectOptions, Connection as _, MySqlConnection};

use crate::{
    cache::Redis,
    config::{
        AmqpConfig, AuthConfig, Config, DbConfig, FanoutConfig, HttpConfig, LogFormat, MediaConfig, RedisConfig,
        DEV_EDGE_SECRET, DEV_TOKEN_SECRET,
    },
    db,
    fanout::topology::Names,
};

impl Config {
    /// A development configuration on a free port with names no other test uses. Service URLs honour
    /// `DATABASE_SERVER_URL` (without a database), `REDIS_URL` and `AMQP_URL`.
    pub fn for_tests() -> Self {
        test_config()
    }
}

pub fn test_config() -> Config {
    let tag = format!("{:08x}{:04x}", rand::random::<u32>(), std::process::id() & 0xffff);
    let server = std::env::var("DATABASE_SERVER_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into());
    Config {
        http: HttpConfig {
            listen: ([127, 0, 0, 1], 0).into(),
            admin_listen: ([127, 0, 0, 1], 0).into(),
            public_url: "http://127.0.0.1:8000".into(),
            max_body_bytes: 64 * 1024,
            request_timeout_secs: 60,
            rate_limits: false,
            log_format: LogFormat::Text,
        },
        db: DbConfig {
            url: format!("{}/rookery_test_{tag}", server.trim_end_matches('/')),
            max_connections: 10,
            node_id: None,
        },
        redis: RedisConfig {
            url: std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into()),
            prefix: format!("rkt{tag}:"),
            cluster_urls: std::env::var("REDIS_CLUSTER_URLS").ok().filter(|urls| !urls.trim().is_empty()),
            wait_replicas: 1,
        },
        amqp: AmqpConfig {
            url: std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into()),
            prefix: format!("rookery_test_{tag}"),
        },
        auth: AuthConfig {
            environment: "test".into(),
            token_secrets: None,
            token_secret: None,
            edge_secrets: None,
            edge_secret: None,
            token_ttl_secs: 3600,
            token_keys: KeyRing::single(DEV_TOKEN_SECRET),
            edge_keys: KeyRing::single(DEV_EDGE_SECRET),
        },
        fanout: FanoutConfig {
            run_consumers: true,
            batch_size: 1000,
            hybrid_threshold: 10_000,
            max_backlog: 20_000,
            // Off: a loaded test machine may lag past any bound; the backpressure tests turn it on.
            max_lag_ms: 0,
            timeline_cap: 800,
        },
        media: MediaConfig {
            dir: std::env::temp_dir().join(format!("rookery_test_media_{tag}")),
            url: None,
            max_bytes: 5 * 1024 * 1024,
            options: crate::media::config::Options::default(),
        },
    }
}

/// Drops the test's database, deletes its Redis keys and (best effort: the broker may be down) its
/// RabbitMQ exchanges and queues.
pub async fn cleanup(config: &Config) -> anyhow::Result<()> {
    delete_broker_objects(config).await;
    end_connections(config).await?;
    db::drop_database(config).await?;
    // Before Redis: a test that points the origin at an unreachable Redis must still lose its files.
    if config.media.url.is_none() {
        match std::fs::remove_dir_all(&config.media.dir) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error.into()),
            _ => {}
        }
    }
    let redis = Redis::new(&config.redis)?;
    let pattern = format!("{}*", config.redis.prefix);
    let mut keys = std::collections::BTreeSet::new();
    // A cluster's keys are spread over its nodes, and SCAN sees one node's: ask each listed node.
    let nodes = config.redis.cluster_nodes();
    let servers = if nodes.is_empty() { vec![config.redis.url.clone()] } else { nodes };
    for url in servers {
        let mut node = redis::Client::open(url)?.get_multiplexed_async_connection().await?;
        let mut iter = node.scan_match::<_, String>(&pattern).await?;
        while let Some(key) = iter.next_item().await {
            keys.insert(key);
        }
    }
    if !keys.is_empty() {
        // One key a command: a cluster's keys lie in many slots.
        let mut pipe = redis::pipe();
        for key in keys {
            pipe.cmd("DEL").arg(key).ignore();
        }
        pipe.query_async::<()>(&mut redis.conn().await?).await?;
    }
    Ok(())
}

/// [`cleanup`] from synchronous code (a test's `Drop`), on a thread of its own so it also works inside a
/// runtime; a failure is reported on stderr rather than panicking inside a drop.
pub fn cleanup_blocking(config: &Config) {
    let owned = config.clone();
    let cleaned = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(cleanup(&owned))
    })
    .join();
    if !matches!(cleaned, Ok(Ok(()))) {
        eprintln!("clean-up of {} failed", config.db.url);
    }
}

/// The environment [`Config::from_env`] reads back as `config`, for tests that run the `origin` binary.
pub fn environment(config: &Config) -> Vec<(&'static str, String)> {
    config.to_env()
}

/// Deletes every exchange and queue named under the test's `amqp_prefix` (see [`Names`]). Failures are
/// only logged: a test that stopped the broker must still be able to drop its database.
async fn delete_broker_objects(config: &Config) {
    let names = Names::new(&config.amqp.prefix);
    let result = tokio::time::timeout(Duration::from_secs(10), async {
        let (connection, _) = crate::broker::connect_any(&config.amqp.urls(), 0).await?;
        // A failed delete closes its channel, so each gets its own.
        for queue in names.queues() {
            let channel = connection.create_channel().await?;
            if let Err(error) = channel.queue_delete(queue, QueueDeleteOptions::default()).await {
                tracing::warn!(queue, %error, "could not delete a test queue");
            }
            let _ = channel.close(200, "cleaned up").await;
        }
        for exchange in names.exchanges() {
            let channel = connection.create_channel().await?;
            if let Err(error) = channel.exchange_delete(exchange, ExchangeDeleteOptions::default()).await {
                tracing::warn!(exchange, %error, "could not delete a test exchange");
            }
            let _ = channel.close(200, "cleaned up").await;
        }
        connection.close(200, "cleaned up").await?;
        anyhow::Ok(())
    })
    .await;
    match result {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            tracing::warn!(error = format!("{error:#}"), "could not clean up the test's RabbitMQ objects")
        }
        Err(_) => tracing::warn!("cleaning up the test's RabbitMQ objects timed out"),
    }
}

/// Ends every connection still open on the test's database. A test stops its origin abruptly, and the
/// origin may be inside a transaction at that moment (the outbox relay opens one every poll); that
/// transaction's metadata locks would make `DROP DATABASE` wait forever.
async fn end_connections(config: &Config) -> anyhow::Result<()> {
    let name = config.db.name()?;
    let server = MySqlConnectOptions::from_str(&config.db.server_url()?)?;
    let mut conn = MySqlConnection::connect_with(&server).await?;
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT CAST(ID AS SIGNED) FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()",
    )
    .bind(name)
    .fetch_all(&mut conn)
    .await?;
    for id in ids {
        // It may have ended by itself in the meantime.
        let _ = sqlx::query(&format!("KILL CONNECTION {id}")).execute(&mut conn).await;
    }
    conn.close().await.ok();
    Ok(())
}
