//! Administration > Cloud Connect agents.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AgentsPage() -> impl IntoView {
    view! {
        <Title text="Cloud Connect agents" />
        <h2>"Cloud Connect agents"</h2>
    }
}
