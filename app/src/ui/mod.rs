//! Pages and components.

mod account;
mod api_tokens;
mod cloud_connect;
mod data_sources;
mod explorer;
mod forms;
mod help;
mod layout;
mod pages;
mod people;
mod sign_in;
mod time;
pub mod widgets;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::api::auth::{ChangePassword, SignIn, SignOut, current_user};
use crate::error::AppError;
use crate::model::SessionUser;

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Who is signed in, and the actions that change it. Provided once by [`App`].
#[derive(Clone, Copy)]
pub struct Session {
    pub sign_in: ServerAction<SignIn>,
    pub sign_out: ServerAction<SignOut>,
    pub change_password: ServerAction<ChangePassword>,
    /// Blocking, so the server knows whether to redirect before it starts sending the page.
    pub user: Resource<Result<Option<SessionUser>, AppError>>,
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let sign_in = ServerAction::<SignIn>::new();
    let sign_out = ServerAction::<SignOut>::new();
    let change_password = ServerAction::<ChangePassword>::new();
    let user = Resource::new_blocking(
        move || {
            (
                sign_in.version().get(),
                sign_out.version().get(),
                change_password.version().get(),
            )
        },
        |_| current_user(),
    );
    provide_context(Session {
        sign_in,
        sign_out,
        change_password,
        user,
    });
    widgets::Toasts::provide();

    view! {
        <Stylesheet id="leptos" href="/pkg/trestle.css" />
        <Title formatter=page_title />
        <Router>
            // Pages render whole before the first byte goes out (`SsrMode::Async`), so a
            // redirect to sign-in or a 403 from a nested page still sets the real HTTP status.
            <Routes fallback=|| view! { <layout::NotFound /> }>
                <Route path=path!("/sign-in") view=sign_in::SignInPage ssr=SsrMode::Async />
                <ParentRoute path=path!("") view=layout::SignedIn ssr=SsrMode::Async>
                    <Route path=path!("") view=pages::Home ssr=SsrMode::Async />
                    <Route path=path!("data-sources") view=data_sources::DataSourcesPage ssr=SsrMode::Async />
                    <Route path=path!("forms") view=forms::FormsPage ssr=SsrMode::Async />
                    <Route path=path!("forms/:id/design") view=forms::DesignerPage ssr=SsrMode::Async />
                    <Route path=path!("forms/:id/fill") view=forms::FillPage ssr=SsrMode::Async />
                    <Route path=path!("forms/:id/submissions") view=forms::SubmissionsPage ssr=SsrMode::Async />
                    <Route path=path!("explorer") view=explorer::ExplorerPage ssr=SsrMode::Async />
                    <Route path=path!("account/password") view=account::ChangePasswordPage ssr=SsrMode::Async />
                    <Route path=path!("account/api-tokens") view=api_tokens::ApiTokensPage ssr=SsrMode::Async />
                    <Route path=path!("help/cloud-connect") view=help::CloudConnectHelp ssr=SsrMode::Async />
                    <ParentRoute path=path!("admin") view=layout::Administration ssr=SsrMode::Async>
                        <Route path=path!("") view=|| view! { <Redirect path="/admin/users" /> } ssr=SsrMode::Async />
                        <Route path=path!("users") view=people::UsersPage ssr=SsrMode::Async />
                        <Route path=path!("groups") view=people::GroupsPage ssr=SsrMode::Async />
                        <Route path=path!("cloud-connect") view=cloud_connect::AgentsPage ssr=SsrMode::Async />
                    </ParentRoute>
                </ParentRoute>
            </Routes>
        </Router>
        <widgets::ToastRegion />
    }
}

/// The document title for a page's own (a form's name, say). leptos_meta writes the
/// server's `<title>` as it is given, so there it is escaped: a name holding
/// `</title><script>` must stay text. The browser sets `document.title` as text.
fn page_title(page: String) -> String {
    let title = if page.is_empty() {
        "Trestle".to_string()
    } else {
        format!("{page} · Trestle")
    };
    if cfg!(feature = "ssr") {
        title
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    } else {
        title
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    #[test]
    fn a_title_cannot_close_its_element_on_the_server() {
        assert_eq!(
            super::page_title("</title><script>alert(1)</script>".into()),
            "&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt; · Trestle"
        );
        assert_eq!(super::page_title(String::new()), "Trestle");
    }
}
