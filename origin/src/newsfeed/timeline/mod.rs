//! Redis timelines: sorted sets of tweet ids scored by id (ids are time-ordered and below 2^53, so the
//! double score is exact), newest kept, capped at `timeline_cap`.
//!
//! Two kinds share the format: a user's own tweets (`tl:u:{id}`) and a user's home feed (`tl:h:{id}`).
//! The hash tag in braces keeps each user's keys in one Redis Cluster slot.
//!
//! Two marker members carry state without a second key:
//! - `"0"` (score 0) says the set holds *every* item (nothing older exists). Trimming removes the lowest
//!   ranks first, so the marker disappears exactly when items were dropped.
//! - `"b"` (score -1) says the set is being rebuilt: writers already add to it, readers must not trust
//!   it yet and read MySQL.
//!
//! Writers only add to timelines that exist ([`add`]): a missing timeline is rebuilt whole from MySQL on
//! its next read, which is why adding to it partially would be wrong.

use std::{collections::HashMap, sync::OnceLock, time::Duration};

use redis::Script;
use rookery_shared::ids::{TweetId, UserId};

use crate::cache::Redis;

mod window;
pub use window::{rebuild_from_mysql, window_ids};

const COMPLETE: &str = "0";
const BUILDING: &str = "b";
/// Timelines of users who do not read expire; a later read rebuilds them.
pub const IDLE_TTL_SECS: u64 = 3 * 24 * 3600;
const REBUILD_LOCK_MS: u64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The tweets a user wrote.
    User,
    /// What a user reads: their own tweets and those of the users they follow (pushed ones).
    Home,
}

pub fn key(redis: &Redis, kind: Kind, user: UserId) -> String {
    match kind {
        Kind::User => redis.key(format_args!("tl:u:{{{user}}}")),
        Kind::Home => redis.key(format_args!("tl:h:{{{user}}}")),
    }
}

/// The authors `user` unfollowed lately (a hash: author id → when, in milliseconds since the epoch), in
/// the user's slot. A delivery of a tweet written before that moment, arriving after the unfollow, must
/// not put it back; tweets written later (after a follow again) are delivered as usual, so the note never
/// needs lifting and a follow cannot race with it.
fn unfollowed_key(redis: &Redis, user: UserId) -> String {
    redis.key(format_args!("tl:x:{{{user}}}"))
}

/// How long an unfollow is remembered: longer than any delivery stays in flight (retries included). A
/// delivery older than that finds a timeline that expired or was rebuilt since.
const UNFOLLOWED_TTL_SECS: u64 = IDLE_TTL_SECS;

fn lock_key(redis: &Redis, kind: Kind, user: UserId) -> String {
    format!("{}:lock", key(redis, kind, user))
}

/// `KEYS[1]` timeline, `ARGV[1]` cap, `ARGV[2..]` tweet ids: adds them only if the timeline exists, then
/// trims it to the cap. Idempotent: adding an id twice changes nothing.
fn add_script() -> &'static Script {
    static SCRIPT: OnceLock<Script> = OnceLock::new();
    SCRIPT.get_or_init(|| {
        Script::new(
            r"
            if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
            for i = 2, #ARGV do redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i]) end
            redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[1]) + 1))
            return 1
            ",
        )
    })
}

/// Adds `tweets` to the existing timelines of `users`, one pipelined round trip for all of them.
#[tracing::instrument(skip_all, fields(users = users.len(), tweets = tweets.len()))]
pub async fn add(
    redis: &Redis,
    kind: Kind,
    users: &[UserId],
    tweets: &[TweetId],
    cap: usize,
) -> redis::RedisResult<()> {
    if users.is_empty() || tweets.is_empty() {
        return Ok(());
    }
    let mut conn = redis.conn().await?;
    let script = add_script();
    let mut pipe = redis::pipe();
    for user in users {
        let cmd = pipe.cmd("EVALSHA").arg(script.get_hash()).arg(1).arg(key(redis, kind, *user)).arg(cap);
        for tweet in tweets {
            cmd.arg(tweet.0);
        }
        cmd.ignore();
    }
    match pipe.query_async::<()>(&mut conn).await {
        // The server does not know the script yet (first use, or Redis restarted): load it and retry.
        // The script is idempotent, so the retry changes nothing where a call had already run.
        Err(error) if error.kind() == redis::ErrorKind::NoScriptError => {
            script.prepare_invoke().load_async(&mut conn).await?;
            pipe.query_async::<()>(&mut conn).await
        }
        other => other,
    }?;
    redis.confirm_replicated(&mut conn, only_key(redis, kind, users).as_deref()).await
}

