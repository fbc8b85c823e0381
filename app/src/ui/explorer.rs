//! The data explorer (product.md §6): browse, create, edit and delete Procore records of a
//! ready data source.
//!
//! Where the person is (data source, object, project, page, sort, search, filter and the
//! open record) lives in the URL, so reload, back and shared links work. Everything from
//! Procore loads in the browser after hydration, through the record server functions,
//! which check rights and the catalogue; the forms are generated from the catalogue's
//! fields, and Procore's field errors land under the field they are about.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::{spawn_local, spawn_local_scoped_with_cancellation};
use leptos_meta::Title;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use serde_json::Value;

use super::widgets::{Confirm, EmptyState, LoadError, Modal, Toasts};
use crate::api::forms::{procore_objects, queryable_sources};
use crate::api::records::{create_record, delete_record, get_record, list_records, update_record};
use crate::error::AppError;
use crate::form::QueryableSource;
use crate::record::{
    Attributes, DEFAULT_PER_PAGE, Direction, ObjectField, ObjectInfo, Operator, RecordFilter,
    RecordPage, RecordQuery, RecordScope, cell_text, lookup,
};

const PAGE: &str = "/explorer";
const PER_PAGE: u64 = DEFAULT_PER_PAGE;
const DEBOUNCE: Duration = Duration::from_millis(300);
/// Columns besides the display field and the id.
const EXTRA_COLUMNS: usize = 5;
/// Projects offered by the project picker (Procore's largest page).
const PROJECTS_PER_PAGE: u64 = 100;

// ---------------------------------------------------------------------------------------
// Where the person is: the URL's query

/// The explorer's state as the URL holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Place {
    source: String,
    object: String,
    project: Option<u64>,
    /// The record open in the drawer.
    record: Option<u64>,
    /// 1-based.
    page: u64,
    sort: Option<String>,
    direction: Direction,
    search: String,
    filter: Option<RecordFilter>,
}

impl Default for Place {
    fn default() -> Self {
        Place {
            source: String::new(),
            object: String::new(),
            project: None,
            record: None,
            page: 1,
            sort: None,
            direction: Direction::Asc,
            search: String::new(),
            filter: None,
        }
    }
}

impl Place {
    fn from_query(get: impl Fn(&str) -> Option<String>) -> Place {
        let text = |key: &str| {
            get(key)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let number = |key: &str| text(key).and_then(|v| v.parse::<u64>().ok());
        let filter = text("filter_field").map(|field| RecordFilter {
            field,
            op: text("filter_op")
                .and_then(|op| Operator::from_key(&op))
                .unwrap_or_default(),
            value: get("filter_value").unwrap_or_default(),
        });
        Place {
            source: text("source").unwrap_or_default(),
            object: text("object").unwrap_or_default(),
            project: number("project").filter(|p| *p > 0),
            record: number("record").filter(|r| *r > 0),
            page: number("page").filter(|p| *p >= 1).unwrap_or(1),
            sort: text("sort"),
            direction: if text("dir").as_deref() == Some("desc") {
                Direction::Desc
            } else {
                Direction::Asc
            },
            search: get("q").unwrap_or_default(),
            filter,
        }
    }

    fn url(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if !self.source.is_empty() {
            pairs.push(("source", self.source.clone()));
        }
        if !self.object.is_empty() {
            pairs.push(("object", self.object.clone()));
        }
        if let Some(project) = self.project {
            pairs.push(("project", project.to_string()));
        }
        if !self.search.trim().is_empty() {
            pairs.push(("q", self.search.clone()));
        }
        if let Some(filter) = &self.filter {
            pairs.push(("filter_field", filter.field.clone()));
            pairs.push(("filter_op", filter.op.key().to_string()));
            pairs.push(("filter_value", filter.value.clone()));
        }
        if let Some(sort) = &self.sort {
            pairs.push(("sort", sort.clone()));
            if self.direction == Direction::Desc {
                pairs.push(("dir", "desc".into()));
            }
        }
        if self.page > 1 {
            pairs.push(("page", self.page.to_string()));
        }
        if let Some(record) = self.record {
            pairs.push(("record", record.to_string()));
        }
        if pairs.is_empty() {
            return PAGE.to_string();
        }
        let query = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", encode_component(v)))
            .collect::<Vec<_>>()
            .join("&");
        format!("{PAGE}?{query}")
    }

    /// The scope of requests for `object`: company objects take no project.
    fn scope(&self, object: &ObjectInfo) -> RecordScope {
        RecordScope {
            data_source: self.source.clone(),
            object: object.key.clone(),
            project: self.project.filter(|_| object.needs_project),
        }
    }

    fn query(&self) -> RecordQuery {
        RecordQuery {
            filters: self.filter.iter().cloned().collect(),
            search: Some(self.search.trim().to_string()).filter(|s| !s.is_empty()),
            sort: self.sort.clone(),
            direction: self.direction,
            page: self.page,
            per_page: PER_PAGE,
        }
    }

    /// Another data source: its projects differ, so only the object stays.
    fn with_source(&self, source: String) -> Place {
        Place {
            source,
            object: self.object.clone(),
            ..Place::default()
        }
    }

    /// Another object of the same data source; the project stays for the next one.
    fn with_object(&self, object: String) -> Place {
        Place {
            source: self.source.clone(),
            object,
            project: self.project,
            ..Place::default()
        }
    }

    fn with_project(&self, project: Option<u64>) -> Place {
        Place {
            source: self.source.clone(),
            object: self.object.clone(),
            project,
            ..Place::default()
        }
    }

    /// Sorts by `field`, or turns the order around when it already sorts by it.
    fn sorted_by(&self, field: &str) -> Place {
        let mut next = self.clone();
        if self.sort.as_deref() == Some(field) {
            next.direction = match self.direction {
                Direction::Asc => Direction::Desc,
                Direction::Desc => Direction::Asc,
            };
        } else {
            next.sort = Some(field.to_string());
            next.direction = Direction::Asc;
        }
        next.page = 1;
        next
    }

    fn at_page(&self, page: u64) -> Place {
        Place {
            page: page.max(1),
            ..self.clone()
        }
    }

    fn searching(&self, search: String) -> Place {
        Place {
            search,
            page: 1,
            ..self.clone()
        }
    }

    fn filtered(&self, filter: Option<RecordFilter>) -> Place {
        Place {
            filter,
            page: 1,
            ..self.clone()
        }
    }

    fn showing(&self, record: Option<u64>) -> Place {
        Place {
            record,
            ..self.clone()
        }
    }
}

/// Percent-encodes one query value.
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

/// What the page can show, from what has loaded and where the person is.
#[derive(Debug, Clone, PartialEq)]
enum Stage {
    Loading,
    Failed(AppError),
    NoSources,
    ChooseSource,
    ChooseObject,
    ChooseProject,
    Ready(ObjectInfo),
}

fn stage_of(
    sources: Option<&Result<Vec<QueryableSource>, AppError>>,
    objects: Option<&Result<Vec<ObjectInfo>, AppError>>,
    place: &Place,
) -> Stage {
    let (Some(sources), Some(objects)) = (sources, objects) else {
        return Stage::Loading;
    };
    let sources = match sources {
        Ok(list) => list,
        Err(e) => return Stage::Failed(e.clone()),
    };
    let objects = match objects {
        Ok(list) => list,
        Err(e) => return Stage::Failed(e.clone()),
    };
    if sources.is_empty() && place.source.is_empty() {
        return Stage::NoSources;
    }
    if place.source.is_empty() {
        return Stage::ChooseSource;
    }
    let Some(object) = objects.iter().find(|o| o.key == place.object) else {
        return Stage::ChooseObject;
    };
    if object.needs_project && place.project.is_none() {
        return Stage::ChooseProject;
    }
    Stage::Ready(object.clone())
}

// ---------------------------------------------------------------------------------------
// Pure helpers: columns, titles, forms

/// The table's columns: the display field, the id, then a few scalar fields, those Procore
/// sorts or filters by first.
fn columns(object: &ObjectInfo) -> Vec<ObjectField> {
    let mut chosen: Vec<ObjectField> = Vec::new();
    for name in [object.display_field.as_str(), "id"] {
        if let Some(field) = object.field(name)
            && !chosen.iter().any(|c| c.name == field.name)
        {
            chosen.push(field.clone());
        }
    }
    let scalar = |f: &&ObjectField| {
        !matches!(f.kind.as_str(), "object" | "list" | "long_text")
            && !chosen.iter().any(|c| c.name == f.name)
    };
    let preferred = object
        .fields
        .iter()
        .filter(scalar)
        .filter(|f| f.sortable || f.filterable);
    let others = object
        .fields
        .iter()
        .filter(scalar)
        .filter(|f| !(f.sortable || f.filterable));
    let extra: Vec<ObjectField> = preferred
        .chain(others)
        .take(EXTRA_COLUMNS)
        .cloned()
        .collect();
    chosen.extend(extra);
    chosen
}

/// Fields a filter can compare: everything but nested objects and lists.
fn filter_fields(object: &ObjectInfo) -> Vec<ObjectField> {
    object
        .fields
        .iter()
        .filter(|f| !matches!(f.kind.as_str(), "object" | "list"))
        .cloned()
        .collect()
}

/// "RFIs" → "RFI", "Companies" → "Company", "Punch items" → "Punch item".
fn singular(label: &str) -> String {
    if let Some(stem) = label.strip_suffix("ies") {
        format!("{stem}y")
    } else if let Some(stem) = label.strip_suffix('s') {
        stem.to_string()
    } else {
        label.to_string()
    }
}

fn record_id(record: &Value) -> Option<u64> {
    match record.get("id")? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// How a record is named: its display field, or its id.
fn record_title(object: &ObjectInfo, record: &Value) -> String {
    let text = cell_text(lookup(record, &object.display_field));
    if !text.trim().is_empty() {
        return text;
    }
    match record_id(record) {
        Some(id) => format!("#{id}"),
        None => "(untitled)".to_string(),
    }
}

fn page_count(total: u64, per_page: u64) -> u64 {
    total.div_ceil(per_page.max(1)).max(1)
}

/// Procore's messages are fragments ("can't be blank"): they read after the field's name.
fn sentence(subject: &str, message: &str) -> String {
    if message.starts_with(|c: char| c.is_lowercase()) {
        format!("{subject} {message}")
    } else {
        message.to_string()
    }
}

/// What a form shows, by write key.
type FormValues = BTreeMap<String, String>;
/// Messages by write key.
type FieldMessages = BTreeMap<String, Vec<String>>;

/// A field's value in a record as the form edits it: ids for references and lists, dates
/// as `YYYY-MM-DD`, booleans as `true` / `false`.
fn form_text(field: &ObjectField, record: &Value) -> String {
    let value = lookup(record, &field.name);
    if field.kind == "boolean" {
        return (value.and_then(Value::as_bool) == Some(true)).to_string();
    }
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|item| match item {
                Value::Object(map) => map.get("id").filter(|v| !v.is_null()),
                Value::Null => None,
                other => Some(other),
            })
            .map(|v| cell_text(Some(v)))
            .collect::<Vec<_>>()
            .join(", "),
        Some(Value::String(s))
            if field.kind == "date" && s.len() > 10 && s.is_char_boundary(10) =>
        {
            s[..10].to_string()
        }
        Some(Value::Object(map)) => map
            .get("id")
            .map(|v| cell_text(Some(v)))
            .unwrap_or_default(),
        Some(other) => cell_text(Some(other)),
    }
}

