//! The caller's personal API tokens for the REST API.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ApiTokensPage() -> impl IntoView {
    view! {
        <Title text="API tokens" />
        <div class="page-header"><h1>"API tokens"</h1></div>
    }
}
