//! Forms (product.md §5): the list of forms, the designer with its Edit field dialog and
//! live preview, and the page that fills a form in.
//!
//! Everything the server renders comes from one blocking resource per page; list options,
//! the catalogue and previews load in the browser from effects after hydration, so
//! nothing created inside an async boundary has to line up between server and browser.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::{spawn_local, spawn_local_scoped_with_cancellation};
use leptos_meta::Title;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};

use super::layout::Forbidden;
use super::widgets::{Confirm, EmptyState, LoadError, Modal, Toasts};
use crate::api::forms::{
    DeleteForm, form_options, get_form, list_forms, preview_options, procore_objects,
    queryable_sources, save_form, submit_form,
};
use crate::error::AppError;
use crate::form::{
    Answer, Condition, Direction, DisplayFormat, FieldKind, Form, FormDraft, FormField,
    ListBinding, ListOption, ListSource, ObjectInfo, Operand, Operator, OptionsPage,
    OptionsRequest, QueryableSource, Submission, SubmissionState,
};
use crate::model::{Role, SessionUser};

mod data_rules;
mod submissions;

pub use submissions::SubmissionsPage;

const DEBOUNCE: Duration = Duration::from_millis(300);

/// The component that starts async work: the work can use its context (toasts, the
/// router) and stops if the component goes away first.
#[derive(Clone, Copy)]
struct Scope(StoredValue<Option<WeakOwner>>);

impl Scope {
    fn here() -> Scope {
        Scope(StoredValue::new(Owner::current().map(|o| o.downgrade())))
    }

    fn spawn(self, work: impl Future<Output = ()> + 'static) {
        let owner = self
            .0
            .try_with_value(|o| o.as_ref().and_then(WeakOwner::upgrade))
            .flatten();
        if let Some(owner) = owner {
            owner.with(|| spawn_local_scoped_with_cancellation(work));
        }
    }
}

fn design_url(id: &str) -> String {
    format!("/forms/{id}/design")
}

fn submissions_url(id: &str) -> String {
    format!("/forms/{id}/submissions")
}

fn fill_url(id: &str) -> String {
    format!("/forms/{id}/fill")
}

/// The ids of the fields a binding takes values from (project and conditions), in order.
fn referenced_fields(binding: &ListBinding) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for operand in binding
        .project
        .iter()
        .chain(binding.conditions.iter().map(|c| &c.value))
    {
        if let Operand::Field(id) = operand
            && !id.is_empty()
            && !ids.contains(id)
        {
            ids.push(id.clone());
        }
    }
    ids
}

/// A short id of letters and digits that no field of the form has yet.
fn next_field_id(fields: &[FormField]) -> String {
    let n = fields
        .iter()
        .filter_map(|f| f.id.strip_prefix('f')?.parse::<u32>().ok())
        .max()
        .unwrap_or(0)
        + 1;
    format!("f{n}")
}

/// Manual options, one a line: `text`, or `value | text` when they differ.
fn parse_manual(text: &str) -> Vec<ListOption> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| match line.split_once('|') {
            Some((value, display)) if !value.trim().is_empty() => ListOption {
                value: value.trim().to_string(),
                display: display.trim().to_string(),
            },
            _ => ListOption {
                value: line.to_string(),
                display: line.to_string(),
            },
        })
        .collect()
}