/// The key of the one user's timeline a write touches, if it touches one: its master alone needs asking
/// whether the replicas have the write.
fn only_key(redis: &Redis, kind: Kind, users: &[UserId]) -> Option<String> {
    match users {
        [user] => Some(key(redis, kind, *user)),
        _ => None,
    }
}

/// Removes `tweets` from the timelines of `users` (missing timelines are left missing).
#[tracing::instrument(skip_all, fields(users = users.len(), tweets = tweets.len()))]
pub async fn remove(redis: &Redis, kind: Kind, users: &[UserId], tweets: &[TweetId]) -> redis::RedisResult<()> {
    if users.is_empty() || tweets.is_empty() {
        return Ok(());
    }
    let mut conn = redis.conn().await?;
    let mut pipe = redis::pipe();
    let members: Vec<u64> = tweets.iter().map(|t| t.0).collect();
    for user in users {
        pipe.cmd("ZREM").arg(key(redis, kind, *user)).arg(&members).ignore();
    }
    pipe.query_async::<()>(&mut conn).await?;
    redis.confirm_replicated(&mut conn, only_key(redis, kind, users).as_deref()).await
}

/// One tweet for some of its author's followers, as the delivery worker pushes it.
#[derive(Debug, Clone, Copy)]
pub struct Push<'a> {
    pub tweet: TweetId,
    /// `None` for batches planned by earlier releases: delivered without the unfollow check.
    pub author: Option<UserId>,
    pub followers: &'a [UserId],
}

/// Timelines one script call writes. Each call is atomic and holds Redis for its duration: about a
/// hundred timelines keep a call well under a millisecond.
const TIMELINES_PER_CALL: usize = 100;

