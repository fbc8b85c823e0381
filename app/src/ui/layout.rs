//! The signed-in frame (header and navigation), the administration frame and the pages
//! for "not found" and "no access", which also set the real HTTP status.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Outlet, Redirect};
use leptos_router::hooks::use_location;

use super::use_session;
use super::widgets::LoadError;
use crate::error::AppError;
use crate::model::{Role, SessionUser};

/// Sets the status of the page being rendered on the server; nothing in the browser.
fn set_status(_code: u16) {
    #[cfg(feature = "ssr")]
    if let Some(options) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(status) = http::StatusCode::from_u16(_code)
    {
        options.set_status(status);
    }
}

/// Every page but sign-in: sends strangers to sign in, and people with a one-time
/// password to choose their own first.
#[component]
pub fn SignedIn() -> impl IntoView {
    let session = use_session();
    let location = use_location();
    move || match signed_in_user(session) {
        None => view! { <p class="loading">"Loading…"</p> }.into_any(),
        Some(Ok(Some(user))) => {
            provide_context(user.clone());
            view! { <Frame user /> }.into_any()
        }
        Some(Ok(None)) => {
            let here = location.pathname.get_untracked();
            let search = location.search.get_untracked();
            let next = if search.is_empty() {
                here
            } else {
                format!("{here}?{search}")
            };
            let target = format!("/sign-in?next={}", encode(&next));
            view! { <Redirect path=target /> }.into_any()
        }
        Some(Err(error)) => view! { <main class="page"><LoadError error /></main> }.into_any(),
    }
}

/// Who is signed in, known without waiting, so the frame needs no `Suspense`: on the
/// server Leptos walks a `Suspense`'s children three times, and the `Outlet` inside would
/// build the page, and fetch and serialise its resources, on every walk. On the server
/// the session was looked up before rendering began; in the browser the answer came
/// with the page, and later changes (sign-in, sign-out) arrive through the resource.
fn signed_in_user(session: super::Session) -> Option<Result<Option<SessionUser>, AppError>> {
    #[cfg(feature = "ssr")]
    {
        let _ = session;
        // Not looked up: the lookup failed (and was logged), as `current_user` would.
        Some(
            use_context::<crate::server::auth::RequestSession>()
                .and_then(|looked_up| looked_up.resolved())
                .ok_or(AppError::Internal),
        )
    }
    #[cfg(not(feature = "ssr"))]
    session.user.map(Clone::clone)
}

/// Percent-encodes a path for a query string value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[component]
fn Frame(user: SessionUser) -> impl IntoView {
    let session = use_session();
    let can_manage_sources = user.has_role(Role::DataSourceManager);
    let is_admin = user.is_admin();
    // Someone with a one-time password sees only the password page. A memo, so the page
    // is swapped only when that changes, not on every navigation.
    let location = use_location();
    let must_change = user.must_change_password;
    let blocked = Memo::new(move |_| must_change && location.pathname.get() != "/account/password");
    let content = move || {
        if blocked.get() {
            view! { <Redirect path="/account/password" /> }.into_any()
        } else {
            view! { <Outlet /> }.into_any()
        }
    };
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="app-header">
            <A href="/" attr:class="brand">
                <span class="brand-mark" aria-hidden="true">"▦"</span>
                "Trestle"
            </A>
            <nav aria-label="Main">
                <ul class="nav">
                    {can_manage_sources.then(|| view! { <li><A href="/data-sources">"Data sources"</A></li> })}
                    <li><A href="/forms">"Forms"</A></li>
                    <li><A href="/explorer">"Explorer"</A></li>
                    {is_admin.then(|| view! { <li><A href="/admin">"Administration"</A></li> })}
                </ul>
            </nav>
            <div class="user-menu">
                <span class="user-name" data-testid="signed-in-user" title=user.email.clone()>
                    {user.name.clone()}
                </span>
                <A href="/account/password" attr:class="link-button">"Password"</A>
                <A href="/account/api-tokens" attr:class="link-button">"API tokens"</A>
                <ActionForm action=session.sign_out>
                    <button type="submit" class="button subtle">"Sign out"</button>
                </ActionForm>
            </div>
        </header>
        <main id="main" class="page">{content}</main>
    }
}

/// Administration > …: administrators only.
#[component]
pub fn Administration() -> impl IntoView {
    let user = expect_context::<SessionUser>();
    if !user.is_admin() {
        return view! { <Forbidden /> }.into_any();
    }
    view! {
        <div class="page-header">
            <h1>"Administration"</h1>
        </div>
        <nav class="tabs" aria-label="Administration">
            <A href="/admin/users">"Users"</A>
            <A href="/admin/groups">"Groups"</A>
            <A href="/admin/cloud-connect">"Cloud Connect"</A>
        </nav>
        <Outlet />
    }
    .into_any()
}

#[component]
pub fn Forbidden() -> impl IntoView {
    set_status(403);
    view! {
        <Title text="No access" />
        <section class="status-page">
            <p class="status-code">"403"</p>
            <h1>"You don't have access to this page"</h1>
            <p>"Ask an administrator if you need it."</p>
            <A href="/">"Back to the start page"</A>
        </section>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    set_status(404);
    view! {
        <Title text="Not found" />
        <main class="page">
            <section class="status-page">
                <p class="status-code">"404"</p>
                <h1>"Page not found"</h1>
                <p>"The address may be mistyped, or the page has moved."</p>
                <a href="/">"Back to the start page"</a>
            </section>
        </main>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn next_paths_are_encoded() {
        assert_eq!(super::encode("/admin/users"), "/admin/users");
        assert_eq!(super::encode("/x?a=1&b=2"), "/x%3Fa%3D1%26b%3D2");
    }
}
