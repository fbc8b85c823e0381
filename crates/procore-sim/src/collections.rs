//! Project-scoped resources of one shape (procore-api.md §3.7–3.9, §3.11): submittals,
//! observations, punch items and change events. They differ only in their paths, where
//! the project id goes, the body wrapper, required fields, sorts and how (or whether)
//! they delete — which is what a [`Collection`] describes.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get};
use axum::{Extension, Json, Router};
use serde_json::{Map, Value, json};

use crate::rest::{
    Call, FieldErrors, ListQuery, Object, begin_in_project, blank, error, matches_filter,
    matches_search, page_response, sort_records, unprocessable,
};
use crate::{Environment, Simulator, iso8601, unix_now};

pub(crate) struct Collection {
    /// Key of the records in `Dataset::collections`.
    pub key: &'static str,
    list_path: &'static str,
    item_path: &'static str,
    /// Observations delete under a different path than they show.
    delete_path: Option<&'static str>,
    /// Create and update bodies carry `project_id` at the top level (beside the wrapper).
    body_project: bool,
    wrapper: &'static str,
    required: &'static [&'static str],
    /// Values the endpoint's `sort` accepts; empty: it has no sort and ignores one.
    sorts: &'static [&'static str],
    /// Fields matched by `filters[query]` / `filters[search]`.
    search: &'static [&'static str],
    /// The status of a successful delete; `None`: Procore has no delete.
    deleted: Option<StatusCode>,
}

pub(crate) const ALL: [&Collection; 4] = [&SUBMITTALS, &OBSERVATIONS, &PUNCH_ITEMS, &CHANGE_EVENTS];

pub(crate) const SUBMITTALS: Collection = Collection {
    key: "submittals",
    list_path: "/rest/v1.1/projects/{project_id}/submittals",
    item_path: "/rest/v1.1/projects/{project_id}/submittals/{id}",
    delete_path: None,
    body_project: false,
    wrapper: "submittal",
    required: &["number"],
    sorts: &["number", "title", "type", "status", "due_date"],
    search: &["title", "number", "formatted_number"],
    deleted: Some(StatusCode::OK),
};

pub(crate) const OBSERVATIONS: Collection = Collection {
    key: "observations",
    list_path: "/rest/v1.0/observations/items",
    item_path: "/rest/v1.0/observations/items/{id}",
    delete_path: Some("/rest/v1.0/projects/{project_id}/observations/items/{id}"),
    body_project: true,
    wrapper: "observation",
    required: &["name", "type_id"],
    sorts: &[],
    search: &["name", "description"],
    deleted: Some(StatusCode::NO_CONTENT),
};

pub(crate) const PUNCH_ITEMS: Collection = Collection {
    key: "punch_items",
    list_path: "/rest/v1.1/punch_items",
    item_path: "/rest/v1.1/punch_items/{id}",
    delete_path: None,
    body_project: true,
    wrapper: "punch_item",
    required: &["name"],
    sorts: &[],
    search: &["name", "description"],
    deleted: Some(StatusCode::OK),
};

pub(crate) const CHANGE_EVENTS: Collection = Collection {
    key: "change_events",
    list_path: "/rest/v1.1/change_events",
    item_path: "/rest/v1.1/change_events/{id}",
    delete_path: None,
    body_project: false,
    wrapper: "change_event",
    required: &["scope", "status"],
    sorts: &[],
    search: &["title", "number"],
    deleted: Some(StatusCode::NO_CONTENT),
};

type Params = Path<HashMap<String, String>>;

pub(crate) fn routes() -> Router<Arc<Simulator>> {
    let mut router = Router::new();
    for c in ALL {
        router = router.route(
            c.list_path,
            get(move |s, e, p, h, u, q| list(c, s, e, p, h, u, q))
                .post(move |s, e, p, h, q, b| create(c, s, e, p, h, q, b)),
        );
        let mut item: MethodRouter<Arc<Simulator>> =
            get(move |s, e, p, h, q| show(c, s, e, p, h, q))
                .patch(move |s, e, p, h, q, b| update(c, s, e, p, h, q, b));
        match (c.deleted, c.delete_path) {
            (Some(_), None) => item = item.delete(move |s, e, p, h, q| remove(c, s, e, p, h, q)),
            (Some(_), Some(path)) => {
                router = router.route(path, delete(move |s, e, p, h, q| remove(c, s, e, p, h, q)))
            }
            (None, _) => {}
        }
        router = router.route(c.item_path, item);
    }
    router
}

/// Token, rate limit, query and project checks shared by every operation.
fn begin(
    sim: &Arc<Simulator>,
    env: Environment,
    params: &HashMap<String, String>,
    headers: &HeaderMap,
    raw: Option<String>,
    body: Option<&Map<String, Value>>,
) -> Result<(Call, ListQuery, u64), Box<Response>> {
    let path_project = params.get("project_id").and_then(|p| p.parse().ok());
    let body_project = body
        .and_then(|b| b.get("project_id"))
        .and_then(Value::as_u64);
    begin_in_project(sim, env, headers, raw, path_project, body_project)
}