/// For each timeline `i`: `KEYS[2i-1]` the home timeline, `KEYS[2i]` its owner's unfollowed authors.
/// `ARGV[1]` cap, `ARGV[2]` trim slack, then per timeline a count `n` and `n` triples (author, tweet id,
/// the tweet's creation in ms). Adds the tweets to each timeline that exists, except those written before
/// their owner unfollowed the author. Idempotent: adding an id twice changes nothing. Returns the number
/// of tweets added.
///
/// A timeline is trimmed back to the cap only once it is `slack` items over it: removing a few dozen of
/// the oldest items at once costs Redis far less than one removal per delivery, and readers never look
/// past the cap's window anyway (older pages come from MySQL). `ZCARD` doubles as the existence check
/// (an existing timeline always holds a member: a marker or an item).
fn deliver_script() -> &'static Script {
    static SCRIPT: OnceLock<Script> = OnceLock::new();
    SCRIPT.get_or_init(|| {
        Script::new(
            r"
            local cap = tonumber(ARGV[1])
            local slack = tonumber(ARGV[2])
            local at = 3
            local added = 0
            for k = 1, #KEYS, 2 do
                local n = tonumber(ARGV[at])
                local first = at + 1
                at = first + 3 * n
                local size = redis.call('ZCARD', KEYS[k])
                if size > 0 and n == 1 then
                    -- The common case (one tweet for this follower): no table to build.
                    local unfollowed = redis.call('HGET', KEYS[k + 1], ARGV[first])
                    if not (unfollowed and tonumber(ARGV[first + 2]) <= tonumber(unfollowed)) then
                        local fresh = redis.call('ZADD', KEYS[k], ARGV[first + 1], ARGV[first + 1])
                        added = added + fresh
                        if size + fresh > cap + slack then
                            redis.call('ZREMRANGEBYRANK', KEYS[k], 0, -(cap + 1))
                        end
                    end
                elseif size > 0 then
                    local members = {}
                    for i = first, at - 1, 3 do
                        local unfollowed = redis.call('HGET', KEYS[k + 1], ARGV[i])
                        if not (unfollowed and tonumber(ARGV[i + 2]) <= tonumber(unfollowed)) then
                            members[#members + 1] = ARGV[i + 1]
                            members[#members + 1] = ARGV[i + 1]
                        end
                    end
                    if #members > 0 then
                        local fresh = redis.call('ZADD', KEYS[k], unpack(members))
                        added = added + fresh
                        if size + fresh > cap + slack then
                            redis.call('ZREMRANGEBYRANK', KEYS[k], 0, -(cap + 1))
                        end
                    end
                end
            end
            return added
            ",
        )
    })
}

/// One tweet for one timeline, as the delivery script takes it: (author, tweet id, creation in ms).
type Arrival = (u64, u64, i64);

/// Items a home timeline may hold over its cap before the delivery script trims it.
const TRIM_SLACK: usize = 32;

/// Pushes tweets into their authors' followers' home timelines (the fanout's delivery step): each
/// follower's tweets together, a hundred timelines a script call, all calls in one pipelined round
/// trip. A follower who has unfollowed an author since the batch was planned is skipped for that
/// author's tweets written before the unfollow.
#[tracing::instrument(skip_all, fields(pushes = pushes.len()))]
pub async fn deliver(redis: &Redis, pushes: &[Push<'_>], cap: usize) -> redis::RedisResult<()> {
    // Follower → what to add to their timeline, in the order given.
    let mut per_follower: HashMap<UserId, Vec<Arrival>> = HashMap::new();
    for push in pushes {
        let author = push.author.map_or(0, |a| a.0);
        let created_ms = crate::ids::created_at_of(push.tweet.0) / 1000;
        for follower in push.followers {
            per_follower.entry(*follower).or_default().push((author, push.tweet.0, created_ms));
        }
    }
    if per_follower.is_empty() {
        return Ok(());
    }
    let mut followers: Vec<(UserId, Vec<Arrival>)> = per_follower.into_iter().collect();
    followers.sort_unstable_by_key(|(follower, _)| *follower);
    let script = deliver_script();
    let mut pipe = redis::pipe();
    for group in script_calls(redis, &mut followers) {
        let cmd = pipe.cmd("EVALSHA").arg(script.get_hash()).arg(group.len() * 2);
        for (follower, _) in group {
            cmd.arg(key(redis, Kind::Home, *follower)).arg(unfollowed_key(redis, *follower));
        }
        cmd.arg(cap).arg(TRIM_SLACK);
        for (_, tweets) in group {
            cmd.arg(tweets.len());
            for (author, tweet, created_ms) in tweets {
                cmd.arg(*author).arg(*tweet).arg(*created_ms);
            }
        }
        cmd.ignore();
    }
    let mut conn = redis.bulk_conn().await?;
    match pipe.query_async::<()>(&mut conn).await {
        // The server does not know the script yet (first use, or Redis restarted): load it and retry.
        // The script is idempotent, so the retry changes nothing where a call had already run (on a
        // cluster, the nodes that knew the script).
        Err(error) if error.kind() == redis::ErrorKind::NoScriptError => {
            script.prepare_invoke().load_async(&mut conn).await?;
            pipe.query_async::<()>(&mut conn).await
        }
        other => other,
    }?;
    redis.confirm_replicated(&mut conn, None).await
}

/// The followers each script call of a delivery takes: up to [`TIMELINES_PER_CALL`] of them, and on a
/// cluster only those whose keys share a slot (a script may not touch two slots), so mostly one.
fn script_calls<'a>(redis: &Redis, followers: &'a mut [(UserId, Vec<Arrival>)]) -> Vec<&'a [(UserId, Vec<Arrival>)]> {
    if !redis.is_cluster() {
        return followers.chunks(TIMELINES_PER_CALL).collect();
    }
    let slot = |user: UserId| crate::cache::slots::key_slot(key(redis, Kind::Home, user).as_bytes());
    followers.sort_by_cached_key(|(follower, _)| (slot(*follower), *follower));
    let followers: &'a [(UserId, Vec<Arrival>)] = followers;
    let mut calls = Vec::new();
    let mut start = 0;
    for end in 1..=followers.len() {
        let full = end - start == TIMELINES_PER_CALL;
        if end == followers.len() || full || slot(followers[end].0) != slot(followers[start].0) {
            calls.push(&followers[start..end]);
            start = end;
        }
    }
    calls
}

