use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use super::use_session;
use super::widgets::{FieldError, FormError, action_error};
use crate::api::auth::safe_next;

#[component]
pub fn SignInPage() -> impl IntoView {
    let session = use_session();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let error = action_error(*session.sign_in);
    let pending = session.sign_in.pending();

    view! {
        <Title text="Sign in" />
        <main class="auth-page">
            // Someone already signed in has nothing to do here.
            <Suspense>
                {move || Suspend::new(async move {
                    matches!(session.user.await, Ok(Some(_)))
                        .then(|| view! { <Redirect path=safe_next(Some(&next())).to_string() /> })
                })}
            </Suspense>
            <div class="auth-card">
                <p class="brand auth-brand">
                    <span class="brand-mark" aria-hidden="true">"▦"</span>
                    "Trestle"
                </p>
                <h1>"Sign in"</h1>
                <ActionForm action=session.sign_in attr:class="stack" attr:novalidate=true>
                    <input type="hidden" name="next" prop:value=next />
                    <div class="field">
                        <label for="email">"E-mail"</label>
                        <input
                            id="email"
                            name="email"
                            type="email"
                            autocomplete="username"
                            required
                            autofocus
                        />
                        <FieldError error field="email" />
                    </div>
                    <div class="field">
                        <label for="password">"Password"</label>
                        <input
                            id="password"
                            name="password"
                            type="password"
                            autocomplete="current-password"
                            required
                        />
                        <FieldError error field="password" />
                    </div>
                    <FormError error />
                    <button type="submit" class="button primary wide" disabled=pending>
                        {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
            </div>
        </main>
    }
}
