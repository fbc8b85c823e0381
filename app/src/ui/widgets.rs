//! Small building blocks shared by the pages.

use leptos::prelude::*;

use crate::error::AppError;

/// Short confirmations ("User saved") that announce themselves to screen readers.
#[derive(Clone, Copy)]
pub struct Toasts(RwSignal<Vec<(u64, String, bool)>>);

impl Toasts {
    pub fn provide() {
        provide_context(Toasts(RwSignal::new(Vec::new())));
    }

    pub fn success(message: impl Into<String>) {
        Self::push(message.into(), false);
    }

    pub fn error(message: impl Into<String>) {
        Self::push(message.into(), true);
    }

    fn push(message: String, is_error: bool) {
        let Some(Toasts(list)) = use_context::<Toasts>() else {
            return;
        };
        let id = list.with_untracked(|l| l.iter().map(|t| t.0).max().unwrap_or(0) + 1);
        list.update(|l| l.push((id, message, is_error)));
        set_timeout(
            move || list.update(|l| l.retain(|t| t.0 != id)),
            std::time::Duration::from_secs(5),
        );
    }
}

#[component]
pub fn ToastRegion() -> impl IntoView {
    let Toasts(list) = expect_context::<Toasts>();
    view! {
        <div class="toasts" role="status" aria-live="polite">
            {move || {
                list.get()
                    .into_iter()
                    .map(|(_, message, is_error)| {
                        view! { <div class="toast" class:toast-error=is_error>{message}</div> }
                    })
                    .collect_view()
            }}
        </div>
    }
}

/// A modal dialog: Escape or the close button calls `on_close`.
#[component]
pub fn Modal(
    #[prop(into)] title: String,
    #[prop(into)] on_close: Callback<()>,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="modal-backdrop">
            <div
                class="modal"
                role="dialog"
                aria-modal="true"
                aria-labelledby="modal-title"
                on:keydown=move |ev| {
                    if ev.key() == "Escape" {
                        on_close.run(());
                    }
                }
            >
                <header class="modal-header">
                    <h2 id="modal-title">{title}</h2>
                    <button
                        type="button"
                        class="icon-button"
                        aria-label="Close"
                        on:click=move |_| on_close.run(())
                    >
                        "×"
                    </button>
                </header>
                {children()}
            </div>
        </div>
    }
}

/// Asks before something that cannot be undone.
#[component]
pub fn Confirm(
    #[prop(into)] title: String,
    #[prop(into)] message: String,
    #[prop(into)] confirm_label: String,
    #[prop(into)] on_confirm: Callback<()>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    view! {
        <Modal title on_close=on_cancel>
            <p>{message}</p>
            <div class="modal-actions">
                <button type="button" class="button" on:click=move |_| on_cancel.run(())>
                    "Cancel"
                </button>
                <button
                    type="button"
                    class="button danger"
                    autofocus
                    on:click=move |_| on_confirm.run(())
                >
                    {confirm_label}
                </button>
            </div>
        </Modal>
    }
}

/// The message of a failed call that is not about one field.
#[component]
pub fn FormError(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error
            .get()
            .filter(|e| e.field().is_none())
            .map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })
    }
}

/// The message for one field, shown under it.
#[component]
pub fn FieldError(
    #[prop(into)] error: Signal<Option<AppError>>,
    field: &'static str,
) -> impl IntoView {
    move || {
        error.get().filter(|e| e.field() == Some(field)).map(|e| {
            view! {
                <p class="field-error" id=format!("{field}-error") role="alert">
                    {e.to_string()}
                </p>
            }
        })
    }
}

/// The error of an action's last call, if it failed.
pub fn action_error<I, O>(action: Action<I, Result<O, AppError>>) -> Signal<Option<AppError>>
where
    I: Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(Result::err))
}

#[component]
pub fn EmptyState(
    #[prop(into)] title: String,
    #[prop(into)] message: String,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <section class="empty-state">
            <h2>{title}</h2>
            <p>{message}</p>
            {children.map(|c| c())}
        </section>
    }
}

/// An error page body for a failed load.
#[component]
pub fn LoadError(error: AppError) -> impl IntoView {
    view! {
        <div class="load-error" role="alert">
            <strong>"Could not load this page. "</strong>
            {error.to_string()}
        </div>
    }
}

/// Puts `text` on the clipboard (the Clipboard API, reached without extra web-sys
/// features); false when the browser offers none.
pub fn copy_text(text: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        use web_sys::js_sys::{Function, Reflect};
        use web_sys::wasm_bindgen::{JsCast, JsValue};

        let Some(window) = web_sys::window() else {
            return false;
        };
        let get = |target: &JsValue, key: &str| {
            Reflect::get(target, &JsValue::from_str(key))
                .ok()
                .filter(|v| !v.is_undefined() && !v.is_null())
        };
        let Some(clipboard) =
            get(&window.into(), "navigator").and_then(|navigator| get(&navigator, "clipboard"))
        else {
            return false;
        };
        let Some(write) = get(&clipboard, "writeText").and_then(|f| f.dyn_into::<Function>().ok())
        else {
            return false;
        };
        write.call1(&clipboard, &JsValue::from_str(text)).is_ok()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = text;
        false
    }
}
