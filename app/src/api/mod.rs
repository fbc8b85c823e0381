//! Server functions: the browser's only way into the server. Each one checks the session
//! and role on the server before it touches data, then calls into [`crate::server`].

pub mod access;
pub mod api_tokens;
pub mod auth;
pub mod cloud_connect;
pub mod data_sources;
pub mod forms;
pub mod people;
pub mod records;

#[cfg(feature = "ssr")]
pub(crate) mod guard {
    use http::StatusCode;
    use http::request::Parts;
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;

    use crate::error::AppError;
    use crate::model::{Role, SessionUser};
    use crate::server::AppState;
    use crate::server::auth::RequestSession;

    pub fn state() -> Result<AppState, AppError> {
        use_context::<AppState>().ok_or_else(|| {
            tracing::error!("AppState missing from the server function context");
            AppError::Internal
        })
    }

    /// The signed-in person, if any (looked up once per request).
    pub async fn current_user() -> Result<Option<SessionUser>, AppError> {
        let state = state()?;
        let Some(parts) = use_context::<Parts>() else {
            return Ok(None);
        };
        let cache = use_context::<RequestSession>().unwrap_or_default();
        cache.get_or_resolve(&state, &parts.headers).await
    }

    /// Anyone signed in.
    pub async fn signed_in() -> Result<(AppState, SessionUser), AppError> {
        let user = current_user().await?.ok_or(AppError::Unauthenticated)?;
        Ok((state()?, user))
    }

    /// Someone holding `role` (administrators hold every role). A person who still has to
    /// replace a one-time password may do nothing else first.
    pub async fn require(role: Role) -> Result<(AppState, SessionUser), AppError> {
        let (state, user) = signed_in().await?;
        if user.must_change_password || !user.has_role(role) {
            return Err(AppError::Forbidden);
        }
        Ok((state, user))
    }

    /// Gives a failed call its HTTP status, for API clients and for the page being rendered.
    pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(e) = &result
            && let Some(options) = use_context::<ResponseOptions>()
        {
            options.set_status(
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            );
            if let Some(wait) = e.retry_after()
                && let Ok(value) = wait.to_string().parse()
            {
                options.insert_header(http::header::RETRY_AFTER, value);
            }
        }
        result
    }
}
