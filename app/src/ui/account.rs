use leptos::prelude::*;
use leptos_meta::Title;

use super::use_session;
use super::widgets::{FieldError, FormError, action_error};
use crate::model::{PASSWORD_MIN_CHARS, SessionUser};

#[component]
pub fn ChangePasswordPage() -> impl IntoView {
    let session = use_session();
    let user = expect_context::<SessionUser>();
    let error = action_error(*session.change_password);
    let pending = session.change_password.pending();

    view! {
        <Title text="Change password" />
        <div class="page-header">
            <h1>"Change password"</h1>
        </div>
        {user.must_change_password.then(|| view! {
            <p class="notice" role="note">
                "You signed in with a one-time password. Choose your own password to continue."
            </p>
        })}
        <ActionForm action=session.change_password attr:class="stack narrow card">
            <div class="field">
                <label for="current_password">"Current password"</label>
                <input id="current_password" name="current_password" type="password" autocomplete="current-password" required />
                <FieldError error field="current_password" />
            </div>
            <div class="field">
                <label for="new_password">"New password"</label>
                <input
                    id="new_password"
                    name="new_password"
                    type="password"
                    autocomplete="new-password"
                    minlength=PASSWORD_MIN_CHARS
                    aria-describedby="new_password-hint"
                    required
                />
                <p class="hint" id="new_password-hint">
                    {format!("At least {PASSWORD_MIN_CHARS} characters.")}
                </p>
                <FieldError error field="new_password" />
            </div>
            <div class="field">
                <label for="confirm_password">"Repeat the new password"</label>
                <input id="confirm_password" name="confirm_password" type="password" autocomplete="new-password" required />
                <FieldError error field="confirm_password" />
            </div>
            <FormError error />
            <div class="actions">
                <button type="submit" class="button primary" disabled=pending>"Change password"</button>
            </div>
        </ActionForm>
    }
}
