//! [`Db`]: the MySQL pool behind a circuit breaker, usable wherever a pool is (`&state.db` is an
//! executor; `begin` and `acquire` as on a pool).
//!
//! With MySQL unreachable the pool makes every caller wait its whole acquire timeout before failing. The
//! breaker turns that into one wait: after a connection failure, calls fail at once (a 503 at the HTTP
//! layer) for [`crate::breaker::OPEN_FOR`], then one call probes the server again.
//!
//! A timeout for want of a free connection while other callers keep getting connections is load, not an
//! outage, and does not open the breaker; one during which no acquire succeeded at all (MySQL refuses
//! connections, or every connection hangs) is.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Instant,
};

use futures::{future::BoxFuture, stream::BoxStream, StreamExt, TryStreamExt};
use sqlx::{
    mysql::{MySql, MySqlQueryResult, MySqlRow, MySqlStatement, MySqlTypeInfo},
    pool::PoolConnection,
    Describe, Either, Execute, Executor, MySqlPool, Transaction,
};

use crate::breaker::Breaker;

#[derive(Clone, Debug)]
pub struct Db {
    pool: MySqlPool,
    breaker: Arc<Breaker>,
    /// When an acquire last succeeded, in milliseconds since `epoch`.
    last_success_ms: Arc<AtomicU64>,
    epoch: Instant,
}

impl Db {
    pub fn new(pool: MySqlPool) -> Self {
        Self {
            pool,
            breaker: Arc::new(Breaker::default()),
            last_success_ms: Arc::new(AtomicU64::new(0)),
            epoch: Instant::now(),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The pool itself, past the breaker (migrations, maintenance commands).
    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    /// Whether MySQL was found unreachable within the last moment.
    pub fn is_unreachable(&self) -> bool {
        self.breaker.is_open()
    }

    /// A pooled connection, or at once [`sqlx::Error::PoolTimedOut`] while the breaker is open.
    pub async fn acquire(&self) -> sqlx::Result<PoolConnection<MySql>> {
        if !self.breaker.admit() {
            return Err(sqlx::Error::PoolTimedOut);
        }
        let started = self.now_ms();
        let acquired = self.pool.acquire().await;
        match &acquired {
            Ok(_) => {
                self.last_success_ms.fetch_max(self.now_ms(), Ordering::Relaxed);
                self.breaker.reset();
            }
            Err(error) if self.is_outage(error, started) => self.breaker.trip(),
            Err(_) => {}
        }
        acquired
    }

    /// A transaction on a pooled connection (see [`Db::acquire`]).
    pub async fn begin(&self) -> sqlx::Result<Transaction<'static, MySql>> {
        let conn = self.acquire().await?;
        let begun = Transaction::begin(conn, None).await;
        if let Err(error @ (sqlx::Error::Io(_) | sqlx::Error::Tls(_))) = &begun {
            tracing::debug!(%error, "MySQL connection failed at BEGIN");
            self.breaker.trip();
        }
        begun
    }

    /// Whether a failed acquire that began at `started` says MySQL is unreachable.
    fn is_outage(&self, error: &sqlx::Error, started: u64) -> bool {
        match error {
            sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
            // Others got connections while this one waited: the pool is busy, MySQL answers.
            sqlx::Error::PoolTimedOut => self.last_success_ms.load(Ordering::Relaxed) < started,
            _ => false,
        }
    }
}

/// Runs each query on a connection taken through [`Db::acquire`]. Rows are collected before they are
/// yielded: every caller reads whole results anyway, and the connection goes back to the pool sooner.
impl<'p> Executor<'p> for &Db {
    type Database = MySql;

    fn fetch_many<'e, 'q: 'e, E>(self, query: E) -> BoxStream<'e, sqlx::Result<Either<MySqlQueryResult, MySqlRow>>>
    where
        E: 'q + Execute<'q, MySql>,
    {
        let db = self.clone();
        futures::stream::once(async move {
            let mut conn = db.acquire().await?;
            conn.fetch_many(query).try_collect::<Vec<_>>().await
        })
        .map_ok(|items| futures::stream::iter(items.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, sqlx::Result<Option<MySqlRow>>>
    where
        E: 'q + Execute<'q, MySql>,
    {
        let db = self.clone();
        Box::pin(async move { db.acquire().await?.fetch_optional(query).await })
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [MySqlTypeInfo],
    ) -> BoxFuture<'e, sqlx::Result<MySqlStatement<'q>>> {
        let db = self.clone();
        Box::pin(async move { db.acquire().await?.prepare_with(sql, parameters).await })
    }

    fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, sqlx::Result<Describe<MySql>>> {
        let db = self.clone();
        Box::pin(async move { db.acquire().await?.describe(sql).await })
    }
}