fn manual_text(options: &[ListOption]) -> String {
    options
        .iter()
        .map(|o| {
            if o.value == o.display {
                o.display.clone()
            } else {
                format!("{} | {}", o.value, o.display)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Moves the item at `from` to `to` (both indexes into the list before the move).
fn move_item<T>(list: &mut Vec<T>, from: usize, to: usize) {
    if from >= list.len() || to >= list.len() || from == to {
        return;
    }
    let item = list.remove(from);
    list.insert(to, item);
}

// ---------------------------------------------------------------------------------------
// The list of forms

#[component]
pub fn FormsPage() -> impl IntoView {
    let user = expect_context::<SessionUser>();
    let designer = user.has_role(Role::Designer);
    let delete = ServerAction::<DeleteForm>::new();
    let forms = Resource::new(move || delete.version().get(), |_| list_forms());
    let deleting = RwSignal::new(None::<Form>);
    let deleted_name = RwSignal::new(String::new());
    Effect::new(move |_| match delete.value().get() {
        Some(Ok(())) => Toasts::success(format!("Deleted {}", deleted_name.get_untracked())),
        Some(Err(e)) => Toasts::error(e.to_string()),
        None => {}
    });
    view! {
        <Title text="Forms" />
        <div class="page-header section-row">
            <h1>"Forms"</h1>
            {designer.then(|| view! {
                <A href=design_url("new") attr:class="button primary">"+ New form"</A>
            })}
        </div>
        <Transition fallback=|| view! { <p class="loading">"Loading forms…"</p> }>
            {move || Suspend::new(async move {
                match forms.await {
                    Ok(list) if list.is_empty() => view! {
                        <EmptyState
                            title="No forms yet"
                            message=if designer {
                                "Create a form, and bind its lists to Procore projects, RFIs and more."
                            } else {
                                "Forms appear here once a designer creates them."
                            }
                        />
                    }
                    .into_any(),
                    Ok(list) => view! {
                        <table class="table" aria-label="Forms">
                            <thead>
                                <tr>
                                    <th scope="col">"Name"</th>
                                    <th scope="col">"Fields"</th>
                                    <th scope="col">"Modified"</th>
                                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr>
                            </thead>
                            <tbody>
                                {list
                                    .into_iter()
                                    .map(|form| form_row(form, designer, deleting))
                                    .collect_view()}
                            </tbody>
                        </table>
                    }
                    .into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
        {move || deleting.get().map(|form| {
            let id = form.id.clone();
            let name = form.name.clone();
            view! {
                <Confirm
                    title=format!("Delete {}?", form.name)
                    message="The form and its definition are deleted. This cannot be undone."
                    confirm_label="Delete"
                    on_cancel=move || deleting.set(None)
                    on_confirm=move || {
                        deleted_name.set(name.clone());
                        delete.dispatch(DeleteForm { id: id.clone() });
                        deleting.set(None);
                    }
                />
            }
        })}
    }
}

fn form_row(form: Form, designer: bool, deleting: RwSignal<Option<Form>>) -> impl IntoView {
    let count = form.fields.len();
    let delete_label = format!("Delete {}", form.name);
    let fill_label = format!("Fill in {}", form.name);
    let submissions_label = format!("Submissions of {}", form.name);
    let to_delete = form.clone();
    view! {
        <tr data-testid="form-row">
            <td>
                {if designer {
                    view! { <A href=design_url(&form.id) attr:class="row-link">{form.name.clone()}</A> }.into_any()
                } else {
                    view! { <A href=fill_url(&form.id) attr:class="row-link">{form.name.clone()}</A> }.into_any()
                }}
            </td>
            <td>{if count == 1 { "1 field".to_string() } else { format!("{count} fields") }}</td>
            <td>
                <time datetime=form.updated_at.to_rfc3339()>
                    {form.updated_at.format("%Y-%m-%d %H:%M UTC").to_string()}
                </time>
            </td>
            <td class="row-actions">
                <A href=fill_url(&form.id) attr:class="button subtle" attr:aria-label=fill_label>"Fill in"</A>
                <A href=submissions_url(&form.id) attr:class="button subtle" attr:aria-label=submissions_label>"Submissions"</A>
                {designer.then(|| view! {
                    <button
                        type="button"
                        class="button subtle danger-text"
                        aria-label=delete_label
                        on:click=move |_| deleting.set(Some(to_delete.clone()))
                    >
                        "Delete"
                    </button>
                })}
            </td>
        </tr>
    }
}

// ---------------------------------------------------------------------------------------
// The designer

/// The catalogue and the data sources the designer may query, loaded once per page.
#[derive(Clone, Copy)]
struct Catalog {
    sources: RwSignal<Option<Result<Vec<QueryableSource>, AppError>>>,
    objects: RwSignal<Option<Result<Vec<ObjectInfo>, AppError>>>,
}

impl Catalog {
    fn load() -> Catalog {
        let catalog = Catalog {
            sources: RwSignal::new(None),
            objects: RwSignal::new(None),
        };
        // Effects run only in the browser, after hydration.
        Effect::new(move |_| {
            spawn_local(async move {
                let sources = queryable_sources().await;
                catalog.sources.try_set(Some(sources));
            });
            spawn_local(async move {
                let objects = procore_objects().await;
                catalog.objects.try_set(Some(objects));
            });
        });
        catalog
    }

    fn object(&self, key: &str) -> Option<ObjectInfo> {
        self.objects.with(|o| {
            o.as_ref()
                .and_then(|r| r.as_ref().ok())
                .and_then(|list| list.iter().find(|x| x.key == key).cloned())
        })
    }
}

#[component]
pub fn DesignerPage() -> impl IntoView {
    let user = expect_context::<SessionUser>();
    if !user.has_role(Role::Designer) {
        return view! { <Forbidden /> }.into_any();
    }
    let params = use_params_map();
    // The id the open designer holds once saved: a new form moves the URL to its id
    // without starting the designer over.
    let live_id = RwSignal::new(None::<String>);
    let target = Memo::new(move |previous: Option<&String>| {
        let wanted = params.with(|p| p.get("id").unwrap_or_default());
        if previous.map(String::as_str) == Some("new")
            && live_id.get_untracked().as_deref() == Some(wanted.as_str())
        {
            return "new".to_string();
        }
        wanted
    });
    let form = Resource::new(
        move || target.get(),
        |id| async move {
            if id == "new" {
                Ok(None)
            } else {
                get_form(id).await.map(Some)
            }
        },
    );
    let catalog = Catalog::load();
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading the form…"</p> }>
            {move || Suspend::new(async move {
                match form.await {
                    Ok(initial) => view! { <Designer initial live_id catalog /> }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[derive(Clone)]
struct Editing {
    /// `None` for a field being added.
    index: Option<usize>,
    field: FormField,
}

#[component]
fn Designer(
    initial: Option<Form>,
    live_id: RwSignal<Option<String>>,
    catalog: Catalog,
) -> impl IntoView {
    let id = RwSignal::new(initial.as_ref().map(|f| f.id.clone()));
    let name = RwSignal::new(initial.as_ref().map(|f| f.name.clone()).unwrap_or_default());
    let rules = RwSignal::new(
        initial
            .as_ref()
            .map(|f| f.rules.clone())
            .unwrap_or_default(),
    );
    let fields = RwSignal::new(initial.map(|f| f.fields).unwrap_or_default());
    let new_kind = RwSignal::new(FieldKind::Text);
    let editing = RwSignal::new(None::<Editing>);
    let deleting = RwSignal::new(None::<usize>);
    let dragging = RwSignal::new(None::<usize>);
    let drop_target = RwSignal::new(None::<usize>);
    let error = RwSignal::new(None::<AppError>);
    let saving = RwSignal::new(false);
    let scope = Scope::here();

    let add = move |_| {
        let kind = new_kind.get_untracked();
        let field = FormField {
            id: fields.with_untracked(|f| next_field_id(f)),
            label: String::new(),
            kind,
            required: false,
            list: (kind == FieldKind::List).then(|| ListSource::Manual {
                options: Vec::new(),
            }),
            format: DisplayFormat::Dropdown,
        };
        editing.set(Some(Editing { index: None, field }));
    };
    let move_field = move |from: usize, to: usize| {
        fields.update(|f| move_item(f, from, to));
    };
    let save = move || {
        if saving.get_untracked() {
            return;
        }
        let draft = FormDraft {
            name: name.get_untracked(),
            fields: fields.get_untracked(),
            rules: rules.get_untracked(),
        };
        if let Err(e) = draft.clone().validated() {
            error.set(Some(e));
            return;
        }
        error.set(None);
        saving.set(true);
        let current = id.get_untracked();
        scope.spawn(async move {
            let result = save_form(current.clone(), draft).await;
            saving.try_set(false);
            match result {
                Ok(form) => {
                    Toasts::success("Form saved");
                    id.try_set(Some(form.id.clone()));
                    name.try_set(form.name.clone());
                    fields.try_set(form.fields.clone());
                    rules.try_set(form.rules.clone());
                    if current.is_none() {
                        live_id.try_set(Some(form.id.clone()));
                        use_navigate()(
                            &design_url(&form.id),
                            NavigateOptions {
                                replace: true,
                                scroll: false,
                                ..Default::default()
                            },
                        );
                    }
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    };

    let row = move |index: usize, field: FormField, count: usize| {
        let label = if field.label.is_empty() {
            "Untitled".to_string()
        } else {
            field.label.clone()
        };
        let summary = field_summary(&field, catalog);
        let edit_field = field.clone();
        view! {
            <li
                class="field-row"
                class:dragging=move || dragging.get() == Some(index)
                class:drop-target=move || drop_target.get() == Some(index) && dragging.get() != Some(index)
                data-testid="field-row"
                draggable="true"
                on:dragstart=move |_| dragging.set(Some(index))
                on:dragend=move |_| {
                    dragging.set(None);
                    drop_target.set(None);
                }
                on:dragover=move |ev| {
                    ev.prevent_default();
                    drop_target.set(Some(index));
                }
                on:drop=move |ev| {
                    ev.prevent_default();
                    if let Some(from) = dragging.get_untracked() {
                        move_field(from, index);
                    }
                    dragging.set(None);
                    drop_target.set(None);
                }
            >
                <span class="drag-handle" aria-hidden="true" title="Drag to reorder">"⠿"</span>
                <div class="field-row-text">
                    <span class="field-row-label">
                        {label.clone()}
                        {field.required.then(|| view! { <span class="required-mark" title="Required">" *"</span> })}
                    </span>
                    <span class="field-row-summary muted">{summary}</span>
                </div>
                <div class="field-row-actions">
                    <button
                        type="button"
                        class="button subtle small"
                        aria-label=format!("Move {label} up")
                        disabled=index == 0
                        on:click=move |_| move_field(index, index - 1)
                    >
                        "↑"
                    </button>
                    <button
                        type="button"
                        class="button subtle small"
                        aria-label=format!("Move {label} down")
                        disabled={index + 1 >= count}
                        on:click=move |_| move_field(index, index + 1)
                    >
                        "↓"
                    </button>
                    <button
                        type="button"
                        class="button small"
                        aria-label=format!("Edit {label}")
                        on:click=move |_| editing.set(Some(Editing { index: Some(index), field: edit_field.clone() }))
                    >
                        "Edit"
                    </button>
                    <button
                        type="button"
                        class="button subtle small danger-text"
                        aria-label=format!("Delete {label}")
                        on:click=move |_| deleting.set(Some(index))
                    >
                        "Delete"
                    </button>
                </div>
            </li>
        }
    };

    view! {
        <Title text="Form designer" />
        <div class="page-header section-row">
            <h1>{move || if id.with(Option::is_some) { "Design form" } else { "New form" }}</h1>
            <div class="actions">
                {move || id.get().map(|id| view! {
                    <A href=fill_url(&id) attr:class="button">"Fill in"</A>
                    <A href=submissions_url(&id) attr:class="button">"Submissions"</A>
                })}
                <A href="/forms" attr:class="button subtle">"Back to forms"</A>
            </div>
        </div>
        <form
            class="stack designer"
            novalidate
            on:submit=move |ev| {
                ev.prevent_default();
                save();
            }
        >
            <div class="field">
                <label for="form-name">"Form name"</label>
                <input
                    id="form-name"
                    type="text"
                    maxlength="100"
                    autocomplete="off"
                    required
                    aria-invalid=move || error.with(|e| e.as_ref().is_some_and(|e| e.field() == Some("name"))).then_some("true")
                    prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))
                />
            </div>
            <section class="fields-panel" aria-labelledby="fields-title">
                <div class="section-row">
                    <h2 id="fields-title">"Fields"</h2>
                    <div class="inline-field">
                        <label for="new-field-kind" class="visually-hidden">"New field type"</label>
                        <select
                            id="new-field-kind"
                            on:change=move |ev| {
                                let value = event_target_value(&ev);
                                if let Some(kind) = FieldKind::ALL.into_iter().find(|k| k.label() == value) {
                                    new_kind.set(kind);
                                }
                            }
                        >
                            {FieldKind::ALL
                                .into_iter()
                                .map(|k| view! { <option value=k.label() prop:selected=move || new_kind.get() == k>{k.label()}</option> })
                                .collect_view()}
                        </select>
                        <button type="button" class="button" on:click=add>"+ Add field"</button>
                    </div>
                </div>
                {move || fields.with(Vec::is_empty).then(|| view! {
                    <p class="muted empty-fields">"No fields yet: choose a type and add the first one."</p>
                })}
                <ol class="field-list" aria-label="Fields">
                    {move || {
                        let list = fields.get();
                        let count = list.len();
                        list.into_iter()
                            .enumerate()
                            .map(|(index, field)| row(index, field, count))
                            .collect_view()
                    }}
                </ol>
                <p class="hint">"Drag a field to reorder it, or use its arrow buttons."</p>
            </section>
            <data_rules::RulesSection rules fields catalog />
            {move || error.get().map(|e| {
                let at = e.field().map(|f| describe_error_field(f, &fields.get_untracked()));
                view! {
                    <p class="form-error" role="alert">
                        {at.map(|a| format!("{a}: "))}
                        {e.to_string()}
                    </p>
                }
            })}
            <div class="actions">
                <button type="submit" class="button primary" disabled=move || saving.get()>
                    {move || if saving.get() { "Saving…" } else { "Save" }}
                </button>
            </div>
        </form>
        {move || editing.get().map(|Editing { index, field }| {
            let earlier: Vec<FormField> = fields.with_untracked(|f| match index {
                Some(i) => f[..i.min(f.len())].to_vec(),
                None => f.clone(),
            });
            view! {
                <FieldDialog
                    field
                    is_new=index.is_none()
                    earlier
                    catalog
                    on_close=move || editing.set(None)
                    on_save=move |field: FormField| {
                        fields.update(|f| match index {
                            Some(i) if i < f.len() => f[i] = field,
                            _ => f.push(field),
                        });
                        editing.set(None);
                    }
                />
            }
        })}
        {move || deleting.get().map(|index| {
            let label = fields.with_untracked(|f| f.get(index).map(|f| f.label.clone())).unwrap_or_default();
            view! {
                <Confirm
                    title=format!("Delete the field {label}?")
                    message="Lists that cascade from it stop working until you change them."
                    confirm_label="Delete"
                    on_cancel=move || deleting.set(None)
                    on_confirm=move || {
                        fields.update(|f| {
                            if index < f.len() {
                                f.remove(index);
                            }
                        });
                        deleting.set(None);
                    }
                />
            }
        })}
    }
}

/// "fields.2" → "Field 3 (RFI)", "rules.0" → "Rule 1".
fn describe_error_field(field: &str, fields: &[FormField]) -> String {
    if field == "name" {
        return "Form name".to_string();
    }
    if let Some(n) = field
        .strip_prefix("rules.")
        .and_then(|rest| rest.split('.').next())
        .and_then(|n| n.parse::<usize>().ok())
    {
        return format!("Rule {}", n + 1);
    }
    let index = field
        .strip_prefix("fields.")
        .and_then(|rest| rest.split('.').next())
        .and_then(|n| n.parse::<usize>().ok());
    match index {
        Some(i) => match fields.get(i) {
            Some(f) if !f.label.is_empty() => format!("Field {} ({})", i + 1, f.label),
            _ => format!("Field {}", i + 1),
        },
        None => field.to_string(),
    }
}

fn field_summary(field: &FormField, catalog: Catalog) -> String {
    let kind = field.kind.label();
    match &field.list {
        Some(ListSource::Manual { options }) => {
            format!("{kind} · {} options entered manually", options.len())
        }
        Some(ListSource::DataSource { binding }) => {
            let object = catalog
                .object(&binding.object)
                .map(|o| o.label)
                .unwrap_or_else(|| binding.object.clone());
            format!(
                "{kind} · {object} · shows {}, stores {}",
                binding.display_field, binding.value_field
            )
        }
        None => kind.to_string(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SourceKind {
    Manual,
    DataSource,
}

#[derive(Debug, Clone, PartialEq)]
enum Preview {
    /// Nothing to ask yet, with why.
    Idle(&'static str),
    Loading,
    Loaded(OptionsPage),
    Failed(String),
}

#[component]
fn FieldDialog(
    field: FormField,
    is_new: bool,
    earlier: Vec<FormField>,
    catalog: Catalog,
    #[prop(into)] on_save: Callback<FormField>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let field_id = field.id.clone();
    let label = RwSignal::new(field.label.clone());
    let required = RwSignal::new(field.required);
    let kind = RwSignal::new(field.kind);
    let format = RwSignal::new(field.format);
    let (source, manual, binding) = match &field.list {
        Some(ListSource::DataSource { binding }) => {
            (SourceKind::DataSource, String::new(), binding.clone())
        }
        Some(ListSource::Manual { options }) => (
            SourceKind::Manual,
            manual_text(options),
            ListBinding::default(),
        ),
        None => (SourceKind::Manual, String::new(), ListBinding::default()),
    };
    let source = RwSignal::new(source);
    let manual = RwSignal::new(manual);
    let binding = RwSignal::new(binding);
    let samples = RwSignal::new(HashMap::<String, String>::new());
    let problem = RwSignal::new(None::<String>);
    // Cascades may only come from list fields earlier in the form.
    let earlier_lists = StoredValue::new(
        earlier
            .into_iter()
            .filter(|f| f.kind == FieldKind::List)
            .map(|f| (f.id, f.label))
            .collect::<Vec<_>>(),
    );

    let object = Memo::new(move |_| {
        let key = binding.with(|b| b.object.clone());
        catalog.object(&key)
    });

    // The live preview: re-asked (debounced) whenever the binding or a sample changes.
    let preview = RwSignal::new(Preview::Idle(""));
    let generation = StoredValue::new(0u64);
    Effect::new(move |_| {
        let b = binding.get();
        let wanted = kind.get() == FieldKind::List && source.get() == SourceKind::DataSource;
        let values: Vec<(String, String)> = samples.with(|s| {
            referenced_fields(&b)
                .into_iter()
                .filter_map(|id| s.get(&id).map(|v| (id, v.trim().to_string())))
                .filter(|(_, v)| !v.is_empty())
                .collect()
        });
        generation.update_value(|g| *g += 1);
        let current = generation.get_value();
        if !wanted {
            return;
        }
        if b.data_source.is_empty() || b.object.is_empty() {
            preview.set(Preview::Idle(
                "Choose a data source and a Procore object to see the options.",
            ));
            return;
        }
        if b.display_field.is_empty() || b.value_field.is_empty() {
            preview.set(Preview::Idle(
                "Choose the Display field and the Value field to see the options.",
            ));
            return;
        }
        preview.set(Preview::Loading);
        set_timeout(
            move || {
                if generation.try_get_value() != Some(current) {
                    return;
                }
                spawn_local(async move {
                    let request = OptionsRequest {
                        values,
                        search: None,
                        page: 1,
                    };
                    let result = preview_options(b, request).await;
                    if generation.try_get_value() != Some(current) {
                        return;
                    }
                    preview.try_set(match result {
                        Ok(page) => Preview::Loaded(page),
                        Err(e) => Preview::Failed(e.to_string()),
                    });
                });
            },
            DEBOUNCE,
        );
    });

    let submit = move || {
        let text = label.get_untracked();
        if text.trim().is_empty() {
            problem.set(Some("Enter a label.".to_string()));
            return;
        }
        let k = kind.get_untracked();
        let list = if k == FieldKind::List {
            Some(match source.get_untracked() {
                SourceKind::Manual => {
                    let options = parse_manual(&manual.get_untracked());
                    if options.is_empty() {
                        problem.set(Some("Enter at least one option.".to_string()));
                        return;
                    }
                    ListSource::Manual { options }
                }
                SourceKind::DataSource => {
                    let b = binding.get_untracked();
                    let info = object.get_untracked();
                    if b.data_source.is_empty() || b.object.is_empty() {
                        problem.set(Some("Choose a data source and a Procore object.".into()));
                        return;
                    }
                    if b.display_field.is_empty() || b.value_field.is_empty() {
                        problem.set(Some("Choose the Display field and the Value field.".into()));
                        return;
                    }
                    let project_missing = match &b.project {
                        None => true,
                        Some(Operand::Constant(v)) | Some(Operand::Field(v)) => v.trim().is_empty(),
                    };
                    if info.is_some_and(|i| i.needs_project) && project_missing {
                        problem.set(Some(
                            "This object belongs to a project: enter a project id or choose the field it comes from.".into(),
                        ));
                        return;
                    }
                    let incomplete_condition = b.conditions.iter().any(|c| {
                        c.field.is_empty() || matches!(&c.value, Operand::Field(v) if v.is_empty())
                    });
                    if incomplete_condition {
                        problem.set(Some(
                            "Complete or remove the conditions without a field.".into(),
                        ));
                        return;
                    }
                    ListSource::DataSource { binding: b }
                }
            })
        } else {
            None
        };
        problem.set(None);
        on_save.run(FormField {
            id: field_id.clone(),
            label: text.trim().to_string(),
            kind: k,
            required: required.get_untracked(),
            list,
            format: format.get_untracked(),
        });
    };

    let title = if is_new { "Add field" } else { "Edit field" };
    view! {
        <Modal title on_close>
            <form
                class="field-editor"
                novalidate
                on:submit=move |ev| {
                    ev.prevent_default();
                    submit();
                }
            >
                <div class="field-editor-columns">
                    <div class="stack field-editor-settings">
                        <div class="field">
                            <label for="fd-label">"Label"</label>
                            <input
                                id="fd-label"
                                type="text"
                                maxlength="100"
                                autocomplete="off"
                                autofocus
                                prop:value=move || label.get()
                                on:input=move |ev| label.set(event_target_value(&ev))
                            />
                        </div>
                        <label class="check" for="fd-required">
                            <input
                                id="fd-required"
                                type="checkbox"
                                prop:checked=move || required.get()
                                on:change=move |ev| required.set(event_target_checked(&ev))
                            />
                            <span>"Required"</span>
                        </label>
                        <div class="field">
                            <label for="fd-kind">"Kind"</label>
                            <select
                                id="fd-kind"
                                on:change=move |ev| {
                                    let value = event_target_value(&ev);
                                    if let Some(k) = FieldKind::ALL.into_iter().find(|k| k.label() == value) {
                                        kind.set(k);
                                    }
                                }
                            >
                                {FieldKind::ALL
                                    .into_iter()
                                    .map(|k| view! { <option value=k.label() prop:selected=move || kind.get() == k>{k.label()}</option> })
                                    .collect_view()}
                            </select>
                        </div>
                        {move || (kind.get() == FieldKind::List).then(|| view! {
                            <ListSettings source manual binding format object catalog earlier_lists />
                        })}
                    </div>
                    {move || match (kind.get(), source.get()) {
                        (FieldKind::List, SourceKind::DataSource) => Some(view! {
                            <PreviewPanel preview label binding samples format earlier_lists />
                        }.into_any()),
                        (FieldKind::List, SourceKind::Manual) => Some(view! { <ManualPreview manual label format /> }.into_any()),
                        _ => None,
                    }}
                </div>
                {move || problem.get().map(|p| view! { <p class="form-error" role="alert">{p}</p> })}
                <div class="modal-actions">
                    <button type="button" class="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button type="submit" class="button primary">"OK"</button>
                </div>
            </form>
        </Modal>
    }
}

#[component]
fn ListSettings(
    source: RwSignal<SourceKind>,
    manual: RwSignal<String>,
    binding: RwSignal<ListBinding>,
    format: RwSignal<DisplayFormat>,
    object: Memo<Option<ObjectInfo>>,
    catalog: Catalog,
    earlier_lists: StoredValue<Vec<(String, String)>>,
) -> impl IntoView {
    view! {
        <fieldset class="field">
            <legend>"List source"</legend>
            <label class="check" for="fd-source-manual">
                <input
                    id="fd-source-manual"
                    type="radio"
                    name="fd-source"
                    prop:checked=move || source.get() == SourceKind::Manual
                    on:change=move |_| source.set(SourceKind::Manual)
                />
                <span>"Entered manually"</span>
            </label>
            <label class="check" for="fd-source-data">
                <input
                    id="fd-source-data"
                    type="radio"
                    name="fd-source"
                    prop:checked=move || source.get() == SourceKind::DataSource
                    on:change=move |_| source.set(SourceKind::DataSource)
                />
                <span>"Data source"</span>
            </label>
        </fieldset>
        {move || match source.get() {
            SourceKind::Manual => view! {
                <div class="field">
                    <label for="fd-options">"Options"</label>
                    <textarea
                        id="fd-options"
                        rows="5"
                        aria-describedby="fd-options-hint"
                        prop:value=move || manual.get()
                        on:input=move |ev| manual.set(event_target_value(&ev))
                    ></textarea>
                    <p class="hint" id="fd-options-hint">"One option a line; write “value | text” to store a value other than the text."</p>
                </div>
            }
            .into_any(),
            SourceKind::DataSource => view! { <BindingSettings binding object catalog earlier_lists /> }.into_any(),
        }}
        <div class="field">
            <label for="fd-format">"Display format"</label>
            <select
                id="fd-format"
                on:change=move |ev| {
                    format.set(if event_target_value(&ev) == "radio" { DisplayFormat::Radio } else { DisplayFormat::Dropdown })
                }
            >
                <option value="dropdown" prop:selected=move || format.get() == DisplayFormat::Dropdown>"Dropdown"</option>
                <option value="radio" prop:selected=move || format.get() == DisplayFormat::Radio>"Radio list"</option>
            </select>
        </div>
    }
}

/// Options for the object's catalogue fields: "Label (kind)", valued by the field name.
fn field_options(
    object: Memo<Option<ObjectInfo>>,
    selected: impl Fn() -> String + Copy + Send + Sync + 'static,
    only_sortable: bool,
) -> impl IntoView {
    move || {
        object
            .get()
            .map(|o| o.fields)
            .unwrap_or_default()
            .into_iter()
            .filter(|f| !only_sortable || f.sortable || selected() == f.name)
            .map(|f| {
                let name = f.name.clone();
                view! {
                    <option value=f.name.clone() prop:selected=move || selected() == name>
                        {format!("{} ({})", f.label, f.kind)}
                    </option>
                }
            })
            .collect_view()
    }
}

#[component]
fn OperandInput(
    /// For ids and labels, e.g. `fd-project`.
    #[prop(into)]
    id: String,
    #[prop(into)] label: String,
    #[prop(into)] value: Signal<Option<Operand>>,
    #[prop(into)] on_change: Callback<Operand>,
    earlier_lists: StoredValue<Vec<(String, String)>>,
) -> impl IntoView {
    let is_field = move || matches!(value.get(), Some(Operand::Field(_)));
    let text = move || match value.get() {
        Some(Operand::Constant(v)) | Some(Operand::Field(v)) => v,
        None => String::new(),
    };
    let mode_id = format!("{id}-from");
    let constant_id = format!("{id}-value");
    let field_id = format!("{id}-field");
    let mode_label = format!("{label} from");
    let constant_label = format!("{label} value");
    let field_label = format!("{label} field");
    view! {
        <div class="operand">
            <label for=mode_id.clone() class="visually-hidden">{mode_label}</label>
            <select
                id=mode_id
                on:change=move |ev| {
                    if event_target_value(&ev) == "field" {
                        let first = earlier_lists.with_value(|l| l.first().map(|f| f.0.clone())).unwrap_or_default();
                        on_change.run(Operand::Field(first));
                    } else {
                        on_change.run(Operand::Constant(String::new()));
                    }
                }
            >
                <option value="constant" prop:selected=move || !is_field()>"A constant"</option>
                <option value="field" prop:selected=is_field>"Another field"</option>
            </select>
            {move || if is_field() {
                let field_id = field_id.clone();
                view! {
                    <label for=field_id.clone() class="visually-hidden">{field_label.clone()}</label>
                    <select
                        id=field_id
                        on:change=move |ev| on_change.run(Operand::Field(event_target_value(&ev)))
                    >
                        <option value="" prop:selected=move || text().is_empty()>"Choose a field"</option>
                        {earlier_lists
                            .get_value()
                            .into_iter()
                            .map(|(fid, flabel)| {
                                let selected_id = fid.clone();
                                view! { <option value=fid prop:selected=move || text() == selected_id>{flabel}</option> }
                            })
                            .collect_view()}
                    </select>
                }
                .into_any()
            } else {
                let constant_id = constant_id.clone();
                view! {
                    <label for=constant_id.clone() class="visually-hidden">{constant_label.clone()}</label>
                    <input
                        id=constant_id
                        type="text"
                        autocomplete="off"
                        prop:value=text
                        on:input=move |ev| on_change.run(Operand::Constant(event_target_value(&ev)))
                    />
                }
                .into_any()
            }}
        </div>
    }
}

#[component]
fn BindingSettings(
    binding: RwSignal<ListBinding>,
    object: Memo<Option<ObjectInfo>>,
    catalog: Catalog,
    earlier_lists: StoredValue<Vec<(String, String)>>,
) -> impl IntoView {
    let choose_object = move |key: String| {
        let info = catalog.object(&key);
        binding.update(|b| {
            b.object = key;
            b.sort_by = None;
            b.conditions.clear();
            match &info {
                Some(info) => {
                    b.display_field = info.display_field.clone();
                    b.value_field = info.value_field.clone();
                    if !info.needs_project {
                        b.project = None;
                    } else if b.project.is_none() {
                        b.project = Some(Operand::Constant(String::new()));
                    }
                }
                None => {
                    b.display_field.clear();
                    b.value_field.clear();
                    b.project = None;
                }
            }
        });
    };
    let sort_note = move || {
        let sort = binding.with(|b| b.sort_by.clone())?;
        let info = object.get()?;
        let f = info.fields.iter().find(|f| f.name == sort)?;
        (!f.sortable).then_some(
            "Procore cannot sort by this field: Trestle reads every page and sorts them itself.",
        )
    };
    view! {
        <div class="field">
            <label for="fd-data-source">"Data source"</label>
            <select
                id="fd-data-source"
                on:change=move |ev| {
                    let value = event_target_value(&ev);
                    binding.update(|b| b.data_source = value);
                }
            >
                <option value="" prop:selected=move || binding.with(|b| b.data_source.is_empty())>"Choose a data source"</option>
                {move || match catalog.sources.get() {
                    Some(Ok(list)) => list
                        .into_iter()
                        .map(|s| {
                            let id = s.id.clone();
                            let text = if s.ready { s.name.clone() } else { format!("{} (not ready)", s.name) };
                            view! {
                                <option value=s.id.clone() prop:selected=move || binding.with(|b| b.data_source == id)>{text}</option>
                            }
                        })
                        .collect_view()
                        .into_any(),
                    _ => ().into_any(),
                }}
            </select>
            {move || match catalog.sources.get() {
                None => Some(view! { <p class="hint">"Loading data sources…"</p> }.into_any()),
                Some(Err(e)) => Some(view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any()),
                Some(Ok(list)) if list.is_empty() => Some(view! {
                    <p class="hint">"There is no data source you may query. Ask a data source manager to add you to one's connection users."</p>
                }.into_any()),
                Some(Ok(list)) => {
                    let chosen = binding.with(|b| b.data_source.clone());
                    list.iter().any(|s| s.id == chosen && !s.ready).then(|| view! {
                        <p class="hint warn-text">"This data source is not ready: authorize and test it first."</p>
                    }.into_any())
                }
            }}
        </div>
        <div class="field">
            <label for="fd-object">"Procore object"</label>
            <select id="fd-object" on:change=move |ev| choose_object(event_target_value(&ev))>
                <option value="" prop:selected=move || binding.with(|b| b.object.is_empty())>"Choose an object"</option>
                {move || match catalog.objects.get() {
                    Some(Ok(list)) => list
                        .into_iter()
                        .map(|o| {
                            let key = o.key.clone();
                            view! {
                                <option value=o.key.clone() prop:selected=move || binding.with(|b| b.object == key)>{o.label}</option>
                            }
                        })
                        .collect_view()
                        .into_any(),
                    _ => ().into_any(),
                }}
            </select>
            {move || match catalog.objects.get() {
                Some(Err(e)) => Some(view! { <p class="form-error" role="alert">{e.to_string()}</p> }),
                _ => None,
            }}
        </div>
        {move || object.get().filter(|o| o.needs_project).map(|_| view! {
            <div class="field">
                <span class="field-label" id="fd-project-label">"Project"</span>
                <p class="hint">"This object belongs to a project: a project id, or the list field it comes from."</p>
                <OperandInput
                    id="fd-project"
                    label="Project"
                    value=Signal::derive(move || binding.with(|b| b.project.clone()))
                    on_change=move |o: Operand| binding.update(|b| b.project = Some(o))
                    earlier_lists
                />
            </div>
        })}
        {move || object.get().map(|_| view! {
            <div class="field-grid">
                <div class="field">
                    <label for="fd-display">"Display field"</label>
                    <select
                        id="fd-display"
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            binding.update(|b| b.display_field = v);
                        }
                    >
                        {field_options(object, move || binding.with(|b| b.display_field.clone()), false)}
                    </select>
                </div>
                <div class="field">
                    <label for="fd-value">"Value field"</label>
                    <select
                        id="fd-value"
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            binding.update(|b| b.value_field = v);
                        }
                    >
                        {field_options(object, move || binding.with(|b| b.value_field.clone()), false)}
                    </select>
                </div>
                <div class="field">
                    <label for="fd-sort">"Sort by"</label>
                    <select
                        id="fd-sort"
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            binding.update(|b| b.sort_by = (!v.is_empty()).then_some(v));
                        }
                    >
                        <option value="" prop:selected=move || binding.with(|b| b.sort_by.is_none())>"Procore's order"</option>
                        {field_options(object, move || binding.with(|b| b.sort_by.clone().unwrap_or_default()), false)}
                    </select>
                    {move || sort_note().map(|n| view! { <p class="hint">{n}</p> })}
                </div>
                <div class="field">
                    <label for="fd-direction">"Direction"</label>
                    <select
                        id="fd-direction"
                        on:change=move |ev| {
                            let d = if event_target_value(&ev) == "desc" { Direction::Desc } else { Direction::Asc };
                            binding.update(|b| b.direction = d);
                        }
                    >
                        <option value="asc" prop:selected=move || binding.with(|b| b.direction == Direction::Asc)>"Ascending"</option>
                        <option value="desc" prop:selected=move || binding.with(|b| b.direction == Direction::Desc)>"Descending"</option>
                    </select>
                </div>
            </div>
            <Conditions binding object earlier_lists />
        })}
    }
}

#[component]
fn Conditions(
    binding: RwSignal<ListBinding>,
    object: Memo<Option<ObjectInfo>>,
    earlier_lists: StoredValue<Vec<(String, String)>>,
) -> impl IntoView {
    let count = Memo::new(move |_| binding.with(|b| b.conditions.len()));
    view! {
        <fieldset class="field conditions">
            <legend>"Conditions"</legend>
            {move || (count.get() == 0).then(|| view! { <p class="hint">"No conditions: every record is an option."</p> })}
            {condition_rows(
                binding,
                |b| &b.conditions,
                |b| &mut b.conditions,
                object,
                earlier_lists,
                ConditionNames { id: "fd-condition", label: "Condition", test_id: "condition" },
            )}
        </fieldset>
    }
}

/// How one list of conditions names its controls, so specs and labels tell lists apart.
#[derive(Clone, Copy)]
struct ConditionNames {
    id: &'static str,
    label: &'static str,
    test_id: &'static str,
}

/// The rows of a list of conditions (Procore field, operator, constant or form field)
/// kept in `owner`, with an add button: the same for a list field's conditions and a data
/// rule's Find conditions. Every field is offered: Procore filters those it can, and
/// Trestle checks the others after reading the list.
fn condition_rows<T: Send + Sync + 'static>(
    owner: RwSignal<T>,
    list: fn(&T) -> &Vec<Condition>,
    list_mut: fn(&mut T) -> &mut Vec<Condition>,
    object: Memo<Option<ObjectInfo>>,
    operands: StoredValue<Vec<(String, String)>>,
    names: ConditionNames,
) -> impl IntoView {
    let count = Memo::new(move |_| owner.with(|o| list(o).len()));
    let get = move |i: usize| owner.with(|o| list(o).get(i).cloned());
    let edit = move |i: usize, change: &dyn Fn(&mut Condition)| {
        owner.update(|o| {
            if let Some(c) = list_mut(o).get_mut(i) {
                change(c)
            }
        })
    };
    let add = move |_| {
        owner.update(|o| {
            list_mut(o).push(Condition {
                field: String::new(),
                op: Operator::Eq,
                value: Operand::Constant(String::new()),
            })
        })
    };
    let ConditionNames { id, label, test_id } = names;
    view! {
        <ol class="condition-list">
            {move || {
                (0..count.get())
                    .map(|i| {
                        let n = i + 1;
                        let select_id = format!("{id}-{n}-field");
                        let current = move || get(i).map(|c| c.field).unwrap_or_default();
                        view! {
                            <li class="condition" data-testid=test_id>
                                <label for=select_id.clone() class="visually-hidden">{format!("{label} {n} Procore field")}</label>
                                <select
                                    id=select_id
                                    on:change=move |ev| {
                                        let v = event_target_value(&ev);
                                        edit(i, &|c| c.field = v.clone());
                                    }
                                >
                                    <option value="" prop:selected=move || current().is_empty()>"Choose a field"</option>
                                    {move || {
                                        object
                                            .get()
                                            .map(|o| o.fields)
                                            .unwrap_or_default()
                                            .into_iter()
                                            .map(|f| {
                                                let name = f.name.clone();
                                                let how = if f.filterable { "" } else { ", checked by Trestle" };
                                                view! {
                                                    <option value=f.name.clone() prop:selected=move || current() == name>
                                                        {format!("{} ({}{how})", f.label, f.kind)}
                                                    </option>
                                                }
                                            })
                                            .collect_view()
                                    }}
                                </select>
                                {operator_select(
                                    format!("{id}-{n}-op"),
                                    format!("{label} {n} operator"),
                                    Signal::derive(move || get(i).map(|c| c.op)),
                                    move |op| edit(i, &|c| c.op = op),
                                )}
                                <OperandInput
                                    id=format!("{id}-{n}")
                                    label=format!("{label} {n}")
                                    value=Signal::derive(move || get(i).map(|c| c.value))
                                    on_change=move |o: Operand| edit(i, &|c| c.value = o.clone())
                                    earlier_lists=operands
                                />
                                <button
                                    type="button"
                                    class="button subtle small"
                                    aria-label=format!("Remove {} {n}", label.to_lowercase())
                                    on:click=move |_| owner.update(|o| {
                                        let conditions = list_mut(o);
                                        if i < conditions.len() {
                                            conditions.remove(i);
                                        }
                                    })
                                >
                                    "×"
                                </button>
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ol>
        <button type="button" class="button small add-condition" on:click=add>"+ Add condition"</button>
    }
}

/// The list exactly as a person filling the form will meet it: the same control, the same
/// options in the same order. Choosing in it changes nothing.
fn preview_control(label: String, format: DisplayFormat, options: Vec<ListOption>) -> AnyView {
    let field = FormField {
        id: "preview".into(),
        label: if label.trim().is_empty() {
            "List".into()
        } else {
            label
        },
        kind: FieldKind::List,
        required: false,
        list: None,
        format,
    };
    view! { <div class="field list-field">{choices(&field, Signal::stored(options), RwSignal::new(HashMap::new()))}</div> }
        .into_any()
}

/// A manual list's preview follows the options as they are typed.
#[component]
fn ManualPreview(
    manual: RwSignal<String>,
    label: RwSignal<String>,
    format: RwSignal<DisplayFormat>,
) -> impl IntoView {
    view! {
        <section class="preview-panel" aria-labelledby="preview-title">
            <h3 id="preview-title">"Preview"</h3>
            <div class="preview-body" aria-live="polite">
                {move || {
                    let options = parse_manual(&manual.get());
                    if options.is_empty() {
                        view! { <p class="hint">"Enter the options, one per line, to see the list."</p> }.into_any()
                    } else {
                        preview_control(label.get(), format.get(), options)
                    }
                }}
            </div>
        </section>
    }
}

/// How a condition compares its field with its value.
fn operator_select(
    id: String,
    label: String,
    current: Signal<Option<Operator>>,
    on_change: impl Fn(Operator) + 'static,
) -> impl IntoView {
    view! {
        <label for=id.clone() class="visually-hidden">{label}</label>
        <select
            id=id
            class="operator"
            on:change=move |ev| {
                if let Some(op) = Operator::from_key(&event_target_value(&ev)) {
                    on_change(op);
                }
            }
        >
            {Operator::ALL
                .into_iter()
                .map(|op| view! { <option value=op.key() prop:selected=move || current.get() == Some(op)>{op.label()}</option> })
                .collect_view()}
        </select>
    }
}

#[component]
fn PreviewPanel(
    preview: RwSignal<Preview>,
    label: RwSignal<String>,
    binding: RwSignal<ListBinding>,
    samples: RwSignal<HashMap<String, String>>,
    format: RwSignal<DisplayFormat>,
    earlier_lists: StoredValue<Vec<(String, String)>>,
) -> impl IntoView {
    let referenced = Memo::new(move |_| binding.with(referenced_fields));
    view! {
        <section class="preview-panel" aria-labelledby="preview-title">
            <h3 id="preview-title">"Preview"</h3>
            {move || {
                let ids = referenced.get();
                (!ids.is_empty()).then(|| {
                    ids.into_iter()
                        .map(|id| {
                            let label = earlier_lists
                                .with_value(|l| l.iter().find(|f| f.0 == id).map(|f| f.1.clone()))
                                .unwrap_or_else(|| id.clone());
                            let input_id = format!("fd-sample-{id}");
                            let key = id.clone();
                            let read = id.clone();
                            view! {
                                <div class="field">
                                    <label for=input_id.clone()>{format!("Sample value for {label}")}</label>
                                    <input
                                        id=input_id
                                        type="text"
                                        autocomplete="off"
                                        placeholder="The value that field would hold"
                                        prop:value=move || samples.with(|s| s.get(&read).cloned().unwrap_or_default())
                                        on:input=move |ev| {
                                            let v = event_target_value(&ev);
                                            samples.update(|s| { s.insert(key.clone(), v); });
                                        }
                                    />
                                </div>
                            }
                        })
                        .collect_view()
                })
            }}
            <div class="preview-body" aria-live="polite" aria-busy=move || (preview.get() == Preview::Loading).then_some("true")>
                {move || match preview.get() {
                    Preview::Idle(message) => view! { <p class="hint">{message}</p> }.into_any(),
                    Preview::Loading => view! { <p class="loading">"Loading options…"</p> }.into_any(),
                    Preview::Failed(message) => view! { <p class="form-error" role="alert">{message}</p> }.into_any(),
                    Preview::Loaded(page) if page.options.is_empty() => view! {
                        <p class="muted" data-testid="preview-empty">"No options match."</p>
                    }.into_any(),
                    Preview::Loaded(page) => {
                        let shown = page.options.len();
                        let total = page.total;
                        view! {
                            {preview_control(label.get(), format.get(), page.options)}
                            <p class="hint" data-testid="preview-count">
                                {if total > shown as u64 {
                                    format!("The first {shown} of {total}; people filling the form can load more or search.")
                                } else if total == 1 {
                                    "1 option".to_string()
                                } else {
                                    format!("{total} options")
                                }}
                            </p>
                        }
                        .into_any()
                    }
                }}
            </div>
        </section>
    }
}

// ---------------------------------------------------------------------------------------
// Filling in a form

#[component]
pub fn FillPage() -> impl IntoView {
    let params = use_params_map();
    let form = Resource::new(
        move || params.with(|p| p.get("id").unwrap_or_default()),
        get_form,
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading the form…"</p> }>
            {move || Suspend::new(async move {
                match form.await {
                    Ok(form) => view! { <FillForm form /> }.into_any(),
                    Err(error) => view! { <Title text="Form" /><LoadError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// A field's value and the text the person saw.
type Values = RwSignal<HashMap<String, (String, String)>>;

fn value_of(values: Values, id: &str) -> String {
    values.with(|v| v.get(id).map(|x| x.0.clone()).unwrap_or_default())
}

fn set_value(values: Values, id: &str, value: String, display: String) {
    values.update(|v| {
        v.insert(id.to_string(), (value, display));
    });
}

#[component]
fn FillForm(form: Form) -> impl IntoView {
    let values: Values = RwSignal::new(HashMap::new());
    let problem = RwSignal::new(None::<String>);
    let submitted = RwSignal::new(None::<RwSignal<Submission>>);
    let sending = RwSignal::new(false);
    let scope = Scope::here();
    let form_id = StoredValue::new(form.id.clone());
    let fields = StoredValue::new(form.fields.clone());
    let labels: HashMap<String, String> = form
        .fields
        .iter()
        .map(|f| (f.id.clone(), f.label.clone()))
        .collect();
    let labels = StoredValue::new(labels);
    let answer_labels = StoredValue::new(
        form.fields
            .iter()
            .map(|f| (f.id.clone(), f.label.clone()))
            .collect::<Vec<_>>(),
    );

    let submit = move || {
        if sending.get_untracked() {
            return;
        }
        let all = values.get_untracked();
        let missing: Vec<String> = fields.with_value(|fs| {
            fs.iter()
                .filter(|f| f.required && f.kind != FieldKind::Checkbox)
                .filter(|f| all.get(&f.id).is_none_or(|v| v.0.trim().is_empty()))
                .map(|f| f.label.clone())
                .collect()
        });
        if !missing.is_empty() {
            problem.set(Some(format!("Please fill in: {}.", missing.join(", "))));
            return;
        }
        let answers: Vec<Answer> = fields.with_value(|fs| {
            fs.iter()
                .filter_map(|f| {
                    let (value, display) = match all.get(&f.id) {
                        Some(v) => v.clone(),
                        None if f.kind == FieldKind::Checkbox => {
                            ("false".to_string(), "No".to_string())
                        }
                        None => return None,
                    };
                    (!value.is_empty()).then(|| Answer {
                        field: f.id.clone(),
                        value,
                        display,
                    })
                })
                .collect()
        });
        problem.set(None);
        sending.set(true);
        let form_id = form_id.get_value();
        scope.spawn(async move {
            let result = submit_form(form_id, answers).await;
            sending.try_set(false);
            match result {
                Ok(submission) => {
                    if submission.state == SubmissionState::Done {
                        Toasts::success("Form submitted");
                    }
                    submitted.try_set(Some(RwSignal::new(submission)));
                }
                Err(e) => {
                    problem.try_set(Some(e.to_string()));
                }
            }
        });
    };

    let user = expect_context::<SessionUser>();
    let designer = user.has_role(Role::Designer);
    view! {
        <Title text=form.name.clone() />
        <div class="page-header section-row">
            <h1>{form.name.clone()}</h1>
            <div class="actions">
                {designer.then(|| view! { <A href=design_url(&form.id) attr:class="button">"Design"</A> })}
                <A href="/forms" attr:class="button subtle">"Back to forms"</A>
            </div>
        </div>
        {move || if let Some(submission) = submitted.get() {
            let done = move || submission.with(|s| s.state == SubmissionState::Done);
            let form_id = form_id.get_value();
            view! {
                <section class="card submitted" role="status">
                    <h2>{move || if done() { "Form submitted" } else { "Saved, but a data rule failed" }}</h2>
                    <p>{move || if done() {
                        "Your answers were saved."
                    } else {
                        "Nothing you entered is lost: retry now, or later from the form's submissions."
                    }}</p>
                    <submissions::Outcome submission labels=answer_labels />
                    <A href=submissions_url(&form_id) attr:class="button subtle">"All submissions"</A>
                    <button
                        type="button"
                        class="button"
                        on:click=move |_| {
                            values.set(HashMap::new());
                            submitted.set(None);
                        }
                    >
                        "Fill in again"
                    </button>
                </section>
            }
            .into_any()
        } else {
            view! {
                <form
                    class="stack card fill-form"
                    novalidate
                    on:submit=move |ev| {
                        ev.prevent_default();
                        submit();
                    }
                >
                    {fields.get_value().is_empty().then(|| view! { <p class="muted">"This form has no fields yet."</p> })}
                    {fields
                        .get_value()
                        .into_iter()
                        .map(|field| view! { <FillField field form_id=form_id.get_value() values labels /> })
                        .collect_view()}
                    {move || problem.get().map(|p| view! { <p class="form-error" role="alert">{p}</p> })}
                    <div class="actions">
                        <button type="submit" class="button primary" disabled=move || sending.get()>
                            {move || if sending.get() { "Submitting…" } else { "Submit" }}
                        </button>
                    </div>
                </form>
            }
            .into_any()
        }}
    }
}

#[component]
fn FillField(
    field: FormField,
    form_id: String,
    values: Values,
    labels: StoredValue<HashMap<String, String>>,
) -> impl IntoView {
    let input_id = format!("fill-{}", field.id);
    let id = StoredValue::new(field.id.clone());
    let label = field.label.clone();
    let required = field.required;
    let for_id = input_id.clone();
    let (text_id, text_label) = (input_id.clone(), label.clone());
    let text_input = move |kind: &'static str| {
        let input_id = text_id.clone();
        let label = text_label.clone();
        view! {
            <div class="field">
                <label for=input_id.clone()>{label.clone()}{required.then(|| view! { <span class="required-mark" aria-hidden="true">" *"</span> })}</label>
                <input
                    id=input_id
                    type=kind
                    autocomplete="off"
                    required=required
                    prop:value=move || value_of(values, &id.get_value())
                    on:input=move |ev| {
                        let v = event_target_value(&ev);
                        set_value(values, &id.get_value(), v.clone(), v);
                    }
                />
            </div>
        }
        .into_any()
    };
    match (field.kind, field.list.clone()) {
        (FieldKind::Text, _) => text_input("text"),
        (FieldKind::Number, _) => text_input("number"),
        (FieldKind::Date, _) => text_input("date"),
        (FieldKind::Checkbox, _) => view! {
            <label class="check" for=for_id>
                <input
                    id=input_id
                    type="checkbox"
                    prop:checked=move || value_of(values, &id.get_value()) == "true"
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        set_value(
                            values,
                            &id.get_value(),
                            on.to_string(),
                            if on { "Yes" } else { "No" }.to_string(),
                        );
                    }
                />
                <span>{label}</span>
            </label>
        }
        .into_any(),
        (FieldKind::List, Some(ListSource::DataSource { binding })) => view! {
            <RemoteList field binding form_id values labels />
        }
        .into_any(),
        (FieldKind::List, manual) => {
            let options = match manual {
                Some(ListSource::Manual { options }) => options,
                _ => Vec::new(),
            };
            let options = Signal::stored(options);
            view! {
                <div class="field list-field">
                    {choices(&field, options, values)}
                </div>
            }
            .into_any()
        }
    }
}

/// A dropdown or a radio list of `options`, bound to the field's value.
fn choices(field: &FormField, options: Signal<Vec<ListOption>>, values: Values) -> AnyView {
    let id = StoredValue::new(field.id.clone());
    let input_id = format!("fill-{}", field.id);
    let label = field.label.clone();
    let required = field.required;
    let current = move || value_of(values, &id.get_value());
    let choose = move |value: String| {
        let display = options
            .with_untracked(|o| {
                o.iter()
                    .find(|x| x.value == value)
                    .map(|x| x.display.clone())
            })
            .unwrap_or_default();
        set_value(values, &id.get_value(), value, display);
    };
    match field.format {
        DisplayFormat::Dropdown => view! {
            <label for=input_id.clone()>{label}{required.then(|| view! { <span class="required-mark" aria-hidden="true">" *"</span> })}</label>
            <select id=input_id required=required on:change=move |ev| choose(event_target_value(&ev))>
                <option value="" prop:selected=move || current().is_empty()>"Choose…"</option>
                {move || {
                    options
                        .get()
                        .into_iter()
                        .map(|o| {
                            let value = o.value.clone();
                            view! { <option value=o.value.clone() prop:selected=move || current() == value>{o.display}</option> }
                        })
                        .collect_view()
                }}
            </select>
        }
        .into_any(),
        DisplayFormat::Radio => view! {
            <fieldset class="radio-list">
                <legend>{label}{required.then(|| view! { <span class="required-mark" aria-hidden="true">" *"</span> })}</legend>
                {move || {
                    options
                        .get()
                        .into_iter()
                        .enumerate()
                        .map(|(i, o)| {
                            let radio_id = format!("{input_id}-{i}");
                            let for_id = radio_id.clone();
                            let value = o.value.clone();
                            let chosen = o.value.clone();
                            view! {
                                <label class="check" for=for_id>
                                    <input
                                        id=radio_id
                                        type="radio"
                                        name=input_id.clone()
                                        value=o.value.clone()
                                        prop:checked=move || current() == value
                                        on:change=move |_| choose(chosen.clone())
                                    />
                                    <span>{o.display}</span>
                                </label>
                            }
                        })
                        .collect_view()
                }}
            </fieldset>
        }
        .into_any(),
    }
}

/// A list whose options come through the server from a data source: searchable, paged,
/// and reloaded (with its value cleared) when a field it cascades from changes.
#[component]
fn RemoteList(
    field: FormField,
    binding: ListBinding,
    form_id: String,
    values: Values,
    labels: StoredValue<HashMap<String, String>>,
) -> impl IntoView {
    let id = StoredValue::new(field.id.clone());
    let form_id = StoredValue::new(form_id);
    let parents = StoredValue::new(referenced_fields(&binding));
    let options = RwSignal::new(Vec::<ListOption>::new());
    let total = RwSignal::new(0u64);
    let page = RwSignal::new(0u64);
    let loading = RwSignal::new(true);
    let error = RwSignal::new(None::<String>);
    let waiting_for = RwSignal::new(None::<String>);
    let search = RwSignal::new(String::new());
    let query = RwSignal::new(String::new());
    let generation = StoredValue::new(0u64);

    // The parents' values: a change clears this field and reloads its options.
    let parent_values = Memo::new(move |_| {
        parents.with_value(|ids| {
            ids.iter()
                .map(|p| (p.clone(), value_of(values, p)))
                .collect::<Vec<_>>()
        })
    });

    let load = move |page_no: u64| {
        generation.update_value(|g| *g += 1);
        let current = generation.get_value();
        let request = OptionsRequest {
            values: values.with_untracked(|v| {
                v.iter()
                    .filter(|(k, x)| **k != id.get_value() && !x.0.is_empty())
                    .map(|(k, x)| (k.clone(), x.0.clone()))
                    .collect()
            }),
            search: Some(query.get_untracked()).filter(|s| !s.trim().is_empty()),
            page: page_no,
        };
        loading.set(true);
        spawn_local(async move {
            let result = form_options(form_id.get_value(), id.get_value(), request).await;
            if generation.try_get_value() != Some(current) {
                return;
            }
            loading.try_set(false);
            match result {
                Ok(result) => {
                    error.try_set(None);
                    total.try_set(result.total);
                    page.try_set(result.page.max(page_no));
                    if page_no <= 1 {
                        options.try_set(result.options);
                    } else {
                        options.try_update(|o| o.extend(result.options));
                    }
                }
                Err(e) => {
                    options.try_set(Vec::new());
                    total.try_set(0);
                    error.try_set(Some(e.to_string()));
                }
            }
        });
    };

    Effect::new(move |previous: Option<Vec<(String, String)>>| {
        let parents_now = parent_values.get();
        query.track();
        if previous.as_ref().is_some_and(|p| *p != parents_now) {
            // A parent changed: this value no longer fits.
            values.update(|v| {
                v.remove(&id.get_value());
            });
        }
        let missing = parents_now
            .iter()
            .find(|(_, v)| v.is_empty())
            .map(|(p, _)| labels.with_value(|l| l.get(p).cloned().unwrap_or_else(|| p.clone())));
        if let Some(parent) = missing {
            generation.update_value(|g| *g += 1);
            options.set(Vec::new());
            total.set(0);
            error.set(None);
            loading.set(false);
            waiting_for.set(Some(parent));
        } else {
            waiting_for.set(None);
            load(1);
        }
        parents_now
    });

    // Search as you type, asked once typing pauses.
    Effect::new(move |_| {
        let text = search.get();
        set_timeout(
            move || {
                if search.try_get_untracked().as_ref() == Some(&text)
                    && query.try_get_untracked().as_ref() != Some(&text)
                {
                    query.try_set(text);
                }
            },
            DEBOUNCE,
        );
    });

    let search_id = format!("fill-{}-search", field.id);
    let search_label = format!("Search {}", field.label);
    let list = choices(&field, options.into(), values);
    view! {
        <div class="field list-field remote-list" data-testid=format!("list-{}", field.id)>
            {list}
            <input
                id=search_id
                type="search"
                class="list-search"
                aria-label=search_label
                placeholder="Type to search"
                prop:value=move || search.get()
                on:input=move |ev| search.set(event_target_value(&ev))
            />
            {move || waiting_for.get().map(|parent| view! {
                <p class="hint">{format!("Choose {parent} first.")}</p>
            })}
            {move || error.get().map(|message| view! {
                <p class="form-error" role="alert">{message}</p>
            })}
            {move || (loading.get() && error.with(Option::is_none)).then(|| view! {
                <p class="loading small-text">"Loading options…"</p>
            })}
            {move || {
                let shown = options.with(Vec::len) as u64;
                let total = total.get();
                (!loading.get() && waiting_for.with(Option::is_none) && error.with(Option::is_none)).then(|| {
                    if total == 0 {
                        view! { <p class="hint">"No options match."</p> }.into_any()
                    } else if total > shown {
                        view! {
                            <p class="hint list-paging">
                                {format!("Showing {shown} of {total}. ")}
                                <button type="button" class="button small" on:click=move |_| load(page.get_untracked() + 1)>
                                    "Load more"
                                </button>
                            </p>
                        }
                        .into_any()
                    } else {
                        ().into_any()
                    }
                })
            }}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_options_round_trip() {
        let options = parse_manual("Red\n  \n1 | One\n| odd\n");
        assert_eq!(options.len(), 3);
        assert_eq!(options[1].value, "1");
        assert_eq!(options[1].display, "One");
        assert_eq!(options[2].value, "| odd");
        assert_eq!(manual_text(&options[..2]), "Red\n1 | One");
    }

    #[test]
    fn ids_and_moves() {
        let mut fields = vec![FormField {
            id: "f3".into(),
            label: "A".into(),
            kind: FieldKind::Text,
            required: false,
            list: None,
            format: DisplayFormat::Dropdown,
        }];
        assert_eq!(next_field_id(&fields), "f4");
        fields[0].id = "x".into();
        assert_eq!(next_field_id(&fields), "f1");
        let mut list = vec![1, 2, 3, 4];
        move_item(&mut list, 0, 2);
        assert_eq!(list, [2, 3, 1, 4]);
        move_item(&mut list, 3, 0);
        assert_eq!(list, [4, 2, 3, 1]);
        move_item(&mut list, 9, 0);
        assert_eq!(list, [4, 2, 3, 1]);
    }

    #[test]
    fn references_come_from_project_and_conditions() {
        let binding = ListBinding {
            project: Some(Operand::Field("f1".into())),
            conditions: vec![
                Condition {
                    field: "status".into(),
                    op: Operator::Eq,
                    value: Operand::Constant("open".into()),
                },
                Condition {
                    field: "x".into(),
                    op: Operator::Eq,
                    value: Operand::Field("f2".into()),
                },
                Condition {
                    field: "y".into(),
                    op: Operator::Eq,
                    value: Operand::Field("f1".into()),
                },
            ],
            ..Default::default()
        };
        assert_eq!(referenced_fields(&binding), ["f1", "f2"]);
    }
}
