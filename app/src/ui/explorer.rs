//! The data explorer: browse, create, edit and delete Procore records of a ready data source.

use leptos::prelude::*;
use leptos_meta::Title;

use super::widgets::EmptyState;

#[component]
pub fn ExplorerPage() -> impl IntoView {
    view! {
        <Title text="Explorer" />
        <div class="page-header"><h1>"Explorer"</h1></div>
        <EmptyState
            title="Nothing to explore yet"
            message="Once a Procore data source is ready, its records can be browsed and edited here."
        />
    }
}
