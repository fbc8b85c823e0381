//! Signing in and out, and the signed-in person.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::SessionUser;

/// Only same-site paths, so a crafted link cannot send someone elsewhere after sign-in.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.starts_with("/sign-in")
                && !path.chars().any(char::is_control) =>
        {
            path
        }
        _ => "/",
    }
}

#[server(prefix = "/api", endpoint = "sign_in")]
pub async fn sign_in(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use crate::api::guard::{respond, state};
    use crate::server::auth;
    use http::header::SET_COOKIE;
    use leptos_axum::ResponseOptions;

    respond(
        async {
            let state = state()?;
            let (token, user) =
                auth::sign_in(&state, &email, &password, chrono::Utc::now()).await?;
            let cookie = auth::session_cookie(&token, state.config.secure_cookies());
            let options = expect_context::<ResponseOptions>();
            options.insert_header(SET_COOKIE, cookie.parse().map_err(|_| AppError::Internal)?);
            let target = if user.must_change_password {
                "/account/password"
            } else {
                safe_next(next.as_deref())
            };
            leptos_axum::redirect(target);
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::api::guard::{respond, state};
    use crate::server::auth;
    use http::header::SET_COOKIE;
    use http::request::Parts;
    use leptos_axum::ResponseOptions;

    respond(
        async {
            let state = state()?;
            if let Some(token) =
                use_context::<Parts>().and_then(|p| auth::session_token(&p.headers))
            {
                auth::sign_out(&state, &token).await?;
            }
            let options = expect_context::<ResponseOptions>();
            let cookie = auth::cleared_cookie(state.config.secure_cookies());
            options.insert_header(SET_COOKIE, cookie.parse().map_err(|_| AppError::Internal)?);
            leptos_axum::redirect("/sign-in");
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "current_user")]
pub async fn current_user() -> Result<Option<SessionUser>, AppError> {
    crate::api::guard::respond(crate::api::guard::current_user().await)
}

/// Anyone signed in may change their own password; it signs out their other sessions.
#[server(prefix = "/api", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    confirm_password: String,
) -> Result<(), AppError> {
    use crate::api::guard::{respond, signed_in};
    use crate::model::validate_new_password;
    use crate::server::{auth, password};
    use http::header::SET_COOKIE;
    use leptos_axum::ResponseOptions;

    respond(
        async {
            let (state, user) = signed_in().await?;
            validate_new_password("new_password", &new_password)?;
            if new_password != confirm_password {
                return Err(AppError::invalid(
                    "confirm_password",
                    "The two new passwords differ.",
                ));
            }
            if new_password == current_password {
                return Err(AppError::invalid(
                    "new_password",
                    "Choose a password different from the current one.",
                ));
            }
            let stored = state.store.password_hash(&user.id).await?;
            if !password::verify(current_password, stored).await {
                return Err(AppError::invalid(
                    "current_password",
                    "The current password is incorrect.",
                ));
            }
            let hash = password::hash(new_password).await?;
            state.store.set_password(&user.id, &hash, false).await?;
            // Every other session ends; this browser gets a fresh one.
            state.store.delete_user_sessions(&user.id).await?;
            let token = auth::open_session(&state, &user.id, chrono::Utc::now()).await?;
            tracing::info!(user = %user.id, "password changed");
            let cookie = auth::session_cookie(&token, state.config.secure_cookies());
            expect_context::<ResponseOptions>()
                .insert_header(SET_COOKIE, cookie.parse().map_err(|_| AppError::Internal)?);
            leptos_axum::redirect("/");
            Ok(())
        }
        .await,
    )
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/admin/users")), "/admin/users");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/sign-in")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
