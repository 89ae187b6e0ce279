//! The contract's rate-limit table, and the sliding-window rule both the edge and the origin apply.
//!
//! [`rule_for`] maps a method and path to a [`Rule`]: a scope (one per endpoint the table lists), what
//! keys the caller ([`KeyKind`]) and one or more [`Limit`]s. Each endpoint has its own budget: `3/s` on
//! login and `3/s` on signup are separate counters, as they were per view in the course project.
//!
//! The rule is a sliding log, so the limits are exact: a request is admitted when, for every limit of
//! its rule, fewer than `max` admitted requests of the same key fall in the `window` before it. Refused
//! requests are not counted. The edge keeps the log in a Durable Object per caller ([`SlidingLog`]);
//! the origin keeps it in Redis sorted sets, updated by a Lua script that reports the same
//! [`Usage`] figures, and both turn them into a [`Decision`] with [`decide`], so the headers agree.
//!
//! This module holds no I/O and no clock: callers pass the time in milliseconds.

use std::collections::VecDeque;

/// At most `max` requests in any `window_secs`-long interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window_secs: u32,
}

impl Limit {
    pub const fn per_second(max: u32) -> Self {
        Self { max, window_secs: 1 }
    }

    pub const fn per_minute(max: u32) -> Self {
        Self { max, window_secs: 60 }
    }

    pub fn window_ms(self) -> u64 {
        u64::from(self.window_secs) * 1000
    }
}

/// Who a budget belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// The client IP, even for an authenticated caller (the accounts endpoints).
    Ip,
    /// The authenticated user; an anonymous caller is keyed by IP (the endpoints that require a user
    /// answer it 401, but a flood of such requests is still limited).
    User,
}

/// One row of the table for one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Names the budget in keys, logs and metrics.
    pub scope: &'static str,
    pub method: &'static str,
    /// Path without the trailing slash; `{id}` matches any one non-empty segment.
    pub path: &'static str,
    pub key: KeyKind,
    pub limits: &'static [Limit],
}

const PER_SECOND_3: &[Limit] = &[Limit::per_second(3)];
const PER_SECOND_5: &[Limit] = &[Limit::per_second(5)];
const PER_SECOND_10: &[Limit] = &[Limit::per_second(10)];
const TWEETS_CREATE: &[Limit] = &[Limit::per_second(1), Limit::per_minute(5)];

const fn rule(
    scope: &'static str,
    method: &'static str,
    path: &'static str,
    key: KeyKind,
    limits: &'static [Limit],
) -> Rule {
    Rule { scope, method, path, key, limits }
}

/// The contract's table, one entry per endpoint.
#[rustfmt::skip]
pub const RULES: &[Rule] = &[
    rule("accounts_login_status", "GET", "/api/accounts/login_status", KeyKind::Ip, PER_SECOND_3),
    rule("accounts_login", "POST", "/api/accounts/login", KeyKind::Ip, PER_SECOND_3),
    rule("accounts_logout", "POST", "/api/accounts/logout", KeyKind::Ip, PER_SECOND_3),
    rule("accounts_signup", "POST", "/api/accounts/signup", KeyKind::Ip, PER_SECOND_3),
    rule("tweets_detail", "GET", "/api/tweets/{id}", KeyKind::User, PER_SECOND_5),
    rule("tweets_create", "POST", "/api/tweets", KeyKind::User, TWEETS_CREATE),
    rule("friendships_followers", "GET", "/api/friendships/{id}/followers", KeyKind::User, PER_SECOND_3),
    rule("friendships_followings", "GET", "/api/friendships/{id}/followings", KeyKind::User, PER_SECOND_3),
    rule("friendships_follow", "POST", "/api/friendships/{id}/follow", KeyKind::User, PER_SECOND_10),
    rule("friendships_unfollow", "POST", "/api/friendships/{id}/unfollow", KeyKind::User, PER_SECOND_10),
    rule("newsfeeds_list", "GET", "/api/newsfeeds", KeyKind::User, PER_SECOND_5),
    rule("comments_list", "GET", "/api/comments", KeyKind::User, PER_SECOND_10),
    rule("comments_create", "POST", "/api/comments", KeyKind::User, PER_SECOND_3),
    rule("comments_update", "PUT", "/api/comments/{id}", KeyKind::User, PER_SECOND_3),
    rule("comments_delete", "DELETE", "/api/comments/{id}", KeyKind::User, PER_SECOND_3),
    rule("likes_create", "POST", "/api/likes", KeyKind::User, PER_SECOND_10),
    rule("likes_cancel", "POST", "/api/likes/cancel", KeyKind::User, PER_SECOND_10),
    rule("notifications_unread_count", "GET", "/api/notifications/unread-count", KeyKind::User, PER_SECOND_3),
    rule("notifications_mark_all_read", "POST", "/api/notifications/mark-all-as-read", KeyKind::User, PER_SECOND_3),
    rule("notifications_update", "PUT", "/api/notifications/{id}", KeyKind::User, PER_SECOND_3),
];

