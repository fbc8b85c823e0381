//! The browser entry point: hydrates the server-rendered page.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Server functions redirect only when who is signed in changes (sign-in, sign-out,
    // password change). Load the target afresh instead of routing in the page, so nothing
    // of the previous session's state lingers. Set before hydrating: the router's own
    // hook would otherwise take the slot.
    let _ = leptos::server_fn::redirect::set_redirect_hook(|location: &str| {
        if let Some(window) = web_sys::window() {
            let _ = window.location().assign(location);
        }
    });
    leptos::mount::hydrate_body(app::App);
    // End-to-end tests wait for this marker instead of retrying clicks.
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        let _ = body.dataset().set("hydrated", "true");
    }
}
