//! Folders and files (procore-api.md §3.13): the nested tree under `/rest/v1.0/folders`,
//! single files, the flat paginated `/rest/v1.0/projects/{project_id}/documents` index, and
//! their writes. Deleting moves a document (and a folder's contents) to the recycle bin,
//! which the index shows with `filters[is_in_recycle_bin]=true`.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde_json::{Value, json};

use crate::rest::{
    Call, begin_in_project, error, invalid, matches_filter, matches_search, page_response,
    sort_records,
};
use crate::{Environment, Simulator, iso8601, unix_now};

pub(crate) fn routes() -> Router<Arc<Simulator>> {
    Router::new()
        .route(
            "/rest/v1.0/folders",
            get(root_folder).post(|s, e, h, q, b| create(Kind::Folder, s, e, h, q, b)),
        )
        .route(
            "/rest/v1.0/folders/{id}",
            get(folder)
                .patch(|s, e, p, h, q, b| update(Kind::Folder, s, e, p, h, q, b))
                .delete(|s, e, p, h, q| remove(Kind::Folder, s, e, p, h, q)),
        )
        .route(
            "/rest/v1.0/files",
            axum::routing::post(|s, e, h, q, b| create(Kind::File, s, e, h, q, b)),
        )
        .route(
            "/rest/v1.0/files/{id}",
            get(file)
                .patch(|s, e, p, h, q, b| update(Kind::File, s, e, p, h, q, b))
                .delete(|s, e, p, h, q| remove(Kind::File, s, e, p, h, q)),
        )
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
            .filter(|d| d["parent_id"] == folder["id"] && d["document_type"] == kind && is_live(d))
            .map(public)
            .collect()
    };
    let mut shown = public(folder);
    if let Value::Object(map) = &mut shown {
        map.insert(
            "has_children".into(),
            json!(
                documents
                    .iter()
                    .any(|d| d["parent_id"] == folder["id"] && is_live(d))
            ),
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
        .find(|d| d["document_type"] == kind && is_live(d) && pick(d));
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
    let recycled = query
        .filters
        .iter()
        .any(|(field, values)| field == "is_in_recycle_bin" && values.iter().any(|v| v == "true"));
    records.retain(|d| is_live(d) != recycled);
    for (field, values) in &query.filters {
        match field.as_str() {
            "is_in_recycle_bin" => {}
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

/// The two kinds of document, which share paths, wrappers and rules.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Folder,
    File,
}

impl Kind {
    /// The `document_type`, which is also the body wrapper.
    fn name(self) -> &'static str {
        match self {
            Kind::Folder => "folder",
            Kind::File => "file",
        }
    }
}

/// What a create or update asks for, from a JSON wrapper or `file[...]` multipart fields.
#[derive(Default)]
struct Changes {
    name: Option<String>,
    parent_id: Option<u64>,
    description: Option<String>,
    private: Option<bool>,
    /// An uploaded file's name and size in bytes.
    upload: Option<(Option<String>, usize)>,
    /// A direct upload made before this call (`file[upload_uuid]`).
    upload_uuid: Option<String>,
}

/// A field and what is wrong with it.
type Invalid = (&'static str, &'static str);

/// Reads the body. Files come as multipart (`file[name]`, `file[parent_id]`, `file[data]`)
/// or JSON; folders as JSON. Without the wrapper the answer is Procore's 400.
async fn read_changes(kind: Kind, headers: &HeaderMap, body: Bytes) -> Result<Changes, String> {
    let missing = || format!("param is missing or the value is empty: {}", kind.name());
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if kind == Kind::File && content_type.starts_with("multipart/form-data") {
        let request = Request::builder()
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .map_err(|_| missing())?;
        let mut multipart = Multipart::from_request(request, &())
            .await
            .map_err(|_| "The multipart body could not be read".to_string())?;
        let mut changes = Changes::default();
        let mut any = false;
        loop {
            let field = match multipart.next_field().await {
                Ok(Some(field)) => field,
                Ok(None) => break,
                Err(_) => return Err("The multipart body could not be read".into()),
            };
            let Some(name) = field
                .name()
                .and_then(|n| n.strip_prefix("file["))
                .and_then(|n| n.strip_suffix(']'))
                .map(str::to_string)
            else {
                continue;
            };
            any = true;
            if name == "data" {
                let filename = field.file_name().map(str::to_string);
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|_| "The multipart body could not be read".to_string())?;
                changes.upload = Some((filename, bytes.len()));
                continue;
            }
            let text = field
                .text()
                .await
                .map_err(|_| "The multipart body could not be read".to_string())?;
            match name.as_str() {
                "name" => changes.name = Some(text),
                "parent_id" => changes.parent_id = text.trim().parse().ok().or(Some(0)),
                "description" => changes.description = Some(text),
                "private" => changes.private = Some(text == "true"),
                "upload_uuid" => changes.upload_uuid = Some(text),
                _ => {}
            }
        }
        return if any { Ok(changes) } else { Err(missing()) };
    }
    let Ok(Value::Object(top)) = serde_json::from_slice::<Value>(&body) else {
        return Err("The request body is not a JSON object".into());
    };
    let Some(Value::Object(attributes)) = top.get(kind.name()) else {
        return Err(missing());
    };
    let text = |key: &str| match attributes.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Null) => Some(String::new()),
        Some(other) => Some(other.to_string()),
        None => None,
    };
    Ok(Changes {
        name: text("name"),
        // A parent that is not an id can never name a folder: 0 is never one.
        parent_id: attributes
            .get("parent_id")
            .map(|p| p.as_u64().or_else(|| p.as_str()?.parse().ok()).unwrap_or(0)),
        description: text("description"),
        private: attributes.get("private").and_then(Value::as_bool),
        upload: None,
        upload_uuid: text("upload_uuid"),
    })
}

