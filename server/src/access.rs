//! The gate in front of the server functions: before a call to `/api/<endpoint>` is
//! decoded, it is checked against [`app::api::access::ENDPOINTS`]. Nobody signed in gets
//! 401 and the wrong person 403 whatever the arguments; a server function missing from the
//! table is refused for everyone (deny by default). `/api/v1` is the REST API, which
//! authenticates bearer tokens itself. Calls it lets through that fail before the function's
//! body runs (arguments it cannot decode) get their error's status instead of a 500.

use app::api::access::{self, Access};
use app::error::AppError;
use app::server::AppState;
use app::server::auth::RequestSession;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};
use leptos::server_fn::ContentType;
use leptos::server_fn::error::{FromServerFnError, SERVER_FN_ERROR_HEADER};

/// Where the server functions live (their `prefix`).
const PREFIX: &str = "/api/";

/// The server function endpoint a path names, or `None` for paths that are no server
/// function's (pages, assets, the REST API).
pub fn endpoint(path: &str) -> Option<&str> {
    let rest = path.strip_prefix(PREFIX)?;
    let rest_api = app::server::rest_api::BASE
        .strip_prefix(PREFIX)
        .unwrap_or("v1");
    if rest == rest_api
        || rest
            .strip_prefix(rest_api)
            .is_some_and(|tail| tail.starts_with('/'))
    {
        return None;
    }
    Some(rest)
}

pub async fn gate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let Some(name) = endpoint(path) else {
        return next.run(request).await;
    };
    let Some(entry) = access::endpoint(name) else {
        tracing::error!(
            endpoint = %name,
            "refused a call to a server function missing from app::api::access::ENDPOINTS; classify it there"
        );
        return refuse(path, AppError::Forbidden);
    };
    if entry.access == Access::Public {
        return with_status(next.run(request).await).await;
    }
    let session = RequestSession::default();
    let user = match session.get_or_resolve(&state, request.headers()).await {
        Ok(user) => user,
        Err(error) => return refuse(path, error),
    };
    match entry.access.check(user.as_ref()) {
        Ok(()) => {
            // The function asks again who is signed in: it is told without a lookup.
            request.extensions_mut().insert(session);
            with_status(next.run(request).await).await
        }
        Err(error) => {
            tracing::debug!(endpoint = %name, status = error.status(), "server function call refused");
            refuse(path, error)
        }
    }
}

/// Looks up who is signed in before a page (or server function) is rendered, once per
/// request, so the signed-in frame knows without waiting (`app::ui::layout::SignedIn`)
/// and everything else in the request asks again for free. A lookup that fails is shown
/// by the page, as the server functions' own lookups are.
pub async fn look_up_session(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let session = request
        .extensions()
        .get::<RequestSession>()
        .cloned()
        .unwrap_or_default();
    if let Err(error) = session.get_or_resolve(&state, request.headers()).await {
        tracing::warn!(error = %error, "looking up the session of a page request failed");
    }
    request.extensions_mut().insert(session);
    next.run(request).await
}

/// A server function's error answered with its own status. Errors raised before the body
/// runs (arguments that cannot be decoded) otherwise leave server_fn's default 500 on what
/// is the caller's mistake; errors from the body already carry theirs.
async fn with_status(response: Response) -> Response {
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return Response::from_parts(parts, Body::from(AppError::Internal.ser()));
    };
    if let Ok(status) = StatusCode::from_u16(AppError::de(bytes.clone()).status()) {
        parts.status = status;
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The error as a server function sends it (status, encoded body, `serverfnerror` header),
/// so the browser's client shows its message like any other.
fn refuse(path: &str, error: AppError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = Response::new(Body::from(error.ser()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(<AppError as FromServerFnError>::Encoder::CONTENT_TYPE),
    );
    if let Ok(value) = HeaderValue::from_str(path) {
        headers.insert(SERVER_FN_ERROR_HEADER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::endpoint;

    #[test]
    fn server_function_paths_are_told_from_the_rest() {
        assert_eq!(endpoint("/api/list_users"), Some("list_users"));
        assert_eq!(endpoint("/api/"), Some(""));
        assert_eq!(endpoint("/api/v1x"), Some("v1x"));
        assert_eq!(endpoint("/api/v1"), None);
        assert_eq!(endpoint("/api/v1/"), None);
        assert_eq!(endpoint("/api/v1/data-sources"), None);
        assert_eq!(endpoint("/api"), None);
        assert_eq!(endpoint("/admin/users"), None);
        assert_eq!(endpoint("/pkg/trestle.wasm"), None);
    }
}
