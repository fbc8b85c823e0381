//! The start page and the sections later work fills in.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::model::{Role, SessionUser};

#[component]
pub fn Home() -> impl IntoView {
    let user = expect_context::<SessionUser>();
    let first_name = user
        .name
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    view! {
        <Title text="" />
        <div class="page-header">
            <h1>{format!("Welcome, {first_name}")}</h1>
        </div>
        <div class="cards">
            {user.has_role(Role::DataSourceManager).then(|| view! {
                <A href="/data-sources" attr:class="card link-card">
                    <h2>"Data sources"</h2>
                    <p>"Connect Trestle to Procore and decide who may use each connection."</p>
                </A>
            })}
            <A href="/forms" attr:class="card link-card">
                <h2>"Forms"</h2>
                <p>"Build forms whose lists come from Procore, and fill them in."</p>
            </A>
            <A href="/explorer" attr:class="card link-card">
                <h2>"Explorer"</h2>
                <p>"Browse, create and edit Procore records."</p>
            </A>
            {user.is_admin().then(|| view! {
                <A href="/admin/users" attr:class="card link-card">
                    <h2>"Administration"</h2>
                    <p>"Manage users, groups and their roles."</p>
                </A>
            })}
        </div>
    }
}
