//! `origin seed`: fills the database with users, a skewed follow graph and tweets, fast (multi-row
//! inserts of 1,000 rows), for demos and benchmarks.
//!
//! Seeded users share one password ([`SEED_PASSWORD`]): hashing 10,000 passwords with argon2id would take
//! minutes and prove nothing. Follows pick followees with a Zipf-like skew (a few users have many
//! followers, most have few), as real graphs do. Tweets are spread over the last 30 days. Timelines are
//! not written: each user's is rebuilt from MySQL on first read (or by `origin feeds rebuild --all`).

use std::{io::Write, path::PathBuf};

use anyhow::Context;
use argon2::{
    password_hash::{rand_core::OsRng, PasswordHasher, SaltString},
    Argon2,
};
use indicatif::{ProgressBar, ProgressStyle};
use rand::{rngs::StdRng, Rng, SeedableRng};
use rookery_shared::{
    ids::{SessionId, UserId},
    token::{self, Claims},
};
use sqlx::QueryBuilder;

use crate::{
    ids::{now_micros, IdGenerator},
    state::AppState,
};

pub const SEED_PASSWORD: &str = "rookery-seed";
const BATCH: usize = 1_000;
const SPAN_MS: u64 = 30 * 24 * 3600 * 1000;

#[derive(Debug, Clone, clap::Args)]
pub struct SeedOptions {
    /// Users to create.
    #[arg(long, default_value_t = 10_000)]
    pub users: usize,
    /// Follows each user makes (followees drawn with a Zipf-like skew).
    #[arg(long, default_value_t = 20)]
    pub follows_per_user: usize,
    /// Tweets each user writes, on average.
    #[arg(long, default_value_t = 10)]
    pub tweets_per_user: usize,
    /// Also log in this many of the new users and write their bearer tokens, one a line, to --tokens-out.
    #[arg(long, default_value_t = 0)]
    pub tokens: usize,
    #[arg(long, default_value = "var/seed-tokens.txt")]
    pub tokens_out: PathBuf,
    /// Random seed, for a reproducible graph.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Skew of the follow graph (Zipf exponent; 0 is uniform).
    #[arg(long, default_value_t = 1.0)]
    pub skew: f64,
}

#[derive(Debug, Default)]
pub struct SeedReport {
    pub users: Vec<UserId>,
    pub follows: usize,
    pub tweets: usize,
}

pub async fn run(state: &AppState, options: &SeedOptions, progress: bool) -> anyhow::Result<SeedReport> {
    let mut rng = StdRng::seed_from_u64(options.seed);
    let tag: u16 = rand::random();
    let hash = {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(SEED_PASSWORD.as_bytes(), &salt)
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?
            .to_string()
    };
    let now = now_micros();

    let users: Vec<UserId> = (0..options.users).map(|_| UserId(state.ids.next())).collect();
    let bar = bar(progress, users.len(), "users");
    for (chunk_no, chunk) in users.chunks(BATCH).enumerate() {
        let mut tx = state.db.begin().await?;
        let names: Vec<String> = (0..chunk.len()).map(|i| format!("s{tag:04x}_{:07}", chunk_no * BATCH + i)).collect();
        let mut q = QueryBuilder::new("INSERT INTO users (id, username, email, password_hash, created_at) ");
        q.push_values(chunk.iter().zip(&names), |mut row, (id, name)| {
            row.push_bind(*id)
                .push_bind(name)
                .push_bind(format!("{name}@seed.rookery.test"))
                .push_bind(&hash)
                .push_bind(now);
        });
        q.build().execute(&mut *tx).await.context("while inserting users")?;
        let mut q = QueryBuilder::new("INSERT INTO profiles (id, user_id, nickname, created_at, updated_at) ");
        q.push_values(chunk.iter().zip(&names), |mut row, (id, name)| {
            row.push_bind(state.ids.next())
                .push_bind(*id)
                .push_bind(format!("Seeded {name}"))
                .push_bind(now)
                .push_bind(now);
        });
        q.build().execute(&mut *tx).await.context("while inserting profiles")?;
        let mut q = QueryBuilder::new("INSERT INTO user_stats (user_id) ");
        q.push_values(chunk, |mut row, id| {
            row.push_bind(*id);
        });
        q.build().execute(&mut *tx).await?;
        tx.commit().await?;
        bar.inc(chunk.len() as u64);
    }
    bar.finish();

    let follows = seed_follows(state, options, &users, &mut rng, progress).await?;
    let tweets = seed_tweets(state, options, &users, &mut rng, progress).await?;
    refresh_counts(state, &users).await?;
    if options.tokens > 0 {
        write_tokens(state, options, &users).await?;
    }
    Ok(SeedReport { users, follows, tweets })
}

