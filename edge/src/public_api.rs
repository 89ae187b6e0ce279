//! Which paths the edge forwards at all: the public API (`/api/...`), the API explorer (`/docs`,
//! `/docs/...`) and its document (`/openapi.json`). Everything else the origin serves is for the edge
//! or for operators (`/internal/...`, `/metrics`, `/readyz`, `/healthz`) and is answered 404 here,
//! before authentication, rate limiting or any request to the origin.
//!
//! The path is the one the runtime parsed, with dot segments (`/api/../internal`, also percent-encoded)
//! already resolved, and it is the very path forwarded: nothing can pass this check and reach another
//! route.

/// Whether a request for `path` goes to the origin.
pub fn is_forwarded(path: &str) -> bool {
    path.starts_with("/api/")
        || path == "/docs"
        || path.starts_with("/docs/")
        || path == "/openapi.json"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_api_the_explorer_and_its_document() {
        for path in [
            "/api/accounts/login_status/",
            "/api/tweets",
            "/docs",
            "/docs/",
            "/docs/swagger-ui.css",
            "/openapi.json",
        ] {
            assert!(is_forwarded(path), "{path}");
        }
        for path in [
            "/",
            "",
            "/api",
            "/internal/sessions/1",
            "/metrics",
            "/readyz",
            "/healthz",
            "/openapi.json/x",
            "/docsx",
            "/apix/tweets",
            "//api/tweets",
        ] {
            assert!(!is_forwarded(path), "{path}");
        }
    }
}