/// The form's starting values: the record's for an edit, blank for a new one.
fn initial_values(object: &ObjectInfo, record: Option<&Value>) -> FormValues {
    object
        .writable_fields()
        .filter_map(|f| {
            let key = f.write_key.clone()?;
            let value = match record {
                Some(record) => form_text(f, record),
                None if f.kind == "boolean" => "false".to_string(),
                None => String::new(),
            };
            Some((key, value))
        })
        .collect()
}

fn value_of<'a>(values: &'a FormValues, key: &str) -> &'a str {
    values.get(key).map(String::as_str).unwrap_or_default()
}

/// Whether a field is to be sent: anything filled in on create, what changed on edit.
fn is_sent(
    field: &ObjectField,
    key: &str,
    values: &FormValues,
    initial: Option<&FormValues>,
) -> bool {
    let now = value_of(values, key);
    match initial {
        None if field.kind == "boolean" => now == "true",
        None => !now.trim().is_empty(),
        Some(initial) => value_of(initial, key) != now,
    }
}

fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    matches!(parts.as_slice(), [y, m, d]
        if y.len() == 4 && m.len() == 2 && d.len() == 2
            && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
            && m.parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
            && d.parse::<u32>().is_ok_and(|d| (1..=31).contains(&d)))
}

/// The checks made before anything is sent: required fields and the shape of numbers,
/// ids, dates and choices. Messages are fragments, keyed by write key, as Procore's are.
fn check(object: &ObjectInfo, values: &FormValues, initial: Option<&FormValues>) -> FieldMessages {
    let mut errors = FieldMessages::new();
    for field in object.writable_fields() {
        let Some(key) = field.write_key.as_deref() else {
            continue;
        };
        let text = value_of(values, key).trim();
        let changed = initial.is_none_or(|i| value_of(i, key) != value_of(values, key));
        if !changed {
            continue;
        }
        let mut problem =
            |message: String| errors.entry(key.to_string()).or_default().push(message);
        if text.is_empty() {
            if field.required_on_create && field.kind != "boolean" {
                problem("can't be blank".into());
            }
            continue;
        }
        match field.kind.as_str() {
            "integer" if text.parse::<i64>().is_err() => problem("must be a whole number".into()),
            "reference" if text.parse::<u64>().map_or(true, |id| id == 0) => {
                problem("must be the id of a record (a whole number)".into())
            }
            "decimal" if !text.parse::<f64>().is_ok_and(f64::is_finite) => {
                problem("must be a number".into())
            }
            "date" if !is_date(text) => problem("must be a date (YYYY-MM-DD)".into()),
            "enum" if !field.choices.iter().any(|c| c == text) => {
                problem(format!("must be one of: {}", field.choices.join(", ")))
            }
            "list"
                if !text
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .all(|s| s.parse::<i64>().is_ok()) =>
            {
                problem("must be ids separated by commas".into())
            }
            _ => {}
        }
    }
    errors
}

/// The attributes to send, keyed by write key: text (the server gives it each field's
/// type), booleans as booleans. An edit sends only what changed.
fn attributes(
    object: &ObjectInfo,
    values: &FormValues,
    initial: Option<&FormValues>,
) -> Attributes {
    let mut attributes = Attributes::new();
    for field in object.writable_fields() {
        let Some(key) = field.write_key.as_deref() else {
            continue;
        };
        if !is_sent(field, key, values, initial) {
            continue;
        }
        let text = value_of(values, key);
        let value = if field.kind == "boolean" {
            Value::Bool(text == "true")
        } else {
            Value::String(text.to_string())
        };
        attributes.insert(key.to_string(), value);
    }
    attributes
}

/// The writable field an error key is about. Procore keys errors by write key
/// (`rfi_manager_id`), by the association (`rfi_manager`) or by the field's path.
fn field_for_key<'a>(object: &'a ObjectInfo, key: &str) -> Option<&'a ObjectField> {
    let exact = object
        .writable_fields()
        .find(|f| f.write_key.as_deref() == Some(key))
        .or_else(|| object.writable_fields().find(|f| f.name == key));
    exact.or_else(|| {
        object.writable_fields().find(|f| {
            let write_key = f.write_key.as_deref().unwrap_or_default();
            write_key.strip_suffix("_id") == Some(key)
                || write_key.strip_suffix("_ids") == Some(key)
                || f.name.strip_suffix(".id") == Some(key)
                || write_key.split('.').next() == Some(key)
        })
    })
}

/// Messages under their fields (by write key, as sentences) and the rest for the top.
fn place_errors(object: &ObjectInfo, errors: &FieldMessages) -> (FieldMessages, Vec<String>) {
    let mut by_field = FieldMessages::new();
    let mut general = Vec::new();
    for (key, messages) in errors {
        let field = (key != "base")
            .then(|| field_for_key(object, key))
            .flatten();
        match field.and_then(|f| Some((f, f.write_key.clone()?))) {
            Some((field, write_key)) => by_field
                .entry(write_key)
                .or_default()
                .extend(messages.iter().map(|m| sentence(&field.label, m))),
            None if key == "base" => general.extend(messages.iter().cloned()),
            None => general.extend(messages.iter().map(|m| sentence(key, m))),
        }
    }
    (by_field, general)
}

// ---------------------------------------------------------------------------------------
// The page

#[derive(Debug, Clone, PartialEq)]
enum FormMode {
    Create,
    Edit { id: u64, record: Value },
}

type Loaded<T> = RwSignal<Option<Result<T, AppError>>>;