/// Remembers that `user` unfollowed `author` now (before their tweets are taken out of `user`'s
/// timeline), so deliveries of tweets written before now, still in flight, skip `user`.
pub async fn note_unfollow(redis: &Redis, user: UserId, author: UserId) -> redis::RedisResult<()> {
    let mut conn = redis.conn().await?;
    let key = unfollowed_key(redis, user);
    redis::pipe()
        .cmd("HSET")
        .arg(&key)
        .arg(author.0)
        .arg(crate::ids::now_micros() / 1000)
        .ignore()
        .cmd("EXPIRE")
        .arg(&key)
        .arg(UNFOLLOWED_TTL_SECS)
        .ignore()
        .query_async(&mut conn)
        .await
}

/// Takes tweets out of home timelines: each `(tweet, followers)` pair, every follower's in one `ZREM`, one
/// pipelined round trip.
pub async fn retract(redis: &Redis, retractions: &[(TweetId, &[UserId])]) -> redis::RedisResult<()> {
    let mut per_follower: HashMap<UserId, Vec<u64>> = HashMap::new();
    for (tweet, followers) in retractions {
        for follower in *followers {
            per_follower.entry(*follower).or_default().push(tweet.0);
        }
    }
    if per_follower.is_empty() {
        return Ok(());
    }
    let mut pipe = redis::pipe();
    for (follower, tweets) in &per_follower {
        pipe.cmd("ZREM").arg(key(redis, Kind::Home, *follower)).arg(tweets).ignore();
    }
    let mut conn = redis.bulk_conn().await?;
    pipe.query_async::<()>(&mut conn).await?;
    redis.confirm_replicated(&mut conn, None).await
}

pub async fn drop_timeline(redis: &Redis, kind: Kind, user: UserId) -> redis::RedisResult<()> {
    let mut conn = redis.conn().await?;
    redis::cmd("DEL").arg(key(redis, kind, user)).query_async(&mut conn).await
}

/// How long [`forget`] keeps trying in the background: longer than a cluster failover takes.
const FORGET_RETRY_FOR: Duration = Duration::from_secs(120);

/// Drops `user`'s timelines of `kinds` after a write to them failed, so that their next read rebuilds
/// them from MySQL instead of trusting a timeline that missed the write. When Redis does not answer
/// now (a master failing over to its replica, which holds the timeline without the write), a background
/// task keeps trying for [`FORGET_RETRY_FOR`]: the request that failed does not wait, and its client
/// leaving changes nothing.
pub async fn forget(redis: &Redis, kinds: &[Kind], user: UserId) {
    let mut pending = Vec::new();
    for kind in kinds {
        if drop_timeline(redis, *kind, user).await.is_err() {
            pending.push(*kind);
        }
    }
    if pending.is_empty() {
        return;
    }
    let redis = redis.clone();
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        let mut pause = Duration::from_millis(250);
        while !pending.is_empty() {
            if started.elapsed() > FORGET_RETRY_FOR {
                tracing::error!(user_id = %user, "could not drop a timeline that missed a write; it expires by itself");
                return;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(5));
            let mut still = Vec::new();
            for kind in pending {
                if drop_timeline(&redis, kind, user).await.is_err() {
                    still.push(kind);
                }
            }
            pending = still;
        }
    });
}

/// Which ids a page wants: strictly below `below`, at or above `from`, newest first, at most `limit`.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub below: Option<u64>,
    pub from: Option<u64>,
    pub limit: usize,
}

/// What Redis could say about a window.
#[derive(Debug)]
pub enum Read {
    /// The timeline answers the window exactly: these ids, newest first (at most `limit`).
    Hit(Vec<u64>),
    /// The timeline does not exist: rebuild it.
    Missing,
    /// The timeline exists but cannot answer this window (being rebuilt, or the window reaches past
    /// what it holds): read MySQL.
    Partial,
}

