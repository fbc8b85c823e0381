//! The caller's personal API tokens for the REST API: list, create (shown once), revoke.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_meta::Title;

use super::time::full_time;
use super::widgets::{
    Confirm, EmptyState, FieldError, FormError, LoadError, Modal, Toasts, copy_text,
};
use crate::api::api_tokens::{
    ApiToken, CreateApiToken, IssuedToken, RevokeApiToken, list_api_tokens,
};
use crate::error::AppError;
use crate::model::validate_name;

#[component]
pub fn ApiTokensPage() -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_tokens(),
    );
    let creating = RwSignal::new(false);
    let issued = RwSignal::new(None::<IssuedToken>);
    let revoking = RwSignal::new(None::<ApiToken>);

    Effect::new(move |_| {
        if let Some(Ok(result)) = create.value().get() {
            creating.set(false);
            Toasts::success(format!("Token “{}” created", result.token.name));
            issued.set(Some(result));
            // The secret lives on only in the dialog, until it is closed.
            create.value().set(None);
        }
    });
    Effect::new(move |_| match revoke.value().get() {
        Some(Ok(())) => Toasts::success("Token revoked"),
        Some(Err(e)) => Toasts::error(e.to_string()),
        None => {}
    });

    view! {
        <Title text="API tokens" />
        <div class="page-header">
            <h1>"API tokens"</h1>
            <p class="muted">
                "A personal API token lets a program call Trestle's REST API as you, with your rights, "
                "until you revoke it. Send it as " <code>"Authorization: Bearer …"</code>
                "; the API is described at "
                <a href="/api/v1/openapi.json">"/api/v1/openapi.json"</a> "."
            </p>
        </div>
        <div class="toolbar">
            <h2 class="section-title">"Your tokens"</h2>
            <button
                type="button"
                class="button primary"
                on:click=move |_| {
                    create.value().set(None);
                    creating.set(true);
                }
            >
                "+ New token"
            </button>
        </div>
        <Transition fallback=|| view! { <p class="loading">"Loading tokens…"</p> }>
            {move || Suspend::new(async move {
                match tokens.await {
                    Ok(list) if list.is_empty() => view! {
                        <EmptyState
                            title="No API tokens"
                            message="Create one for each program that should reach Trestle's data as you."
                        />
                    }
                    .into_any(),
                    Ok(list) => view! {
                        <table class="table api-tokens" aria-label="API tokens">
                            <thead>
                                <tr>
                                    <th scope="col">"Name"</th>
                                    <th scope="col">"Token"</th>
                                    <th scope="col">"Created"</th>
                                    <th scope="col">"Last used"</th>
                                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr>
                            </thead>
                            <tbody>
                                {list.into_iter().map(|token| token_row(token, revoking)).collect_view()}
                            </tbody>
                        </table>
                    }
                    .into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
        {move || creating.get().then(|| view! {
            <NewTokenDialog create on_close=move || creating.set(false) />
        })}
        {move || issued.get().map(|result| view! {
            <IssuedTokenDialog result on_close=move || issued.set(None) />
        })}
        {move || revoking.get().map(|token| {
            let id = token.id.clone();
            view! {
                <Confirm
                    title=format!("Revoke “{}”?", token.name)
                    message="Programs using this token are refused from now on. This cannot be undone."
                    confirm_label="Revoke"
                    on_cancel=move || revoking.set(None)
                    on_confirm=move || {
                        revoke.dispatch(RevokeApiToken { id: id.clone() });
                        revoking.set(None);
                    }
                />
            }
        })}
    }
}

fn token_row(token: ApiToken, revoking: RwSignal<Option<ApiToken>>) -> impl IntoView {
    let label = format!("Revoke {}", token.name);
    let last_used = token
        .last_used_at
        .map(|at| view! { <time datetime=at.to_rfc3339()>{full_time(at)}</time> }.into_any())
        .unwrap_or_else(|| view! { <span class="muted">"Never"</span> }.into_any());
    let created = token.created_at;
    view! {
        <tr data-testid="api-token-row">
            <td>{token.name.clone()}</td>
            <td><code class="api-token-prefix">{format!("{}…", token.prefix)}</code></td>
            <td><time datetime=created.to_rfc3339()>{full_time(created)}</time></td>
            <td>{last_used}</td>
            <td class="row-actions">
                <button
                    type="button"
                    class="button subtle revoke"
                    aria-label=label
                    on:click=move |_| revoking.set(Some(token.clone()))
                >
                    "Revoke"
                </button>
            </td>
        </tr>
    }
}

#[component]
fn NewTokenDialog(
    create: ServerAction<CreateApiToken>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let local_error = RwSignal::new(None::<AppError>);
    let error = Signal::derive(move || {
        local_error
            .get()
            .or_else(|| create.value().get().and_then(Result::err))
    });
    let busy = create.pending();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let value = name.get_untracked();
        if let Err(e) = validate_name("name", &value, 100) {
            local_error.set(Some(e));
            return;
        }
        local_error.set(None);
        create.dispatch(CreateApiToken { name: value });
    };
    view! {
        <Modal title="New API token" on_close>
            <form class="stack" on:submit=submit novalidate>
                <div class="field">
                    <label for="token-name">"Name"</label>
                    <input
                        id="token-name"
                        type="text"
                        maxlength="100"
                        required
                        autofocus
                        placeholder="e.g. Nightly export"
                        aria-describedby="token-name-hint"
                        bind:value=name
                    />
                    <p class="hint" id="token-name-hint">
                        "What will use it, so you know which one to revoke later."
                    </p>
                    <FieldError error field="name" />
                </div>
                <FormError error />
                <div class="modal-actions">
                    <button type="button" class="button" on:click=move |_| on_close.run(())>
                        "Cancel"
                    </button>
                    <button type="submit" class="button primary" disabled=busy>
                        "Create token"
                    </button>
                </div>
            </form>
        </Modal>
    }
}

#[component]
fn IssuedTokenDialog(result: IssuedToken, #[prop(into)] on_close: Callback<()>) -> impl IntoView {
    let secret = result.secret.clone();
    let copy = move |_| {
        if copy_text(&secret) {
            Toasts::success("Token copied");
        } else {
            Toasts::error("Could not copy: select the token and copy it yourself.");
        }
    };
    view! {
        <Modal title=format!("Your new token “{}”", result.token.name) on_close>
            <p class="notice" role="note">
                "Copy it now: this is the only time Trestle shows it. Trestle keeps only a hash, "
                "so if it is lost, revoke it and create another."
            </p>
            <div class="api-token-secret">
                <input
                    type="text"
                    readonly
                    spellcheck="false"
                    aria-label="Your new API token"
                    data-testid="new-api-token"
                    value=result.secret.clone()
                />
                <button type="button" class="button" on:click=copy>"Copy"</button>
            </div>
            <div class="modal-actions">
                <button type="button" class="button primary" autofocus on:click=move |_| on_close.run(())>
                    "Done"
                </button>
            </div>
        </Modal>
    }
}
