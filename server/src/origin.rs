//! Refuses state-changing requests that a browser sent from another site. SameSite
//! cookies already keep sessions out of most cross-site requests; this closes the rest
//! (older browsers, same-site subdomains, forms posted without cookies to sign-in).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode, header};
use url::Url;

/// `scheme://host[:port]` as browsers write it in the `Origin` header.
#[derive(Clone, Debug)]
pub struct Origin(String);

impl Origin {
    pub fn of(url: &Url) -> Origin {
        Origin(url.origin().ascii_serialization())
    }
}

/// A write is allowed when it comes from our public origin or from the host it was sent to
/// (so a server reached by another name still works); requests without browser origin
/// headers come from programs, which carry no one's cookies.
pub fn allowed(method: &Method, headers: &HeaderMap, public: &Origin) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        if origin == public.0 {
            return true;
        }
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        return match (Url::parse(origin), host) {
            (Ok(url), Some(host)) => {
                let authority = match url.port() {
                    Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
                    None => url.host_str().unwrap_or_default().to_string(),
                };
                authority.eq_ignore_ascii_case(host)
            }
            _ => false,
        };
    }
    !matches!(
        headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()),
        Some("cross-site") | Some("same-site")
    )
}

/// A call to the REST API that carries a bearer token. Browsers never add one on their
/// own, and the API ignores cookies, so another site cannot make it act for anyone: such
/// calls may come from anywhere (scripts, other web apps).
pub fn bearer_api_call(path: &str, headers: &HeaderMap) -> bool {
    let api = path == app::server::rest_api::BASE
        || path
            .strip_prefix(app::server::rest_api::BASE)
            .is_some_and(|rest| rest.starts_with('/'));
    api && headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim_start().get(..7))
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("bearer "))
}

pub async fn refuse_cross_origin_writes(
    State(public): State<Origin>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if allowed(request.method(), request.headers(), &public)
        || bearer_api_call(path, request.headers())
    {
        return next.run(request).await;
    }
    tracing::warn!(path = %path, "cross-origin write refused");
    const REFUSED: &str = "Requests from other sites are not accepted.";
    if path.starts_with(app::server::rest_api::BASE) {
        // The API answers in JSON, even here.
        let body = format!(r#"{{"error":{{"status":403,"message":"{REFUSED}"}}}}"#);
        (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    } else {
        (StatusCode::FORBIDDEN, REFUSED).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        map
    }

    #[test]
    fn same_origin_and_programs_may_write() {
        let public = Origin::of(&Url::parse("http://127.0.0.1:3000").unwrap());
        assert!(allowed(
            &Method::POST,
            &headers(&[("origin", "http://127.0.0.1:3000")]),
            &public
        ));
        assert!(allowed(
            &Method::POST,
            &headers(&[
                ("origin", "http://localhost:3000"),
                ("host", "localhost:3000")
            ]),
            &public
        ));
        assert!(allowed(&Method::POST, &headers(&[]), &public));
        assert!(allowed(
            &Method::GET,
            &headers(&[("origin", "https://evil.example")]),
            &public
        ));
    }

    #[test]
    fn api_calls_with_a_bearer_token_may_come_from_anywhere() {
        let from_elsewhere = headers(&[
            ("origin", "https://elsewhere.example"),
            ("host", "127.0.0.1:3000"),
            ("authorization", "Bearer trestle_pat_x"),
        ]);
        assert!(bearer_api_call(
            "/api/v1/data-sources/a/objects/rfis/records",
            &from_elsewhere
        ));
        assert!(bearer_api_call("/api/v1", &from_elsewhere));
        // Only the API, and only with a bearer token.
        assert!(!bearer_api_call("/api/create_user", &from_elsewhere));
        assert!(!bearer_api_call("/api/v1x/records", &from_elsewhere));
        let without = headers(&[("origin", "https://elsewhere.example")]);
        assert!(!bearer_api_call("/api/v1/data-sources", &without));
        let basic = headers(&[("authorization", "Basic abc")]);
        assert!(!bearer_api_call("/api/v1/data-sources", &basic));
    }

    #[test]
    fn other_sites_may_not_write() {
        let public = Origin::of(&Url::parse("http://127.0.0.1:3000").unwrap());
        assert!(!allowed(
            &Method::POST,
            &headers(&[
                ("origin", "https://evil.example"),
                ("host", "127.0.0.1:3000")
            ]),
            &public
        ));
        assert!(!allowed(
            &Method::POST,
            &headers(&[("origin", "null")]),
            &public
        ));
        assert!(!allowed(
            &Method::DELETE,
            &headers(&[("sec-fetch-site", "cross-site")]),
            &public
        ));
    }
}
