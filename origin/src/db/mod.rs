//! The MySQL pool, database creation and the embedded migrations.
//!
//! The pool takes a connection back only when it is clean ([`release`]); [`Db`] puts a circuit breaker
//! in front of it.

mod counter;
mod guarded;
mod release;

pub use counter::Counter;
pub use guarded::Db;

use std::{str::FromStr, time::Duration};

use anyhow::Context;
use sqlx::{
    migrate::Migrator,
    mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions},
    ConnectOptions, Connection,
};

use crate::config::Config;

/// The schema, embedded in the binary; each file explains its tables.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Creates the database if missing, connects a pool to it and brings the schema up to date.
pub async fn connect_and_migrate(config: &Config) -> anyhow::Result<Db> {
    ensure_database(config).await?;
    let pool = connect(config).await?;
    MIGRATOR.run(&pool).await.context("while applying migrations")?;
    Ok(Db::new(pool))
}

pub async fn connect(config: &Config) -> anyhow::Result<MySqlPool> {
    let options = MySqlConnectOptions::from_str(&config.db.url)
        .context("DATABASE_URL is not a MySQL URL")?
        .charset("utf8mb4")
        .log_statements(tracing::log::LevelFilter::Trace)
        .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_millis(250));
    MySqlPoolOptions::new()
        .max_connections(config.db.max_connections)
        .min_connections(1)
        // A request waits at most this long for a connection; past it the request gets a 503.
        .acquire_timeout(Duration::from_secs(3))
        .after_release(|conn, _| Box::pin(release::reusable(conn)))
        .connect_with(options)
        .await
        .context("while connecting to MySQL")
}

/// `CREATE DATABASE IF NOT EXISTS`, retried for a while so a server that is still starting is waited for.
pub async fn ensure_database(config: &Config) -> anyhow::Result<()> {
    let name = config.db.name()?;
    let server = MySqlConnectOptions::from_str(&config.db.server_url()?).context("DATABASE_URL is not a MySQL URL")?;
    let mut attempt = 0;
    let mut conn = loop {
        match sqlx::mysql::MySqlConnection::connect_with(&server).await {
            Ok(conn) => break conn,
            Err(error) if attempt < 20 => {
                attempt += 1;
                tracing::warn!(%error, attempt, "MySQL not reachable yet; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(error) => return Err(error).context("while connecting to the MySQL server"),
        }
    };
    // The name was checked to be [A-Za-z0-9_]+, so quoting it with backticks is safe.
    sqlx::query(&format!("CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
        .execute(&mut conn)
        .await
        .with_context(|| format!("while creating database {name}"))?;
    conn.close().await.ok();
    Ok(())
}

/// Drops the database named in `config` (tests only create throwaway ones).
pub async fn drop_database(config: &Config) -> anyhow::Result<()> {
    let name = config.db.name()?;
    let server = MySqlConnectOptions::from_str(&config.db.server_url()?)?;
    let mut conn = sqlx::mysql::MySqlConnection::connect_with(&server).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS `{name}`")).execute(&mut conn).await?;
    conn.close().await.ok();
    Ok(())
}

/// Whether `error` is a unique-key violation (MySQL error 1062).
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    error.as_database_error().is_some_and(|e| e.is_unique_violation())
}

/// Appends `(?, ?, …)` to `query`, binding each of `values`: the list of an `IN`. An empty list is
/// not valid SQL; callers return early instead.
pub fn push_list<'args, T>(query: &mut sqlx::QueryBuilder<'args, sqlx::MySql>, values: impl IntoIterator<Item = T>)
where
    T: 'args + sqlx::Encode<'args, sqlx::MySql> + sqlx::Type<sqlx::MySql> + Send,
{
    query.push("(");
    let mut list = query.separated(", ");
    for value in values {
        list.push_bind(value);
    }
    query.push(")");
}
