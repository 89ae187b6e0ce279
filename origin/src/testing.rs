//! Support for tests that run real origins: a configuration with its own database, Redis key prefix and
//! RabbitMQ names, and the clean-up that removes all three.

use std::{str::FromStr, time::Duration};

use lapin::{
    options::{ExchangeDeleteOptions, QueueDeleteOptions},
    Connection, ConnectionProperties,
};
use redis::AsyncCommands;
use rookery_shared::keys::KeyRing;
use sqlx::{mysql::MySqlConnectOptions, Connection as _, MySqlConnection};

use crate::{
    cache::Redis,
    config::{Config, DEV_EDGE_SECRET, DEV_TOKEN_SECRET},
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
        listen: ([127, 0, 0, 1], 0).into(),
        admin_listen: ([127, 0, 0, 1], 0).into(),
        database_url: format!("{}/rookery_test_{tag}", server.trim_end_matches('/')),
        database_max_connections: 10,
        redis_url: std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into()),
        redis_prefix: format!("rkt{tag}:"),
        amqp_url: std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into()),
        amqp_prefix: format!("rookery_test_{tag}"),
        token_keys: KeyRing::single(DEV_TOKEN_SECRET),
        edge_keys: KeyRing::single(DEV_EDGE_SECRET),
        token_ttl_secs: 3600,
        dev_mode: true,
        rate_limits: false,
        node_id: 0,
        max_body_bytes: 64 * 1024,
        request_timeout: Duration::from_secs(60),
        log_json: false,
        run_consumers: true,
        fanout_batch_size: 1000,
        hybrid_threshold: 10_000,
        fanout_max_backlog: 20_000,
        // Off: a loaded test machine may lag past any bound; the backpressure tests turn it on.
        fanout_max_lag_ms: 0,
        timeline_cap: 800,
        public_url: "http://127.0.0.1:8000".into(),
        media_dir: std::env::temp_dir().join(format!("rookery_test_media_{tag}")),
        media_url: None,
        media_options: crate::media::store::Options::default(),
        media_max_bytes: 5 * 1024 * 1024,
    }
}

/// Drops the test's database, deletes its Redis keys and (best effort: the broker may be down) its
/// RabbitMQ exchanges and queues.
pub async fn cleanup(config: &Config) -> anyhow::Result<()> {
    delete_broker_objects(config).await;
    end_connections(config).await?;
    db::drop_database(config).await?;
    // Before Redis: a test that points the origin at an unreachable Redis must still lose its files.
    if config.media_url.is_none() {
        match std::fs::remove_dir_all(&config.media_dir) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error.into()),
            _ => {}
        }
    }
    let redis = Redis::new(&config.redis_url, &config.redis_prefix)?;
    let mut conn = redis.conn().await?;
    let keys: Vec<String> = {
        let mut iter = conn.scan_match::<_, String>(format!("{}*", config.redis_prefix)).await?;
        let mut keys = Vec::new();
        while let Some(key) = iter.next_item().await {
            keys.push(key);
        }
        keys
    };
    if !keys.is_empty() {
        conn.del::<_, ()>(keys).await?;
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
        eprintln!("clean-up of {} failed", config.database_url);
    }
}

/// The environment [`Config::from_env`] reads back as `config`, for tests that run the `origin` binary.
pub fn environment(config: &Config) -> Vec<(&'static str, String)> {
    let on_off = |on: bool| if on { "on" } else { "off" }.to_owned();
    vec![
        ("ROOKERY_ENV", "test".into()),
        ("LISTEN_ADDR", config.listen.to_string()),
        ("ADMIN_ADDR", config.admin_listen.to_string()),
        ("DATABASE_URL", config.database_url.clone()),
        ("DATABASE_MAX_CONNECTIONS", config.database_max_connections.to_string()),
        ("REDIS_URL", config.redis_url.clone()),
        ("REDIS_PREFIX", config.redis_prefix.clone()),
        ("AMQP_URL", config.amqp_url.clone()),
        ("AMQP_PREFIX", config.amqp_prefix.clone()),
        ("TOKEN_SECRETS", config.token_keys.to_list()),
        ("EDGE_SECRETS", config.edge_keys.to_list()),
        ("RATE_LIMITS", on_off(config.rate_limits)),
        ("RUN_CONSUMERS", on_off(config.run_consumers)),
        ("FANOUT_BATCH_SIZE", config.fanout_batch_size.to_string()),
        ("HYBRID_THRESHOLD", config.hybrid_threshold.to_string()),
        ("FANOUT_MAX_BACKLOG", config.fanout_max_backlog.to_string()),
        ("FANOUT_MAX_LAG_MS", config.fanout_max_lag_ms.to_string()),
        ("TIMELINE_CAP", config.timeline_cap.to_string()),
        ("MEDIA_DIR", config.media_dir.display().to_string()),
        ("REQUEST_TIMEOUT_SECS", config.request_timeout.as_secs().to_string()),
    ]
}

/// Deletes every exchange and queue named under the test's `amqp_prefix` (see [`Names`]). Failures are
/// only logged: a test that stopped the broker must still be able to drop its database.
async fn delete_broker_objects(config: &Config) {
    let names = Names::new(&config.amqp_prefix);
    let result = tokio::time::timeout(Duration::from_secs(10), async {
        let connection = Connection::connect(&config.amqp_url, ConnectionProperties::default()).await?;
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
        connection.close(200, "cleaned up").await
    })
    .await;
    match result {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::warn!(%error, "could not clean up the test's RabbitMQ objects"),
        Err(_) => tracing::warn!("cleaning up the test's RabbitMQ objects timed out"),
    }
}

/// Ends every connection still open on the test's database. A test stops its origin abruptly, and the
/// origin may be inside a transaction at that moment (the outbox relay opens one every poll); that
/// transaction's metadata locks would make `DROP DATABASE` wait forever.
async fn end_connections(config: &Config) -> anyhow::Result<()> {
    let name = config.database_name()?;
    let server = MySqlConnectOptions::from_str(&config.server_url()?)?;
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
