//! Circuit breakers for the Redis connection and the MySQL pool.
//!
//! While a dependency is unreachable every call would wait for a reconnect attempt: Redis's connection
//! manager waits its connect timeout plus a retry, the MySQL pool waits its whole acquire timeout (3 s). A
//! request makes several calls, so answers that could be given at once (a read from MySQL without Redis, a
//! 503 without MySQL) took seconds. Once a call fails for want of a connection the breaker opens: for
//! [`OPEN_FOR`] every call fails at once. After that window exactly one call (the probe) goes through
//! while the others keep failing fast; its success closes the breaker, its failure opens it again.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use redis::{aio::ConnectionLike, Cmd, ErrorKind, Pipeline, RedisError, RedisFuture, RedisResult, Value};

use crate::cache::Backend;

/// How long calls fail fast after a connection failure.
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

    fn window_end(&self) -> u64 {
        self.now_ms().saturating_add(u64::try_from(OPEN_FOR.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn is_open(&self) -> bool {
        self.now_ms() < self.open_until_ms.load(Ordering::Relaxed)
    }

    /// Whether a call may go through: always while closed; once the window has passed, only the one
    /// caller that re-arms the window (the probe).
    pub fn admit(&self) -> bool {
        let until = self.open_until_ms.load(Ordering::Relaxed);
        if until == 0 {
            return true;
        }
        let now = self.now_ms();
        now >= until
            && self
                .open_until_ms
                .compare_exchange(until, self.window_end(), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    /// A call failed for want of a connection: fail fast for the next [`OPEN_FOR`].
    pub fn trip(&self) {
        self.open_until_ms.store(self.window_end(), Ordering::Relaxed);
    }

    /// A call reached the dependency: close.
    pub fn reset(&self) {
        let until = self.open_until_ms.load(Ordering::Relaxed);
        // Only the state this call saw: a trip recorded in between stands.
        if until != 0 {
            let _ = self.open_until_ms.compare_exchange(until, 0, Ordering::Relaxed, Ordering::Relaxed);
        }
    }

    /// Fails fast while open (Redis).
    pub fn check(&self) -> RedisResult<()> {
        if !self.admit() {
            return Err(RedisError::from((ErrorKind::IoError, "Redis is unreachable; not trying again yet")));
        }
        Ok(())
    }

    /// Opens the breaker if `result` says the Redis connection is gone; a server's error reply does not
    /// count, and any answer closes it.
    pub fn record<T>(&self, result: &RedisResult<T>) {
        match result {
            Err(error) if is_connectivity(error) => self.trip(),
            _ => self.reset(),
        }
    }
}

fn is_connectivity(error: &RedisError) -> bool {
    error.is_io_error() || error.is_timeout() || error.is_connection_dropped() || error.is_connection_refusal()
}

/// Redis could not serve the command for now, whatever the command: no connection, the breaker open, or
/// a cluster without a master for the slot yet (a failover under way).
pub fn is_unavailable(error: &RedisError) -> bool {
    is_connectivity(error)
        || matches!(
            error.kind(),
            ErrorKind::ClusterDown | ErrorKind::MasterDown | ErrorKind::TryAgain | ErrorKind::BusyLoadingError
        )
}

/// The shared connection behind the breaker. Every Redis command of the origin goes through one.
#[derive(Clone)]
pub struct GuardedConnection {
    pub(crate) inner: Backend,
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

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
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
        // An epoch in the past, so that "now" is never the 0 that means closed.
        let breaker = Breaker { epoch: Instant::now() - Duration::from_secs(10), open_until_ms: AtomicU64::new(0) };
        breaker.record::<()>(&Err(RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))));
        breaker.open_until_ms.store(breaker.now_ms(), Ordering::Relaxed);
        assert!(breaker.check().is_ok(), "the first call after the window probes");
        assert!(breaker.check().is_err(), "the others keep failing fast while it probes");
        breaker.record::<()>(&Ok(()));
        assert!(breaker.check().is_ok() && breaker.check().is_ok(), "a successful probe closes it");
    }
}