async fn seed_follows(
    state: &AppState,
    options: &SeedOptions,
    users: &[UserId],
    rng: &mut StdRng,
    progress: bool,
) -> anyhow::Result<usize> {
    let picker = Zipf::new(users.len(), options.skew);
    let per_user = options.follows_per_user.min(users.len().saturating_sub(1));
    let bar = bar(progress, users.len() * per_user, "follows");
    let mut rows: Vec<(u64, UserId, UserId)> = Vec::with_capacity(BATCH);
    let mut total = 0;
    for &from in users {
        let mut chosen = std::collections::HashSet::with_capacity(per_user);
        let mut attempts = 0;
        while chosen.len() < per_user && attempts < per_user * 20 {
            attempts += 1;
            let to = users[picker.sample(rng)];
            if to != from {
                chosen.insert(to);
            }
        }
        for to in chosen {
            rows.push((state.ids.next(), from, to));
            if rows.len() == BATCH {
                total += insert_follows(state, &rows).await?;
                bar.inc(rows.len() as u64);
                rows.clear();
            }
        }
    }
    total += insert_follows(state, &rows).await?;
    bar.inc(rows.len() as u64);
    bar.finish();
    Ok(total)
}

async fn insert_follows(state: &AppState, rows: &[(u64, UserId, UserId)]) -> anyhow::Result<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    let mut q = QueryBuilder::new("INSERT IGNORE INTO friendships (id, from_user_id, to_user_id, created_at) ");
    q.push_values(rows, |mut row, (id, from, to)| {
        row.push_bind(*id).push_bind(*from).push_bind(*to).push_bind(crate::ids::created_at_of(*id));
    });
    let done = q.build().execute(&state.db).await.context("while inserting follows")?;
    Ok(usize::try_from(done.rows_affected()).unwrap_or_default())
}

async fn seed_tweets(
    state: &AppState,
    options: &SeedOptions,
    users: &[UserId],
    rng: &mut StdRng,
    progress: bool,
) -> anyhow::Result<usize> {
    let total = users.len() * options.tweets_per_user;
    if total == 0 {
        return Ok(0);
    }
    let bar = bar(progress, total, "tweets");
    // Spread over the last 30 days, one id per distinct millisecond (sequence 0), so they never collide
    // with ids generated now.
    let now_ms = u64::try_from(now_micros() / 1_000).unwrap_or_default();
    let start = now_ms.saturating_sub(SPAN_MS);
    let step = (SPAN_MS / total as u64).max(1);
    let words = [
        "rookery", "feed", "rust", "edge", "timeline", "hello", "world", "coffee", "morning", "news", "today", "birds",
        "flock", "nest",
    ];
    let mut rows = Vec::with_capacity(BATCH);
    for i in 0..total {
        let id = IdGenerator::floor_for_ms(start + i as u64 * step);
        let author = users[rng.gen_range(0..users.len())];
        let length = rng.gen_range(3..14);
        let content: Vec<&str> = (0..length).map(|_| words[rng.gen_range(0..words.len())]).collect();
        rows.push((id, author, format!("#{i} {}", content.join(" "))));
        if rows.len() == BATCH || i + 1 == total {
            let mut q = QueryBuilder::new("INSERT INTO tweets (id, user_id, content, created_at) ");
            q.push_values(&rows, |mut row, (id, author, content)| {
                row.push_bind(*id).push_bind(*author).push_bind(content).push_bind(crate::ids::created_at_of(*id));
            });
            q.build().execute(&state.db).await.context("while inserting tweets")?;
            bar.inc(rows.len() as u64);
            rows.clear();
        }
    }
    bar.finish();
    Ok(total)
}

