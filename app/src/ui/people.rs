//! Administration > Users and Administration > Groups.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_meta::Title;

use super::widgets::{Confirm, FieldError, FormError, LoadError, Modal, Toasts};
use crate::api::people::{
    CreateUser, DeleteGroup, IssuedPassword, ResetPassword, SaveGroup, SetUserActive, UpdateUser,
    list_groups, list_users,
};
use crate::error::AppError;
use crate::model::{Group, GroupDraft, Role, SessionUser, User, UserDraft};

/// What the confirm dialog is about to do.
#[derive(Clone)]
enum Pending {
    Deactivate(User),
    ResetPassword(User),
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let me = expect_context::<SessionUser>();
    let create = ServerAction::<CreateUser>::new();
    let update = ServerAction::<UpdateUser>::new();
    let set_active = ServerAction::<SetUserActive>::new();
    let reset = ServerAction::<ResetPassword>::new();
    let users = Resource::new(
        move || {
            (
                create.version().get(),
                update.version().get(),
                set_active.version().get(),
                reset.version().get(),
            )
        },
        |_| list_users(),
    );
    // `Some(None)` adds a person, `Some(Some(user))` edits one.
    let editor = RwSignal::new(None::<Option<User>>);
    let issued = RwSignal::new(None::<IssuedPassword>);
    let pending = RwSignal::new(None::<Pending>);

    Effect::new(move |_| {
        if let Some(Ok(result)) = create.value().get() {
            editor.set(None);
            issued.set(Some(result));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(user)) = update.value().get() {
            editor.set(None);
            Toasts::success(format!("Saved {}", user.name));
        }
    });
    Effect::new(move |_| match reset.value().get() {
        Some(Ok(result)) => issued.set(Some(result)),
        Some(Err(e)) => Toasts::error(e.to_string()),
        None => {}
    });
    Effect::new(move |_| match set_active.value().get() {
        Some(Ok(user)) if user.active => {
            Toasts::success(format!("{} can sign in again", user.name))
        }
        Some(Ok(user)) => Toasts::success(format!("{} is deactivated", user.name)),
        Some(Err(e)) => Toasts::error(e.to_string()),
        None => {}
    });