async fn list(
    c: &'static Collection,
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path(params): Params,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let (call, query, project) = match begin(&sim, env, &params, &headers, raw, None) {
        Ok(begun) => begun,
        Err(response) => return *response,
    };
    let data = sim.data.read().expect("data lock");
    let mut records: Vec<&Value> = data
        .collection(c.key)
        .iter()
        .filter(|r| r["project_id"] == project)
        .collect();
    for (field, values) in &query.filters {
        if field == "query" || field == "search" {
            records.retain(|r| matches_search(r, c.search, values));
        } else {
            records.retain(|r| matches_filter(r, field, values));
        }
    }
    if let Some(sort) = query.param("sort").filter(|_| !c.sorts.is_empty()) {
        if !sort
            .split(',')
            .all(|k| c.sorts.contains(&k.trim_start_matches('-')))
        {
            return call.finish(error(
                StatusCode::BAD_REQUEST,
                &format!("sort must be one of: {}", c.sorts.join(", ")),
            ));
        }
        sort_records(&mut records, sort);
    }
    call.finish(page_response(&records, &query, &call.base, &uri))
}

fn find(records: &[Value], project: u64, params: &HashMap<String, String>) -> Option<usize> {
    let id: u64 = params.get("id")?.parse().ok()?;
    records
        .iter()
        .position(|r| r["id"] == id && r["project_id"] == project)
}

async fn show(
    c: &'static Collection,
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path(params): Params,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let (call, _, project) = match begin(&sim, env, &params, &headers, raw, None) {
        Ok(begun) => begun,
        Err(response) => return *response,
    };
    let data = sim.data.read().expect("data lock");
    let records = data.collection(c.key);
    call.finish(match find(records, project, &params) {
        Some(i) => Json(records[i].clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, "Not Found"),
    })
}

/// The body and its wrapped attributes, or the 400 Procore gives without the wrapper.
fn parse_body(c: &Collection, body: &Bytes) -> Result<(Object, Object), String> {
    let Ok(Value::Object(top)) = serde_json::from_slice::<Value>(body) else {
        return Err("The request body is not a JSON object".into());
    };
    match top.get(c.wrapper) {
        Some(Value::Object(attributes)) => Ok((top.clone(), attributes.clone())),
        _ => Err(format!(
            "param is missing or the value is empty: {}",
            c.wrapper
        )),
    }
}

fn validate(c: &Collection, attributes: &Map<String, Value>, creating: bool) -> FieldErrors {
    c.required
        .iter()
        .filter(|f| {
            if creating {
                blank(attributes.get(**f))
            } else {
                attributes.contains_key(**f) && blank(attributes.get(**f))
            }
        })
        .map(|f| (*f, vec!["can't be blank"]))
        .collect()
}

/// What create and update share: the checks, the wrapped attributes and their validation.
#[allow(clippy::too_many_arguments)] // the request's parts, passed through
fn begin_write(
    c: &Collection,
    sim: &Arc<Simulator>,
    env: Environment,
    params: &HashMap<String, String>,
    headers: &HeaderMap,
    raw: Option<String>,
    body: &Bytes,
    creating: bool,
) -> Result<(Call, u64, Object), Box<Response>> {
    let parsed = parse_body(c, body);
    let top = parsed
        .as_ref()
        .ok()
        .map(|(top, _)| top)
        .filter(|_| c.body_project);
    let (call, _, project) = begin(sim, env, params, headers, raw, top)?;
    let attributes = match parsed {
        Ok((_, attributes)) => attributes,
        Err(message) => {
            return Err(Box::new(
                call.finish(error(StatusCode::BAD_REQUEST, &message)),
            ));
        }
    };
    let errors = validate(c, &attributes, creating);
    if !errors.is_empty() {
        return Err(Box::new(call.finish(unprocessable(errors))));
    }
    Ok((call, project, attributes))
}

async fn create(
    c: &'static Collection,
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path(params): Params,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    let (call, project, attributes) =
        match begin_write(c, &sim, env, &params, &headers, raw, &body, true) {
            Ok(begun) => begun,
            Err(response) => return *response,
        };
    let mut data = sim.data.write().expect("data lock");
    let id = data.next_id();
    let now = iso8601(unix_now());
    let mut record = attributes;
    record.insert("id".into(), json!(id));
    record.insert("project_id".into(), json!(project));
    record.insert("created_at".into(), json!(now));
    record.insert("updated_at".into(), json!(now));
    let record = Value::Object(record);
    data.collection_mut(c.key).push(record.clone());
    call.finish((StatusCode::CREATED, Json(record)).into_response())
}

async fn update(
    c: &'static Collection,
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path(params): Params,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    let (call, project, attributes) =
        match begin_write(c, &sim, env, &params, &headers, raw, &body, false) {
            Ok(begun) => begun,
            Err(response) => return *response,
        };
    let mut data = sim.data.write().expect("data lock");
    let records = data.collection_mut(c.key);
    let Some(i) = find(records, project, &params) else {
        return call.finish(error(StatusCode::NOT_FOUND, "Not Found"));
    };
    if let Value::Object(record) = &mut records[i] {
        for (key, value) in attributes {
            if !matches!(
                key.as_str(),
                "id" | "project_id" | "created_at" | "updated_at"
            ) {
                record.insert(key, value);
            }
        }
        record.insert("updated_at".into(), json!(iso8601(unix_now())));
    }
    call.finish(Json(records[i].clone()).into_response())
}

async fn remove(
    c: &'static Collection,
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path(params): Params,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let (call, _, project) = match begin(&sim, env, &params, &headers, raw, None) {
        Ok(begun) => begun,
        Err(response) => return *response,
    };
    let mut data = sim.data.write().expect("data lock");
    let records = data.collection_mut(c.key);
    let Some(i) = find(records, project, &params) else {
        return call.finish(error(StatusCode::NOT_FOUND, "Not Found"));
    };
    records.remove(i);
    let status = c.deleted.unwrap_or(StatusCode::NO_CONTENT);
    call.finish(if status == StatusCode::OK {
        (status, Json(json!({}))).into_response()
    } else {
        status.into_response()
    })
}
