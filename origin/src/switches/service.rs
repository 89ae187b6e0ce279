//! Switch decisions, and each process's cached copy of the switch table.
//!
//! A user is inside a switch's rollout when their bucket — a number 0..=99 from SHA-256 of the switch name
//! and the user id — is below the switch's percent. The hash has no per-process seed, so every process
//! (and every deploy) gives a user the same answer while the percent is unchanged; raising the percent
//! only adds users, lowering it only removes some. Salting with the name keeps rollouts independent: the
//! users inside the first 10 % of one switch are not the first 10 % of every other.
//!
//! The table is read at most once per [`CACHE_TTL`] per process (it holds a handful of rows), so a
//! change made by `origin switch set` applies everywhere within that bound, without restarts. While
//! MySQL cannot be read the last known values (or the declared defaults) keep answering.

use std::{
    collections::HashMap,
    sync::{Arc, PoisonError, RwLock},
    time::{Duration, Instant},
};

use crate::db::Db;
use anyhow::{bail, Context};
use sha2::{Digest, Sha256};

use super::{known, store, valid_name, Known, KNOWN};
use crate::ids::now_micros;

/// How long a process answers from its copy of the switch table: the bound within which a change reaches
/// every process (plus the time of one query).
pub const CACHE_TTL: Duration = Duration::from_secs(2);

/// The switches as one process sees them.
pub struct Switches {
    db: Db,
    ttl: Duration,
    cached: RwLock<Option<Snapshot>>,
    /// Held while the table is being read, so a process issues one query per TTL however many callers
    /// find the copy stale at once.
    refreshing: tokio::sync::Mutex<()>,
}

#[derive(Clone)]
struct Snapshot {
    percents: Arc<HashMap<String, u8>>,
    loaded: Instant,
}

/// A switch as `origin switch list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwitchState {
    pub name: String,
    /// The percent in force: the stored one, else the declared default.
    pub percent: u8,
    /// When it was last set (microseconds since the epoch); `None` while it has its default.
    pub updated_at: Option<i64>,
    /// The declaration, if the code reads this switch.
    pub known: Option<&'static Known>,
}

impl Switches {
    pub fn new(db: Db) -> Self {
        Self { db, ttl: CACHE_TTL, cached: RwLock::new(None), refreshing: tokio::sync::Mutex::new(()) }
    }

    /// Whether `subject` (a user id) is inside `switch`'s rollout.
    pub async fn is_on(&self, switch: &Known, subject: u64) -> bool {
        in_rollout(switch.name, subject, self.percent(switch).await)
    }

    /// The percent in force for `switch`, from this process's copy of the table.
    pub async fn percent(&self, switch: &Known) -> u8 {
        self.table().await.get(switch.name).copied().unwrap_or(switch.default_percent)
    }

    /// Stores `percent` (0..=100) for `name`. This process sees it at once, the others within
    /// [`CACHE_TTL`].
    pub async fn set(&self, name: &str, percent: u8) -> anyhow::Result<()> {
        if !valid_name(name) {
            bail!("a switch name is 1 to 64 lower-case letters, digits, '_', '-' or '.'");
        }
        if percent > 100 {
            bail!("a switch's percent is between 0 and 100");
        }
        store::set(&self.db, name, percent, now_micros()).await.context("while storing the switch")?;
        *self.cached.write().unwrap_or_else(PoisonError::into_inner) = None;
        Ok(())
    }

    /// Every switch the code declares (stored or at its default) and every other stored one, by name.
    /// Reads MySQL, not the cache: this is what operators look at.
    pub async fn list(&self) -> anyhow::Result<Vec<SwitchState>> {
        let stored = store::all(&self.db).await.context("while reading the switches")?;
        let mut states: Vec<SwitchState> = stored
            .into_iter()
            .map(|row| SwitchState {
                known: known(&row.name),
                percent: row.percent.min(100),
                updated_at: Some(row.updated_at),
                name: row.name,
            })
            .collect();
        for declared in KNOWN {
            if !states.iter().any(|state| state.name == declared.name) {
                states.push(SwitchState {
                    name: declared.name.to_owned(),
                    percent: declared.default_percent,
                    updated_at: None,
                    known: Some(declared),
                });
            }
        }
        states.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(states)
    }