/// What create and update share: the checks, the project and the body.
async fn begin_write(
    kind: Kind,
    sim: &Arc<Simulator>,
    env: Environment,
    headers: &HeaderMap,
    raw: Option<String>,
    body: Bytes,
) -> Result<(Call, u64, Changes), Box<Response>> {
    let (call, _, project) = begin_in_project(sim, env, headers, raw, None, None)?;
    match read_changes(kind, headers, body).await {
        Ok(changes) => Ok((call, project, changes)),
        Err(message) => Err(Box::new(
            call.finish(error(StatusCode::BAD_REQUEST, &message)),
        )),
    }
}

fn is_live(document: &Value) -> bool {
    document["is_deleted"] != true
}

/// The live folder that would hold a document, checked against name clashes and cycles.
fn check_placement(
    documents: &[Value],
    project: u64,
    moving: Option<u64>,
    parent: u64,
    name: &str,
) -> Result<(), Invalid> {
    let in_project = |d: &&Value| d["project_id"] == project && is_live(d);
    let Some(folder) = documents
        .iter()
        .filter(in_project)
        .find(|d| d["id"] == parent && d["document_type"] == "folder")
    else {
        return Err(("parent_id", "is invalid"));
    };
    // A folder may not move into itself or anything below it.
    let mut ancestor = Some(folder);
    while let Some(a) = ancestor {
        if moving.is_some_and(|m| a["id"] == m) {
            return Err(("parent_id", "is invalid"));
        }
        ancestor = a["parent_id"]
            .as_u64()
            .and_then(|p| documents.iter().find(|d| d["id"] == p));
    }
    let clash = documents.iter().filter(in_project).any(|d| {
        d["parent_id"] == parent
            && d["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
            && moving.is_none_or(|m| d["id"] != m)
    });
    if clash {
        return Err(("name", "has already been taken"));
    }
    Ok(())
}

/// A name Procore accepts: not blank, and no path separator inside.
fn check_name(name: &str) -> Result<(), Invalid> {
    if name.trim().is_empty() {
        Err(("name", "can't be blank"))
    } else if name.contains('/') {
        Err(("name", "is invalid"))
    } else {
        Ok(())
    }
}

/// Rewrites `name_with_path` below the root after a rename or move.
fn refresh_paths(documents: &mut [Value], project: u64) {
    let paths: Vec<(usize, String)> = documents
        .iter()
        .enumerate()
        .filter(|(_, d)| d["project_id"] == project)
        .map(|(i, d)| {
            let mut parts = Vec::new();
            let mut at = Some(d);
            while let Some(node) = at.filter(|n| !n["parent_id"].is_null()) {
                parts.push(node["name"].as_str().unwrap_or_default());
                at = node["parent_id"]
                    .as_u64()
                    .and_then(|p| documents.iter().find(|x| x["id"] == p));
            }
            parts.reverse();
            (i, parts.join("/"))
        })
        .collect();
    for (i, path) in paths {
        documents[i]["name_with_path"] = json!(path);
    }
}

fn root_of(documents: &[Value], project: u64) -> Option<u64> {
    documents
        .iter()
        .find(|d| d["project_id"] == project && d["parent_id"].is_null())
        .and_then(|d| d["id"].as_u64())
}

fn extension(name: &str) -> String {
    name.rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default()
}

async fn create(
    kind: Kind,
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    let (call, project, changes) = match begin_write(kind, &sim, env, &headers, raw, body).await {
        Ok(begun) => begun,
        Err(response) => return *response,
    };
    let uploaded_name = changes.upload.as_ref().and_then(|(n, _)| n.clone());
    if kind == Kind::File && changes.upload.is_none() && changes.upload_uuid.is_none() {
        return call.finish(invalid("data", "can't be blank"));
    }
    let Some(name) = changes.name.clone().or(uploaded_name) else {
        return call.finish(invalid("name", "can't be blank"));
    };
    if let Err((field, message)) = check_name(&name) {
        return call.finish(invalid(field, message));
    }
    let mut data = sim.data.write().expect("data lock");
    let Some(root) = root_of(&data.documents, project) else {
        return call.finish(error(StatusCode::NOT_FOUND, "Not Found"));
    };
    let parent = changes.parent_id.unwrap_or(root);
    if let Err((field, message)) = check_placement(&data.documents, project, None, parent, &name) {
        return call.finish(invalid(field, message));
    }
    let id = data.next_id();
    let now = iso8601(unix_now());
    let mut document = json!({
        "id": id,
        "project_id": project,
        "document_type": kind.name(),
        "name": name,
        "parent_id": parent,
        "private": changes.private.unwrap_or(false),
        "is_deleted": false,
        "created_at": now,
        "updated_at": now,
    });
    match kind {
        Kind::Folder => {
            document["is_recycle_bin"] = json!(false);
            document["read_only"] = json!(false);
        }
        Kind::File => {
            let size = changes.upload.map(|(_, size)| size).unwrap_or(0);
            document["size"] = json!(size);
            document["description"] = json!(changes.description);
            document["file_type"] = json!(extension(&name));
            let version = data.next_id();
            document["file_versions"] = json!([{
                "id": version, "number": 1, "size": size, "created_at": now,
            }]);
        }
    }
    data.documents.push(document);
    refresh_paths(&mut data.documents, project);
    let created = data.documents.last().map(public).unwrap_or_default();
    call.finish((StatusCode::CREATED, Json(created)).into_response())
}

async fn update(
    kind: Kind,
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path(id): Path<u64>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    let (call, project, changes) = match begin_write(kind, &sim, env, &headers, raw, body).await {
        Ok(begun) => begun,
        Err(response) => return *response,
    };
    let mut data = sim.data.write().expect("data lock");
    let version_id = data.next_id();
    let documents = &mut data.documents;
    let Some(i) = documents.iter().position(|d| {
        d["id"] == id
            && d["project_id"] == project
            && d["document_type"] == kind.name()
            && is_live(d)
    }) else {
        return call.finish(error(StatusCode::NOT_FOUND, "Not Found"));
    };
    if documents[i]["parent_id"].is_null() {
        return call.finish(invalid("base", "The root folder cannot be changed"));
    }
    let name = changes.name.clone().unwrap_or_else(|| {
        documents[i]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    });
    if let Err((field, message)) = check_name(&name) {
        return call.finish(invalid(field, message));
    }
    let parent = changes
        .parent_id
        .or_else(|| documents[i]["parent_id"].as_u64())
        .unwrap_or(0);
    if let Err((field, message)) = check_placement(documents, project, Some(id), parent, &name) {
        return call.finish(invalid(field, message));
    }
    let now = iso8601(unix_now());
    let document = &mut documents[i];
    document["name"] = json!(name);
    document["parent_id"] = json!(parent);
    if let Some(description) = changes.description.filter(|_| kind == Kind::File) {
        document["description"] = json!(description);
    }
    if let Some(private) = changes.private {
        document["private"] = json!(private);
    }
    if let Some((_, size)) = changes.upload {
        // A new upload is a new version of the same file.
        let number = document["file_versions"].as_array().map_or(0, Vec::len) + 1;
        let version =
            json!({ "id": version_id, "number": number, "size": size, "created_at": now });
        if let Some(versions) = document["file_versions"].as_array_mut() {
            versions.push(version);
        }
        document["size"] = json!(size);
    }
    document["updated_at"] = json!(now);
    refresh_paths(documents, project);
    call.finish(Json(public(&documents[i])).into_response())
}

/// Moves a document, and everything inside a folder, to the recycle bin.
async fn remove(
    kind: Kind,
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path(id): Path<u64>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let (call, _, project) = match begin_in_project(&sim, env, &headers, raw, None, None) {
        Ok(begun) => begun,
        Err(response) => return *response,
    };
    let mut data = sim.data.write().expect("data lock");
    let documents = &mut data.documents;
    let Some(target) = documents.iter().find(|d| {
        d["id"] == id
            && d["project_id"] == project
            && d["document_type"] == kind.name()
            && is_live(d)
    }) else {
        return call.finish(error(StatusCode::NOT_FOUND, "Not Found"));
    };
    if target["parent_id"].is_null() {
        return call.finish(invalid("base", "The root folder cannot be changed"));
    }
    let mut doomed = vec![id];
    let mut i = 0;
    while let Some(&parent) = doomed.get(i) {
        doomed.extend(
            documents
                .iter()
                .filter(|d| d["parent_id"] == parent)
                .filter_map(|d| d["id"].as_u64()),
        );
        i += 1;
    }
    let now = iso8601(unix_now());
    for d in documents
        .iter_mut()
        .filter(|d| d["id"].as_u64().is_some_and(|id| doomed.contains(&id)))
    {
        d["is_deleted"] = json!(true);
        d["updated_at"] = json!(now);
    }
    call.finish((StatusCode::OK, Json(json!({}))).into_response())
}
