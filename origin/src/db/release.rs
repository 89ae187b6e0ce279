//! The check a connection passes before the pool takes it back.
//!
//! A connection can come back dirty: a cancelled `BEGIN` leaves a server-side transaction open that the
//! client does not know about (whoever draws the connection next would read a stale snapshot, or write
//! into a transaction nobody commits), and a command abandoned halfway leaves unread packets behind. Work
//! runs to completion in its own task ([`crate::complete`]) so neither should happen; this check is the
//! backstop that keeps the pool sound if one does.
//!
//! `SET TRANSACTION READ WRITE` sets the access mode of the next transaction to the default it already
//! has, and MySQL and MariaDB both refuse it with error 1568 while a transaction is open: one round trip
//! that tells whether the connection is idle, in sync and outside any transaction.

use std::time::Duration;

use sqlx::{mysql::MySqlDatabaseError, Executor, MySqlConnection};

/// A connection that does not answer the check within this is closed.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// MySQL's "Transaction characteristics can't be changed while a transaction is in progress".
const TRANSACTION_IN_PROGRESS: u16 = 1568;

/// `Ok(true)`: back to the pool. `Ok(false)`: closed gracefully (the server rolls back what it holds).
/// `Err`: closed at once, as a connection out of step with its server must be.
pub async fn reusable(conn: &mut MySqlConnection) -> sqlx::Result<bool> {
    match tokio::time::timeout(CHECK_TIMEOUT, conn.execute("SET TRANSACTION READ WRITE")).await {
        Ok(Ok(_)) => Ok(true),
        Ok(Err(error)) if error_number(&error) == Some(TRANSACTION_IN_PROGRESS) => {
            tracing::warn!("a connection came back inside a transaction; closing it");
            Ok(false)
        }
        Ok(Err(error)) => {
            tracing::warn!(%error, "a connection failed its release check; closing it");
            Err(error)
        }
        Err(_) => {
            tracing::warn!("a connection did not answer its release check; closing it");
            Err(sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, "release check timed out")))
        }
    }
}

fn error_number(error: &sqlx::Error) -> Option<u16> {
    Some(error.as_database_error()?.try_downcast_ref::<MySqlDatabaseError>()?.number())
}
