//! A circuit breaker for the Redis connection.
//!
//! While Redis is unreachable every command would wait for the connection manager's reconnect attempt
//! (connect timeout plus retry), and a request makes several commands, so reads that could be served
//! from MySQL in milliseconds took seconds. Once a command fails for want of a connection the breaker
//! opens: for [`OPEN_FOR`] every command fails at once, and the caller falls back to MySQL as it does for
//! any Redis error. The first command after that window tries the connection again (and reopens the
//! breaker if it still fails).

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use redis::{
    aio::{ConnectionLike, ConnectionManager},
    Cmd, ErrorKind, Pipeline, RedisError, RedisFuture, RedisResult, Value,
};

/// How long commands fail fast after a connection failure.
pub const OPEN_FOR: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub struct Breaker {
    epoch: Instant,
    /// Milliseconds since `epoch` until which the breaker is open (0: closed).
    open_until_ms: AtomicU64,
}

impl Default for Breaker {
    fn default() -> Self {
        Self { epoch: Instant::now(), open_until_ms: AtomicU64::new(0) }
    }
}

impl Breaker {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub fn is_open(&self) -> bool {
        self.now_ms() < self.open_until_ms.load(Ordering::Relaxed)
    }

    /// Fails fast while open.
    pub fn check(&self) -> RedisResult<()> {
        if self.is_open() {
            return Err(RedisError::from((ErrorKind::IoError, "Redis is unreachable; not trying again yet")));
        }
        Ok(())
    }

    /// Opens the breaker if `result` says the connection is gone; a server's error reply does not count.
    pub fn record<T>(&self, result: &RedisResult<T>) {
        if let Err(error) = result {
            if is_connectivity(error) {
                let until = self.now_ms() + u64::try_from(OPEN_FOR.as_millis()).unwrap_or(u64::MAX);
                self.open_until_ms.store(until, Ordering::Relaxed);
            }
        }
    }
}

fn is_connectivity(error: &RedisError) -> bool {
    error.is_io_error() || error.is_timeout() || error.is_connection_dropped() || error.is_connection_refusal()
}

/// The shared connection behind the breaker. Every Redis command of the origin goes through one.
#[derive(Clone)]
pub struct GuardedConnection {
    pub(crate) inner: ConnectionManager,
    pub(crate) breaker: Arc<Breaker>,
}

impl ConnectionLike for GuardedConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            self.breaker.check()?;
            let result = self.inner.req_packed_command(cmd).await;
            self.breaker.record(&result);
            result
        })
    }

    fn req_packed_commands<'a>(&'a mut self, cmd: &'a Pipeline, offset: usize, count: usize) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            self.breaker.check()?;
            let result = self.inner.req_packed_commands(cmd, offset, count).await;
            self.breaker.record(&result);
            result
        })
    }

    fn get_db(&self) -> i64 {
        self.inner.get_db()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_on_connection_failures_only() {
        let breaker = Breaker::default();
        breaker.record::<()>(&Err(RedisError::from((ErrorKind::ResponseError, "WRONGTYPE"))));
        assert!(breaker.check().is_ok(), "a server's error reply must not open it");
        breaker.record::<()>(&Err(RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))));
        assert!(breaker.is_open());
        assert!(breaker.check().is_err());
    }

    #[test]
    fn closes_after_the_window() {
        let breaker = Breaker::default();
        breaker.record::<()>(&Err(RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))));
        breaker.open_until_ms.store(breaker.now_ms(), Ordering::Relaxed);
        assert!(breaker.check().is_ok());
    }
}