/// The rule for a request, if its endpoint is limited. Trailing slashes are ignored, as the API serves
/// paths with and without them; a literal segment wins over `{id}` (`unread-count` is not an id).
pub fn rule_for(method: &str, path: &str) -> Option<&'static Rule> {
    let path = path.trim_end_matches('/');
    let mut best: Option<(&'static Rule, usize)> = None;
    for rule in RULES.iter().filter(|r| r.method.eq_ignore_ascii_case(method)) {
        if let Some(literals) = matches(rule.path, path) {
            if best.is_none_or(|(_, n)| literals > n) {
                best = Some((rule, literals));
            }
        }
    }
    best.map(|(rule, _)| rule)
}

/// How many literal segments of `pattern` matched `path`, or `None` when it does not match.
fn matches(pattern: &str, path: &str) -> Option<usize> {
    let (mut pattern, mut path) = (pattern.split('/'), path.split('/'));
    let mut literals = 0;
    loop {
        match (pattern.next(), path.next()) {
            (None, None) => return Some(literals),
            (Some("{id}"), Some(segment)) if !segment.is_empty() => {}
            (Some(expected), Some(segment)) if expected == segment => literals += 1,
            _ => return None,
        }
    }
}

impl Rule {
    /// The caller this request is counted against: `user:<id>` or `ip:<address>`.
    pub fn subject(&self, user_id: Option<u64>, client_ip: &str) -> String {
        match (self.key, user_id) {
            (KeyKind::User, Some(id)) => format!("user:{id}"),
            _ => format!("ip:{client_ip}"),
        }
    }

    /// `RateLimit-Policy`, e.g. `1;w=1, 5;w=60`.
    pub fn policy(&self) -> String {
        self.limits.iter().map(|l| format!("{};w={}", l.max, l.window_secs)).collect::<Vec<_>>().join(", ")
    }
}

/// One limit's log as it stood before the request: admitted requests inside the window and the time
/// of the oldest of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub count: u32,
    pub oldest_ms: Option<u64>,
}

/// The outcome for one request, with what the `RateLimit-*` headers say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// `RateLimit-Limit`: the `max` of the limit closest to refusing.
    pub limit: u32,
    /// `RateLimit-Remaining`: requests that limit still admits now, after this one.
    pub remaining: u32,
    /// `RateLimit-Reset`: seconds until that limit admits one more (its oldest entry leaves the window).
    pub reset_secs: u64,
    /// `Retry-After` for a refused request: seconds until every limit it broke admits one more.
    pub retry_after_secs: Option<u64>,
}

impl Decision {
    /// The response headers, `Retry-After` included when refused. Names are lower-case.
    pub fn headers(&self, rule: &Rule) -> Vec<(&'static str, String)> {
        let mut headers = vec![
            ("ratelimit-limit", self.limit.to_string()),
            ("ratelimit-remaining", self.remaining.to_string()),
            ("ratelimit-reset", self.reset_secs.to_string()),
            ("ratelimit-policy", rule.policy()),
        ];
        if let Some(seconds) = self.retry_after_secs {
            headers.push(("retry-after", seconds.to_string()));
        }
        headers
    }
}

