//! Administration > Data sources (product.md §2–§3): the grid, the picker of data source
//! types and the Procore details drawer with its authorization popup, connection test,
//! security dialog, call log and history.
//!
//! The drawer's state lives in the URL (`?open=new`, `?open=<id>`), so reload and back
//! work; the server functions in [`crate::api::data_sources`] are the only way in.

use std::cmp::Ordering;
use std::future::Future;

use chrono::{DateTime, Utc};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local_scoped_with_cancellation;
use leptos_meta::Title;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::layout::Forbidden;
use super::time::{full_time, now, relative_time};
use super::widgets::{
    Confirm, EmptyState, FieldError, FormError, LoadError, Modal, Toasts, action_error,
};
use crate::api::cloud_connect::{Connector, list_connectors};
use crate::api::data_sources::{
    DeleteDataSource, SaveSecurity, call_log, data_source_history, get_data_source,
    list_data_sources, save_data_source, security_candidates, test_connection_step,
};
use crate::data_source::{
    CallLogEntry, Change, DataSource, DataSourceDraft, DataSourceRow, Environment, Principal,
    PrincipalKind, SecurityDraft, Status, TestStep, parse_company_id,
};
use crate::error::AppError;
use crate::model::{Role, SessionUser};

/// What the page shares with the drawer.
#[derive(Clone, Copy)]
struct PageContext {
    /// Bumped whenever a data source changed, so the grid reloads.
    grid_version: RwSignal<u64>,
    /// The id the open drawer holds, once it has one: a new data source gets its id when
    /// first saved, and the URL then names it without the drawer starting over.
    live_id: RwSignal<Option<String>>,
    delete: ServerAction<DeleteDataSource>,
    deleted_name: RwSignal<String>,
}

/// Which drawer the URL asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    New,
    Existing(String),
}

fn target_from(open: Option<&str>) -> Option<Target> {
    match open.map(str::trim) {
        None | Some("") => None,
        Some("new") => Some(Target::New),
        Some(id) => Some(Target::Existing(id.to_string())),
    }
}

const PAGE: &str = "/data-sources";

fn open_url(id: &str) -> String {
    format!("{PAGE}?open={}", encode_component(id))
}

/// Where the popup (or this tab) starts the Procore sign-in; the server takes it from there.
fn authorize_url(id: &str) -> String {
    format!("{PAGE}/{}/authorize", encode_component(id))
}

