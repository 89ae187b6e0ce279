//! Which process relays: one per deployment at a time, elected with a MySQL named lock (`GET_LOCK`) held
//! on a connection of its own. The others stand by and take over within a second of the holder's
//! connection going away (a crash, a kill, a network split all end it; the server frees the lock then).
//!
//! Two relays claiming side by side (`FOR UPDATE SKIP LOCKED`) are correct but fight: each round's
//! `DELETE` of a few hundred claimed rows may scan rows the other holds, and the two deadlock. One relay
//! publishes tens of thousands of rows a second, so a single active one costs no throughput. In the short
//! overlap after a takeover the new holder's claim waits for the old one's round to commit.

use std::{
    str::FromStr,
    time::{Duration, Instant},
};

use anyhow::Context;
use sha2::{Digest, Sha256};
use sqlx::{
    mysql::{MySqlConnectOptions, MySqlConnection},
    ConnectOptions, Connection,
};

use crate::config::Config;

/// How often the holder confirms it still holds the lock (and keeps its connection alive).
const CHECK_EVERY: Duration = Duration::from_secs(1);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

pub struct Lease {
    name: String,
    options: MySqlConnectOptions,
    /// The lease's own connection: it holds the lock, or a standby asks for the lock over it.
    conn: Option<MySqlConnection>,
    held: bool,
    checked: Instant,
}

impl Lease {
    /// The lease of this deployment: its database and broker prefix name it (lock names are server-wide
    /// and at most 64 characters, hence the digest).
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let options = MySqlConnectOptions::from_str(&config.db.url)
            .context("DATABASE_URL is not a MySQL URL")?
            .log_statements(tracing::log::LevelFilter::Trace);
        Ok(Self {
            name: lock_name(config.db.name()?, &config.amqp.prefix),
            options,
            conn: None,
            held: false,
            checked: Instant::now(),
        })
    }

    /// Whether this process holds the lease now, taking it when it is free.
    pub async fn held(&mut self) -> bool {
        if self.held {
            if self.checked.elapsed() < CHECK_EVERY {
                return true;
            }
            let still = match &mut self.conn {
                Some(conn) => tokio::time::timeout(CONNECT_TIMEOUT, still_held(conn, &self.name)).await,
                None => Ok(Ok(None)),
            };
            if matches!(still, Ok(Ok(Some(1)))) {
                self.checked = Instant::now();
                return true;
            }
            tracing::warn!("the outbox relay lost its lease; standing by");
            self.held = false;
            // The connection may be broken, or may take the lock back later by itself: start afresh.
            self.conn = None;
            return false;
        }
        match tokio::time::timeout(CONNECT_TIMEOUT, self.acquire()).await {
            Ok(Ok(true)) => {
                tracing::info!("this process relays the outbox");
                self.held = true;
                self.checked = Instant::now();
                true
            }
            Ok(Ok(false)) => false,
            Ok(Err(error)) => {
                tracing::debug!(%error, "could not ask for the relay's lease");
                self.conn = None;
                false
            }
            Err(_) => {
                self.conn = None;
                false
            }
        }
    }

    /// Lets go of the lease (at shutdown, so a standby takes over at once).
    pub async fn release(&mut self) {
        let held = std::mem::take(&mut self.held);
        if let Some(mut conn) = self.conn.take() {
            let _ = tokio::time::timeout(Duration::from_secs(1), async {
                // Released explicitly: the server frees a closed connection's locks only once it has
                // noticed the close, and a standby asking in between would be refused.
                if held {
                    let _ = sqlx::query("DO RELEASE_LOCK(?)").bind(&self.name).execute(&mut conn).await;
                }
                conn.close().await
            })
            .await;
        }
    }

    /// Asks for the lock over the lease's connection, opened once and kept while standing by.
    async fn acquire(&mut self) -> sqlx::Result<bool> {
        let conn = match &mut self.conn {
            Some(conn) => conn,
            None => self.conn.insert(self.options.connect().await?),
        };
        let got: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, 0)").bind(&self.name).fetch_one(conn).await?;
        Ok(got == Some(1))
    }
}

async fn still_held(conn: &mut MySqlConnection, name: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT IS_USED_LOCK(?) = CONNECTION_ID()").bind(name).fetch_one(conn).await
}

fn lock_name(database: &str, prefix: &str) -> String {
    let digest = Sha256::digest(format!("{database}/{prefix}").as_bytes());
    let hex: String = digest.iter().take(20).map(|byte| format!("{byte:02x}")).collect();
    format!("rookery.relay.{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_names_are_per_deployment_and_short_enough() {
        let name = lock_name("rookery", "rookery");
        assert!(name.len() <= 64, "{name}");
        assert_eq!(name, lock_name("rookery", "rookery"));
        assert_ne!(name, lock_name("rookery", "other"));
        assert_ne!(name, lock_name("other", "rookery"));
    }
}
