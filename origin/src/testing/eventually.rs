//! Waiting for what happens asynchronously: a fanout delivery, a service back after an outage, a queue that
//! drains.

use std::time::Duration;

use tokio::time::{sleep, Instant};

/// How long [`eventually`] waits between two checks.
const PAUSE: Duration = Duration::from_millis(50);

/// Runs `check` every 50 ms until it returns true or `within` has passed; whether it did. The check may
/// hold a mutable borrow (an `async` closure), e.g. of a connection or of the last value it saw, to put in
/// the failure message.
pub async fn eventually(within: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        sleep(PAUSE).await;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn returns_once_the_check_holds() {
        let mut checks = 0;
        let held = eventually(Duration::from_secs(10), async || {
            checks += 1;
            checks == 3
        })
        .await;
        assert!(held);
        assert_eq!(checks, 3);
    }

    #[tokio::test]
    async fn gives_up_after_the_deadline() {
        let started = Instant::now();
        assert!(!eventually(Duration::from_millis(120), async || false).await);
        assert!(started.elapsed() >= Duration::from_millis(120));
    }
}
