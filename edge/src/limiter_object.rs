//! `Limiter`, the Durable Object that holds one caller's rate-limit logs and, for a user, the
//! generation of their cached newsfeed pages.
//!
//! There is one object per caller, named `user:<id>` or `ip:<address>` (see
//! `rookery_shared::ratelimit::Rule::subject`): every budget of that caller lives in it, one
//! [`SlidingLog`] per scope. An object serialises its requests, so the count is exact; a caller's
//! traffic is bounded by the table (tens of requests a second), far below the roughly 1,000 requests
//! a second one object serves, and no object is shared by different callers.
//!
//! The logs live in memory only. Windows are at most 60 seconds, and the runtime evicts an object
//! only after it has been idle for longer than that, so eviction loses nothing; a restart of the
//! object (a deploy, a crash) forgets at most one window's count.
//!
//! The generation starts at the time the object was created (milliseconds) and only grows
//! ([`Limiter::bump`]). The feed cache puts it into every key, so a bump (after one of the user's
//! writes) makes all their cached pages unreachable, and a restarted object cannot bring back a
//! generation that keyed an older page.
//!
//! Calls, all from this worker: `POST /check?scope=<scope>` → [`Verdict`];
//! `GET /generation` and `POST /bump` → [`Generation`].

use std::{
    cell::{Cell, RefCell},
    collections::HashMap,
};

use rookery_shared::ratelimit::{self, SlidingLog};
use serde::{Deserialize, Serialize};
use worker::{durable_object, DurableObject, Env, Method, Request, Response, Result, State};

/// The answer to `/check`: the shared rule's decision plus the caller's feed generation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Verdict {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    pub reset_secs: u64,
    pub retry_after_secs: Option<u64>,
    pub generation: u64,
}

impl Verdict {
    pub fn decision(&self) -> ratelimit::Decision {
        ratelimit::Decision {
            allowed: self.allowed,
            limit: self.limit,
            remaining: self.remaining,
            reset_secs: self.reset_secs,
            retry_after_secs: self.retry_after_secs,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Generation {
    pub generation: u64,
}

#[durable_object(fetch)]
pub struct Limiter {
    logs: RefCell<HashMap<&'static str, SlidingLog>>,
    generation: Cell<u64>,
}

impl DurableObject for Limiter {
    fn new(_state: State, _env: Env) -> Self {
        Self {
            logs: RefCell::default(),
            generation: Cell::new(now_ms()),
        }
    }

    async fn fetch(&self, request: Request) -> Result<Response> {
        let url = request.url()?;
        match (request.method(), url.path()) {
            (Method::Post, "/check") => {
                let scope = url
                    .query_pairs()
                    .find(|(name, _)| name == "scope")
                    .map(|(_, value)| value.into_owned())
                    .unwrap_or_default();
                match ratelimit::rule_by_scope(&scope) {
                    Some(rule) => Response::from_json(&self.check(rule, now_ms())),
                    None => Response::error("unknown scope", 400),
                }
            }
            (Method::Get, "/generation") => Response::from_json(&Generation {
                generation: self.generation.get(),
            }),
            (Method::Post, "/bump") => Response::from_json(&Generation {
                generation: self.bump(now_ms()),
            }),
            _ => Response::error("not found", 404),
        }
    }
}

impl Limiter {
    /// Synchronous from start to end, so no other request to this object interleaves with it.
    fn check(&self, rule: &'static ratelimit::Rule, now: u64) -> Verdict {
        let mut logs = self.logs.borrow_mut();
        // Drop logs whose windows have all passed, so an object that sees many scopes stays small.
        logs.retain(|scope, log| {
            *scope == rule.scope
                || ratelimit::rule_by_scope(scope).is_some_and(|r| !log.is_idle(r.limits, now))
        });
        let decision = logs.entry(rule.scope).or_default().check(rule.limits, now);
        Verdict {
            allowed: decision.allowed,
            limit: decision.limit,
            remaining: decision.remaining,
            reset_secs: decision.reset_secs,
            retry_after_secs: decision.retry_after_secs,
            generation: self.generation.get(),
        }
    }

    fn bump(&self, now: u64) -> u64 {
        let next = (self.generation.get() + 1).max(now);
        self.generation.set(next);
        next
    }
}

fn now_ms() -> u64 {
    worker::Date::now().as_millis()
}