/// The decision for a request at `now_ms` given each limit's [`Usage`] (in the order of `limits`).
/// Admitted when every limit has room; the caller then records `now_ms` in every log.
pub fn decide(limits: &[Limit], now_ms: u64, usage: &[Usage]) -> Decision {
    let allowed = limits.iter().zip(usage).all(|(l, u)| u.count < l.max);
    let mut closest: Option<(u32, u64, u32)> = None;
    let mut retry_after: u64 = 0;
    for (limit, used) in limits.iter().zip(usage) {
        let count = used.count + u32::from(allowed);
        let remaining = limit.max.saturating_sub(count);
        let oldest = match used.oldest_ms {
            Some(t) => t,
            None if allowed => now_ms,
            None => continue,
        };
        let reset = seconds_until(oldest + limit.window_ms(), now_ms);
        if used.count >= limit.max {
            retry_after = retry_after.max(reset);
        }
        let tighter = match closest {
            None => true,
            Some((r, s, _)) => remaining < r || (remaining == r && reset > s),
        };
        if tighter {
            closest = Some((remaining, reset, limit.max));
        }
    }
    let (remaining, reset_secs, limit) = closest.unwrap_or((0, 1, limits.first().map_or(0, |l| l.max)));
    Decision { allowed, limit, remaining, reset_secs, retry_after_secs: (!allowed).then_some(retry_after.max(1)) }
}

/// Whole seconds from `now_ms` until `at_ms`, rounded up, at least 1: a client that waits that long
/// finds room, and `Retry-After: 0` would invite a busy loop.
fn seconds_until(at_ms: u64, now_ms: u64) -> u64 {
    at_ms.saturating_sub(now_ms).div_ceil(1000).max(1)
}

/// The in-memory log for one key: per limit, the times (ms) of the admitted requests still inside
/// its window, oldest first. Holds at most `max` entries per limit.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SlidingLog {
    hits: Vec<VecDeque<u64>>,
}

impl SlidingLog {
    /// Decides a request at `now_ms` against `limits` and records it when admitted. A log used with
    /// different limits than before starts over.
    pub fn check(&mut self, limits: &[Limit], now_ms: u64) -> Decision {
        if self.hits.len() != limits.len() {
            self.hits = vec![VecDeque::new(); limits.len()];
        }
        let usage: Vec<Usage> = limits
            .iter()
            .zip(&mut self.hits)
            .map(|(limit, hits)| {
                while hits.front().is_some_and(|&t| t + limit.window_ms() <= now_ms) {
                    hits.pop_front();
                }
                Usage { count: u32::try_from(hits.len()).unwrap_or(u32::MAX), oldest_ms: hits.front().copied() }
            })
            .collect();
        let decision = decide(limits, now_ms, &usage);
        if decision.allowed {
            for hits in &mut self.hits {
                hits.push_back(now_ms);
            }
        }
        decision
    }

    /// Whether every window is empty at `now_ms` (the log can be dropped).
    pub fn is_idle(&self, limits: &[Limit], now_ms: u64) -> bool {
        limits.iter().zip(&self.hits).all(|(limit, hits)| hits.back().is_none_or(|&t| t + limit.window_ms() <= now_ms))
    }
}