/// Sets the seeded users' counters from the rows (one grouped query each).
async fn refresh_counts(state: &AppState, users: &[UserId]) -> anyhow::Result<()> {
    let (Some(low), Some(high)) = (users.iter().min(), users.iter().max()) else { return Ok(()) };
    for (column, query) in [
        ("followers_count", "SELECT to_user_id AS u, COUNT(*) AS n FROM friendships WHERE to_user_id BETWEEN ? AND ? GROUP BY to_user_id"),
        ("followings_count", "SELECT from_user_id AS u, COUNT(*) AS n FROM friendships WHERE from_user_id BETWEEN ? AND ? GROUP BY from_user_id"),
        ("tweets_count", "SELECT user_id AS u, COUNT(*) AS n FROM tweets WHERE user_id BETWEEN ? AND ? GROUP BY user_id"),
    ] {
        let sql = format!("UPDATE user_stats s JOIN ({query}) c ON c.u = s.user_id SET s.{column} = c.n");
        sqlx::query(&sql).bind(low).bind(high).execute(&state.db).await.with_context(|| format!("while counting {column}"))?;
    }
    Ok(())
}

async fn write_tokens(state: &AppState, options: &SeedOptions, users: &[UserId]) -> anyhow::Result<()> {
    let now = now_micros();
    let expires_at = now + state.config.auth.token_ttl_secs * 1_000_000;
    let mut lines = String::new();
    for chunk in users.iter().take(options.tokens).collect::<Vec<_>>().chunks(BATCH) {
        let sessions: Vec<(SessionId, UserId)> = chunk.iter().map(|u| (SessionId(state.ids.next()), **u)).collect();
        let mut q = QueryBuilder::new("INSERT INTO sessions (id, user_id, created_at, expires_at) ");
        q.push_values(&sessions, |mut row, (sid, uid)| {
            row.push_bind(*sid).push_bind(*uid).push_bind(now).push_bind(expires_at);
        });
        q.build().execute(&state.db).await?;
        for (session_id, user_id) in sessions {
            let claims = Claims { user_id, session_id, issued_at: now / 1_000_000, expires_at: expires_at / 1_000_000 };
            lines.push_str(&token::sign(&state.config.auth.token_keys, &claims));
            lines.push('\n');
        }
    }
    if let Some(dir) = options.tokens_out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::File::create(&options.tokens_out)
        .with_context(|| format!("while creating {}", options.tokens_out.display()))?;
    file.write_all(lines.as_bytes())?;
    Ok(())
}

fn bar(visible: bool, len: usize, what: &'static str) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64).with_message(what);
    if let Ok(style) = ProgressStyle::with_template("{msg:>8} [{bar:40}] {pos}/{len} {per_sec} eta {eta}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Draws indices 0..n with probability proportional to 1 / (rank + 1)^s (inverse-CDF over a table).
struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(n: usize, s: f64) -> Self {
        let mut total = 0.0;
        let cumulative = (0..n)
            .map(|rank| {
                total += 1.0 / ((rank + 1) as f64).powf(s);
                total
            })
            .collect();
        Self { cumulative }
    }

    fn sample(&self, rng: &mut StdRng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = rng.gen_range(0.0..total);
        self.cumulative.partition_point(|c| *c < x).min(self.cumulative.len().saturating_sub(1))
    }
}
