//! Which paths the edge forwards at all: what the public OpenAPI document describes — the public API
//! (`/api/...`), uploaded media (`/media/...`, where `PUBLIC_URL` points at the edge), the API explorer
//! (`/docs`, `/docs/...`), its document (`/openapi.json`) and liveness (`/healthz`). Everything else the
//! origin serves is for the edge or for operators (`/internal/...`; `/metrics` and `/readyz` live on the
//! origin's admin listener anyway) and is answered 404 here, before authentication, rate limiting or any
//! request to the origin.
//!
//! The path is the one the runtime parsed, with dot segments (`/api/../internal`, also percent-encoded)
//! already resolved, and it is the very path forwarded: nothing can pass this check and reach another
//! route.

/// Whether a request for `path` goes to the origin.
pub fn is_forwarded(path: &str) -> bool {
    path.starts_with("/api/")
        || path.starts_with("/media/")
        || path == "/healthz"
        || path == "/docs"
        || path.starts_with("/docs/")
        || path == "/openapi.json"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_the_public_document_describes() {
        for path in [
            "/api/accounts/login_status/",
            "/api/tweets",
            "/docs",
            "/docs/",
            "/docs/swagger-ui.css",
            "/openapi.json",
            "/media/photos/ab/cd.jpg",
            "/healthz",
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
            "/healthz/x",
            "/media",
            "/openapi.json/x",
            "/docsx",
            "/apix/tweets",
            "//api/tweets",
        ] {
            assert!(!is_forwarded(path), "{path}");
        }
    }
}
