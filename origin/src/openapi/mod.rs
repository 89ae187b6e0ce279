//! The route table, and the OpenAPI 3.1 document generated from it: served at `/openapi.json` and
//! browsable in the API explorer at `/docs/` ([`explorer`]).
//!
//! Each feature's `router()` registers its handlers with `utoipa_axum::routes!`, which takes a handler's
//! methods and path from its `#[utoipa::path(...)]` annotation (summary and description from its doc
//! comment). The axum router and the document are therefore built from one list and cannot drift apart;
//! a handler without an annotation does not compile into the table. A route added around the table with
//! a plain `.route(...)` would be served but undocumented: the `openapi` integration test compares the
//! routes the server really has with the document and fails on any difference.
//!
//! Annotations write paths as the router matches them: without the trailing slash, which
//! `NormalizePathLayer` trims from requests, and with `{*key}` for a wildcard. The document spells them
//! as the contract does ([`contract_path`]). What every operation shares (the bearer scheme, 401 for a
//! bad token, 413/415 for bodies, form bodies wherever JSON is accepted, 500 and 503) is added here
//! rather than repeated on each handler.

mod explorer;
pub mod forms;
pub mod responses;

use std::collections::HashMap;

use axum::{Extension, Router};
use rookery_shared::error::{Detail, Failure};
use utoipa::{
    openapi::{
        path::{Operation, PathItem},
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
        OpenApi as Document, Ref, RefOr,
    },
    OpenApi,
};
use utoipa_axum::router::OpenApiRouter;

use crate::{
    accounts, comments, config::Config, friendships, health, likes, media, newsfeed, notifications, profiles,
    state::AppState, tweets,
};

/// The security scheme name operations refer to in `security(("bearer" = []))`.
pub const BEARER: &str = "bearer";

#[derive(OpenApi)]
#[openapi(
    info(title = "Rookery API", description = include_str!("description.md")),
    tags(
        (name = "accounts", description = "Sign up, log in and out. Start here: sign up, then press **Authorize** and paste the `token`."),
        (name = "profiles", description = "Nicknames and avatars."),
        (name = "tweets", description = "Posting, reading and deleting tweets, with up to nine photos."),
        (name = "friendships", description = "Following and followers."),
        (name = "newsfeeds", description = "The caller's home timeline."),
        (name = "comments", description = "Comments on tweets."),
        (name = "likes", description = "Likes on tweets and comments."),
        (name = "notifications", description = "The caller's notifications."),
        (name = "media", description = "Uploaded images."),
        (name = "operational", description = "Health, metrics and this documentation."),
        (name = "internal", description = "Calls only the edge makes."),
    ),
    components(
        schemas(Detail, Failure),
        responses(
            responses::Unauthorized,
            responses::Forbidden,
            responses::NotFound,
            responses::RequestTimeout,
            responses::PayloadTooLarge,
            responses::UnsupportedMediaType,
            responses::RateLimited,
            responses::Internal,
            responses::Unavailable,
            responses::Backlogged,
            responses::LikeTargetInvalid,
        ),
    ),
)]
struct ApiDoc;

/// Every route the origin serves, each with its documentation.
pub fn table(config: &Config) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(accounts::router())
        .merge(profiles::router(config))
        .merge(tweets::router(config))
        .merge(friendships::router())
        .merge(newsfeed::router())
        .merge(comments::router())
        .merge(likes::router())
        .merge(notifications::router())
        .merge(media::router())
        .merge(health::router())
        .merge(explorer::router())
}

/// The router and the finished document, from [`table`].
pub fn split(config: &Config) -> (Router<AppState>, Document) {
    let (router, mut document) = table(config).split_for_parts();
    finish(&mut document);
    (router, document)
}

/// The routes of [`table`], with the document they serve at `/openapi.json`.
pub fn router(config: &Config) -> anyhow::Result<Router<AppState>> {
    let (router, document) = split(config);
    Ok(router.layer(Extension(explorer::Document::new(&document)?)))
}

/// A router path as the contract writes it: `/api/...` paths and `/docs` end with `/`; a wildcard
/// `{*key}` is an ordinary `{key}` parameter.
pub fn contract_path(router_path: &str) -> String {
    let mut path = router_path.replace("{*", "{");
    if path.starts_with("/api/") || path == "/docs" {
        path.push('/');
    }
    path
}

fn finish(document: &mut Document) {
    let paths = std::mem::take(&mut document.paths.paths);
    for (path, mut item) in paths {
        let api = path.starts_with("/api/");
        for (_, operation) in operations(&mut item) {
            complete(operation, api);
        }
        document.paths.paths.insert(contract_path(&path), item);
    }
    name_operations(document);
    let components = document.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("rk1")
                .description(Some(
                    "The `token` from sign-up or log-in, sent as `Authorization: Bearer <token>`. \
                     Operations that list this scheme as optional use it when present (e.g. for \
                     `has_liked`).",
                ))
                .build(),
        ),
    );
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("get", &mut item.get),
        ("put", &mut item.put),
        ("post", &mut item.post),
        ("delete", &mut item.delete),
        ("patch", &mut item.patch),
        ("head", &mut item.head),
        ("options", &mut item.options),
        ("trace", &mut item.trace),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.as_mut().map(|operation| (method, operation)))
}

/// Operation ids must be unique; handler names are only unique within a feature (`list`, `update`), and
/// a handler serving two methods is one operation twice. Ids become `<tag>_<handler>`, plus the method
/// where that is still ambiguous.
fn name_operations(document: &mut Document) {
    let id = |operation: &Operation| {
        let tag = operation.tags.as_ref().and_then(|tags| tags.first()).map_or("api", String::as_str);
        format!("{tag}_{}", operation.operation_id.as_deref().unwrap_or("operation"))
    };
    let mut seen: HashMap<String, usize> = HashMap::new();
    for item in document.paths.paths.values_mut() {
        for (_, operation) in operations(item) {
            *seen.entry(id(operation)).or_default() += 1;
        }
    }
    for item in document.paths.paths.values_mut() {
        for (method, operation) in operations(item) {
            let mut unique = id(operation);
            if seen.get(&unique).copied().unwrap_or_default() > 1 {
                unique = format!("{unique}_{method}");
            }
            operation.operation_id = Some(unique);
        }
    }
}

/// Adds what the contract makes true of every operation of its kind, where the annotation did not say
/// it more precisely.
fn complete(operation: &mut Operation, api: bool) {
    let mut shared: Vec<(&str, &str)> = Vec::new();
    if let Some(body) = operation.request_body.as_mut() {
        // "Form-urlencoded bodies are accepted wherever JSON is."
        if let Some(json) = body.content.get("application/json").cloned() {
            body.content.entry("application/x-www-form-urlencoded".to_owned()).or_insert(json);
        }
        shared.extend([("408", "RequestTimeout"), ("413", "PayloadTooLarge"), ("415", "UnsupportedMediaType")]);
    }
    if api {
        shared.extend([("401", "Unauthorized"), ("500", "Internal"), ("503", "Unavailable")]);
    }
    for (status, name) in shared {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
    }
}
