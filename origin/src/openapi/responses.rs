//! The contract's error answers that many operations share, as reusable OpenAPI response components
//! (`#/components/responses/<Name>`). Handlers name them in `responses(...)`, e.g.
//! `(status = 404, response = NotFound)`; the ones every operation can give (500, 503, and 401 for a bad
//! token) are added to each operation by [`super::add_common_responses`].

use rookery_shared::error::messages;
use serde_json::{json, Value};
use utoipa::{
    openapi::{
        example::ExampleBuilder,
        header::HeaderBuilder,
        schema::{ObjectBuilder, Type},
        ContentBuilder, Ref, RefOr, Response, ResponseBuilder,
    },
    ToResponse,
};

/// A JSON response whose body is the `schema` envelope, with named examples.
fn envelope(schema: &str, description: &str, examples: &[(&str, Value)]) -> ResponseBuilder {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(schema)))
        .examples_from_iter(
            examples.iter().map(|(name, value)| (*name, ExampleBuilder::new().value(Some(value.clone())).build())),
        )
        .build();
    ResponseBuilder::new().description(description).content("application/json", content)
}

fn detail(text: &str) -> Value {
    json!({ "detail": text })
}

macro_rules! response {
    ($(#[$meta:meta])* $name:ident => $build:expr) => {
        $(#[$meta])*
        pub struct $name;

        impl<'r> ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<Response>) {
                (stringify!($name), RefOr::T($build))
            }
        }
    };
}

response!(
    /// 401: no or a bad bearer token.
    Unauthorized => envelope(
        "Detail",
        "Missing credentials on a protected endpoint, or an `Authorization` header that is not a valid, \
         live bearer token (on any endpoint, protected or not). Carries `WWW-Authenticate: Bearer`.",
        &[
            ("not authenticated", detail(messages::NOT_AUTHENTICATED)),
            ("invalid token", detail(messages::INVALID_TOKEN)),
        ],
    )
    .header("WWW-Authenticate", HeaderBuilder::new().schema(ObjectBuilder::new().schema_type(Type::String)).description(Some("`Bearer`")).build())
    .build()
);

response!(
    /// 403: authenticated, but the object is someone else's.
    Forbidden => envelope(
        "Detail",
        "The object belongs to another user.",
        &[("forbidden", detail(messages::FORBIDDEN))],
    )
    .build()
);

response!(
    /// 404: no such object (or an id that is not a positive integer below 2^53).
    NotFound => envelope(
        "Detail",
        "No such object. Ids that are not positive integers below 2^53 are not found either.",
        &[("not found", detail(messages::NOT_FOUND))],
    )
    .build()
);

response!(
    /// 408: the request, body included, did not arrive (and get its answer) within `REQUEST_TIMEOUT_SECS`.
    RequestTimeout => envelope(
        "Failure",
        "The request, body included, was not received and answered within the server's request timeout \
         (`REQUEST_TIMEOUT_SECS`, 60 s by default).",
        &[("timed out", json!({"success": false, "message": "The request was not received in time."}))],
    )
    .build()
);

response!(
    /// 413: the body is over the size limit.
    PayloadTooLarge => envelope(
        "Failure",
        "The request body is over the size limit.",
        &[("too large", json!({"success": false, "message": "Request body is too large."}))],
    )
    .build()
);

response!(
    /// 415: a body that is neither JSON, form-urlencoded nor (where files are accepted) multipart.
    UnsupportedMediaType => envelope(
        "Detail",
        "The body is not JSON or form-urlencoded (or multipart, where files are accepted).",
        &[("unsupported", detail("Unsupported media type \"text/plain\" in request."))],
    )
    .build()
);

response!(
    /// 429: past the endpoint's rate limit.
    RateLimited => envelope(
        "Detail",
        "Past this endpoint's rate limit. `Retry-After` says how many seconds to wait.",
        &[("rate limited", detail(messages::RATE_LIMITED))],
    )
    .header(
        "Retry-After",
        HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)))
            .description(Some("Seconds until a request would be accepted."))
            .build(),
    )
    .build()
);

response!(
    /// 500: an unexpected failure (logged on the server; the answer says nothing more).
    Internal => envelope("Detail", "An unexpected server error.", &[("internal", detail(messages::INTERNAL))]).build()
);

response!(
    /// 503 on posting a tweet: the fanout is too far behind (backpressure), or a dependency is unreachable.
    Backlogged => envelope(
        "Detail",
        "The fanout is too far behind to take more tweets for now (the post waited up to a second for it \
         first; `Retry-After` says when to try again), or a dependency the request needs is unreachable. \
         Nothing was stored.",
        &[("backlogged", detail(messages::BACKLOGGED)), ("unavailable", detail(messages::ORIGIN_UNAVAILABLE))],
    )
    .header(
        "Retry-After",
        HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)))
            .description(Some("Seconds until a post would likely be accepted (with backpressure only)."))
            .build(),
    )
    .build()
);

response!(
    /// 503: a dependency the request needs (MySQL) is unreachable.
    Unavailable => envelope(
        "Detail",
        "A dependency the request needs is unreachable; try again later. (Through the edge, an \
         unreachable origin is a 502 with the same envelope.)",
        &[("unavailable", detail(messages::ORIGIN_UNAVAILABLE))],
    )
    .build()
);

response!(
    /// 400 on a like or a cancel: the target is missing, of another type, or does not exist.
    LikeTargetInvalid => envelope(
        "Failure",
        "A field missing, a `content_type` other than `tweet` or `comment`, or no such object.",
        &[
            (
                "unknown object",
                json!({"success": false, "message": "Please check input", "errors": {"object_id": ["Object does not exist."]}}),
            ),
            (
                "bad type",
                json!({"success": false, "message": "Please check input", "errors": {"content_type": ["\"photo\" is not a valid choice."]}}),
            ),
            ("missing", json!({"success": false, "message": "missing content_type,object_id in request"})),
        ],
    )
    .build()
);