    /// The stored percents, read again when the copy is older than the TTL. A stale copy is still
    /// served while another caller is reading the table, so no caller waits behind a slow query except
    /// the first ones of the process.
    async fn table(&self) -> Arc<HashMap<String, u8>> {
        let current = self.cached.read().unwrap_or_else(PoisonError::into_inner).clone();
        let _refreshing = match &current {
            Some(snapshot) if snapshot.loaded.elapsed() < self.ttl => return snapshot.percents.clone(),
            Some(stale) => match self.refreshing.try_lock() {
                Ok(guard) => guard,
                Err(_) => return stale.percents.clone(),
            },
            None => {
                let guard = self.refreshing.lock().await;
                // Whoever held the lock may have just loaded it.
                if let Some(loaded) = self.cached.read().unwrap_or_else(PoisonError::into_inner).as_ref() {
                    return loaded.percents.clone();
                }
                guard
            }
        };
        let percents = match store::all(&self.db).await {
            Ok(rows) => Arc::new(rows.into_iter().map(|row| (row.name, row.percent.min(100))).collect()),
            Err(error) => {
                // Try again after the TTL rather than putting a query on every call while MySQL struggles.
                tracing::warn!(%error, "could not read the feature switches; keeping the values in hand");
                current.map(|stale| stale.percents).unwrap_or_default()
            }
        };
        *self.cached.write().unwrap_or_else(PoisonError::into_inner) =
            Some(Snapshot { percents: percents.clone(), loaded: Instant::now() });
        percents
    }
}

/// `subject`'s bucket for the switch `name`, 0..=99: the first 8 bytes of SHA-256(name, NUL, the id's 8
/// big-endian bytes) as a number, modulo 100.
pub fn bucket(name: &str, subject: u64) -> u8 {
    let digest =
        Sha256::new().chain_update(name.as_bytes()).chain_update([0]).chain_update(subject.to_be_bytes()).finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    // Below 100, so the conversion never truncates.
    (u64::from_be_bytes(first) % 100) as u8
}

/// Whether `subject` is inside a rollout of `percent` % of the switch `name`.
pub fn in_rollout(name: &str, subject: u64, percent: u8) -> bool {
    bucket(name, subject) < percent
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_fixed_by_name_and_subject() {
        // Pinned: a change here would move users in and out of every running rollout.
        let pinned: Vec<u8> = (1..=6).map(|id| bucket("fanout_hybrid", id)).collect();
        assert_eq!(pinned, PINNED);
        assert_eq!(bucket("fanout_hybrid", 42), bucket("fanout_hybrid", 42));
    }

    #[test]
    fn a_percent_is_that_share_of_users() {
        for percent in [0u8, 1, 10, 30, 50, 99, 100] {
            let inside = (1..=20_000u64).filter(|&id| in_rollout("some_switch", id, percent)).count();
            let expected = 200 * usize::from(percent);
            assert!(inside.abs_diff(expected) <= 300, "{percent} %: {inside} of 20000");
        }
        assert!((1..=1000u64).all(|id| !in_rollout("some_switch", id, 0)));
        assert!((1..=1000u64).all(|id| in_rollout("some_switch", id, 100)));
    }

    #[test]
    fn widening_a_rollout_keeps_everyone_already_inside() {
        for id in 1..=5_000u64 {
            if in_rollout("some_switch", id, 10) {
                assert!(in_rollout("some_switch", id, 20), "user {id} left when 10 % became 20 %");
            }
        }
    }

    #[test]
    fn rollouts_of_different_switches_are_independent() {
        let both = (1..=20_000u64).filter(|&id| in_rollout("one", id, 50) && in_rollout("other", id, 50)).count();
        assert!(both.abs_diff(5_000) <= 300, "{both} of 20000 inside both halves");
    }

    #[test]
    fn names_are_checked() {
        assert!(valid_name("fanout_hybrid"));
        assert!(valid_name("edge.feed-cache_2"));
        assert!(!valid_name(""));
        assert!(!valid_name("Fanout"));
        assert!(!valid_name("a b"));
        assert!(!valid_name(&"x".repeat(65)));
    }

    const PINNED: [u8; 6] = [96, 54, 39, 6, 94, 44];
}
