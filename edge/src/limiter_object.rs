//! `Limiter`, the Durable Object that holds one caller's rate-limit logs and, for a user, the
//! generation of their cached newsfeed pages.
//!
//! There is one object per caller, named `user:<id>` or `ip:<address>` (see
//! `rookery_shared::ratelimit::Rule::subject`): every budget of that caller lives in it, one
//! [`SlidingLog`] per scope. An object serialises its requests, so the count is exact; a caller's
//! traffic is bounded by the table (tens of requests a second), far below the roughly 1,000 requests
//! a second one object serves, and no object is shared by different callers.
//!
//! The runtime evicts an idle object from memory after a few seconds (about 10 when nothing holds it),
//! so what must outlive that is also written to the object's storage: the logs of rules with a
//! window longer than [`PERSIST_OVER_SECS`] (the 5-a-minute tweet limit), and the generation. Logs of
//! per-second limits stay in memory: an object idle long enough to be evicted has nothing left in
//! them.
//!
//! The generation keys the user's cached feed pages ([`crate::feed_cache`]). It is read from storage
//! on the object's first request (created from the clock, in milliseconds, the first time ever) and
//! only grows: [`Limiter::bump`] stores the new value before answering, so after one of the user's
//! writes no restart can bring back a generation that keyed a page from before it.
//!
//! Calls, all from this worker through [`call`]: `POST /check?scope=<scope>[&generation=1]` →
//! [`Verdict`] ([`crate::ratelimit`]); `GET /generation` and `POST /bump` → [`Generation`]
//! ([`crate::feed_cache`]).

use std::{
    cell::{Cell, RefCell},
    collections::HashMap,
};

use rookery_shared::ratelimit::{self, SlidingLog};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use worker::{durable_object, DurableObject, Env, Method, Request, RequestInit, Response, Result, State};

use crate::errors::EdgeError;

/// The Durable Object namespace binding (see `wrangler.toml`).
const BINDING: &str = "LIMITER";
/// Logs of rules with a window longer than this many seconds are kept in storage too.
const PERSIST_OVER_SECS: u32 = 5;
const GENERATION_KEY: &str = "generation";

/// The answer to `/check`: the shared rule's decision plus the caller's feed generation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Verdict {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    pub reset_secs: u64,
    pub retry_after_secs: Option<u64>,
    /// Only when asked for (`&generation=1`): the caller is a user.
    pub generation: Option<u64>,
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

/// Sends `method path` to the object named `subject` and reads its JSON answer.
pub async fn call<T: DeserializeOwned>(
    env: &Env,
    subject: &str,
    method: Method,
    path: &str,
) -> std::result::Result<T, EdgeError> {
    let stub = env.durable_object(BINDING)?.get_by_name(subject)?;
    let mut init = RequestInit::new();
    init.with_method(method);
    // The host is never resolved: the runtime hands the request to the object.
    let request = Request::new_with_init(&format!("https://limiter{path}"), &init)?;
    let mut response = stub.fetch_with_request(request).await?;
    if response.status_code() != 200 {
        return Err(EdgeError::Runtime(format!("limiter answered {} to {path}", response.status_code())));
    }
    Ok(response.json().await?)
}

#[durable_object(fetch)]
pub struct Limiter {
    state: State,
    logs: RefCell<HashMap<&'static str, SlidingLog>>,
    /// `None` until read from storage.
    generation: Cell<Option<u64>>,
}

impl DurableObject for Limiter {
    fn new(state: State, _env: Env) -> Self {
        Self { state, logs: RefCell::default(), generation: Cell::new(None) }
    }

    async fn fetch(&self, request: Request) -> Result<Response> {
        let url = request.url()?;
        match (request.method(), url.path()) {
            (Method::Post, "/check") => {
                let param = |wanted: &str| {
                    url.query_pairs().find(|(name, _)| name == wanted).map(|(_, value)| value.into_owned())
                };
                let with_generation = param("generation").is_some_and(|v| v == "1");
                match ratelimit::rule_by_scope(&param("scope").unwrap_or_default()) {
                    Some(rule) => Response::from_json(&self.check(rule, with_generation).await?),
                    None => Response::error("unknown scope", 400),
                }
            }
            (Method::Get, "/generation") => Response::from_json(&Generation { generation: self.generation().await? }),
            (Method::Post, "/bump") => Response::from_json(&Generation { generation: self.bump().await? }),
            _ => Response::error("not found", 404),
        }
    }
}

impl Limiter {
    /// The decision for one request. While the object waits on its storage the runtime delivers no
    /// other request to it, so a check and its write are not interleaved with another check.
    async fn check(&self, rule: &'static ratelimit::Rule, with_generation: bool) -> Result<Verdict> {
        let persisted = rule.limits.iter().any(|l| l.window_secs > PERSIST_OVER_SECS);
        let storage = self.state.storage();
        let log_key = format!("log:{}", rule.scope);
        if persisted && !self.logs.borrow().contains_key(rule.scope) {
            let stored: Option<SlidingLog> = storage.get(&log_key).await?;
            self.logs.borrow_mut().insert(rule.scope, stored.unwrap_or_default());
        }
        let generation = match with_generation {
            true => Some(self.generation().await?),
            false => None,
        };
        let now = now_ms();
        let (decision, log) = {
            let mut logs = self.logs.borrow_mut();
            // Drop in-memory logs whose windows have all passed, so the object stays small.
            logs.retain(|scope, log| {
                *scope == rule.scope || ratelimit::rule_by_scope(scope).is_some_and(|r| !log.is_idle(r.limits, now))
            });
            let log = logs.entry(rule.scope).or_default();
            let decision = log.check(rule.limits, now);
            (decision, log.clone())
        };
        if persisted && decision.allowed {
            storage.put(&log_key, log).await?;
        }
        Ok(Verdict {
            allowed: decision.allowed,
            limit: decision.limit,
            remaining: decision.remaining,
            reset_secs: decision.reset_secs,
            retry_after_secs: decision.retry_after_secs,
            generation,
        })
    }

    async fn generation(&self) -> Result<u64> {
        if let Some(generation) = self.generation.get() {
            return Ok(generation);
        }
        let storage = self.state.storage();
        let generation = match storage.get::<u64>(GENERATION_KEY).await? {
            Some(generation) => generation,
            None => {
                let generation = now_ms();
                storage.put(GENERATION_KEY, generation).await?;
                generation
            }
        };
        self.generation.set(Some(generation));
        Ok(generation)
    }

    /// Stores the next generation before using it: a failed write leaves the old one in force and
    /// is reported to the caller.
    async fn bump(&self) -> Result<u64> {
        let next = (self.generation().await? + 1).max(now_ms());
        self.state.storage().put(GENERATION_KEY, next).await?;
        self.generation.set(Some(next));
        Ok(next)
    }
}

fn now_ms() -> u64 {
    worker::Date::now().as_millis()
}