/// Percent-encodes one path segment or query value.
fn encode_component(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[component]
pub fn DataSourcesPage() -> impl IntoView {
    let user = expect_context::<SessionUser>();
    if !user.has_role(Role::DataSourceManager) {
        return view! { <Forbidden /> }.into_any();
    }
    let query = use_query_map();
    let delete = ServerAction::<DeleteDataSource>::new();
    let grid_version = RwSignal::new(0u64);
    let live_id = RwSignal::new(None::<String>);
    let deleted_name = RwSignal::new(String::new());
    let ctx = PageContext {
        grid_version,
        live_id,
        delete,
        deleted_name,
    };
    provide_context(ctx);

    let rows = Resource::new(
        move || (grid_version.get(), delete.version().get()),
        |_| list_data_sources(),
    );
    let search = RwSignal::new(String::new());
    let sort = RwSignal::new((SortKey::Name, true));
    let picker = RwSignal::new(false);
    let deleting = RwSignal::new(None::<DataSourceRow>);

    // A new drawer that has just been saved moves the URL to its id; keeping the same
    // target then keeps the drawer (and a test or sign-in under way) instead of
    // starting it over.
    let target = Memo::new(move |previous: Option<&Option<Target>>| {
        let wanted = query.with(|q| target_from(q.get_str("open")));
        if let (Some(Some(Target::New)), Some(Target::Existing(id))) = (previous, &wanted)
            && live_id.get_untracked().as_deref() == Some(id.as_str())
        {
            return Some(Target::New);
        }
        wanted
    });

    Effect::new(move |_| match delete.value().get() {
        Some(Ok(())) => {
            let name = deleted_name.get_untracked();
            Toasts::success(if name.is_empty() {
                "Data source deleted".to_string()
            } else {
                format!("Deleted {name}")
            });
        }
        Some(Err(e)) => Toasts::error(e.to_string()),
        None => {}
    });

    let open_picker = move |_| picker.set(true);
    view! {
        <Title text="Data sources" />
        <div class="page-header">
            <h1>"Data sources"</h1>
        </div>
        // A same-tab sign-in that lost track of its data source still says what happened.
        {move || {
            query
                .with(|q| q.get_str("open").is_none().then(|| q.get("authorization_error")))
                .flatten()
                .map(|message| view! { <p class="form-error page-alert" role="alert">{message}</p> })
        }}
        <Transition fallback=|| view! { <p class="loading">"Loading data sources…"</p> }>
            {move || Suspend::new(async move {
                match rows.await {
                    Ok(list) if list.is_empty() => view! {
                        <EmptyState
                            title="No data sources yet"
                            message="A data source connects Trestle to a Procore company, so forms and processes can use its projects, RFIs and more."
                        >
                            <button type="button" class="button primary" on:click=open_picker>
                                "+ Add new"
                            </button>
                        </EmptyState>
                    }
                    .into_any(),
                    Ok(list) => view! { <Grid list search sort deleting open_picker=move || picker.set(true) /> }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
        {move || picker.get().then(|| view! {
            <TypePicker
                on_close=move || picker.set(false)
                on_choose=move || {
                    picker.set(false);
                    use_navigate()(&format!("{PAGE}?open=new"), NavigateOptions::default());
                }
            />
        })}
        {move || deleting.get().map(|row| {
            let id = row.id.clone();
            let name = row.name.clone();
            view! {
                <Confirm
                    title=format!("Delete {}?", row.name)
                    message="Trestle revokes its Procore authorization and deletes it. Forms and processes that use it stop working."
                    confirm_label="Delete"
                    on_cancel=move || deleting.set(None)
                    on_confirm=move || {
                        deleted_name.set(name.clone());
                        delete.dispatch(DeleteDataSource { id: id.clone() });
                        deleting.set(None);
                    }
                />
            }
        })}
        {move || target.get().map(|target| match target {
            Target::New => view! { <ProcoreDrawer initial=None /> }.into_any(),
            Target::Existing(id) => view! { <ExistingDrawer id /> }.into_any(),
        })}
    }
    .into_any()
}

// ---------------------------------------------------------------------------------------
// The grid

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortKey {
    Name,
    Kind,
    Status,
    Modified,
    ModifiedBy,
}

/// The rows the search leaves, in the chosen order (ties by name, so the order is stable).
fn visible_rows(
    rows: &[DataSourceRow],
    search: &str,
    key: SortKey,
    ascending: bool,
) -> Vec<DataSourceRow> {
    let needle = search.trim().to_lowercase();
    let mut list: Vec<DataSourceRow> = rows
        .iter()
        .filter(|r| {
            needle.is_empty()
                || r.name.to_lowercase().contains(&needle)
                || kind_label(&r.kind).to_lowercase().contains(&needle)
        })
        .cloned()
        .collect();
    let by_name = |a: &DataSourceRow, b: &DataSourceRow| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then_with(|| a.id.cmp(&b.id))
    };
    list.sort_by(|a, b| {
        let order = match key {
            SortKey::Name => Ordering::Equal,
            SortKey::Kind => kind_label(&a.kind)
                .to_lowercase()
                .cmp(&kind_label(&b.kind).to_lowercase()),
            SortKey::Status => a.status.label().cmp(b.status.label()),
            SortKey::Modified => a.updated_at.cmp(&b.updated_at),
            SortKey::ModifiedBy => a
                .updated_by
                .as_deref()
                .unwrap_or_default()
                .to_lowercase()
                .cmp(&b.updated_by.as_deref().unwrap_or_default().to_lowercase()),
        }
        .then_with(|| by_name(a, b));
        if ascending { order } else { order.reverse() }
    });
    list
}

/// How a data source type is shown ("procore" and "Procore" alike).
fn kind_label(kind: &str) -> String {
    if kind.eq_ignore_ascii_case("procore") {
        "Procore".to_string()
    } else {
        kind.to_string()
    }
}

#[component]
fn Grid(
    list: Vec<DataSourceRow>,
    search: RwSignal<String>,
    sort: RwSignal<(SortKey, bool)>,
    deleting: RwSignal<Option<DataSourceRow>>,
    #[prop(into)] open_picker: Callback<()>,
) -> impl IntoView {
    let list = StoredValue::new(list);
    let shown = Memo::new(move |_| {
        let (key, ascending) = sort.get();
        search.with(|s| list.with_value(|l| visible_rows(l, s, key, ascending)))
    });
    view! {
        <div class="toolbar grid-toolbar">
            <input
                type="search"
                class="search"
                aria-label="Search data sources"
                placeholder="Search by name or type"
                bind:value=search
            />
            <button type="button" class="button primary" on:click=move |_| open_picker.run(())>
                "+ Add new"
            </button>
        </div>
        <table class="table data-source-grid" aria-label="Data sources">
            <thead>
                <tr>
                    {sort_header("Name", SortKey::Name, sort)}
                    {sort_header("Type", SortKey::Kind, sort)}
                    {sort_header("Status", SortKey::Status, sort)}
                    {sort_header("Modified", SortKey::Modified, sort)}
                    {sort_header("Modified by", SortKey::ModifiedBy, sort)}
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {move || {
                    let now = now();
                    shown.get().into_iter().map(|row| grid_row(row, now, deleting)).collect_view()
                }}
            </tbody>
        </table>
        {move || shown.with(Vec::is_empty).then(|| view! {
            <p class="muted no-matches">"No data source matches “" {search.get()} "”."</p>
        })}
    }
}

fn sort_header(
    label: &'static str,
    key: SortKey,
    sort: RwSignal<(SortKey, bool)>,
) -> impl IntoView {
    let state = move || match sort.get() {
        (k, true) if k == key => Some(true),
        (k, false) if k == key => Some(false),
        _ => None,
    };
    view! {
        <th
            scope="col"
            aria-sort=move || match state() {
                Some(true) => "ascending",
                Some(false) => "descending",
                None => "none",
            }
        >
            <button
                type="button"
                class="sort-button"
                on:click=move |_| {
                    sort.update(|(k, ascending)| {
                        if *k == key {
                            *ascending = !*ascending;
                        } else {
                            *k = key;
                            *ascending = true;
                        }
                    })
                }
            >
                {label}
                <span class="sort-indicator" class:sorted=move || state().is_some() aria-hidden="true">
                    {move || match state() {
                        Some(true) => "▲",
                        Some(false) => "▼",
                        None => "↕",
                    }}
                </span>
            </button>
        </th>
    }
}

fn grid_row(
    row: DataSourceRow,
    now: DateTime<Utc>,
    deleting: RwSignal<Option<DataSourceRow>>,
) -> impl IntoView {
    let kind = kind_label(&row.kind);
    let is_procore = row.kind.eq_ignore_ascii_case("procore");
    let to_delete = row.clone();
    let delete_label = format!("Delete {}", row.name);
    view! {
        <tr data-testid="data-source-row">
            <td>
                // A plain link (the router still handles the click): `<A>` would mark every
                // row as the current page, and costs a reactive node per row.
                <a href=open_url(&row.id) class="row-link">{row.name.clone()}</a>
            </td>
            <td>
                <span class="type-cell">
                    {is_procore.then(|| icon("procore"))}
                    {kind}
                </span>
            </td>
            <td><StatusBadge status=row.status /></td>
            <td>
                <time datetime=row.updated_at.to_rfc3339() title=full_time(row.updated_at)>
                    {relative_time(row.updated_at, now)}
                </time>
            </td>
            <td>{row.updated_by.clone().unwrap_or_else(|| "—".to_string())}</td>
            <td class="row-actions">
                {row.can_edit.then(|| view! {
                    <button
                        type="button"
                        class="icon-button bin-button"
                        aria-label=delete_label
                        title="Delete"
                        on:click=move |_| deleting.set(Some(to_delete.clone()))
                    >
                        {icon("bin")}
                    </button>
                })}
            </td>
        </tr>
    }
}

#[component]
fn StatusBadge(#[prop(into)] status: Signal<Status>) -> impl IntoView {
    view! {
        <span
            class=move || format!("badge status-badge status-{}", status.get().key())
            data-testid="status"
        >
            {move || status.get().label()}
        </span>
    }
}

// ---------------------------------------------------------------------------------------
// The picker of data source types

struct SourceType {
    title: &'static str,
    description: &'static str,
    available: bool,
    icon: fn() -> AnyView,
}

const SOURCE_TYPES: [SourceType; 4] = [
    SourceType {
        title: "Procore",
        description: "Projects, RFIs, submittals, people and documents of a Procore company.",
        available: true,
        icon: || icon("procore").into_any(),
    },
    SourceType {
        title: "SQL database",
        description: "Tables and views of a PostgreSQL, SQL Server or MySQL database.",
        available: false,
        icon: || icon("database").into_any(),
    },
    SourceType {
        title: "REST API",
        description: "Any JSON web service, with a key or OAuth.",
        available: false,
        icon: || icon("api").into_any(),
    },
    SourceType {
        title: "SharePoint list",
        description: "Lists and libraries of a SharePoint site.",
        available: false,
        icon: || icon("sharepoint").into_any(),
    },
];

fn type_matches(t: &SourceType, query: &str) -> bool {
    let q = query.trim().to_lowercase();
    q.is_empty() || t.title.to_lowercase().contains(&q) || t.description.to_lowercase().contains(&q)
}

#[component]
fn TypePicker(
    #[prop(into)] on_choose: Callback<()>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let query = RwSignal::new(String::new());
    view! {
        <Modal title="Add a data source" on_close>
            <input
                type="search"
                class="search wide"
                aria-label="Search data source types"
                placeholder="Search types"
                autofocus
                bind:value=query
            />
            <ul class="tiles">
                {SOURCE_TYPES
                    .iter()
                    .map(|t| {
                        let available = t.available;
                        view! {
                            <li hidden=move || !query.with(|q| type_matches(t, q))>
                                <button
                                    type="button"
                                    class="tile"
                                    disabled=!available
                                    aria-disabled=(!available).then_some("true")
                                    on:click=move |_| {
                                        if available {
                                            on_choose.run(());
                                        }
                                    }
                                >
                                    <span class="tile-icon">{(t.icon)()}</span>
                                    <span class="tile-title">{t.title}</span>
                                    <span class="tile-text">{t.description}</span>
                                    {(!available).then(|| view! { <span class="badge badge-muted">"Coming soon"</span> })}
                                </button>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            {move || {
                query
                    .with(|q| !SOURCE_TYPES.iter().any(|t| type_matches(t, q)))
                    .then(|| view! { <p class="muted">"No data source type matches your search."</p> })
            }}
        </Modal>
    }
}

// ---------------------------------------------------------------------------------------
// The Procore details drawer

#[component]
fn ExistingDrawer(id: String) -> impl IntoView {
    let source = Resource::new(move || id.clone(), get_data_source);
    view! {
        <Suspense fallback=|| drawer_shell(view! { <p class="loading">"Loading…"</p> }.into_any())>
            {move || Suspend::new(async move {
                match source.await {
                    Ok(ds) => view! { <ProcoreDrawer initial=Some(ds) /> }.into_any(),
                    Err(error) => drawer_shell(view! { <LoadError error /> }.into_any()).into_any(),
                }
            })}
        </Suspense>
    }
}

/// The drawer frame without a data source (loading, or it could not be loaded).
fn drawer_shell(body: AnyView) -> impl IntoView {
    let close = move || use_navigate()(PAGE, NavigateOptions::default());
    view! {
        <div class="drawer-backdrop" on:click=move |_| close()></div>
        <aside class="drawer" role="dialog" aria-labelledby="drawer-title">
            <header class="drawer-header">
                <div class="drawer-heading">
                    {icon("procore")}
                    <h2 id="drawer-title">"Procore details"</h2>
                </div>
                <button type="button" class="icon-button" aria-label="Close" on:click=move |_| close()>
                    "×"
                </button>
            </header>
            <div class="drawer-body">{body}</div>
        </aside>
    }
}

/// Where the Procore sign-in stands, as the drawer shows it.
#[derive(Debug, Clone, PartialEq)]
enum AuthState {
    Idle,
    /// The browser refused the popup.
    Blocked,
    /// The popup is open at Procore.
    Waiting,
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
enum StepState {
    Pending,
    Running,
    Passed,
    Failed(String),
}

impl StepState {
    fn key(&self) -> &'static str {
        match self {
            StepState::Pending => "pending",
            StepState::Running => "running",
            StepState::Passed => "passed",
            StepState::Failed(_) => "failed",
        }
    }
}

/// The form as the server last saved it.
fn draft_of(ds: &DataSource) -> DataSourceDraft {
    DataSourceDraft {
        name: ds.name.clone(),
        company_id: ds.company_id.map(|c| c.to_string()).unwrap_or_default(),
        environment: ds.environment,
        cloud_connect: ds.cloud_connect,
        connector: ds.connector.clone(),
    }
}

/// Everything the drawer keeps; signals only, so it is `Copy` into every handler.
#[derive(Clone, Copy)]
struct Drawer {
    page: PageContext,
    /// The drawer's own owner: work it starts stops when it closes.
    owner: StoredValue<Option<WeakOwner>>,
    id: RwSignal<Option<String>>,
    /// The data source as the server last described it (`None` until first saved).
    source: RwSignal<Option<DataSource>>,
    name: RwSignal<String>,
    company_id: RwSignal<String>,
    environment: RwSignal<Environment>,
    cloud_connect: RwSignal<bool>,
    connector: RwSignal<Option<String>>,
    /// What "no unsaved changes" means.
    baseline: RwSignal<DataSourceDraft>,
    error: RwSignal<Option<AppError>>,
    notice: RwSignal<Option<String>>,
    saving: RwSignal<bool>,
    auth: RwSignal<AuthState>,
    steps: RwSignal<Vec<(TestStep, StepState)>>,
    testing: RwSignal<bool>,
    /// Bumped after changes, so the call log and history reload.
    activity_version: RwSignal<u64>,
}

impl Drawer {
    fn new(page: PageContext, initial: Option<DataSource>) -> Drawer {
        let draft = initial.as_ref().map(draft_of).unwrap_or_default();
        if let Some(ds) = &initial {
            page.live_id.set(Some(ds.id.clone()));
        }
        Drawer {
            page,
            owner: StoredValue::new(Owner::current().map(|o| o.downgrade())),
            id: RwSignal::new(initial.as_ref().map(|d| d.id.clone())),
            source: RwSignal::new(initial),
            name: RwSignal::new(draft.name.clone()),
            company_id: RwSignal::new(draft.company_id.clone()),
            environment: RwSignal::new(draft.environment),
            cloud_connect: RwSignal::new(draft.cloud_connect),
            connector: RwSignal::new(draft.connector.clone()),
            baseline: RwSignal::new(draft),
            error: RwSignal::new(None),
            notice: RwSignal::new(None),
            saving: RwSignal::new(false),
            auth: RwSignal::new(AuthState::Idle),
            steps: RwSignal::new(Vec::new()),
            testing: RwSignal::new(false),
            activity_version: RwSignal::new(0),
        }
    }

    /// The form as typed (tracked, for memos).
    fn draft(&self) -> DataSourceDraft {
        DataSourceDraft {
            name: self.name.get(),
            company_id: self.company_id.get(),
            environment: self.environment.get(),
            cloud_connect: self.cloud_connect.get(),
            connector: self.connector.get(),
        }
    }

    fn draft_untracked(&self) -> DataSourceDraft {
        untrack(|| self.draft())
    }

    fn is_dirty_untracked(&self) -> bool {
        self.draft_untracked() != self.baseline.get_untracked()
    }

    fn can_edit_untracked(&self) -> bool {
        self.source
            .with_untracked(|s| s.as_ref().is_none_or(|s| s.can_edit))
    }

    fn set_form(&self, draft: DataSourceDraft) {
        self.name.set(draft.name);
        self.company_id.set(draft.company_id);
        self.environment.set(draft.environment);
        self.cloud_connect.set(draft.cloud_connect);
        self.connector.set(draft.connector);
    }

    /// Takes the server's copy. The form follows it if it still shows `shown` (what was
    /// saved, or the previous copy); edits typed meanwhile stay, and stay flagged.
    fn apply(&self, ds: DataSource, shown: &DataSourceDraft) {
        let fresh = draft_of(&ds);
        if self.draft_untracked() == *shown {
            self.set_form(fresh.clone());
        }
        self.baseline.set(fresh);
        self.id.set(Some(ds.id.clone()));
        self.page.live_id.set(Some(ds.id.clone()));
        self.source.set(Some(ds));
    }

    /// Runs `work` under the drawer's owner: it can use context (toasts, router) and is
    /// dropped if the drawer closes first.
    fn spawn(self, work: impl Future<Output = ()> + 'static) {
        let owner = self
            .owner
            .try_with_value(|o| o.as_ref().and_then(WeakOwner::upgrade))
            .flatten();
        if let Some(owner) = owner {
            owner.with(|| spawn_local_scoped_with_cancellation(work));
        }
    }

    fn changed(&self) {
        self.page.grid_version.update(|v| *v += 1);
        self.activity_version.update(|v| *v += 1);
    }

    /// Saves the form; the id on success. Errors show next to their field.
    async fn save(self) -> Option<String> {
        let draft = self.draft_untracked();
        if let Err(e) = draft.validated() {
            self.error.set(Some(e));
            return None;
        }
        self.error.set(None);
        self.saving.set(true);
        let id = self.id.get_untracked();
        let result = save_data_source(id.clone(), draft.clone()).await;
        self.saving.set(false);
        match result {
            Ok(saved) => {
                let new_id = saved.data_source.id.clone();
                self.apply(saved.data_source, &draft);
                Toasts::success("Details saved successfully");
                if let Some(notice) = &saved.notice {
                    Toasts::success(notice.clone());
                }
                self.notice.set(saved.notice);
                self.changed();
                if id.is_none() {
                    // Replace, not push: back should not return to an empty "new" form.
                    use_navigate()(
                        &open_url(&new_id),
                        NavigateOptions {
                            replace: true,
                            scroll: false,
                            ..Default::default()
                        },
                    );
                }
                Some(new_id)
            }
            Err(e) => {
                if e.field().is_none() {
                    Toasts::error(e.to_string());
                }
                self.error.set(Some(e));
                None
            }
        }
    }

    /// The id of the saved data source, saving first when the form is new or changed.
    async fn saved_id(self) -> Option<String> {
        match self.id.get_untracked() {
            Some(id) if !self.is_dirty_untracked() => Some(id),
            _ => self.save().await,
        }
    }

    async fn refresh(self) {
        let Some(id) = self.id.get_untracked() else {
            return;
        };
        match get_data_source(id).await {
            Ok(ds) => {
                let shown = self.baseline.get_untracked();
                self.apply(ds, &shown);
            }
            Err(e) => Toasts::error(e.to_string()),
        }
    }

    /// Runs the checks in order, each shown as it completes; stops at the first failure.
    async fn run_test(self) {
        let Some(id) = self.saved_id().await else {
            return;
        };
        if self.testing.get_untracked() {
            return;
        }
        self.testing.set(true);
        self.steps.set(
            TestStep::ALL
                .into_iter()
                .map(|s| (s, StepState::Pending))
                .collect(),
        );
        let mark = |step: TestStep, state: StepState| {
            self.steps.update(|list| {
                if let Some(entry) = list.iter_mut().find(|(s, _)| *s == step) {
                    entry.1 = state;
                }
            })
        };
        let mut failed = false;
        for step in TestStep::ALL {
            mark(step, StepState::Running);
            match test_connection_step(id.clone(), step).await {
                Ok(result) => {
                    self.source.update(|s| {
                        if let Some(s) = s {
                            s.status = result.status;
                            s.status_reason = result.failure.clone();
                            s.authorization = result.authorization.clone();
                        }
                    });
                    if let Some(message) = result.failure {
                        mark(step, StepState::Failed(message));
                        failed = true;
                        break;
                    }
                    mark(step, StepState::Passed);
                }
                Err(e) => {
                    mark(step, StepState::Failed(e.to_string()));
                    failed = true;
                    break;
                }
            }
        }
        self.testing.set(false);
        if failed {
            Toasts::error("Connection test failed");
        } else {
            Toasts::success("Connection test succeeded");
        }
        self.changed();
        // The server's copy also carries who changed it and when.
        self.refresh().await;
    }

    /// What the sign-in popup (or the same-tab return) reported.
    fn authorization_finished(self, outcome: Result<(), String>) {
        match outcome {
            Ok(()) => {
                self.auth.set(AuthState::Idle);
                self.spawn(async move {
                    self.refresh().await;
                    self.run_test().await;
                });
            }
            Err(message) => {
                let message = if message.trim().is_empty() {
                    "Procore did not authorize Trestle. Please try again.".to_string()
                } else {
                    message
                };
                self.auth.set(AuthState::Failed(message));
            }
        }
    }
}

#[component]
fn ProcoreDrawer(initial: Option<DataSource>) -> impl IntoView {
    let page = expect_context::<PageContext>();
    let query = use_query_map();
    let drawer = Drawer::new(page, initial);

    // The same-tab fallback comes back with the outcome in the URL.
    let (came_authorized, came_error) = query.with_untracked(|q| {
        (
            q.get_str("authorized") == Some("1"),
            q.get("authorization_error"),
        )
    });
    if let Some(message) = came_error.clone() {
        drawer.auth.set(AuthState::Failed(message));
    }
    Effect::new(move |_| {
        if !(came_authorized || came_error.is_some()) {
            return;
        }
        // Forget the outcome in the URL, so a reload does not test again.
        if let Some(id) = drawer.id.get_untracked() {
            use_navigate()(
                &open_url(&id),
                NavigateOptions {
                    replace: true,
                    scroll: false,
                    ..Default::default()
                },
            );
        }
        if came_authorized {
            drawer.spawn(drawer.run_test());
        }
    });

    // The popup's callback page posts its outcome to this window.
    let weak_owner = Owner::current().map(|o| o.downgrade());
    Effect::new(move |_| {
        let weak_owner = weak_owner.clone();
        let handle = browser::listen_for_authorization(move |message| {
            let ours = drawer.id.try_get_untracked().flatten();
            let waiting = drawer.auth.try_get_untracked() == Some(AuthState::Waiting);
            let for_us = match &message.data_source {
                Some(id) => ours.as_ref() == Some(id),
                None => waiting && !message.ok,
            };
            if !for_us {
                return;
            }
            let Some(owner) = weak_owner.as_ref().and_then(WeakOwner::upgrade) else {
                return;
            };
            let outcome = if message.ok {
                Ok(())
            } else {
                Err(message.error.unwrap_or_default())
            };
            owner.with(|| drawer.authorization_finished(outcome));
        });
        on_cleanup(move || {
            if let Some(handle) = handle {
                handle.remove();
            }
        });
    });

    let read_only = Memo::new(move |_| {
        drawer
            .source
            .with(|s| s.as_ref().is_some_and(|s| !s.can_edit))
    });
    let dirty = Memo::new(move |_| drawer.draft() != drawer.baseline.get());
    let has_id = Memo::new(move |_| drawer.id.with(Option::is_some));
    let status = Signal::derive(move || {
        drawer
            .source
            .with(|s| s.as_ref().map(|s| s.status).unwrap_or_default())
    });
    let confirm_close = RwSignal::new(false);
    let confirm_delete = RwSignal::new(false);
    let security = RwSignal::new(false);

    let close = move || {
        page.live_id.set(None);
        use_navigate()(PAGE, NavigateOptions::default());
    };
    let request_close = move || {
        if dirty.get_untracked() && !read_only.get_untracked() {
            confirm_close.set(true);
        } else {
            close();
        }
    };
    let save = move || {
        if !drawer.can_edit_untracked() {
            return;
        }
        drawer.spawn(async move {
            drawer.save().await;
        });
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        save();
    };

    let subtitle = move || {
        let name = drawer.name.get();
        if name.trim().is_empty() {
            if has_id.get() {
                "Unnamed data source".to_string()
            } else {
                "New data source".to_string()
            }
        } else {
            name.trim().to_string()
        }
    };
    let modified = move || {
        drawer.source.with(|s| {
            s.as_ref().map(|s| {
                let by = s
                    .updated_by
                    .as_ref()
                    .map(|b| format!(" by {b}"))
                    .unwrap_or_default();
                view! {
                    <p class="muted drawer-meta">
                        "Modified "
                        <time datetime=s.updated_at.to_rfc3339() title=full_time(s.updated_at)>
                            {relative_time(s.updated_at, now())}
                        </time>
                        {by}
                    </p>
                }
            })
        })
    };

    view! {
        <div class="drawer-backdrop" on:click=move |_| request_close()></div>
        <aside
            class="drawer"
            role="dialog"
            aria-labelledby="drawer-title"
            aria-describedby="drawer-subtitle"
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    request_close();
                }
            }
        >
            <header class="drawer-header">
                <div class="drawer-heading">
                    {icon("procore")}
                    <div>
                        <h2 id="drawer-title">"Procore details"</h2>
                        <p class="muted drawer-subtitle" id="drawer-subtitle">{subtitle}</p>
                    </div>
                </div>
                <span class="unsaved" role="status" hidden=move || !dirty.get() || read_only.get()>
                    "Unsaved changes"
                </span>
                <button type="button" class="icon-button" aria-label="Close" on:click=move |_| request_close()>
                    "×"
                </button>
            </header>
            <div class="drawer-body">
                {move || read_only.get().then(|| view! {
                    <p class="notice" role="note">
                        "You can see this data source but not change it: only its connection administrators can. Ask one of them, or an administrator, if it needs changing."
                    </p>
                })}
                <div class="status-line">
                    <span class="status-label">"Status"</span>
                    <StatusBadge status />
                    {move || {
                        // The reason shows here until a test in this drawer shows its own.
                        let reason = drawer.source.with(|s| s.as_ref().and_then(|s| s.status_reason.clone()));
                        reason
                            .filter(|_| drawer.steps.with(Vec::is_empty))
                            .map(|r| view! { <span class="status-reason">{r}</span> })
                    }}
                </div>
                {modified}
                {move || drawer.notice.get().map(|n| view! {
                    <p class="notice" role="status" data-testid="save-notice">{n}</p>
                })}
                <DetailsForm drawer read_only on_submit />
                {move || (!read_only.get()).then(|| view! { <TestPanel drawer has_id /> })}
                {move || {
                    let editable_id = has_id.get().then(|| drawer.id.get_untracked()).flatten();
                    (!read_only.get())
                        .then_some(editable_id)
                        .flatten()
                        .map(|id| view! { <Activity id version=drawer.activity_version /> })
                }}
            </div>
            {move || (!read_only.get()).then(|| view! {
                <footer class="drawer-footer">
                    {move || has_id.get().then(|| view! {
                        <button type="button" class="button subtle danger-text" on:click=move |_| confirm_delete.set(true)>
                            "Delete"
                        </button>
                    })}
                    <span class="spacer"></span>
                    <button
                        type="button"
                        class="button"
                        disabled=move || !has_id.get()
                        title=move || (!has_id.get()).then_some("Save the data source first")
                        on:click=move |_| security.set(true)
                    >
                        "Security"
                    </button>
                    <button type="button" class="button primary" disabled=move || drawer.saving.get() on:click=move |_| save()>
                        {move || if drawer.saving.get() { "Saving…" } else { "Save" }}
                    </button>
                </footer>
            })}
        </aside>
        {move || confirm_close.get().then(|| view! {
            <Confirm
                title="Discard unsaved changes?"
                message="Your changes to this data source have not been saved."
                confirm_label="Discard"
                on_cancel=move || confirm_close.set(false)
                on_confirm=move || {
                    confirm_close.set(false);
                    close();
                }
            />
        })}
        {move || confirm_delete.get().then(|| {
            let name = drawer.source.with_untracked(|s| s.as_ref().map(|s| s.name.clone())).unwrap_or_default();
            view! {
                <Confirm
                    title=format!("Delete {name}?")
                    message="Trestle revokes its Procore authorization and deletes it. Forms and processes that use it stop working."
                    confirm_label="Delete"
                    on_cancel=move || confirm_delete.set(false)
                    on_confirm=move || {
                        confirm_delete.set(false);
                        if let Some(id) = drawer.id.get_untracked() {
                            page.deleted_name.set(name.clone());
                            page.delete.dispatch(DeleteDataSource { id });
                        }
                        close();
                    }
                />
            }
        })}
        {move || security.get().then(|| {
            let (id, admins, users) = drawer
                .source
                .with_untracked(|s| s.as_ref().map(|s| (s.id.clone(), s.admins.clone(), s.users.clone())))
                .unwrap_or_default();
            view! {
                <SecurityDialog
                    id
                    admins
                    users
                    on_saved=move |ds: DataSource| {
                        security.set(false);
                        let shown = drawer.baseline.get_untracked();
                        drawer.apply(ds, &shown);
                        drawer.changed();
                        Toasts::success("Security saved");
                    }
                    on_close=move || security.set(false)
                />
            }
        })}
    }
}

#[component]
fn DetailsForm(
    drawer: Drawer,
    read_only: Memo<bool>,
    #[prop(into)] on_submit: Callback<SubmitEvent>,
) -> impl IntoView {
    // The company id is checked as it is typed; a blank one is allowed (saved incomplete).
    let company_problem = Memo::new(move |_| {
        drawer.company_id.with(|text| {
            if text.trim().is_empty() {
                None
            } else {
                parse_company_id(text).err()
            }
        })
    });
    let company_valid = Memo::new(move |_| {
        drawer
            .company_id
            .with(|text| parse_company_id(text).is_ok())
    });
    // The server's errors, minus a company id message the live check already shows.
    let error = Signal::derive(move || {
        drawer
            .error
            .get()
            .filter(|e| !(e.field() == Some("company_id") && company_problem.get().is_some()))
    });
    let field_invalid = move |field: &'static str| {
        move || {
            let server = error.with(|e| e.as_ref().is_some_and(|e| e.field() == Some(field)));
            let live = field == "company_id" && company_problem.get().is_some();
            (server || live).then_some("true")
        }
    };
    // Typing in a field retires the server's complaint about it.
    let clear_error = move |field: &'static str| {
        if drawer
            .error
            .with_untracked(|e| e.as_ref().and_then(|e| e.field()) == Some(field))
        {
            drawer.error.set(None);
        }
    };
    // Focus moves into the drawer when it opens, so keyboard users land in it.
    let name_input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = name_input.get()
            && !read_only.get_untracked()
        {
            let _ = input.focus();
        }
    });
    let authorized = Memo::new(move |_| {
        drawer.source.with(|s| {
            s.as_ref()
                .and_then(|s| s.authorization.as_ref().map(|a| a.describe()))
        })
    });
    let environment_changes_authorization = Memo::new(move |_| {
        authorized.with(Option::is_some)
            && drawer.environment.get() != drawer.baseline.with(|b| b.environment)
    });

    let authorize = move |_| {
        if !drawer.can_edit_untracked() {
            return;
        }
        drawer.auth.set(AuthState::Idle);
        // Opened right here in the click handler: browsers allow popups only there, so
        // saving (which waits for the server) happens after, and the popup is pointed
        // at the sign-in once the data source has an id.
        let Some(popup) = browser::Popup::open() else {
            drawer.auth.set(AuthState::Blocked);
            return;
        };
        drawer.spawn(async move {
            let Some(id) = drawer.saved_id().await else {
                popup.close();
                return;
            };
            if popup.go(&authorize_url(&id)) {
                drawer.auth.set(AuthState::Waiting);
            } else {
                popup.close();
                drawer.auth.set(AuthState::Blocked);
            }
        });
    };
    // Without a popup: the sign-in runs in this tab and comes back to the drawer.
    let continue_here = move |ev: leptos::ev::MouseEvent| {
        if drawer.id.with_untracked(Option::is_some) && !drawer.is_dirty_untracked() {
            return; // the link itself goes there
        }
        ev.prevent_default();
        drawer.spawn(async move {
            if let Some(id) = drawer.saved_id().await {
                browser::go_to(&authorize_url(&id));
            }
        });
    };

    view! {
        <form id="procore-details" class="stack drawer-form" on:submit=move |ev| on_submit.run(ev) novalidate>
            <div class="field">
                <label for="ds-name">"Datasource name"</label>
                <input
                    id="ds-name"
                    node_ref=name_input
                    type="text"
                    maxlength="100"
                    required
                    autocomplete="off"
                    disabled=move || read_only.get()
                    aria-invalid=field_invalid("name")
                    aria-describedby="name-error"
                    prop:value=move || drawer.name.get()
                    on:input=move |ev| {
                        drawer.name.set(event_target_value(&ev));
                        clear_error("name");
                    }
                />
                <FieldError error field="name" />
            </div>
            <div class="field">
                <label for="ds-company">"Procore company id"</label>
                <div class="inline-field">
                    <input
                        id="ds-company"
                        type="text"
                        inputmode="numeric"
                        autocomplete="off"
                        placeholder="e.g. 4264807"
                        disabled=move || read_only.get()
                        aria-invalid=field_invalid("company_id")
                        aria-describedby="company-check company_id-error"
                        prop:value=move || drawer.company_id.get()
                        on:input=move |ev| {
                            drawer.company_id.set(event_target_value(&ev));
                            clear_error("company_id");
                        }
                    />
                    {move || (company_valid.get() && !read_only.get()).then(|| view! {
                        <button
                            type="button"
                            class="button"
                            disabled=move || drawer.saving.get() || drawer.testing.get()
                            on:click=authorize
                        >
                            {move || if authorized.with(Option::is_some) { "Re-authorize" } else { "Authorize" }}
                        </button>
                    })}
                </div>
                <p class="field-error" id="company-check" aria-live="polite">
                    {move || company_problem.get()}
                </p>
                <FieldError error field="company_id" />
                {move || authorized.get().map(|who| view! {
                    <p class="authorized" data-testid="authorized-as">
                        <span class="check-mark" aria-hidden="true">"✓"</span>
                        {format!("Authorized as {who}")}
                    </p>
                })}
                {move || match drawer.auth.get() {
                    AuthState::Idle => None,
                    AuthState::Waiting => Some(view! {
                        <p class="hint" role="status">
                            "Sign in to Procore in the window that opened; this drawer updates when you are done."
                        </p>
                    }.into_any()),
                    AuthState::Blocked => {
                        let href = drawer.id.get().map(|id| authorize_url(&id)).unwrap_or_else(|| "#".to_string());
                        Some(view! {
                            <div class="form-error" role="alert" data-testid="popup-blocked">
                                "Your browser blocked the Procore sign-in window. "
                                <a href=href rel="external" on:click=continue_here>"Continue in this tab"</a>
                            </div>
                        }.into_any())
                    }
                    AuthState::Failed(message) => Some(view! {
                        <p class="form-error" role="alert" data-testid="authorization-error">{message}</p>
                    }.into_any()),
                }}
            </div>
            <fieldset class="field" disabled=move || read_only.get()>
                <legend>"Procore environment"</legend>
                {Environment::ALL
                    .into_iter()
                    .map(|env| {
                        let id = format!("ds-env-{}", env.key());
                        let description_id = format!("{id}-description");
                        view! {
                            <div class="radio">
                                <input
                                    type="radio"
                                    name="environment"
                                    id=id.clone()
                                    value=env.key()
                                    aria-describedby=description_id.clone()
                                    prop:checked=move || drawer.environment.get() == env
                                    on:change=move |_| drawer.environment.set(env)
                                />
                                <label for=id>{env.label()}</label>
                                <small id=description_id class="radio-description">{env.description()}</small>
                            </div>
                        }
                    })
                    .collect_view()}
                {move || environment_changes_authorization.get().then(|| view! {
                    <p class="hint warn-text">
                        "Saving with another environment clears the authorization: Procore tokens never cross environments."
                    </p>
                })}
            </fieldset>
            <div class="field">
                <label class="switch" for="ds-cloud-connect">
                    <input
                        id="ds-cloud-connect"
                        type="checkbox"
                        role="switch"
                        disabled=move || read_only.get()
                        prop:checked=move || drawer.cloud_connect.get()
                        on:change=move |ev| drawer.cloud_connect.set(event_target_checked(&ev))
                    />
                    <span class="switch-track" aria-hidden="true"></span>
                    <span>"Use Cloud Connect"</span>
                </label>
                <p class="hint">"Send this data source's Procore traffic through an agent inside your network."</p>
                {move || drawer.cloud_connect.get().then(|| view! {
                    <Connectors drawer read_only error />
                })}
            </div>
            <FormError error />
            // Enter in a field saves, as in every other form.
            <button type="submit" hidden tabindex="-1" aria-hidden="true"></button>
        </form>
    }
}

/// The agents a data source can send its Procore traffic through, loaded when Cloud
/// Connect is switched on. Loaded in the browser only: the server renders the drawer
/// without them, so a reload hydrates the same markup before the list fills in.
#[component]
fn Connectors(
    drawer: Drawer,
    read_only: Memo<bool>,
    #[prop(into)] error: Signal<Option<AppError>>,
) -> impl IntoView {
    let connectors = RwSignal::new(None::<Result<Vec<Connector>, AppError>>);
    Effect::new(move |_| {
        spawn_local_scoped_with_cancellation(async move {
            let result = list_connectors().await;
            connectors.try_set(Some(result));
        });
    });
    let disabled_select = |text: &'static str| {
        view! {
            <select id="ds-connector" disabled aria-describedby="ds-connector-empty">
                <option value="">{text}</option>
            </select>
        }
    };
    view! {
        <div class="field connectors">
            <label for="ds-connector">"Connectors"</label>
            {move || match connectors.get() {
                None => disabled_select("Loading connectors…").into_any(),
                Some(Ok(list)) if list.is_empty() => view! {
                    {disabled_select("Choose a connector")}
                    <div class="connector-empty" id="ds-connector-empty">
                        <p>"No connectors registered yet"</p>
                        <a href="/help/cloud-connect" target="_blank" rel="noopener external">
                            "How to install a connector"
                        </a>
                    </div>
                }
                .into_any(),
                Some(Ok(list)) => view! { <ConnectorSelect drawer read_only error list /> }.into_any(),
                Some(Err(e)) => view! {
                    {disabled_select("Choose a connector")}
                    <p class="form-error" role="alert">
                        {format!("Could not load the connectors: {e}")}
                    </p>
                }
                .into_any(),
            }}
            <FieldError error field="connector" />
        </div>
    }
}

/// "NAME (online)", "NAME (offline, last seen 5 minutes ago)".
fn connector_label(connector: &Connector, now: DateTime<Utc>) -> String {
    let name = &connector.name;
    match (connector.online, connector.last_seen) {
        (true, _) => format!("{name} (online)"),
        (false, Some(at)) => format!("{name} (offline, last seen {})", relative_time(at, now)),
        (false, None) => format!("{name} (offline, never connected)"),
    }
}

#[component]
fn ConnectorSelect(
    drawer: Drawer,
    read_only: Memo<bool>,
    error: Signal<Option<AppError>>,
    list: Vec<Connector>,
) -> impl IntoView {
    let now = now();
    let known = list.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
    let offline = list
        .iter()
        .filter(|c| !c.online)
        .map(|c| c.id.clone())
        .collect::<Vec<_>>();
    // Chosen, but no longer offered (revoked since): kept visible rather than silently lost.
    let missing = Memo::new(move |_| drawer.connector.get().filter(|id| !known.contains(id)));
    let chosen_offline = Memo::new(move |_| {
        drawer
            .connector
            .with(|c| c.as_ref().is_some_and(|id| offline.contains(id)))
    });
    let invalid = move || {
        error
            .with(|e| e.as_ref().is_some_and(|e| e.field() == Some("connector")))
            .then_some("true")
    };
    let options = list
        .into_iter()
        .map(|connector| {
            let label = connector_label(&connector, now);
            let id = connector.id;
            let value = id.clone();
            let selected = move || drawer.connector.with(|c| c.as_deref() == Some(id.as_str()));
            view! { <option value=value selected=selected>{label}</option> }
        })
        .collect_view();
    view! {
        <select
            id="ds-connector"
            disabled=move || read_only.get()
            aria-invalid=invalid
            aria-describedby="ds-connector-state connector-error"
            prop:value=move || drawer.connector.get().unwrap_or_default()
            on:change=move |ev| {
                let value = event_target_value(&ev);
                drawer.connector.set((!value.is_empty()).then_some(value));
                if drawer
                    .error
                    .with_untracked(|e| e.as_ref().and_then(|e| e.field()) == Some("connector"))
                {
                    drawer.error.set(None);
                }
            }
        >
            <option value="" selected=move || drawer.connector.with(Option::is_none)>
                "Choose a connector"
            </option>
            {options}
            {move || missing.get().map(|id| view! {
                <option value=id selected>"An agent that was revoked"</option>
            })}
        </select>
        <div id="ds-connector-state" aria-live="polite">
            {move || {
                if chosen_offline.get() {
                    Some(view! {
                        <p class="hint warn-text" data-testid="connector-offline">
                            "This agent is offline: Procore calls of this data source fail until it reconnects."
                        </p>
                    }.into_any())
                } else if missing.with(Option::is_some) {
                    Some(view! {
                        <p class="hint warn-text">
                            "This agent was revoked: choose another for this data source."
                        </p>
                    }.into_any())
                } else {
                    None
                }
            }}
        </div>
    }
}

#[component]
fn TestPanel(drawer: Drawer, has_id: Memo<bool>) -> impl IntoView {
    let run = move |_| drawer.spawn(drawer.run_test());
    view! {
        <section class="test-panel" aria-labelledby="test-title">
            <div class="section-row">
                <h3 id="test-title">"Connection test"</h3>
                <button
                    type="button"
                    class="button"
                    disabled=move || !has_id.get() || drawer.testing.get() || drawer.saving.get()
                    on:click=run
                >
                    {move || if drawer.testing.get() { "Testing…" } else { "Test connection" }}
                </button>
            </div>
            {move || (!has_id.get()).then(|| view! {
                <p class="hint">"Save and authorize the data source, then test its connection."</p>
            })}
            <ol class="test-steps" aria-label="Connection checks" hidden=move || drawer.steps.with(Vec::is_empty)>
                {move || {
                    drawer
                        .steps
                        .get()
                        .into_iter()
                        .map(|(step, state)| {
                            let icon = match state {
                                StepState::Pending => "○",
                                StepState::Running => "◌",
                                StepState::Passed => "✓",
                                StepState::Failed(_) => "✕",
                            };
                            let key = state.key();
                            let failure = match state {
                                StepState::Failed(message) => Some(message),
                                _ => None,
                            };
                            view! {
                                <li class=format!("test-step step-{key}") data-state=key>
                                    <span class="step-icon" aria-hidden="true">{icon}</span>
                                    <span class="step-label">{step.label()}</span>
                                    <span class="step-state">{key}</span>
                                    {failure.map(|m| view! { <p class="form-error step-failure" role="alert">{m}</p> })}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ol>
            {move || {
                let all_passed = drawer.steps.with(|s| {
                    !s.is_empty() && s.iter().all(|(_, state)| *state == StepState::Passed)
                });
                all_passed.then(|| view! { <p class="test-ok">"All checks passed."</p> })
            }}
        </section>
    }
}

// ---------------------------------------------------------------------------------------
// Security

#[component]
fn SecurityDialog(
    id: String,
    admins: Vec<Principal>,
    users: Vec<Principal>,
    #[prop(into)] on_saved: Callback<DataSource>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let candidates = Resource::new(|| (), |_| security_candidates());
    let save = ServerAction::<SaveSecurity>::new();
    let error = action_error(save.into());
    let pick = |list: &[Principal]| {
        list.iter()
            .map(|p| (p.kind, p.id.clone()))
            .collect::<Vec<_>>()
    };
    let chosen_admins = RwSignal::new(pick(&admins));
    let chosen_users = RwSignal::new(pick(&users));
    // People already listed stay choosable even if they are no longer candidates.
    let known = StoredValue::new(admins.into_iter().chain(users).collect::<Vec<Principal>>());
    Effect::new(move |_| {
        if let Some(Ok(ds)) = save.value().get() {
            on_saved.run(ds);
        }
    });
    let ok = move |_| {
        save.dispatch(SaveSecurity {
            id: id.clone(),
            security: SecurityDraft {
                admins: chosen_admins.get_untracked(),
                users: chosen_users.get_untracked(),
            },
        });
    };
    view! {
        <Modal title="Security" on_close>
            <Transition fallback=|| view! { <p class="loading">"Loading users and groups…"</p> }>
                {move || Suspend::new(async move {
                    match candidates.await {
                        Ok(list) => {
                            let options = merge_principals(list, &known.get_value());
                            view! {
                                <div class="security-lists">
                                    <PrincipalList
                                        legend="Connection administrators"
                                        hint="Empty: all administrators"
                                        field="admins"
                                        options=options.clone()
                                        chosen=chosen_admins
                                        error
                                    />
                                    <PrincipalList
                                        legend="Connection users"
                                        hint="Empty: every signed-in user"
                                        field="users"
                                        options
                                        chosen=chosen_users
                                        error
                                    />
                                </div>
                            }
                            .into_any()
                        }
                        Err(error) => view! { <LoadError error /> }.into_any(),
                    }
                })}
            </Transition>
            <FormError error />
            <div class="modal-actions">
                <button type="button" class="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                <button type="button" class="button primary" disabled=save.pending() on:click=ok>"OK"</button>
            </div>
        </Modal>
    }
}

/// Candidates first (users, then groups, by name), plus anyone listed who is not one.
fn merge_principals(mut candidates: Vec<Principal>, listed: &[Principal]) -> Vec<Principal> {
    for p in listed {
        if !candidates.iter().any(|c| c.kind == p.kind && c.id == p.id) {
            candidates.push(p.clone());
        }
    }
    candidates.sort_by(|a, b| {
        kind_rank(a.kind)
            .cmp(&kind_rank(b.kind))
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
    });
    candidates
}

fn kind_rank(kind: PrincipalKind) -> u8 {
    match kind {
        PrincipalKind::User => 0,
        PrincipalKind::Group => 1,
    }
}

fn kind_word(kind: PrincipalKind) -> &'static str {
    match kind {
        PrincipalKind::User => "user",
        PrincipalKind::Group => "group",
    }
}

#[component]
fn PrincipalList(
    legend: &'static str,
    hint: &'static str,
    field: &'static str,
    options: Vec<Principal>,
    chosen: RwSignal<Vec<(PrincipalKind, String)>>,
    #[prop(into)] error: Signal<Option<AppError>>,
) -> impl IntoView {
    let hint_id = format!("security-{field}-hint");
    let described_by = hint_id.clone();
    view! {
        <fieldset class="field principal-list" aria-describedby=described_by>
            <legend>{legend}</legend>
            <p class="hint" id=hint_id>{hint}</p>
            <div class="member-list">
                {if options.is_empty() {
                    view! { <p class="muted">"There are no users or groups yet."</p> }.into_any()
                } else {
                    options
                        .into_iter()
                        .map(|p| {
                            let key = (p.kind, p.id.clone());
                            let check_key = key.clone();
                            view! {
                                <label class="check">
                                    <input
                                        type="checkbox"
                                        prop:checked=move || chosen.with(|c| c.contains(&check_key))
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            chosen.update(|c| {
                                                c.retain(|x| *x != key);
                                                if on {
                                                    c.push(key.clone());
                                                }
                                            });
                                        }
                                    />
                                    <span class="principal">
                                        {p.name.clone()}
                                        " "
                                        <small>"(" {kind_word(p.kind)} ")"</small>
                                    </span>
                                </label>
                            }
                        })
                        .collect_view()
                        .into_any()
                }}
            </div>
            <FieldError error field />
        </fieldset>
    }
}

// ---------------------------------------------------------------------------------------
// Call log and history

/// The call log and history, each fetched when its section is opened: nothing to load for
/// people who never look, and nothing the server renders for the browser to hydrate
/// (resources created inside the drawer's own async boundary would have to line up on
/// both sides).
#[component]
fn Activity(id: String, version: RwSignal<u64>) -> impl IntoView {
    let calls_open = RwSignal::new(false);
    let history_open = RwSignal::new(false);
    let id = StoredValue::new(id);
    view! {
        <details class="collapsible" on:toggle=move |ev| calls_open.set(browser::details_open(&ev))>
            <summary>"Procore calls (last hour)"</summary>
            {move || calls_open.get().then(|| view! { <CallLogSection id=id.get_value() version /> })}
        </details>
        <details class="collapsible" on:toggle=move |ev| history_open.set(browser::details_open(&ev))>
            <summary>"History"</summary>
            {move || history_open.get().then(|| view! { <HistorySection id=id.get_value() version /> })}
        </details>
    }
}

#[component]
fn CallLogSection(id: String, version: RwSignal<u64>) -> impl IntoView {
    let calls = Resource::new(move || version.get(), move |_| call_log(id.clone()));
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading calls…"</p> }>
            {move || Suspend::new(async move {
                match calls.await {
                    Ok(list) if list.is_empty() => view! {
                        <p class="muted">"No Procore calls in the last hour."</p>
                    }
                    .into_any(),
                    Ok(list) => view! { <CallLog entries=list /> }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn HistorySection(id: String, version: RwSignal<u64>) -> impl IntoView {
    let history = Resource::new(
        move || version.get(),
        move |_| data_source_history(id.clone()),
    );
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading history…"</p> }>
            {move || Suspend::new(async move {
                match history.await {
                    Ok(list) if list.is_empty() => view! {
                        <p class="muted">"No changes recorded yet."</p>
                    }
                    .into_any(),
                    Ok(list) => history_list(list).into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn history_list(changes: Vec<Change>) -> impl IntoView {
    let now = now();
    view! {
        <ol class="history" aria-label="History">
            {changes
                .into_iter()
                .map(|c| view! {
                    <li>
                        <time datetime=c.at.to_rfc3339() title=full_time(c.at)>{relative_time(c.at, now)}</time>
                        <span class="history-who">{c.by.unwrap_or_else(|| "Trestle".to_string())}</span>
                        <span class="history-what">{c.summary}</span>
                    </li>
                })
                .collect_view()}
        </ol>
    }
}

/// A call counts as an error when Procore did not answer 2xx/3xx.
fn is_error_call(entry: &CallLogEntry) -> bool {
    entry.error.is_some() || entry.status.is_none_or(|s| s >= 400)
}

const BUCKETS: usize = 12;
const BUCKET_SECS: i64 = 300;

/// Calls and errors per five minutes over the last hour, oldest first.
fn buckets(entries: &[CallLogEntry], now: DateTime<Utc>) -> [(u32, u32); BUCKETS] {
    let mut out = [(0u32, 0u32); BUCKETS];
    for e in entries {
        let age = (now - e.at).num_seconds().max(0);
        let back = (age / BUCKET_SECS) as usize;
        if back < BUCKETS {
            let slot = &mut out[BUCKETS - 1 - back];
            slot.0 += 1;
            if is_error_call(e) {
                slot.1 += 1;
            }
        }
    }
    out
}

#[component]
fn CallLog(entries: Vec<CallLogEntry>) -> impl IntoView {
    let now = now();
    let counts = buckets(&entries, now);
    let total = entries.len();
    let errors = entries.iter().filter(|e| is_error_call(e)).count();
    // Newest first, so the first reported budget is the latest.
    let remaining = entries.iter().find_map(|e| e.rate_remaining);
    let max = counts.iter().map(|c| c.0).max().unwrap_or(0).max(1) as f64;
    const WIDTH: f64 = 20.0;
    const HEIGHT: f64 = 48.0;
    let summary = format!(
        "{total} calls in the last hour, {errors} failed{}",
        remaining
            .map(|r| format!("; rate limit remaining {r}"))
            .unwrap_or_default()
    );
    view! {
        <div class="call-chart">
            <svg
                viewBox=format!("0 0 {} {}", WIDTH * BUCKETS as f64, HEIGHT)
                width="240"
                height="48"
                role="img"
                aria-label=format!("Calls per 5 minutes: {summary}")
            >
                {counts
                    .iter()
                    .enumerate()
                    .map(|(i, &(calls, failed))| {
                        let ok_height = f64::from(calls - failed) / max * (HEIGHT - 2.0);
                        let err_height = f64::from(failed) / max * (HEIGHT - 2.0);
                        let x = i as f64 * WIDTH + 2.0;
                        let minutes = (BUCKETS - i) * 5;
                        view! {
                            <g>
                                <title>{format!("{}–{} min ago: {calls} calls, {failed} failed", minutes, minutes - 5)}</title>
                                <rect class="bar-base" x=x y=HEIGHT - 1.0 width=WIDTH - 4.0 height="1"></rect>
                                <rect class="bar-ok" x=x y=HEIGHT - ok_height width=WIDTH - 4.0 height=ok_height></rect>
                                <rect class="bar-error" x=x y=HEIGHT - ok_height - err_height width=WIDTH - 4.0 height=err_height></rect>
                            </g>
                        }
                    })
                    .collect_view()}
            </svg>
            <div class="chart-legend">
                <span>"60 min ago"</span>
                <span>"now"</span>
            </div>
            <p class="chart-summary">
                {format!("{total} calls, {errors} failed. ")}
                <span data-testid="rate-remaining">
                    {match remaining {
                        Some(r) => format!("Rate limit remaining: {r}"),
                        None => "Rate limit remaining: not reported".to_string(),
                    }}
                </span>
            </p>
        </div>
        <div class="table-scroll">
            <table class="table compact" aria-label="Procore calls">
                <thead>
                    <tr>
                        <th scope="col">"Time (UTC)"</th>
                        <th scope="col">"Method"</th>
                        <th scope="col">"Path"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Duration"</th>
                        <th scope="col">"Remaining"</th>
                    </tr>
                </thead>
                <tbody>
                    {entries
                        .into_iter()
                        .map(|e| {
                            let failed = is_error_call(&e);
                            let status = e
                                .status
                                .map(|s| s.to_string())
                                .unwrap_or_else(|| "—".to_string());
                            view! {
                                <tr class:call-error=failed>
                                    <td><time datetime=e.at.to_rfc3339()>{e.at.format("%H:%M:%S").to_string()}</time></td>
                                    <td>{e.method.clone()}</td>
                                    <td class="path">
                                        <code>{e.path.clone()}</code>
                                        {e.error.clone().map(|m| view! { <span class="call-failure">{m}</span> })}
                                    </td>
                                    <td>{status}</td>
                                    <td>{format!("{} ms", e.duration_ms)}</td>
                                    <td>{e.rate_remaining.map(|r| r.to_string()).unwrap_or_else(|| "—".to_string())}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

// ---------------------------------------------------------------------------------------
// Icons (inline, so the page needs no asset)

/// A data source type's icon (`procore`, `database`, `api`, `sharepoint`) or `bin`, drawn
/// by the stylesheet (`.icon-NAME`): the grid repeats them on every row.
fn icon(name: &'static str) -> impl IntoView {
    let kind = if name == "bin" { "" } else { " type-icon" };
    view! { <span class=format!("icon icon-{name}{kind}") aria-hidden="true"></span> }
}

// ---------------------------------------------------------------------------------------
// The browser side of the Procore sign-in

/// What the server's callback page posts to the window that opened it.
#[derive(Debug, Clone, PartialEq)]
struct AuthorizationMessage {
    /// Absent when the server could not tell which data source the sign-in was for.
    data_source: Option<String>,
    ok: bool,
    error: Option<String>,
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::{WindowListenerHandle, window_event_listener_untyped};
    use web_sys::js_sys::Reflect;
    use web_sys::wasm_bindgen::{JsCast, JsValue};

    use super::AuthorizationMessage;

    /// The `type` the callback page gives its message.
    const MESSAGE_TYPE: &str = "trestle:procore-authorization";

    /// The Procore sign-in window.
    pub struct Popup(web_sys::Window);

    impl Popup {
        /// Must run inside a click handler, or the browser blocks it.
        pub fn open() -> Option<Popup> {
            let window = web_sys::window()?;
            match window.open_with_url_and_target_and_features(
                "",
                "trestle-procore-auth",
                "popup,width=600,height=720",
            ) {
                Ok(Some(popup)) if !popup.closed().unwrap_or(true) => Some(Popup(popup)),
                _ => None,
            }
        }

        pub fn go(&self, url: &str) -> bool {
            !self.0.closed().unwrap_or(true) && self.0.location().set_href(url).is_ok()
        }

        pub fn close(&self) {
            let _ = self.0.close();
        }
    }

    /// Whether the `<details>` a toggle event came from is now open.
    pub fn details_open(event: &web_sys::Event) -> bool {
        event
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|e| e.has_attribute("open"))
    }

    pub fn go_to(url: &str) {
        if let Some(window) = web_sys::window() {
            let _ = window.location().assign(url);
        }
    }

    /// Calls `on_message` for authorization messages from our own origin only: any page
    /// can post to this window.
    pub fn listen_for_authorization(
        on_message: impl Fn(AuthorizationMessage) + 'static,
    ) -> Option<WindowListenerHandle> {
        let own_origin = web_sys::window()?.location().origin().ok()?;
        Some(window_event_listener_untyped("message", move |event| {
            let Ok(event) = event.dyn_into::<web_sys::MessageEvent>() else {
                return;
            };
            if event.origin() != own_origin {
                return;
            }
            if let Some(message) = parse(&event.data()) {
                on_message(message);
            }
        }))
    }

    fn field(data: &JsValue, key: &str) -> JsValue {
        Reflect::get(data, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    }

    fn parse(data: &JsValue) -> Option<AuthorizationMessage> {
        if !data.is_object() || field(data, "type").as_string().as_deref() != Some(MESSAGE_TYPE) {
            return None;
        }
        Some(AuthorizationMessage {
            data_source: field(data, "dataSource").as_string(),
            ok: field(data, "ok").as_bool().unwrap_or(false),
            error: field(data, "error").as_string(),
        })
    }
}

/// On the server nothing of this runs: handlers and effects are browser-only.
#[cfg(not(feature = "hydrate"))]
mod browser {
    use leptos::prelude::WindowListenerHandle;

    use super::AuthorizationMessage;

    pub struct Popup;

    impl Popup {
        pub fn open() -> Option<Popup> {
            None
        }

        pub fn go(&self, _url: &str) -> bool {
            false
        }

        pub fn close(&self) {}
    }

    pub fn go_to(_url: &str) {}

    pub fn details_open(_event: &leptos::ev::Event) -> bool {
        false
    }

    pub fn listen_for_authorization(
        _on_message: impl Fn(AuthorizationMessage) + 'static,
    ) -> Option<WindowListenerHandle> {
        None
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn row(name: &str, status: Status, minutes_ago: i64, by: Option<&str>) -> DataSourceRow {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        DataSourceRow {
            id: name.to_lowercase().replace(' ', "-"),
            name: name.into(),
            kind: "procore".into(),
            status,
            updated_at: now - chrono::Duration::minutes(minutes_ago),
            updated_by: by.map(Into::into),
            can_edit: true,
        }
    }

    #[test]
    fn the_url_names_the_open_drawer() {
        assert_eq!(target_from(None), None);
        assert_eq!(target_from(Some("")), None);
        assert_eq!(target_from(Some("new")), Some(Target::New));
        assert_eq!(
            target_from(Some("abc123")),
            Some(Target::Existing("abc123".into()))
        );
        assert_eq!(open_url("a b&c"), "/data-sources?open=a%20b%26c");
        assert_eq!(authorize_url("x1"), "/data-sources/x1/authorize");
    }

    #[test]
    fn search_matches_name_or_type_and_sorting_toggles() {
        let rows = vec![
            row("Beta", Status::Ready, 5, Some("Zed")),
            row("alpha", Status::TestFailed, 50, None),
            row("Gamma site", Status::Incomplete, 1, Some("Amy")),
        ];
        let names = |v: Vec<DataSourceRow>| v.into_iter().map(|r| r.name).collect::<Vec<_>>();
        assert_eq!(
            names(visible_rows(&rows, "", SortKey::Name, true)),
            ["alpha", "Beta", "Gamma site"]
        );
        assert_eq!(
            names(visible_rows(&rows, "", SortKey::Name, false)),
            ["Gamma site", "Beta", "alpha"]
        );
        assert_eq!(
            names(visible_rows(&rows, "GAMMA", SortKey::Name, true)),
            ["Gamma site"]
        );
        assert_eq!(visible_rows(&rows, "procore", SortKey::Name, true).len(), 3);
        assert!(visible_rows(&rows, "sharepoint", SortKey::Name, true).is_empty());
        assert_eq!(
            names(visible_rows(&rows, "", SortKey::Modified, false)),
            ["Gamma site", "Beta", "alpha"]
        );
        assert_eq!(
            names(visible_rows(&rows, "", SortKey::Status, true)),
            ["Gamma site", "Beta", "alpha"],
            "incomplete, ready, test failed"
        );
        assert_eq!(
            names(visible_rows(&rows, "", SortKey::ModifiedBy, true)),
            ["alpha", "Gamma site", "Beta"],
            "nobody first, then by name"
        );
    }

    #[test]
    fn calls_fall_into_five_minute_buckets_with_errors_counted() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        let call = |secs_ago: i64, status: Option<u16>| CallLogEntry {
            at: now - chrono::Duration::seconds(secs_ago),
            method: "GET".into(),
            path: "/rest/v1.0/me".into(),
            status,
            duration_ms: 12,
            rate_remaining: Some(3599),
            error: None,
        };
        let entries = vec![
            call(10, Some(200)),
            call(20, Some(404)),
            call(301, Some(200)),
            call(3_590, None),
            call(3_700, Some(200)),
        ];
        let b = buckets(&entries, now);
        assert_eq!(b[11], (2, 1), "the newest five minutes");
        assert_eq!(b[10], (1, 0));
        assert_eq!(b[0], (1, 1), "no answer is an error");
        assert_eq!(
            b.iter().map(|x| x.0).sum::<u32>(),
            4,
            "older than an hour left out"
        );
    }

    #[test]
    fn security_lists_keep_people_who_are_no_longer_candidates() {
        let p = |kind, id: &str, name: &str| Principal {
            kind,
            id: id.into(),
            name: name.into(),
        };
        let merged = merge_principals(
            vec![
                p(PrincipalKind::Group, "g1", "Crew"),
                p(PrincipalKind::User, "u2", "bob"),
            ],
            &[
                p(PrincipalKind::User, "u1", "Ann"),
                p(PrincipalKind::User, "u2", "bob"),
            ],
        );
        let names: Vec<_> = merged.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["Ann", "bob", "Crew"]);
    }
}