/// What the page's parts share; signals only, so it is `Copy` into every handler.
#[derive(Clone, Copy)]
struct Explorer {
    place: Memo<Place>,
    /// Moves to a place: `(place, replace)`.
    go: Callback<(Place, bool)>,
    sources: Loaded<Vec<QueryableSource>>,
    objects: Loaded<Vec<ObjectInfo>>,
    stage: Memo<Stage>,
    page: Loaded<RecordPage>,
    loading: RwSignal<bool>,
    /// Bumped when records changed, so the list and the open record reload.
    version: RwSignal<u64>,
    form: RwSignal<Option<FormMode>>,
    /// The page's owner: work it starts can show toasts and stops when the page goes.
    owner: StoredValue<Option<WeakOwner>>,
}

impl Explorer {
    fn go(&self, place: Place) {
        self.go.run((place, false));
    }

    fn here(&self) -> Place {
        self.place.get_untracked()
    }

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
        self.version.update(|v| *v += 1);
    }

    /// The scope of the object the page shows, if it shows one.
    fn scope_untracked(&self) -> Option<RecordScope> {
        match self.stage.get_untracked() {
            Stage::Ready(object) => Some(self.place.with_untracked(|p| p.scope(&object))),
            _ => None,
        }
    }
}

#[component]
pub fn ExplorerPage() -> impl IntoView {
    let query = use_query_map();
    let place = Memo::new(move |_| query.with(|q| Place::from_query(|k| q.get(k))));
    let navigate = use_navigate();
    let go = Callback::new(move |(target, replace): (Place, bool)| {
        navigate(
            &target.url(),
            NavigateOptions {
                replace,
                scroll: false,
                ..Default::default()
            },
        )
    });
    let sources: Loaded<Vec<QueryableSource>> = RwSignal::new(None);
    let objects: Loaded<Vec<ObjectInfo>> = RwSignal::new(None);
    let stage = Memo::new(move |_| {
        sources.with(|s| objects.with(|o| place.with(|p| stage_of(s.as_ref(), o.as_ref(), p))))
    });
    let ex = Explorer {
        place,
        go,
        sources,
        objects,
        stage,
        page: RwSignal::new(None),
        loading: RwSignal::new(false),
        version: RwSignal::new(0),
        form: RwSignal::new(None),
        owner: StoredValue::new(Owner::current().map(|o| o.downgrade())),
    };
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| {
        spawn_local(async move {
            let list = queryable_sources().await;
            sources.try_set(Some(list));
        });
        spawn_local(async move {
            let list = procore_objects().await;
            objects.try_set(Some(list));
        });
    });
    load_list(ex);

    view! {
        <Title text="Explorer" />
        <div class="page-header">
            <h1>"Explorer"</h1>
            <p class="muted">"Browse, create and edit Procore records through a ready data source."</p>
        </div>
        <Pickers ex />
        <Body ex />
        <RecordDrawer ex />
        {move || ex.form.get().map(|mode| view! { <RecordForm ex mode /> })}
    }
}

/// Reads the page of records the place asks for, dropping answers that came too late.
fn load_list(ex: Explorer) {
    let request = Memo::new(move |_| match ex.stage.get() {
        Stage::Ready(object) => ex.place.with(|p| Some((p.scope(&object), p.query()))),
        _ => None,
    });
    let generation = StoredValue::new(0u64);
    Effect::new(move |previous: Option<Option<RecordScope>>| {
        let wanted = request.get();
        ex.version.track();
        generation.update_value(|g| *g += 1);
        let current = generation.get_value();
        let scope = wanted.as_ref().map(|(s, _)| s.clone());
        if previous.flatten() != scope {
            // Another object's records would show under this one's columns.
            ex.page.set(None);
        }
        let Some((request_scope, query)) = wanted else {
            ex.loading.set(false);
            return scope;
        };
        ex.loading.set(true);
        spawn_local(async move {
            let result = list_records(request_scope, query).await;
            if generation.try_get_value() != Some(current) {
                return;
            }
            ex.loading.try_set(false);
            ex.page.try_set(Some(result));
        });
        scope
    });
}

// ---------------------------------------------------------------------------------------
// Pickers: data source, object, project

#[component]
fn Pickers(ex: Explorer) -> impl IntoView {
    // The project picker is made again only when its data source changes.
    let project_source = Memo::new(move |_| {
        let needs = ex.stage.with(|s| match s {
            Stage::ChooseProject => true,
            Stage::Ready(object) => object.needs_project,
            _ => false,
        });
        let source = ex.place.with(|p| p.source.clone());
        (needs && !source.is_empty()).then_some(source)
    });
    view! {
        <div class="explorer-pickers">
            <div class="field">
                <label for="explorer-source">"Data source"</label>
                <select
                    id="explorer-source"
                    on:change=move |ev| ex.go(ex.here().with_source(event_target_value(&ev)))
                >
                    <option value="" prop:selected=move || ex.place.with(|p| p.source.is_empty())>
                        "Choose a data source…"
                    </option>
                    {move || {
                        ex.sources.with(|s| {
                            s.as_ref()
                                .and_then(|r| r.as_ref().ok())
                                .cloned()
                                .unwrap_or_default()
                        })
                            .into_iter()
                            .map(|source| {
                                let id = source.id.clone();
                                let label = if source.ready {
                                    source.name.clone()
                                } else {
                                    format!("{} (not ready)", source.name)
                                };
                                view! {
                                    <option
                                        value=source.id.clone()
                                        disabled=!source.ready
                                        prop:selected=move || ex.place.with(|p| p.source == id)
                                    >
                                        {label}
                                    </option>
                                }
                            })
                            .collect_view()
                    }}
                </select>
            </div>
            <div class="field">
                <label for="explorer-object">"Object"</label>
                <select
                    id="explorer-object"
                    on:change=move |ev| ex.go(ex.here().with_object(event_target_value(&ev)))
                >
                    <option value="" prop:selected=move || ex.place.with(|p| p.object.is_empty())>
                        "Choose an object…"
                    </option>
                    {move || {
                        ex.objects.with(|o| {
                            o.as_ref()
                                .and_then(|r| r.as_ref().ok())
                                .cloned()
                                .unwrap_or_default()
                        })
                            .into_iter()
                            .map(|object| {
                                let key = object.key.clone();
                                view! {
                                    <option
                                        value=object.key.clone()
                                        prop:selected=move || ex.place.with(|p| p.object == key)
                                    >
                                        {object.label.clone()}
                                    </option>
                                }
                            })
                            .collect_view()
                    }}
                </select>
            </div>
            {move || project_source.get().map(|source| view! { <ProjectPicker ex source /> })}
        </div>
    }
}

/// Projects of the data source to choose from; an id field when they cannot be listed.
#[component]
fn ProjectPicker(ex: Explorer, source: String) -> impl IntoView {
    let projects: Loaded<Vec<(u64, String)>> = RwSignal::new(None);
    let source = StoredValue::new(source);
    Effect::new(move |_| {
        let scope = RecordScope {
            data_source: source.get_value(),
            object: "projects".into(),
            project: None,
        };
        let query = RecordQuery {
            per_page: PROJECTS_PER_PAGE,
            sort: Some("name".into()),
            ..RecordQuery::default()
        };
        spawn_local(async move {
            let result = list_records(scope, query).await.map(|page| {
                page.records
                    .iter()
                    .filter_map(|r| {
                        let id = record_id(r)?;
                        let name = cell_text(lookup(r, "display_name"));
                        let name = if name.is_empty() {
                            cell_text(lookup(r, "name"))
                        } else {
                            name
                        };
                        Some((
                            id,
                            if name.is_empty() {
                                format!("Project {id}")
                            } else {
                                name
                            },
                        ))
                    })
                    .collect::<Vec<_>>()
            });
            projects.try_set(Some(result));
        });
    });
    let chosen = Memo::new(move |_| ex.place.with(|p| p.project));
    move || match projects.get() {
        None => view! {
            <div class="field">
                <label for="explorer-project">"Project"</label>
                <select id="explorer-project" disabled>
                    <option>"Loading projects…"</option>
                </select>
            </div>
        }
        .into_any(),
        Some(Ok(list)) => {
            let mut list = list;
            // A project beyond the first page, named by the URL, is still shown as chosen.
            if let Some(id) = chosen.get_untracked()
                && !list.iter().any(|(p, _)| *p == id)
            {
                list.push((id, format!("Project {id}")));
            }
            view! {
                <div class="field">
                    <label for="explorer-project">"Project"</label>
                    <select
                        id="explorer-project"
                        on:change=move |ev| {
                            let project = event_target_value(&ev).parse::<u64>().ok();
                            ex.go(ex.here().with_project(project));
                        }
                    >
                        <option value="" prop:selected=move || chosen.get().is_none()>
                            "Choose a project…"
                        </option>
                        {list
                            .into_iter()
                            .map(|(id, name)| view! {
                                <option
                                    value=id.to_string()
                                    prop:selected=move || chosen.get() == Some(id)
                                >
                                    {name}
                                </option>
                            })
                            .collect_view()}
                    </select>
                </div>
            }
            .into_any()
        }
        Some(Err(error)) => view! {
            <div class="field">
                <label for="explorer-project">"Project id"</label>
                <input
                    id="explorer-project"
                    type="number"
                    min="1"
                    step="1"
                    prop:value=move || chosen.get().map(|p| p.to_string()).unwrap_or_default()
                    on:change=move |ev| {
                        let project = event_target_value(&ev).trim().parse::<u64>().ok();
                        ex.go(ex.here().with_project(project));
                    }
                />
                <p class="hint">{format!("The projects could not be listed: {error}")}</p>
            </div>
        }
        .into_any(),
    }
}