/// Reads a window in one round trip; refreshes the idle expiry.
#[tracing::instrument(skip(redis))]
pub async fn read(redis: &Redis, kind: Kind, user: UserId, window: Window) -> redis::RedisResult<Read> {
    let key = key(redis, kind, user);
    let max = window.below.map_or_else(|| "+inf".to_owned(), |b| format!("({b}"));
    let mut conn = redis.conn().await?;
    // Markers score 0 and -1, below every id: reading past the last real item shows whether the set is
    // complete; reading one item past the window proves it is covered.
    let (items, exists, building): (Vec<(String, f64)>, bool, Option<f64>) = redis::pipe()
        .cmd("ZREVRANGEBYSCORE")
        .arg(&key)
        .arg(&max)
        .arg("-inf")
        .arg("WITHSCORES")
        .arg("LIMIT")
        .arg(0)
        .arg(window.limit + 1)
        .cmd("EXISTS")
        .arg(&key)
        .cmd("ZSCORE")
        .arg(&key)
        .arg(BUILDING)
        .cmd("EXPIRE")
        .arg(&key)
        .arg(IDLE_TTL_SECS)
        .ignore()
        .query_async(&mut conn)
        .await?;
    if !exists {
        return Ok(Read::Missing);
    }
    if building.is_some() {
        return Ok(Read::Partial);
    }
    let from = window.from.unwrap_or(0);
    let mut ids = Vec::with_capacity(window.limit + 1);
    for (member, score) in items {
        if member == COMPLETE {
            // Nothing older exists anywhere.
            return Ok(Read::Hit(ids));
        }
        #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "scores are ids below 2^53")]
        let id = score as u64;
        if id < from {
            // Past the window's lower bound: the window is covered.
            return Ok(Read::Hit(ids));
        }
        ids.push(id);
    }
    if ids.len() > window.limit {
        // A full page plus one: enough to answer and to know there is more.
        return Ok(Read::Hit(ids));
    }
    // The set ended, but older items may have been trimmed away: only MySQL knows.
    Ok(Read::Partial)
}

/// Replaces the timeline with `ids` (newest first, as read from MySQL with a limit of cap + 1).
/// Returns false without writing when another rebuild of the same timeline is under way.
#[tracing::instrument(skip(redis, load))]
pub async fn rebuild<F, Fut>(
    redis: &Redis,
    kind: Kind,
    user: UserId,
    cap: usize,
    load: F,
) -> anyhow::Result<Option<Vec<u64>>>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Vec<u64>>>,
{
    let key = key(redis, kind, user);
    let lock = lock_key(redis, kind, user);
    let mut conn = redis.conn().await?;
    let token = rand::random::<u64>().to_string();
    let acquired: Option<String> = redis::cmd("SET")
        .arg(&lock)
        .arg(&token)
        .arg("NX")
        .arg("PX")
        .arg(REBUILD_LOCK_MS)
        .query_async(&mut conn)
        .await?;
    if acquired.is_none() {
        return Ok(None);
    }
    // Open the timeline for writers first, so a tweet fanned out while MySQL is read is not lost.
    redis::pipe()
        .cmd("DEL")
        .arg(&key)
        .ignore()
        .cmd("ZADD")
        .arg(&key)
        .arg(-1)
        .arg(BUILDING)
        .ignore()
        .cmd("EXPIRE")
        .arg(&key)
        .arg(IDLE_TTL_SECS)
        .ignore()
        .query_async::<()>(&mut conn)
        .await?;
    let loaded = load().await;
    let mut pipe = redis::pipe();
    match &loaded {
        Ok(ids) => {
            for chunk in ids.iter().take(cap).collect::<Vec<_>>().chunks(500) {
                let cmd = pipe.cmd("ZADD").arg(&key);
                for id in chunk {
                    cmd.arg(**id).arg(**id);
                }
                cmd.ignore();
            }
            if ids.len() <= cap {
                pipe.cmd("ZADD").arg(&key).arg(0).arg(COMPLETE).ignore();
            }
            pipe.cmd("ZREM").arg(&key).arg(BUILDING).ignore();
            pipe.cmd("ZREMRANGEBYRANK").arg(&key).arg(0).arg(-(i64::try_from(cap).unwrap_or(i64::MAX)) - 1).ignore();
        }
        // Leave nothing half-built behind.
        Err(_) => {
            pipe.cmd("DEL").arg(&key).ignore();
        }
    }
    // Release the lock only if it is still ours.
    pipe.cmd("EVAL")
        .arg("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0")
        .arg(1)
        .arg(&lock)
        .arg(&token)
        .ignore();
    pipe.query_async::<()>(&mut conn).await?;
    loaded.map(Some)
}

/// How long callers should wait between polls while another process rebuilds (tests, tools).
pub const REBUILD_POLL: Duration = Duration::from_millis(20);
