//! The contract's rate limits for callers that reach the origin directly.
//!
//! The table and the rule are `rookery_shared::ratelimit`'s, the ones the edge applies: a sliding log
//! per endpoint and caller (user, or client IP). Here the logs are Redis sorted sets, one per limit,
//! checked and updated by one Lua script so that concurrent requests on several origin processes see
//! one count, timed by Redis's own clock.
//!
//! [`enforce`] runs after `auth::identify`. It skips requests that came through the edge (the signed
//! assertion says the edge has limited them already) and everything when `RATE_LIMITS=off`. Redis
//! being unreachable (or slower than [`CHECK_TIMEOUT`]) never refuses a request: the check fails
//! open, with a warning and a count in `rookery_rate_limit_unchecked_total`.

use std::{sync::LazyLock, time::Duration};

use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderName, HeaderValue},
    middleware::Next,
    response::{IntoResponse, Response},
};
use rookery_shared::ratelimit::{self, Decision, Rule, Usage};

use crate::{auth::Identity, cache::Redis, error::ApiError, state::AppState};

/// KEYS: one sorted set per limit. ARGV: `max, window_ms` per limit. Prunes each log to its window,
/// admits the request when every log has room (adding it to each, member `<ms>:<count>` so two
/// requests in one millisecond stay distinct), and returns Redis's time followed by each log's count
/// and oldest entry as they were before the request (`-1` when empty).
const SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {tostring(now)}
local admit = true
for i = 1, #KEYS do
  local max, window = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  local count = redis.call('ZCARD', KEYS[i])
  local oldest = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')[2] or '-1'
  if count >= max then admit = false end
  out[#out + 1] = tostring(count)
  out[#out + 1] = oldest
end
if admit then
  for i = 1, #KEYS do
    local count = tonumber(out[2 * i])
    redis.call('ZADD', KEYS[i], now, now .. ':' .. count)
    redis.call('PEXPIRE', KEYS[i], ARGV[2 * i])
  end
end
return out
";

static LIMITER: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(SCRIPT));

/// How long a request waits for its check before going on unchecked: an unreachable Redis costs each
/// limited request this much at most, not the connection's own timeouts and retry.
const CHECK_TIMEOUT: Duration = Duration::from_millis(200);

pub async fn enforce(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !state.config.http.rate_limits {
        return next.run(request).await;
    }
    let Some(rule) = ratelimit::rule_for(request.method().as_str(), request.uri().path()) else {
        return next.run(request).await;
    };
    let subject = match request.extensions().get::<Identity>() {
        Some(identity) if !identity.via_edge => rule.subject(identity.user.map(|u| u.user_id.0), &identity.client_ip),
        _ => return next.run(request).await,
    };
    let checked = tokio::time::timeout(CHECK_TIMEOUT, check(&state.redis, rule, &subject)).await;
    let decision = match checked {
        Ok(Ok(decision)) => decision,
        Ok(Err(error)) => {
            tracing::warn!(%error, scope = rule.scope, "rate limit not checked: Redis unavailable");
            state.metrics.rate_limit_unchecked.inc();
            return next.run(request).await;
        }
        Err(_) => {
            tracing::warn!(scope = rule.scope, "rate limit not checked: Redis too slow");
            state.metrics.rate_limit_unchecked.inc();
            return next.run(request).await;
        }
    };
    if !decision.allowed {
        state.metrics.rate_limited.with_label_values(&[rule.scope]).inc();
        tracing::info!(scope = rule.scope, "rate limited");
        return ApiError::RateLimited {
            retry_after_secs: decision.retry_after_secs.unwrap_or(1),
            headers: header_map(&decision.headers(rule)),
        }
        .into_response();
    }
    let mut response = next.run(request).await;
    response.headers_mut().extend(header_map(&decision.headers(rule)));
    response
}

/// The decision's `RateLimit-*` (and `Retry-After`) headers; names and values are ASCII by construction.
fn header_map(headers: &[(&'static str, String)]) -> HeaderMap {
    headers
        .iter()
        .filter_map(|(name, value)| Some((HeaderName::from_static(name), HeaderValue::from_str(value).ok()?)))
        .collect()
}

#[tracing::instrument(skip(redis, rule), fields(scope = rule.scope))]
async fn check(redis: &Redis, rule: &Rule, subject: &str) -> redis::RedisResult<Decision> {
    let mut invocation = LIMITER.prepare_invoke();
    for limit in rule.limits {
        // One script reads all of a rule's windows; the hash tag keeps them in one Redis Cluster slot.
        invocation
            .key(redis.key(format_args!("rl:{}:{{{subject}}}:{}", rule.scope, limit.window_secs)))
            .arg(limit.max)
            .arg(limit.window_ms());
    }
    let mut conn = redis.conn().await?;
    let reply: Vec<String> = invocation.invoke_async(&mut conn).await?;
    let malformed = || redis::RedisError::from((redis::ErrorKind::TypeError, "unexpected rate-limit script reply"));
    let (now, logs) = reply.split_first().ok_or_else(malformed)?;
    let now_ms: u64 = now.parse().map_err(|_| malformed())?;
    let usage = logs
        .chunks(2)
        .map(|pair| match pair {
            [count, oldest] => Ok(Usage {
                count: count.parse().map_err(|_| malformed())?,
                // Scores come back as decimal text; -1 marks an empty log.
                oldest_ms: oldest.parse::<f64>().ok().filter(|t| *t >= 0.0).map(|t| t as u64),
            }),
            _ => Err(malformed()),
        })
        .collect::<redis::RedisResult<Vec<Usage>>>()?;
    if usage.len() != rule.limits.len() {
        return Err(malformed());
    }
    Ok(ratelimit::decide(rule.limits, now_ms, &usage))
}