// ---------------------------------------------------------------------------------------
// The records

#[component]
fn Body(ex: Explorer) -> impl IntoView {
    move || {
        match ex.stage.get() {
        Stage::Loading => view! { <p class="loading">"Loading…"</p> }.into_any(),
        Stage::Failed(error) => view! { <LoadError error /> }.into_any(),
        Stage::NoSources => view! {
            <EmptyState
                title="No data source to explore"
                message="Once a Procore data source is ready and you are one of its connection users, its records can be browsed and edited here."
            />
        }
        .into_any(),
        Stage::ChooseSource => view! {
            <EmptyState
                title="Choose a data source"
                message="Pick one of the ready data sources above. Those not ready yet need their administrators to authorize them."
            />
        }
        .into_any(),
        Stage::ChooseObject => view! {
            <EmptyState title="Choose an object" message="Pick the kind of Procore record to browse, such as RFIs or projects." />
        }
        .into_any(),
        Stage::ChooseProject => view! {
            <EmptyState title="Choose a project" message="These records belong to a project: pick one above." />
        }
        .into_any(),
        Stage::Ready(object) => view! { <RecordsPanel ex object /> }.into_any(),
    }
    }
}

#[component]
fn RecordsPanel(ex: Explorer, object: ObjectInfo) -> impl IntoView {
    let new_label = format!("+ New {}", singular(&object.label));
    let can_create = object.operations.create;
    let fields = filter_fields(&object);
    view! {
        <div class="toolbar explorer-toolbar">
            <SearchBox ex label=object.label.clone() />
            {can_create.then(|| view! {
                <button type="button" class="button primary" on:click=move |_| ex.form.set(Some(FormMode::Create))>
                    {new_label}
                </button>
            })}
        </div>
        <FilterBar ex fields />
        {move || ex.page.with(|p| match p {
            Some(Err(error)) => Some(view! { <p class="form-error page-alert" role="alert">{error.to_string()}</p> }),
            _ => None,
        })}
        <RecordsTable ex object />
        <Paging ex />
    }
}

/// Search as you type, written to the URL once typing pauses.
#[component]
fn SearchBox(ex: Explorer, label: String) -> impl IntoView {
    let text = RwSignal::new(ex.place.with_untracked(|p| p.search.clone()));
    // What the URL last said or was told: a different one came from back or a link.
    let known = StoredValue::new(text.get_untracked());
    Effect::new(move |_| {
        let wanted = ex.place.with(|p| p.search.clone());
        if known.get_value() != wanted {
            known.set_value(wanted.clone());
            text.set(wanted);
        }
    });
    Effect::new(move |first: Option<()>| {
        let typed = text.get();
        if first.is_none() {
            return;
        }
        set_timeout(
            move || {
                if text.try_get_untracked().as_ref() != Some(&typed)
                    || known.try_get_value().as_ref() == Some(&typed)
                {
                    return;
                }
                known.set_value(typed.clone());
                if let Some(place) = ex.place.try_get_untracked() {
                    ex.go.run((place.searching(typed), true));
                }
            },
            DEBOUNCE,
        );
    });
    view! {
        <input
            type="search"
            class="search"
            aria-label=format!("Search {label}")
            placeholder="Search"
            prop:value=move || text.get()
            on:input=move |ev| text.set(event_target_value(&ev))
        />
    }
}