/// The scope names, for looking a rule up by the name a caller sent.
pub fn rule_by_scope(scope: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.scope == scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_every_listed_endpoint_with_or_without_slash() {
        let cases = [
            ("GET", "/api/accounts/login_status/", "accounts_login_status"),
            ("POST", "/api/accounts/login", "accounts_login"),
            ("POST", "/api/accounts/logout/", "accounts_logout"),
            ("POST", "/api/accounts/signup/", "accounts_signup"),
            ("GET", "/api/tweets/123/", "tweets_detail"),
            ("POST", "/api/tweets/", "tweets_create"),
            ("GET", "/api/friendships/5/followers/", "friendships_followers"),
            ("GET", "/api/friendships/5/followings", "friendships_followings"),
            ("POST", "/api/friendships/5/follow/", "friendships_follow"),
            ("POST", "/api/friendships/5/unfollow/", "friendships_unfollow"),
            ("GET", "/api/newsfeeds/", "newsfeeds_list"),
            ("GET", "/api/comments/", "comments_list"),
            ("POST", "/api/comments/", "comments_create"),
            ("PUT", "/api/comments/9/", "comments_update"),
            ("DELETE", "/api/comments/9/", "comments_delete"),
            ("POST", "/api/likes/", "likes_create"),
            ("POST", "/api/likes/cancel/", "likes_cancel"),
            ("GET", "/api/notifications/unread-count/", "notifications_unread_count"),
            ("POST", "/api/notifications/mark-all-as-read/", "notifications_mark_all_read"),
            ("PUT", "/api/notifications/4/", "notifications_update"),
        ];
        for (method, path, scope) in cases {
            assert_eq!(rule_for(method, path).map(|r| r.scope), Some(scope), "{method} {path}");
        }
        assert_eq!(cases.len(), RULES.len());
    }

    #[test]
    fn unlisted_requests_are_not_limited() {
        for (method, path) in [
            ("GET", "/api/tweets/"),
            ("DELETE", "/api/tweets/5/"),
            ("GET", "/api/notifications/"),
            ("PATCH", "/api/comments/9/"),
            ("GET", "/api/tweets/5/extra/"),
            ("GET", "/healthz"),
            ("GET", "/api/friendships//followers/"),
        ] {
            assert_eq!(rule_for(method, path), None, "{method} {path}");
        }
    }

    #[test]
    fn literal_segments_win_over_ids() {
        assert_eq!(rule_for("PUT", "/api/notifications/unread-count"), rule_by_scope("notifications_update"));
        assert_eq!(rule_for("post", "/api/likes/cancel"), rule_by_scope("likes_cancel"));
    }

    #[test]
    fn subjects_follow_the_key_kind() {
        let login = rule_by_scope("accounts_login").expect("rule");
        let feed = rule_by_scope("newsfeeds_list").expect("rule");
        assert_eq!(login.subject(Some(7), "1.2.3.4"), "ip:1.2.3.4");
        assert_eq!(feed.subject(Some(7), "1.2.3.4"), "user:7");
        assert_eq!(feed.subject(None, "1.2.3.4"), "ip:1.2.3.4");
        assert_eq!(rule_by_scope("tweets_create").expect("rule").policy(), "1;w=1, 5;w=60");
    }

    #[test]
    fn admits_exactly_max_per_window_then_reopens() {
        let limits = [Limit::per_second(3)];
        let mut log = SlidingLog::default();
        for (i, remaining) in [2, 1, 0].into_iter().enumerate() {
            let d = log.check(&limits, 10_000 + i as u64 * 100);
            assert!(d.allowed);
            assert_eq!((d.limit, d.remaining, d.reset_secs), (3, remaining, 1));
        }
        let refused = log.check(&limits, 10_900);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after_secs, Some(1));
        assert_eq!(refused.remaining, 0);
        // The first request leaves the window at 11_000 exactly.
        assert!(!log.check(&limits, 10_999).allowed);
        assert!(log.check(&limits, 11_000).allowed);
        assert!(!log.check(&limits, 11_050).allowed);
        assert!(log.is_idle(&limits, 12_000));
    }

    #[test]
    fn two_limits_both_apply_and_refusals_do_not_count() {
        let limits = [Limit::per_second(1), Limit::per_minute(5)];
        let mut log = SlidingLog::default();
        let start = 1_000_000;
        for i in 0..5 {
            assert!(log.check(&limits, start + i * 1000).allowed, "request {i}");
            let refused = log.check(&limits, start + i * 1000 + 500);
            assert!(!refused.allowed);
            // The fifth fills the minute too: then the wait is the minute's.
            let wait = if i < 4 { 1 } else { 56 };
            assert_eq!(refused.retry_after_secs, Some(wait), "after request {i}");
        }
        let sixth = log.check(&limits, start + 5000);
        assert!(!sixth.allowed);
        assert_eq!((sixth.limit, sixth.remaining), (5, 0));
        assert_eq!(sixth.retry_after_secs, Some(55));
        assert!(log.check(&limits, start + 60_000).allowed);
    }

    #[test]
    fn decide_reports_the_tightest_limit() {
        let limits = [Limit::per_second(1), Limit::per_minute(5)];
        let d =
            decide(&limits, 5000, &[Usage { count: 0, oldest_ms: None }, Usage { count: 3, oldest_ms: Some(1000) }]);
        assert!(d.allowed);
        // Both leave no room after this request... the per-second one has 0, the minute one 1.
        assert_eq!((d.limit, d.remaining, d.reset_secs, d.retry_after_secs), (1, 0, 1, None));
        let d =
            decide(&limits, 5000, &[Usage { count: 0, oldest_ms: None }, Usage { count: 5, oldest_ms: Some(1000) }]);
        assert!(!d.allowed);
        assert_eq!((d.limit, d.remaining, d.reset_secs, d.retry_after_secs), (5, 0, 56, Some(56)));
    }
}