    let me_id = me.id.clone();
    view! {
        <Title text="Users" />
        <div class="toolbar">
            <h2 class="section-title">"Users"</h2>
            <button type="button" class="button primary" on:click=move |_| editor.set(Some(None))>
                "+ Add user"
            </button>
        </div>
        <Transition fallback=|| view! { <p class="loading">"Loading users…"</p> }>
            {move || {
                let me_id = me_id.clone();
                Suspend::new(async move {
                    match users.await {
                        Ok(list) => view! {
                            <table class="table" aria-label="Users">
                                <thead>
                                    <tr>
                                        <th scope="col">"Name"</th>
                                        <th scope="col">"E-mail"</th>
                                        <th scope="col">"Roles"</th>
                                        <th scope="col">"Status"</th>
                                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {list
                                        .into_iter()
                                        .map(|user| {
                                            let is_me = user.id == me_id;
                                            user_row(user, is_me, editor, pending, set_active)
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                        }
                        .into_any(),
                        Err(error) => view! { <LoadError error /> }.into_any(),
                    }
                })
            }}
        </Transition>
        {move || editor.get().map(|editing| view! {
            <UserForm editing create update on_close=move || editor.set(None) />
        })}
        {move || issued.get().map(|result| view! { <IssuedPasswordDialog result on_close=move || issued.set(None) /> })}
        {move || pending.get().map(|what| {
            let (title, message, label) = match &what {
                Pending::Deactivate(u) => (
                    format!("Deactivate {}?", u.name),
                    format!("{} will be signed out and cannot sign in until reactivated.", u.name),
                    "Deactivate",
                ),
                Pending::ResetPassword(u) => (
                    format!("Reset the password of {}?", u.name),
                    format!("{} will be signed out and must sign in with a new one-time password.", u.name),
                    "Reset password",
                ),
            };
            view! {
                <Confirm
                    title
                    message
                    confirm_label=label
                    on_cancel=move || pending.set(None)
                    on_confirm=move || {
                        match &what {
                            Pending::Deactivate(u) => {
                                set_active.dispatch(SetUserActive { id: u.id.clone(), active: false });
                            }
                            Pending::ResetPassword(u) => {
                                reset.dispatch(ResetPassword { id: u.id.clone() });
                            }
                        }
                        pending.set(None);
                    }
                />
            }
        })}
    }
}

fn user_row(
    user: User,
    is_me: bool,
    editor: RwSignal<Option<Option<User>>>,
    pending: RwSignal<Option<Pending>>,
    set_active: ServerAction<SetUserActive>,
) -> impl IntoView {
    let roles = user
        .roles
        .iter()
        .map(|r| r.label())
        .collect::<Vec<_>>()
        .join(", ");
    let (edit_user, reset_user, toggle_user) = (user.clone(), user.clone(), user.clone());
    view! {
        <tr data-testid="user-row">
            <td>
                {user.name.clone()}
                {is_me.then(|| view! { <span class="muted">" (you)"</span> })}
            </td>
            <td>{user.email.clone()}</td>
            <td>{roles}</td>
            <td>
                {if user.active {
                    view! { <span class="badge badge-ok">"Active"</span> }.into_any()
                } else {
                    view! { <span class="badge badge-muted">"Inactive"</span> }.into_any()
                }}
                {user.must_change_password.then(|| view! { <span class="badge badge-warn">"One-time password"</span> })}
            </td>
            <td class="row-actions">
                <button
                    type="button"
                    class="button subtle"
                    aria-label=format!("Edit {}", user.name)
                    on:click=move |_| editor.set(Some(Some(edit_user.clone())))
                >
                    "Edit"
                </button>
                <button
                    type="button"
                    class="button subtle"
                    aria-label=format!("Reset the password of {}", user.name)
                    on:click=move |_| pending.set(Some(Pending::ResetPassword(reset_user.clone())))
                >
                    "Reset password"
                </button>
                {(!is_me).then(|| {
                    let active = toggle_user.active;
                    let label = if active { "Deactivate" } else { "Activate" };
                    view! {
                        <button
                            type="button"
                            class="button subtle"
                            aria-label=format!("{label} {}", toggle_user.name)
                            on:click=move |_| {
                                if active {
                                    pending.set(Some(Pending::Deactivate(toggle_user.clone())));
                                } else {
                                    set_active.dispatch(SetUserActive { id: toggle_user.id.clone(), active: true });
                                }
                            }
                        >
                            {label}
                        </button>
                    }
                })}
            </td>
        </tr>
    }
}

#[component]
fn UserForm(
    editing: Option<User>,
    create: ServerAction<CreateUser>,
    update: ServerAction<UpdateUser>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    // A previous attempt's error belongs to that attempt.
    create.value().set(None);
    update.value().set(None);
    let id = editing.as_ref().map(|u| u.id.clone());
    let is_new = id.is_none();
    let name = RwSignal::new(editing.as_ref().map(|u| u.name.clone()).unwrap_or_default());
    let email = RwSignal::new(
        editing
            .as_ref()
            .map(|u| u.email.clone())
            .unwrap_or_default(),
    );
    let roles = RwSignal::new(
        editing
            .as_ref()
            .map(|u| u.roles.clone())
            .unwrap_or_else(|| vec![Role::User]),
    );
    let local_error = RwSignal::new(None::<AppError>);
    let error = Signal::derive(move || {
        local_error.get().or_else(|| {
            if is_new {
                create.value().get().and_then(Result::err)
            } else {
                update.value().get().and_then(Result::err)
            }
        })
    });
    let busy = Signal::derive(move || create.pending().get() || update.pending().get());

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let draft = UserDraft {
            email: email.get_untracked(),
            name: name.get_untracked(),
            roles: roles.get_untracked(),
        };
        if let Err(e) = draft.clone().validated() {
            local_error.set(Some(e));
            return;
        }
        local_error.set(None);
        match id.clone() {
            None => {
                create.dispatch(CreateUser { draft });
            }
            Some(id) => {
                update.dispatch(UpdateUser { id, draft });
            }
        }
    };

    let title = if is_new {
        "Add user".to_string()
    } else {
        format!(
            "Edit {}",
            editing
                .as_ref()
                .map(|u| u.name.as_str())
                .unwrap_or_default()
        )
    };
    view! {
        <Modal title on_close>
            <form class="stack" on:submit=submit novalidate>
                <div class="field">
                    <label for="user-name">"Name"</label>
                    <input id="user-name" type="text" maxlength="100" required autofocus bind:value=name />
                    <FieldError error field="name" />
                </div>
                <div class="field">
                    <label for="user-email">"E-mail"</label>
                    <input id="user-email" type="email" required bind:value=email />
                    <FieldError error field="email" />
                </div>
                <fieldset class="field">
                    <legend>"Roles"</legend>
                    {Role::ALL
                        .into_iter()
                        .map(|role| view! {
                            <label class="check">
                                <input
                                    type="checkbox"
                                    name="roles"
                                    value=role.as_str()
                                    prop:checked=move || roles.with(|r| r.contains(&role))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        roles.update(|r| {
                                            r.retain(|x| *x != role);
                                            if on {
                                                r.push(role);
                                            }
                                        });
                                    }
                                />
                                <span>
                                    <strong>{role.label()}</strong>
                                    <small>{role.description()}</small>
                                </span>
                            </label>
                        })
                        .collect_view()}
                    <FieldError error field="roles" />
                </fieldset>
                <FormError error />
                <div class="modal-actions">
                    <button type="button" class="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button type="submit" class="button primary" disabled=busy>
                        {if is_new { "Add user" } else { "Save" }}
                    </button>
                </div>
            </form>
        </Modal>
    }
}

#[component]
fn IssuedPasswordDialog(
    result: IssuedPassword,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    view! {
        <Modal title=format!("One-time password for {}", result.user.name) on_close>
            <p>
                "Give this password to " {result.user.name.clone()} " ("
                {result.user.email.clone()}
                "). They will choose their own password when they sign in. It is shown only now."
            </p>
            <p class="one-time-password">
                <code data-testid="one-time-password">{result.one_time_password.clone()}</code>
            </p>
            <div class="modal-actions">
                <button type="button" class="button primary" autofocus on:click=move |_| on_close.run(())>
                    "Done"
                </button>
            </div>
        </Modal>
    }
}

#[component]
pub fn GroupsPage() -> impl IntoView {
    let save = ServerAction::<SaveGroup>::new();
    let delete = ServerAction::<DeleteGroup>::new();
    let groups = Resource::new(
        move || (save.version().get(), delete.version().get()),
        |_| list_groups(),
    );
    let users = Resource::new(|| (), |_| list_users());
    let editor = RwSignal::new(None::<Option<Group>>);
    let deleting = RwSignal::new(None::<Group>);

    Effect::new(move |_| {
        if let Some(Ok(group)) = save.value().get() {
            editor.set(None);
            Toasts::success(format!("Saved group {}", group.name));
        }
    });
    Effect::new(move |_| match delete.value().get() {
        Some(Ok(())) => Toasts::success("Group deleted"),
        Some(Err(e)) => Toasts::error(e.to_string()),
        None => {}
    });

    view! {
        <Title text="Groups" />
        <div class="toolbar">
            <h2 class="section-title">"Groups"</h2>
            <button type="button" class="button primary" on:click=move |_| editor.set(Some(None))>
                "+ Add group"
            </button>
        </div>
        <Transition fallback=|| view! { <p class="loading">"Loading groups…"</p> }>
            {move || Suspend::new(async move {
                let (groups, users) = (groups.await, users.await);
                match (groups, users) {
                    (Ok(groups), _) if groups.is_empty() => view! {
                        <super::widgets::EmptyState
                            title="No groups yet"
                            message="Groups make it easy to give several people access to a data source at once."
                        />
                    }
                    .into_any(),
                    (Ok(groups), Ok(users)) => view! {
                        <table class="table" aria-label="Groups">
                            <thead>
                                <tr>
                                    <th scope="col">"Name"</th>
                                    <th scope="col">"Description"</th>
                                    <th scope="col">"Members"</th>
                                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr>
                            </thead>
                            <tbody>
                                {groups
                                    .into_iter()
                                    .map(|group| {
                                        let members = group
                                            .member_ids
                                            .iter()
                                            .filter_map(|id| users.iter().find(|u| &u.id == id))
                                            .map(|u| u.name.clone())
                                            .collect::<Vec<_>>()
                                            .join(", ");
                                        let (edit, remove) = (group.clone(), group.clone());
                                        view! {
                                            <tr data-testid="group-row">
                                                <td>{group.name.clone()}</td>
                                                <td>{group.description.clone()}</td>
                                                <td>{members}</td>
                                                <td class="row-actions">
                                                    <button type="button" class="button subtle" aria-label=format!("Edit {}", group.name)
                                                        on:click=move |_| editor.set(Some(Some(edit.clone())))>"Edit"</button>
                                                    <button type="button" class="button subtle" aria-label=format!("Delete {}", group.name)
                                                        on:click=move |_| deleting.set(Some(remove.clone()))>"Delete"</button>
                                                </td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    }
                    .into_any(),
                    (Err(error), _) | (_, Err(error)) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
        {move || editor.get().map(|editing| view! {
            <Transition>
                {move || {
                    let editing = editing.clone();
                    Suspend::new(async move {
                        let people = users.await.unwrap_or_default();
                        view! { <GroupForm editing people save on_close=move || editor.set(None) /> }
                    })
                }}
            </Transition>
        })}
        {move || deleting.get().map(|group| {
            let id = group.id.clone();
            view! {
                <Confirm
                    title=format!("Delete group {}?", group.name)
                    message="Its members keep their accounts; data sources shared with the group are no longer shared with them through it."
                    confirm_label="Delete"
                    on_cancel=move || deleting.set(None)
                    on_confirm=move || {
                        delete.dispatch(DeleteGroup { id: id.clone() });
                        deleting.set(None);
                    }
                />
            }
        })}
    }
}

#[component]
fn GroupForm(
    editing: Option<Group>,
    people: Vec<User>,
    save: ServerAction<SaveGroup>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    save.value().set(None);
    let id = editing.as_ref().map(|g| g.id.clone());
    let name = RwSignal::new(editing.as_ref().map(|g| g.name.clone()).unwrap_or_default());
    let description = RwSignal::new(
        editing
            .as_ref()
            .map(|g| g.description.clone())
            .unwrap_or_default(),
    );
    let members = RwSignal::new(
        editing
            .as_ref()
            .map(|g| g.member_ids.clone())
            .unwrap_or_default(),
    );
    let local_error = RwSignal::new(None::<AppError>);
    let error = Signal::derive(move || {
        local_error
            .get()
            .or_else(|| save.value().get().and_then(Result::err))
    });

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let draft = GroupDraft {
            name: name.get_untracked(),
            description: description.get_untracked(),
            member_ids: members.get_untracked(),
        };
        if let Err(e) = draft.clone().validated() {
            local_error.set(Some(e));
            return;
        }
        local_error.set(None);
        save.dispatch(SaveGroup {
            id: id.clone(),
            draft,
        });
    };
    let title = match &editing {
        Some(g) => format!("Edit group {}", g.name),
        None => "Add group".to_string(),
    };
    view! {
        <Modal title on_close>
            <form class="stack" on:submit=submit novalidate>
                <div class="field">
                    <label for="group-name">"Name"</label>
                    <input id="group-name" type="text" maxlength="100" required autofocus bind:value=name />
                    <FieldError error field="name" />
                </div>
                <div class="field">
                    <label for="group-description">"Description"</label>
                    <textarea id="group-description" maxlength="500" rows="2" bind:value=description></textarea>
                    <FieldError error field="description" />
                </div>
                <fieldset class="field member-list">
                    <legend>"Members"</legend>
                    {people
                        .into_iter()
                        .filter(|u| u.active)
                        .map(|user| {
                            let id = user.id.clone();
                            let checked_id = id.clone();
                            view! {
                                <label class="check">
                                    <input
                                        type="checkbox"
                                        prop:checked=move || members.with(|m| m.contains(&checked_id))
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            members.update(|m| {
                                                m.retain(|x| *x != id);
                                                if on {
                                                    m.push(id.clone());
                                                }
                                            });
                                        }
                                    />
                                    <span>{user.name.clone()} <small>{user.email.clone()}</small></span>
                                </label>
                            }
                        })
                        .collect_view()}
                    <FieldError error field="members" />
                </fieldset>
                <FormError error />
                <div class="modal-actions">
                    <button type="button" class="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button type="submit" class="button primary" disabled=save.pending()>"Save"</button>
                </div>
            </form>
        </Modal>
    }
}
