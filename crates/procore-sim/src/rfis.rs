//! RFIs (procore-api.md §3.6): `/rest/v1.0/projects/{project_id}/rfis[/{id}]`, with the
//! `rfi` body wrapper, `search`, `sort[attribute]`/`sort[direction]`, 422 field errors,
//! and no delete (Procore has none).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde_json::{Value, json};

use crate::data::NewRfi;
use crate::rest::{
    Call, FieldErrors, begin_in_project, error, matches_filter, matches_search, page_response,
    sort_records, unprocessable,
};
use crate::{Environment, Simulator};

pub(crate) fn routes() -> Router<Arc<Simulator>> {
    Router::new()
        .route(
            "/rest/v1.0/projects/{project_id}/rfis",
            get(list).post(create),
        )
        .route(
            "/rest/v1.0/projects/{project_id}/rfis/{id}",
            get(show).patch(update),
        )
}

const SORTABLE: [&str; 6] = [
    "number",
    "subject",
    "status",
    "due_date",
    "created_at",
    "updated_at",
];
const STATUSES: [&str; 3] = ["open", "closed", "draft"];

async fn list(
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path(project_id): Path<u64>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let (call, query, _) = match begin_in_project(&sim, env, &headers, raw, Some(project_id), None)
    {
        Ok(begun) => begun,
        Err(response) => return *response,
    };
    let data = sim.data.read().expect("data lock");
    let mut records: Vec<&Value> = data
        .rfis
        .iter()
        .filter(|r| r["project_id"] == project_id)
        .collect();
    for (field, values) in &query.filters {
        records.retain(|r| matches_filter(r, field, values));
    }
    if let Some(term) = query
        .param("search")
        .map(str::to_lowercase)
        .filter(|t| !t.is_empty())
    {
        records.retain(|r| matches_search(r, &["subject", "number"], std::slice::from_ref(&term)));
    }
    if let Some(attribute) = query.param("sort[attribute]") {
        let descending = match query.param("sort[direction]").unwrap_or("asc") {
            "asc" => false,
            "desc" => true,
            _ => {
                return call.finish(error(
                    StatusCode::BAD_REQUEST,
                    "sort[direction] must be asc or desc",
                ));
            }
        };
        if !SORTABLE.contains(&attribute) {
            return call.finish(error(
                StatusCode::BAD_REQUEST,
                "sort[attribute] must be one of: number, subject, status, due_date, created_at, updated_at",
            ));
        }
        if attribute == "number" {
            // Numbers are strings in the JSON but sort as numbers.
            records.sort_by_key(|r| r["number"].as_str().and_then(|n| n.parse::<u64>().ok()));
            if descending {
                records.reverse();
            }
        } else {
            let spec = if descending {
                format!("-{attribute}")
            } else {
                attribute.to_string()
            };
            sort_records(&mut records, &spec);
        }
    }
    call.finish(page_response(&records, &query, &call.base, &uri))
}

async fn show(
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path((project_id, id)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> Response {
    let call = match Call::begin(&sim, env, &headers) {
        Ok(call) => call,
        Err(response) => return *response,
    };
    if let Err(response) = call.project(&headers, project_id) {
        return call.finish(*response);
    }
    let data = sim.data.read().expect("data lock");
    let found = data
        .rfis
        .iter()
        .find(|r| r["id"] == id && r["project_id"] == project_id);
    call.finish(match found {
        Some(rfi) => Json(rfi.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, "Not Found"),
    })
}

/// The `rfi` object of a body, or the 400 Procore gives without it.
fn rfi_body(body: &Bytes) -> Result<serde_json::Map<String, Value>, &'static str> {
    let value: Value =
        serde_json::from_slice(body).map_err(|_| "The request body is not valid JSON")?;
    match value.get("rfi") {
        Some(Value::Object(map)) => Ok(map.clone()),
        _ => Err("param is missing or the value is empty: rfi"),
    }
}

/// Field checks shared by create and update; `creating` makes the required fields required.
fn validate(
    sim: &Simulator,
    rfi: &serde_json::Map<String, Value>,
    creating: bool,
) -> BTreeMap<&'static str, Vec<&'static str>> {
    let mut errors = FieldErrors::new();
    match rfi.get("subject") {
        Some(Value::String(s)) if !s.trim().is_empty() => {}
        None if !creating => {}
        _ => errors.entry("subject").or_default().push("can't be blank"),
    }
    match rfi.get("rfi_manager_id") {
        Some(v) if v.as_u64().is_some_and(|id| sim.user(id).is_some()) => {}
        None if !creating => {}
        None => errors.entry("rfi_manager").or_default().push("must exist"),
        Some(_) => errors
            .entry("rfi_manager")
            .or_default()
            .push("is not a potential RFI manager"),
    }
    if creating {
        let body = rfi
            .get("question")
            .and_then(|q| q.get("body"))
            .and_then(Value::as_str);
        if body.is_none_or(|b| b.trim().is_empty()) {
            errors.entry("question").or_default().push("can't be blank");
        }
    }
    if let Some(status) = rfi.get("status")
        && !status.as_str().is_some_and(|s| STATUSES.contains(&s))
    {
        errors
            .entry("status")
            .or_default()
            .push("is not included in the list");
    }
    if let Some(due) = rfi.get("due_date")
        && !due.is_null()
        && !due.as_str().is_some_and(is_date)
    {
        errors
            .entry("due_date")
            .or_default()
            .push("is not a valid date");
    }
    errors
}

fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 3
        && parts[0].len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        && parts[1].parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
        && parts[2].parse::<u32>().is_ok_and(|d| (1..=31).contains(&d))
}