#[component]
fn FilterBar(ex: Explorer, fields: Vec<ObjectField>) -> impl IntoView {
    let current = Memo::new(move |_| ex.place.with(|p| p.filter.clone()));
    let initial = current.get_untracked();
    let field = RwSignal::new(
        initial
            .as_ref()
            .map(|f| f.field.clone())
            .unwrap_or_default(),
    );
    let op = RwSignal::new(initial.as_ref().map(|f| f.op).unwrap_or_default());
    let value = RwSignal::new(initial.map(|f| f.value).unwrap_or_default());
    // Back and links change the filter too.
    Effect::new(move |_| {
        let filter = current.get();
        field.set(filter.as_ref().map(|f| f.field.clone()).unwrap_or_default());
        op.set(filter.as_ref().map(|f| f.op).unwrap_or_default());
        value.set(filter.map(|f| f.value).unwrap_or_default());
    });
    let fields = StoredValue::new(fields);
    let choices = Memo::new(move |_| {
        let name = field.get();
        fields.with_value(|list| {
            list.iter()
                .find(|f| f.name == name)
                .map(|f| f.choices.clone())
                .unwrap_or_default()
        })
    });
    let apply = move |ev: SubmitEvent| {
        ev.prevent_default();
        let name = field.get_untracked();
        let filter = (!name.is_empty()).then(|| RecordFilter {
            field: name,
            op: op.get_untracked(),
            value: value.get_untracked(),
        });
        ex.go(ex.here().filtered(filter));
    };
    let clear = move |_| {
        field.set(String::new());
        op.set(Operator::Eq);
        value.set(String::new());
        ex.go(ex.here().filtered(None));
    };
    view! {
        <form class="explorer-filter" aria-label="Filter" on:submit=apply>
            <div class="field">
                <label for="explorer-filter-field">"Filter by"</label>
                <select id="explorer-filter-field" on:change=move |ev| field.set(event_target_value(&ev))>
                    <option value="" prop:selected=move || field.with(String::is_empty)>"Choose a field…"</option>
                    {fields.with_value(|list| {
                        list.iter()
                            .map(|f| {
                                let name = f.name.clone();
                                view! {
                                    <option value=f.name.clone() prop:selected=move || field.with(|x| *x == name)>
                                        {f.label.clone()}
                                    </option>
                                }
                            })
                            .collect_view()
                    })}
                </select>
            </div>
            <div class="field">
                <label for="explorer-filter-op">"Operator"</label>
                <select
                    id="explorer-filter-op"
                    on:change=move |ev| op.set(Operator::from_key(&event_target_value(&ev)).unwrap_or_default())
                >
                    {Operator::ALL
                        .into_iter()
                        .map(|o| view! {
                            <option value=o.key() prop:selected=move || op.get() == o>{o.label()}</option>
                        })
                        .collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="explorer-filter-value">"Value"</label>
                {move || {
                    let list = choices.get();
                    if list.is_empty() {
                        view! {
                            <input
                                id="explorer-filter-value"
                                type="text"
                                prop:value=move || value.get()
                                on:input=move |ev| value.set(event_target_value(&ev))
                            />
                        }
                        .into_any()
                    } else {
                        view! {
                            <select id="explorer-filter-value" on:change=move |ev| value.set(event_target_value(&ev))>
                                <option value="" prop:selected=move || value.with(String::is_empty)>"—"</option>
                                {list
                                    .into_iter()
                                    .map(|c| {
                                        let same = c.clone();
                                        let text = c.clone();
                                        view! {
                                            <option value=c prop:selected=move || value.with(|v| *v == same)>{text}</option>
                                        }
                                    })
                                    .collect_view()}
                            </select>
                        }
                        .into_any()
                    }
                }}
            </div>
            <div class="explorer-filter-actions">
                <button type="submit" class="button">"Apply"</button>
                <button type="button" class="button subtle" on:click=clear>"Clear"</button>
            </div>
        </form>
    }
}

#[component]
fn RecordsTable(ex: Explorer, object: ObjectInfo) -> impl IntoView {
    let columns = StoredValue::new(columns(&object));
    let object = StoredValue::new(object);
    let label = object.with_value(|o| o.label.clone());
    let rows = move || {
        let records = ex.page.with(|p| match p {
            Some(Ok(page)) => page.records.clone(),
            _ => Vec::new(),
        });
        records
            .into_iter()
            .map(|record| {
                let title = object.with_value(|o| record_title(o, &record));
                let id = record_id(&record);
                let cells = columns.with_value(|cols| {
                    cols.iter()
                        .skip(1)
                        .map(|c| view! { <td>{cell_text(lookup(&record, &c.name))}</td> })
                        .collect_view()
                });
                let first = match id {
                    Some(id) => view! {
                        <A
                            href=move || ex.place.with(|p| p.showing(Some(id)).url())
                            scroll=false
                            attr:class="row-link"
                        >
                            {title}
                        </A>
                    }
                    .into_any(),
                    None => view! { <span>{title}</span> }.into_any(),
                };
                view! {
                    <tr data-testid="record-row">
                        <td>{first}</td>
                        {cells}
                    </tr>
                }
            })
            .collect_view()
    };
    let empty = move || {
        ex.page.with(|p| match p {
            Some(Ok(page)) if page.records.is_empty() => Some(view! {
                <p class="muted no-matches">"No records match."</p>
            }),
            _ => None,
        })
    };
    view! {
        <div class="table-scroll">
            <table
                class="table explorer-table"
                aria-label=label
                aria-busy=move || ex.loading.get().then_some("true")
            >
                <thead>
                    <tr>{columns.with_value(|cols| cols.iter().map(|c| sort_header(ex, c.clone())).collect_view())}</tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        {move || (ex.loading.get() && ex.page.with(Option::is_none)).then(|| view! {
            <p class="loading">"Loading records…"</p>
        })}
        {empty}
    }
}

fn sort_header(ex: Explorer, field: ObjectField) -> impl IntoView {
    let name = StoredValue::new(field.name.clone());
    let state = Memo::new(move |_| {
        ex.place.with(|p| {
            name.with_value(|n| (p.sort.as_deref() == Some(n.as_str())).then_some(p.direction))
        })
    });
    view! {
        <th
            scope="col"
            aria-sort=move || match state.get() {
                Some(Direction::Asc) => "ascending",
                Some(Direction::Desc) => "descending",
                None => "none",
            }
        >
            <button
                type="button"
                class="sort-button"
                on:click=move |_| ex.go(name.with_value(|n| ex.here().sorted_by(n)))
            >
                {field.label}
                <span class="sort-indicator" class:sorted=move || state.get().is_some() aria-hidden="true">
                    {move || match state.get() {
                        Some(Direction::Asc) => "▲",
                        Some(Direction::Desc) => "▼",
                        None => "↕",
                    }}
                </span>
            </button>
        </th>
    }
}

#[component]
fn Paging(ex: Explorer) -> impl IntoView {
    let info = Memo::new(move |_| {
        ex.page.with(|p| match p {
            Some(Ok(page)) => Some((page.page, page_count(page.total, page.per_page), page.total)),
            _ => None,
        })
    });
    move || {
        info.get().map(|(page, pages, total)| {
            let noun = if total == 1 { "record" } else { "records" };
            view! {
                <nav class="explorer-paging" aria-label="Pages">
                    <button
                        type="button"
                        class="button"
                        disabled={page <= 1}
                        on:click=move |_| ex.go(ex.here().at_page(page - 1))
                    >
                        "Previous"
                    </button>
                    <span data-testid="paging">{format!("Page {page} of {pages} · {total} {noun}")}</span>
                    <button
                        type="button"
                        class="button"
                        disabled={page >= pages}
                        on:click=move |_| ex.go(ex.here().at_page(page + 1))
                    >
                        "Next"
                    </button>
                </nav>
            }
        })
    }
}

// ---------------------------------------------------------------------------------------
// One record: the drawer

#[component]
fn RecordDrawer(ex: Explorer) -> impl IntoView {
    let wanted = Memo::new(move |_| match ex.stage.get() {
        Stage::Ready(object) => ex
            .place
            .with(|p| p.record.map(|id| (p.scope(&object), id, object.clone()))),
        _ => None,
    });
    let record: Loaded<Value> = RwSignal::new(None);
    // The Delete confirmation, over the drawer: Escape then closes only the confirmation.
    let confirming = RwSignal::new(false);
    let generation = StoredValue::new(0u64);
    Effect::new(move |previous: Option<Option<u64>>| {
        let target = wanted.get();
        ex.version.track();
        generation.update_value(|g| *g += 1);
        let current = generation.get_value();
        let shown = target.as_ref().map(|(_, id, _)| *id);
        if previous.flatten() != shown {
            // Another record: not the last one's fields meanwhile. A reload keeps them.
            record.set(None);
            confirming.set(false);
        }
        let Some((scope, id, _)) = target else {
            return shown;
        };
        spawn_local(async move {
            let result = get_record(scope, id).await;
            if generation.try_get_value() != Some(current) {
                return;
            }
            record.try_set(Some(result));
        });
        shown
    });
    let open = Memo::new(move |_| {
        wanted.with(|w| w.as_ref().map(|(_, id, object)| (*id, object.clone())))
    });
    move || {
        open.get().map(|(id, object)| {
            let close = move || ex.go(ex.here().showing(None));
            let heading = {
                let object = object.clone();
                move || {
                    record.with(|r| match r {
                        Some(Ok(r)) => record_title(&object, r),
                        _ => format!("Record #{id}"),
                    })
                }
            };
            view! {
                <div class="drawer-backdrop" on:click=move |_| close()></div>
                <aside
                    class="drawer"
                    role="dialog"
                    aria-labelledby="record-title"
                    on:keydown=move |ev| {
                        if ev.key() == "Escape" && !confirming.get_untracked() {
                            close();
                        }
                    }
                >
                    <header class="drawer-header">
                        <div class="drawer-heading">
                            <h2 id="record-title">{heading}</h2>
                        </div>
                        <button type="button" class="icon-button" aria-label="Close" on:click=move |_| close()>
                            "×"
                        </button>
                    </header>
                    {move || match record.get() {
                        None => view! { <div class="drawer-body"><p class="loading">"Loading…"</p></div> }.into_any(),
                        Some(Err(error)) => view! {
                            <div class="drawer-body">
                                <p class="form-error" role="alert">{error.to_string()}</p>
                            </div>
                        }
                        .into_any(),
                        Some(Ok(value)) => view! { <RecordDetails ex object=object.clone() id record=value confirming /> }.into_any(),
                    }}
                </aside>
            }
        })
    }
}

#[component]
fn RecordDetails(
    ex: Explorer,
    object: ObjectInfo,
    id: u64,
    record: Value,
    confirming: RwSignal<bool>,
) -> impl IntoView {
    let title = record_title(&object, &record);
    let singular = singular(&object.label);
    let can_edit = object.operations.update;
    let can_delete = object.operations.delete;
    let rows = object
        .fields
        .iter()
        .map(|f| {
            let text = cell_text(lookup(&record, &f.name));
            let empty = text.trim().is_empty();
            view! {
                <div class="record-field">
                    <dt>{f.label.clone()}</dt>
                    <dd class:muted=empty>{if empty { "—".to_string() } else { text }}</dd>
                </div>
            }
        })
        .collect_view();
    let record = StoredValue::new(record);
    let delete = {
        let title = title.clone();
        move || {
            confirming.set(false);
            let Some(scope) = ex.scope_untracked() else {
                return;
            };
            let title = title.clone();
            ex.spawn(async move {
                match delete_record(scope, id).await {
                    Ok(()) => {
                        Toasts::success(format!("Deleted {title}"));
                        ex.go(ex.here().showing(None));
                        ex.changed();
                    }
                    Err(e) => Toasts::error(e.to_string()),
                }
            });
        }
    };
    view! {
        <div class="drawer-body">
            <dl class="record-fields">{rows}</dl>
        </div>
        {(can_edit || can_delete).then(|| view! {
            <footer class="drawer-footer">
                {can_delete.then(|| view! {
                    <button type="button" class="button danger" on:click=move |_| confirming.set(true)>
                        "Delete"
                    </button>
                })}
                <span class="spacer"></span>
                {can_edit.then(|| view! {
                    <button
                        type="button"
                        class="button primary"
                        on:click=move |_| ex.form.set(Some(FormMode::Edit { id, record: record.get_value() }))
                    >
                        "Edit"
                    </button>
                })}
            </footer>
        })}
        {move || confirming.get().then(|| {
            let delete = delete.clone();
            view! {
                <Confirm
                    title=format!("Delete {title}?")
                    message=format!("Procore deletes this {} for good; this cannot be undone.", singular.to_lowercase())
                    confirm_label="Delete"
                    on_cancel=move || confirming.set(false)
                    on_confirm=move || delete()
                />
            }
        })}
    }
}

// ---------------------------------------------------------------------------------------
// Create and edit

#[component]
fn RecordForm(ex: Explorer, mode: FormMode) -> impl IntoView {
    let (Stage::Ready(object), Some(scope)) = (ex.stage.get_untracked(), ex.scope_untracked())
    else {
        return ().into_any();
    };
    let (id, initial) = match &mode {
        FormMode::Create => (None, None),
        FormMode::Edit { id, record } => (Some(*id), Some(initial_values(&object, Some(record)))),
    };
    let creating = id.is_none();
    let values = RwSignal::new(
        initial
            .clone()
            .unwrap_or_else(|| initial_values(&object, None)),
    );
    let errors = RwSignal::new(FieldMessages::new());
    let general = RwSignal::new(Vec::<String>::new());
    let saving = RwSignal::new(false);
    let form_ref = NodeRef::<leptos::html::Form>::new();
    let singular = singular(&object.label);
    let title = if creating {
        format!("New {singular}")
    } else {
        format!("Edit {singular}")
    };
    let object_labels: BTreeMap<String, String> = ex.objects.with_untracked(|o| {
        o.as_ref()
            .and_then(|r| r.as_ref().ok())
            .map(|list| {
                list.iter()
                    .map(|x| (x.key.clone(), x.label.clone()))
                    .collect()
            })
            .unwrap_or_default()
    });
    let controls = object
        .writable_fields()
        .enumerate()
        .map(|(index, field)| {
            let hint = field.references.as_ref().map(|r| {
                format!(
                    "An id from {}",
                    object_labels.get(r).cloned().unwrap_or_else(|| r.clone())
                )
            });
            view! { <FieldControl field=field.clone() index values errors creating hint /> }
        })
        .collect_view();
    let object = StoredValue::new(object);
    let initial = StoredValue::new(initial);
    let scope = StoredValue::new(scope);
    let close = move || ex.form.set(None);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        let now = values.get_untracked();
        let (local, attributes) = object.with_value(|o| {
            initial.with_value(|i| (check(o, &now, i.as_ref()), attributes(o, &now, i.as_ref())))
        });
        if !local.is_empty() {
            let (by_field, rest) = object.with_value(|o| place_errors(o, &local));
            errors.set(by_field);
            general.set(rest);
            show_problems(form_ref);
            return;
        }
        if !creating && attributes.is_empty() {
            errors.set(FieldMessages::new());
            general.set(vec!["Nothing has changed.".into()]);
            show_problems(form_ref);
            return;
        }
        errors.set(FieldMessages::new());
        general.set(Vec::new());
        saving.set(true);
        let scope = scope.get_value();
        let object = object.get_value();
        let singular = singular.clone();
        ex.spawn(async move {
            let result = match id {
                None => create_record(scope, attributes)
                    .await
                    .map(|_| format!("{singular} created")),
                Some(id) => update_record(scope, id, attributes)
                    .await
                    .map(|_| format!("{singular} saved")),
            };
            saving.try_set(false);
            match result {
                Ok(message) => {
                    Toasts::success(message);
                    ex.form.set(None);
                    ex.changed();
                }
                Err(error) => {
                    let (by_field, mut rest) = place_errors(&object, &error.field_messages());
                    if by_field.is_empty() && rest.is_empty() {
                        rest.push(error.to_string());
                    } else if rest.is_empty() {
                        rest.push("Procore did not accept this; see the messages below.".into());
                    }
                    errors.try_set(by_field);
                    general.try_set(rest);
                    show_problems(form_ref);
                }
            }
        });
    };
    view! {
        <Modal title=title on_close=move || close()>
            <form class="record-form" novalidate node_ref=form_ref on:submit=submit>
                {move || {
                    let messages = general.get();
                    (!messages.is_empty()).then(|| view! {
                        <div class="form-error" role="alert">
                            {messages.into_iter().map(|m| view! { <p>{m}</p> }).collect_view()}
                        </div>
                    })
                }}
                <div class="record-form-fields">{controls}</div>
                <div class="modal-actions">
                    <button type="button" class="button" on:click=move |_| close()>"Cancel"</button>
                    <button type="submit" class="button primary" disabled=move || saving.get()>
                        {if creating { "Create" } else { "Save" }}
                    </button>
                </div>
            </form>
        </Modal>
    }
    .into_any()
}

