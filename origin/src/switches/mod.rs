//! Feature switches for gradual ("gray") releases: a named behaviour is turned on for a stable share of
//! users, from 0 % to 100 %, and can be widened, narrowed or turned off without a deploy.
//!
//! [`store`] holds the SQL of the `feature_switches` table; [`service`] decides per user (a hash of the
//! switch name and the user id, so the answer is the same on every process and for as long as the percent
//! stays) and caches the table in each process for [`service::CACHE_TTL`]. `origin switch set` and
//! `origin switch list` are the operators' side (see `ops::switches`).
//!
//! Every switch the code reads is declared in [`KNOWN`] with the percent it has while nobody has set it.
//! A gated behaviour must be correct with the switch in either state; the switch only chooses between
//! two correct ways of doing something.

pub mod service;
pub mod store;

pub use service::Switches;

/// A switch the code reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    pub name: &'static str,
    /// The percent while no row is stored for it.
    pub default_percent: u8,
    /// What "on" means, for `origin switch list`.
    pub about: &'static str,
}

/// Per tweet author: whether an author above `HYBRID_THRESHOLD` followers is pulled at read time (on) or
/// pushed to every follower's home timeline like everyone else (off). Both are correct, because newsfeed
/// reads merge in the tweets of followed high-follower authors either way (duplicates are dropped); the
/// switch trades fanout writes against freshness of the home timeline in Redis.
pub const FANOUT_HYBRID: Known = Known {
    name: "fanout_hybrid",
    default_percent: 100,
    about: "authors above HYBRID_THRESHOLD followers are pulled at read time instead of pushed",
};

/// Every switch the code reads.
pub const KNOWN: &[Known] = &[FANOUT_HYBRID];

/// The declared switch called `name`, if any.
pub fn known(name: &str) -> Option<&'static Known> {
    KNOWN.iter().find(|known| known.name == name)
}

/// Switch names: 1 to 64 lower-case ASCII letters, digits and `_`, `-`, `.`.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.'))
}