fn manager(sim: &Simulator, id: u64) -> Value {
    sim.user(id)
        .map(|u| json!({ "id": u.id, "login": u.login, "name": u.name }))
        .unwrap_or(Value::Null)
}

/// What create and update share: the checks, the `rfi` attributes and their validation.
fn begin_write(
    sim: &Arc<Simulator>,
    env: Environment,
    headers: &HeaderMap,
    project_id: u64,
    body: &Bytes,
    creating: bool,
) -> Result<(Call, serde_json::Map<String, Value>), Box<Response>> {
    let call = Call::begin(sim, env, headers)?;
    if let Err(response) = call.project(headers, project_id) {
        return Err(Box::new(call.finish(*response)));
    }
    let rfi = match rfi_body(body) {
        Ok(rfi) => rfi,
        Err(message) => {
            return Err(Box::new(
                call.finish(error(StatusCode::BAD_REQUEST, message)),
            ));
        }
    };
    let errors = validate(sim, &rfi, creating);
    if !errors.is_empty() {
        return Err(Box::new(call.finish(unprocessable(errors))));
    }
    Ok((call, rfi))
}

async fn create(
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path(project_id): Path<u64>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (call, rfi) = match begin_write(&sim, env, &headers, project_id, &body, true) {
        Ok(begun) => begun,
        Err(response) => return *response,
    };
    let mut data = sim.data.write().expect("data lock");
    let manager = manager(&sim, rfi["rfi_manager_id"].as_u64().unwrap_or_default());
    let status = rfi.get("status").and_then(Value::as_str).unwrap_or("open");
    let question = rfi["question"]["body"].as_str().unwrap_or_default();
    let subject = rfi["subject"].as_str().unwrap_or_default().trim();
    let now = crate::iso8601(crate::unix_now());
    let record = data.add_rfi(NewRfi {
        project_id,
        subject,
        status,
        manager,
        question,
        due_date: rfi.get("due_date").cloned().unwrap_or(Value::Null),
        private: rfi.get("private").and_then(Value::as_bool).unwrap_or(false),
        now: &now,
    });
    call.finish((StatusCode::CREATED, Json(record)).into_response())
}

async fn update(
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path((project_id, id)): Path<(u64, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (call, rfi) = match begin_write(&sim, env, &headers, project_id, &body, false) {
        Ok(begun) => begun,
        Err(response) => return *response,
    };
    let mut data = sim.data.write().expect("data lock");
    let Some(record) = data
        .rfis
        .iter_mut()
        .find(|r| r["id"] == id && r["project_id"] == project_id)
    else {
        return call.finish(error(StatusCode::NOT_FOUND, "Not Found"));
    };
    for field in ["subject", "status", "due_date", "private"] {
        if let Some(value) = rfi.get(field) {
            record[field] = value.clone();
        }
    }
    if let Some(manager_id) = rfi.get("rfi_manager_id").and_then(Value::as_u64) {
        record["rfi_manager"] = manager(&sim, manager_id);
    }
    record["updated_at"] = json!(crate::iso8601(crate::unix_now()));
    call.finish(Json(record.clone()).into_response())
}
