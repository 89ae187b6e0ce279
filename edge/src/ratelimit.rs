//! The contract's rate limits at the edge, and the calls to the caller's [`Limiter`] object.
//!
//! For a request the table lists (`rookery_shared::ratelimit::rule_for`), [`check`] asks the
//! Durable Object of the caller (`user:<id>` or `ip:<address>`) to count it. Past a limit the edge
//! answers 429 itself with `Retry-After` and `RateLimit-*`, and the origin sees nothing; otherwise the
//! `RateLimit-*` headers go onto the origin's answer. With `RATE_LIMITS=off` nothing is counted.
//!
//! An object that cannot be reached does not refuse traffic: the request goes on unlimited and the
//! failure is logged (the origin does not limit edge traffic a second time).
//!
//! The same object carries the user's feed generation for [`crate::feed_cache`]; a check of a user's
//! feed read returns it too, so a limited feed read costs one call.
//!
//! [`Limiter`]: crate::limiter_object::Limiter

use rookery_shared::{
    ids::UserId,
    ratelimit::{self, Rule},
};
use worker::{console_error, Env, Method};

use crate::{
    auth::Identity,
    client::Client,
    errors::EdgeError,
    feed_cache,
    limiter_object::{self, Verdict},
};

/// What a check established about an admitted request.
pub struct Admitted {
    /// `RateLimit-*` headers for the answer.
    pub headers: Vec<(&'static str, String)>,
    /// The feed generation of the user the request was counted against, if it was a user.
    pub generation: Option<u64>,
}

/// Counts a request against its rule. `Ok(None)`: the request is not limited (not in the table, or the
/// limiter could not be asked). `Err(RateLimited)`: refuse it.
pub async fn check(
    env: &Env,
    method: &str,
    path: &str,
    identity: Identity,
    client: &Client,
) -> Result<Option<Admitted>, EdgeError> {
    let Some(rule) = ratelimit::rule_for(method, path) else {
        return Ok(None);
    };
    let user = identity.user().map(|(user_id, _)| user_id);
    let subject = rule.subject(user.map(|u| u.0), &client.ip);
    // The user's own object also holds their feed generation; only a feed read needs it.
    let with_generation = counted_as_user(rule, user) && feed_cache::is_feed_read(method, path);
    let query = if with_generation { "&generation=1" } else { "" };
    let check_path = format!("/check?scope={}{query}", rule.scope);
    let verdict: Verdict = match limiter_object::call(env, &subject, Method::Post, &check_path).await {
        Ok(verdict) => verdict,
        Err(error) => {
            console_error!("[{}] rate limit not checked ({}): {error}", client.request_id, rule.scope);
            return Ok(None);
        }
    };
    let headers = verdict.decision().headers(rule);
    if !verdict.allowed {
        return Err(EdgeError::RateLimited { headers });
    }
    Ok(Some(Admitted { headers, generation: verdict.generation }))
}

/// Whether the object asked was the user's own (and so its generation is theirs).
fn counted_as_user(rule: &Rule, user: Option<UserId>) -> bool {
    matches!(rule.key, ratelimit::KeyKind::User) && user.is_some()
}