/// Brings the first field with a message into view and focuses it (a long form may have
/// it far above the buttons), or else the message at the top.
fn show_problems(form: NodeRef<leptos::html::Form>) {
    use leptos::wasm_bindgen::JsCast;
    // After the messages and `aria-invalid` are in the page.
    request_animation_frame(move || {
        let Some(form) = form.get_untracked() else {
            return;
        };
        if let Ok(Some(field)) = form.query_selector("[aria-invalid='true']")
            && let Ok(field) = field.dyn_into::<leptos::web_sys::HtmlElement>()
        {
            let _ = field.focus();
        } else if let Ok(Some(message)) = form.query_selector(".form-error") {
            message.scroll_into_view();
        }
    });
}

/// One generated input, by the catalogue kind of its field, with its messages under it.
#[component]
fn FieldControl(
    field: ObjectField,
    index: usize,
    values: RwSignal<FormValues>,
    errors: RwSignal<FieldMessages>,
    creating: bool,
    hint: Option<String>,
) -> impl IntoView {
    let key = StoredValue::new(field.write_key.clone().unwrap_or_default());
    let id = format!("record-field-{index}");
    let error_id = format!("record-field-{index}-error");
    let hint_id = format!("record-field-{index}-hint");
    let messages = Memo::new(move |_| {
        errors.with(|e| key.with_value(|k| e.get(k).cloned().unwrap_or_default()))
    });
    let invalid = move || messages.with(|m| !m.is_empty()).then_some("true");
    let described = {
        let error_id = error_id.clone();
        let hint_id = hint_id.clone();
        let has_hint = hint.is_some();
        move || {
            let mut ids = Vec::new();
            if messages.with(|m| !m.is_empty()) {
                ids.push(error_id.clone());
            }
            if has_hint {
                ids.push(hint_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    let current =
        move || values.with(|v| key.with_value(|k| v.get(k).cloned().unwrap_or_default()));
    let set = move |text: String| {
        values.update(|v| {
            v.insert(key.get_value(), text);
        })
    };
    let required = creating && field.required_on_create;
    // Beside the label, not in it: the field's name stays its label; aria-required says it.
    let mark =
        required.then(|| view! { <span class="required-mark" aria-hidden="true">" *"</span> });
    let label = field.label.clone();
    let control = match field.kind.as_str() {
        "boolean" => view! {
            <label class="check">
                <input
                    type="checkbox"
                    id=id.clone()
                    aria-describedby=described.clone()
                    prop:checked=move || current() == "true"
                    on:change=move |ev| set(event_target_checked(&ev).to_string())
                />
                <span>{label.clone()}</span>
            </label>
        }
        .into_any(),
        "enum" => {
            let choices = field.choices.clone();
            view! {
                <span class="record-label"><label for=id.clone()>{label.clone()}</label>{mark}</span>
                <select
                    id=id.clone()
                    aria-invalid=invalid
                    aria-required=required.then_some("true")
                    aria-describedby=described.clone()
                    on:change=move |ev| set(event_target_value(&ev))
                >
                    <option value="" prop:selected=move || current().is_empty()>"—"</option>
                    {choices
                        .into_iter()
                        .map(|c| {
                            let same = c.clone();
                            let text = c.clone();
                            view! { <option value=c prop:selected=move || current() == same>{text}</option> }
                        })
                        .collect_view()}
                </select>
            }
            .into_any()
        }
        "long_text" => view! {
            <span class="record-label"><label for=id.clone()>{label.clone()}</label>{mark}</span>
            <textarea
                id=id.clone()
                rows="3"
                aria-invalid=invalid
                aria-required=required.then_some("true")
                aria-describedby=described.clone()
                prop:value=current
                on:input=move |ev| set(event_target_value(&ev))
            ></textarea>
        }
        .into_any(),
        kind => {
            let (input_type, step, placeholder) = match kind {
                "integer" | "reference" => ("number", Some("1"), None),
                "decimal" => ("number", Some("any"), None),
                "date" => ("date", None, None),
                "date_time" => ("text", None, Some("2026-05-04T15:30:00Z")),
                "list" => ("text", None, Some("Comma-separated ids, e.g. 12, 34")),
                _ => ("text", None, None),
            };
            view! {
                <span class="record-label"><label for=id.clone()>{label.clone()}</label>{mark}</span>
                <input
                    id=id.clone()
                    type=input_type
                    step=step
                    placeholder=placeholder
                    aria-invalid=invalid
                    aria-required=required.then_some("true")
                    aria-describedby=described.clone()
                    prop:value=current
                    on:input=move |ev| set(event_target_value(&ev))
                />
            }
            .into_any()
        }
    };
    let wide = matches!(field.kind.as_str(), "long_text");
    view! {
        <div class="field" class:record-form-wide=wide data-testid=format!("field-{}", key.get_value())>
            {control}
            {hint.map(|h| view! { <p class="hint" id=hint_id>{h}</p> })}
            {move || {
                let list = messages.get();
                (!list.is_empty()).then(|| view! {
                    <p class="field-error" id=error_id.clone() role="alert">{list.join(" ")}</p>
                })
            }}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::record::Operations;

    fn field(name: &str, kind: &str) -> ObjectField {
        ObjectField {
            name: name.into(),
            label: name.into(),
            kind: kind.into(),
            sortable: false,
            filterable: false,
            write_key: None,
            required_on_create: false,
            choices: Vec::new(),
            references: None,
        }
    }

    fn writable(name: &str, label: &str, kind: &str, key: &str) -> ObjectField {
        ObjectField {
            label: label.into(),
            write_key: Some(key.into()),
            ..field(name, kind)
        }
    }

    /// Shaped like the catalogue's RFIs.
    fn rfis() -> ObjectInfo {
        let mut number = field("number", "text");
        number.sortable = true;
        number.write_key = Some("number".into());
        let mut status = field("status", "enum");
        status.sortable = true;
        status.filterable = true;
        status.choices = vec!["open".into(), "closed".into()];
        let mut subject = writable("subject", "Subject", "text", "subject");
        subject.sortable = true;
        subject.required_on_create = true;
        let mut question = writable("questions.0.body", "Question", "long_text", "question.body");
        question.required_on_create = true;
        let mut manager = writable(
            "rfi_manager.id",
            "RFI manager",
            "reference",
            "rfi_manager_id",
        );
        manager.required_on_create = true;
        manager.references = Some("project_users".into());
        let mut due = writable("due_date", "Due date", "date", "due_date");
        due.sortable = true;
        let mut impact = writable(
            "cost_impact.status",
            "Cost impact",
            "enum",
            "cost_impact.status",
        );
        impact.choices = vec!["tbd".into(), "n_a".into()];
        ObjectInfo {
            key: "rfis".into(),
            label: "RFIs".into(),
            needs_project: true,
            display_field: "subject".into(),
            value_field: "id".into(),
            fields: vec![
                field("id", "integer"),
                number,
                field("full_number", "text"),
                subject,
                question,
                field("questions", "list"),
                status,
                writable("private", "Private", "boolean", "private"),
                due,
                manager,
                field("rfi_manager.name", "text"),
                writable("assignees", "Assignees", "list", "assignee_ids"),
                writable(
                    "cost_impact.value",
                    "Cost impact amount",
                    "decimal",
                    "cost_impact.value",
                ),
                impact,
                field("custom_fields", "object"),
                field("created_at", "date_time"),
            ],
            operations: Operations {
                list: true,
                get: true,
                create: true,
                update: true,
                delete: false,
            },
        }
    }

    fn values(pairs: &[(&str, &str)]) -> FormValues {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_url_round_trips_the_place() {
        let place = Place {
            source: "ds 1".into(),
            object: "rfis".into(),
            project: Some(2783001),
            record: Some(9),
            page: 3,
            sort: Some("subject".into()),
            direction: Direction::Desc,
            search: "door & frame".into(),
            filter: Some(RecordFilter {
                field: "status".into(),
                op: Operator::Ne,
                value: "closed".into(),
            }),
        };
        let url = place.url();
        assert!(
            url.starts_with("/explorer?source=ds%201&object=rfis&project=2783001"),
            "{url}"
        );
        assert!(url.contains("q=door%20%26%20frame"), "{url}");
        let query: Vec<(String, String)> = url
            .split_once('?')
            .unwrap()
            .1
            .split('&')
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap();
                (k.to_string(), decode(v))
            })
            .collect();
        let parsed =
            Place::from_query(|k| query.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone()));
        assert_eq!(parsed, place);
        assert_eq!(Place::default().url(), "/explorer");
        assert_eq!(Place::from_query(|_| None), Place::default());
    }

    fn decode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn odd_urls_fall_back_to_defaults() {
        let get = |k: &str| match k {
            "page" => Some("0".to_string()),
            "project" => Some("abc".to_string()),
            "dir" => Some("sideways".to_string()),
            "filter_op" => Some("like".to_string()),
            _ => None,
        };
        let place = Place::from_query(get);
        assert_eq!(place.page, 1);
        assert_eq!(place.project, None);
        assert_eq!(place.direction, Direction::Asc);
        assert_eq!(place.filter, None, "no filter without a field");
    }

    #[test]
    fn moving_around_resets_what_no_longer_fits() {
        let here = Place {
            source: "a".into(),
            object: "rfis".into(),
            project: Some(1),
            record: Some(5),
            page: 4,
            sort: Some("subject".into()),
            search: "x".into(),
            ..Place::default()
        };
        let other = here.with_source("b".into());
        assert_eq!(
            (other.object.as_str(), other.project, other.page),
            ("rfis", None, 1)
        );
        let object = here.with_object("submittals".into());
        assert_eq!(
            (object.project, object.record, object.sort.clone()),
            (Some(1), None, None)
        );
        let sorted = here.sorted_by("subject");
        assert_eq!((sorted.direction, sorted.page), (Direction::Desc, 1));
        assert_eq!(sorted.sorted_by("subject").direction, Direction::Asc);
        let by_number = sorted.sorted_by("number");
        assert_eq!(
            (by_number.sort.as_deref(), by_number.direction),
            (Some("number"), Direction::Asc)
        );
        assert_eq!(here.searching("door".into()).page, 1);
        assert_eq!(here.filtered(None).page, 1);
        assert_eq!(here.at_page(0).page, 1);
        assert_eq!(
            here.showing(None).page,
            4,
            "closing a record keeps the page"
        );
    }

    #[test]
    fn scope_and_query_follow_the_place() {
        let place = Place {
            source: "a".into(),
            object: "rfis".into(),
            project: Some(7),
            page: 2,
            search: "  door ".into(),
            ..Place::default()
        };
        let object = rfis();
        assert_eq!(place.scope(&object).project, Some(7));
        let company = ObjectInfo {
            needs_project: false,
            ..rfis()
        };
        assert_eq!(place.scope(&company).project, None);
        let query = place.query();
        assert_eq!(
            (query.page, query.per_page, query.search.as_deref()),
            (2, PER_PAGE, Some("door"))
        );
        assert!(place.searching("   ".into()).query().search.is_none());
    }

    #[test]
    fn the_stage_says_what_is_missing() {
        let sources = Ok(vec![QueryableSource {
            id: "a".into(),
            name: "Sandbox".into(),
            ready: true,
        }]);
        let objects = Ok(vec![rfis()]);
        let mut place = Place::default();
        assert_eq!(stage_of(None, Some(&objects), &place), Stage::Loading);
        assert_eq!(
            stage_of(Some(&Ok(Vec::new())), Some(&objects), &place),
            Stage::NoSources
        );
        assert_eq!(
            stage_of(Some(&Err(AppError::Forbidden)), Some(&objects), &place),
            Stage::Failed(AppError::Forbidden)
        );
        assert_eq!(
            stage_of(Some(&sources), Some(&objects), &place),
            Stage::ChooseSource
        );
        place.source = "a".into();
        assert_eq!(
            stage_of(Some(&sources), Some(&objects), &place),
            Stage::ChooseObject
        );
        place.object = "nonsense".into();
        assert_eq!(
            stage_of(Some(&sources), Some(&objects), &place),
            Stage::ChooseObject
        );
        place.object = "rfis".into();
        assert_eq!(
            stage_of(Some(&sources), Some(&objects), &place),
            Stage::ChooseProject
        );
        place.project = Some(1);
        assert_eq!(
            stage_of(Some(&sources), Some(&objects), &place),
            Stage::Ready(rfis())
        );
    }

    #[test]
    fn columns_start_with_the_display_field_and_the_id() {
        let names: Vec<String> = columns(&rfis()).into_iter().map(|c| c.name).collect();
        // Sorted or filtered fields first, then the rest; no lists, objects or long text.
        assert_eq!(
            names,
            [
                "subject",
                "id",
                "number",
                "status",
                "due_date",
                "full_number",
                "private"
            ]
        );
        let filters: Vec<String> = filter_fields(&rfis()).into_iter().map(|c| c.name).collect();
        assert!(filters.contains(&"status".to_string()));
        assert!(!filters.contains(&"questions".to_string()));
        assert!(!filters.contains(&"custom_fields".to_string()));
    }

    #[test]
    fn names_titles_and_pages() {
        assert_eq!(singular("RFIs"), "RFI");
        assert_eq!(singular("Companies"), "Company");
        assert_eq!(singular("Punch items"), "Punch item");
        assert_eq!(singular("Staff"), "Staff");
        let object = rfis();
        assert_eq!(
            record_title(&object, &json!({"id": 3, "subject": "Door"})),
            "Door"
        );
        assert_eq!(
            record_title(&object, &json!({"id": 3, "subject": ""})),
            "#3"
        );
        assert_eq!(record_id(&json!({"id": "12"})), Some(12));
        assert_eq!(page_count(120, 25), 5);
        assert_eq!(page_count(0, 25), 1);
        assert_eq!(page_count(25, 25), 1);
        assert_eq!(
            sentence("Subject", "can't be blank"),
            "Subject can't be blank"
        );
        assert_eq!(sentence("Subject", "Too long."), "Too long.");
    }

    #[test]
    fn forms_start_from_the_record() {
        let object = rfis();
        let record = json!({
            "subject": "Door", "questions": [{"body": "Which?"}], "private": true,
            "due_date": "2026-03-05T00:00:00Z", "rfi_manager": {"id": 4201001, "name": "Ann"},
            "assignees": [{"id": 1, "name": "A"}, {"id": 2, "name": "B"}],
            "cost_impact": {"status": "tbd", "value": 2.5},
        });
        let start = initial_values(&object, Some(&record));
        assert_eq!(start["subject"], "Door");
        assert_eq!(start["question.body"], "Which?");
        assert_eq!(start["private"], "true");
        assert_eq!(start["due_date"], "2026-03-05");
        assert_eq!(start["rfi_manager_id"], "4201001");
        assert_eq!(start["assignee_ids"], "1, 2");
        assert_eq!(start["cost_impact.status"], "tbd");
        assert_eq!(start["cost_impact.value"], "2.5");
        assert!(
            !start.contains_key("status"),
            "read-only fields are not in the form"
        );
        let blank = initial_values(&object, None);
        assert_eq!(blank["private"], "false");
        assert_eq!(blank["subject"], "");
    }

    #[test]
    fn local_checks_catch_blanks_and_bad_numbers() {
        let object = rfis();
        let empty = initial_values(&object, None);
        let errors = check(&object, &empty, None);
        assert_eq!(
            errors.keys().collect::<Vec<_>>(),
            ["question.body", "rfi_manager_id", "subject"]
        );
        assert_eq!(errors["subject"], vec!["can't be blank"]);
        let mut typed = empty.clone();
        typed.extend(values(&[
            ("subject", "Door"),
            ("question.body", "Which?"),
            ("rfi_manager_id", "abc"),
            ("cost_impact.value", "lots"),
            ("due_date", "5 March"),
            ("assignee_ids", "1, x"),
            ("cost_impact.status", "maybe"),
        ]));
        let errors = check(&object, &typed, None);
        assert_eq!(
            errors.keys().collect::<Vec<_>>(),
            [
                "assignee_ids",
                "cost_impact.status",
                "cost_impact.value",
                "due_date",
                "rfi_manager_id"
            ]
        );
        typed.extend(values(&[
            ("rfi_manager_id", "999"),
            ("cost_impact.value", "2.5"),
            ("due_date", "2026-03-05"),
            ("assignee_ids", "1, 2"),
            ("cost_impact.status", "tbd"),
        ]));
        assert!(
            check(&object, &typed, None).is_empty(),
            "Procore decides whether 999 exists"
        );
    }

    #[test]
    fn an_edit_checks_and_sends_only_what_changed() {
        let object = rfis();
        let record = json!({"subject": "Door", "rfi_manager": {"id": 1}, "private": false});
        let start = initial_values(&object, Some(&record));
        // The question was never filled in: not sending it is no error on an edit.
        assert!(check(&object, &start, Some(&start)).is_empty());
        assert!(attributes(&object, &start, Some(&start)).is_empty());
        let mut now = start.clone();
        now.insert("subject".into(), "Door hardware".into());
        now.insert("private".into(), "true".into());
        let sent = attributes(&object, &now, Some(&start));
        assert_eq!(
            Value::Object(sent),
            json!({"subject": "Door hardware", "private": true})
        );
        now.insert("subject".into(), " ".into());
        assert_eq!(
            check(&object, &now, Some(&start))["subject"],
            vec!["can't be blank"]
        );
        now.insert("rfi_manager_id".into(), String::new());
        let sent = attributes(&object, &now, Some(&start));
        assert_eq!(
            sent["rfi_manager_id"],
            json!(""),
            "cleared, so sent as blank"
        );
    }

    #[test]
    fn a_create_sends_what_was_filled_in() {
        let object = rfis();
        let mut now = initial_values(&object, None);
        now.extend(values(&[
            ("subject", "Door"),
            ("question.body", "Which?"),
            ("rfi_manager_id", "4201001"),
        ]));
        let sent = attributes(&object, &now, None);
        assert_eq!(
            Value::Object(sent),
            json!({"subject": "Door", "question.body": "Which?", "rfi_manager_id": "4201001"})
        );
        now.insert("private".into(), "true".into());
        assert_eq!(attributes(&object, &now, None)["private"], json!(true));
    }

    /// The catalogue the server describes: Procore's RFI errors find their fields, and every
    /// writable field gets an input of its kind.
    #[cfg(feature = "ssr")]
    #[test]
    fn the_catalogue_fits_the_generated_forms() {
        let objects = crate::server::records::objects();
        let object = |key: &str| objects.iter().find(|o| o.key == key).unwrap();
        let rfis = object("rfis");
        let key = |k| field_for_key(rfis, k).and_then(|f| f.write_key.clone());
        assert_eq!(key("rfi_manager").as_deref(), Some("rfi_manager_id"));
        assert_eq!(key("question").as_deref(), Some("question.body"));
        assert_eq!(key("subject").as_deref(), Some("subject"));
        assert_eq!(key("due_date").as_deref(), Some("due_date"));
        let names: Vec<String> = columns(rfis).into_iter().map(|c| c.name).collect();
        assert_eq!(names[..4], ["subject", "id", "number", "status"]);
        assert!(!rfis.operations.delete && !object("projects").operations.delete);
        assert!(object("punch_items").operations.delete);
        let known = [
            "integer",
            "decimal",
            "text",
            "long_text",
            "boolean",
            "date",
            "date_time",
            "enum",
            "reference",
            "list",
        ];
        for o in &objects {
            assert!(o.field(&o.display_field).is_some(), "{}", o.key);
            for f in o.writable_fields() {
                assert!(
                    known.contains(&f.kind.as_str()),
                    "{}.{} is {}",
                    o.key,
                    f.name,
                    f.kind
                );
            }
        }
    }

    #[test]
    fn procore_errors_land_on_their_field() {
        let object = rfis();
        let key = |k| field_for_key(&object, k).and_then(|f| f.write_key.clone());
        assert_eq!(key("rfi_manager_id").as_deref(), Some("rfi_manager_id"));
        assert_eq!(key("rfi_manager").as_deref(), Some("rfi_manager_id"));
        assert_eq!(key("question").as_deref(), Some("question.body"));
        assert_eq!(key("assignee").as_deref(), Some("assignee_ids"));
        assert_eq!(key("subject").as_deref(), Some("subject"));
        assert_eq!(key("status"), None, "read-only: nothing to put it under");
        let errors: FieldMessages = [
            (
                "rfi_manager".to_string(),
                vec!["is not a potential RFI manager".to_string()],
            ),
            ("base".to_string(), vec!["Something is off.".to_string()]),
            (
                "status".to_string(),
                vec!["is not included in the list".to_string()],
            ),
        ]
        .into_iter()
        .collect();
        let (by_field, general) = place_errors(&object, &errors);
        assert_eq!(
            by_field["rfi_manager_id"],
            vec!["RFI manager is not a potential RFI manager"]
        );
        assert_eq!(by_field.len(), 1);
        assert_eq!(
            general,
            ["Something is off.", "status is not included in the list"]
        );
    }
}
