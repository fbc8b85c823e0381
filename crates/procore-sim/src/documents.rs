//! Folders and files, read-only (procore-api.md §3.13): the nested tree under
//! `/rest/v1.0/folders`, single files, and the flat paginated
//! `/rest/v1.0/projects/{project_id}/documents` index.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde_json::{Value, json};

use crate::rest::{
    Call, begin_in_project, error, matches_filter, matches_search, page_response, sort_records,
};
use crate::{Environment, Simulator};

pub(crate) fn routes() -> Router<Arc<Simulator>> {
    Router::new()
        .route("/rest/v1.0/folders", get(root_folder))
        .route("/rest/v1.0/folders/{id}", get(folder))
        .route("/rest/v1.0/files/{id}", get(file))
        .route("/rest/v1.0/projects/{project_id}/documents", get(documents))
}

const SORTS: [&str; 3] = ["name", "updated_at", "document_type"];

/// A stored document as the API shows it: without our bookkeeping fields.
fn public(document: &Value) -> Value {
    let mut shown = document.clone();
    if let Value::Object(map) = &mut shown {
        map.remove("document_type");
        map.remove("project_id");
    }
    shown
}

/// A folder as Procore shows it: its own fields plus its direct `folders` and `files`.
fn folder_with_children(documents: &[Value], folder: &Value) -> Value {
    let children = |kind: &str| -> Vec<Value> {
        documents
            .iter()
            .filter(|d| d["parent_id"] == folder["id"] && d["document_type"] == kind)
            .map(public)
            .collect()
    };
    let mut shown = public(folder);
    if let Value::Object(map) = &mut shown {
        map.insert(
            "has_children".into(),
            json!(documents.iter().any(|d| d["parent_id"] == folder["id"])),
        );
        map.insert("folders".into(), json!(children("folder")));
        map.insert("files".into(), json!(children("file")));
    }
    shown
}

fn show(
    sim: &Simulator,
    call: &Call,
    project: u64,
    pick: impl Fn(&Value) -> bool,
    kind: &str,
) -> Response {
    let data = sim.data.read().expect("data lock");
    let documents = data.documents_of(project);
    let found = documents
        .iter()
        .find(|d| d["document_type"] == kind && pick(d));
    call.finish(match found {
        Some(d) if kind == "folder" => Json(folder_with_children(&documents, d)).into_response(),
        Some(d) => Json(public(d)).into_response(),
        None => error(StatusCode::NOT_FOUND, "Not Found"),
    })
}

async fn root_folder(
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    match begin_in_project(&sim, env, &headers, raw, None, None) {
        Ok((call, _, project)) => {
            show(&sim, &call, project, |d| d["parent_id"].is_null(), "folder")
        }
        Err(response) => *response,
    }
}

async fn folder(
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path(id): Path<u64>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    match begin_in_project(&sim, env, &headers, raw, None, None) {
        Ok((call, _, project)) => show(&sim, &call, project, |d| d["id"] == id, "folder"),
        Err(response) => *response,
    }
}

async fn file(
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path(id): Path<u64>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    match begin_in_project(&sim, env, &headers, raw, None, None) {
        Ok((call, _, project)) => show(&sim, &call, project, |d| d["id"] == id, "file"),
        Err(response) => *response,
    }
}

async fn documents(
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path(project_id): Path<u64>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let (call, query, project) =
        match begin_in_project(&sim, env, &headers, raw, Some(project_id), None) {
            Ok(begun) => begun,
            Err(response) => return *response,
        };
    let data = sim.data.read().expect("data lock");
    let mut records: Vec<&Value> = data
        .documents
        .iter()
        .filter(|d| d["project_id"] == project)
        .collect();
    for (field, values) in &query.filters {
        match field.as_str() {
            "search" => records.retain(|d| matches_search(d, &["name"], values)),
            "folder_id" => records.retain(|d| matches_filter(d, "parent_id", values)),
            other => records.retain(|d| matches_filter(d, other, values)),
        }
    }
    if let Some(sort) = query.param("sort") {
        if !sort
            .split(',')
            .all(|k| SORTS.contains(&k.trim_start_matches('-')))
        {
            return call.finish(error(
                StatusCode::BAD_REQUEST,
                "sort must be one of: name, updated_at, document_type",
            ));
        }
        sort_records(&mut records, sort);
    }
    call.finish(page_response(&records, &query, &call.base, &uri))
}
