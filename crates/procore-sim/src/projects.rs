//! Project writes and show (procore-api.md §3.2): `GET /rest/v1.0/projects/{id}?company_id=`,
//! `POST /rest/v1.0/projects` and `PATCH /rest/v1.0/projects/{id}` with a top-level
//! `company_id` beside the `project` wrapper. Procore has no project delete.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::{Map, Value, json};

use crate::data::Company;
use crate::rest::{Call, error};
use crate::{Environment, Simulator, iso8601, unix_now};

pub(crate) fn routes() -> Router<Arc<Simulator>> {
    Router::new()
        .route("/rest/v1.0/projects/{id}", get(show).patch(update))
        .route("/rest/v1.0/projects", post(create))
}

/// `display_name` is "NUMBER - NAME", or the name alone without a number.
fn display_name(project: &Map<String, Value>) -> String {
    let name = project
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match project
        .get("project_number")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    {
        Some(number) => format!("{number} - {name}"),
        None => name.to_string(),
    }
}

/// `company_id` and the `project` object of a body.
fn parse(body: &Bytes) -> Result<(Option<u64>, Map<String, Value>), &'static str> {
    let Ok(Value::Object(top)) = serde_json::from_slice::<Value>(body) else {
        return Err("The request body is not a JSON object");
    };
    let Some(Value::Object(project)) = top.get("project") else {
        return Err("param is missing or the value is empty: project");
    };
    Ok((
        top.get("company_id").and_then(Value::as_u64),
        project.clone(),
    ))
}

const WRITABLE: [&str; 12] = [
    "name",
    "project_number",
    "active",
    "address",
    "city",
    "state_code",
    "country_code",
    "zip",
    "description",
    "start_date",
    "completion_date",
    "phone",
];

/// What create and update share: the checks, the company and the `project` attributes.
/// A name is required on create and may not be blanked on update.
fn begin_write(
    sim: &Arc<Simulator>,
    env: Environment,
    headers: &HeaderMap,
    body: &Bytes,
    creating: bool,
) -> Result<(Call, Company, Map<String, Value>), Box<Response>> {
    let call = Call::begin(sim, env, headers)?;
    let fail = |call: &Call, response: Response| Err(Box::new(call.finish(response)));
    let (company_id, attributes) = match parse(body) {
        Ok(parsed) => parsed,
        Err(message) => return fail(&call, error(StatusCode::BAD_REQUEST, message)),
    };
    let Some(company_id) = company_id else {
        return fail(
            &call,
            error(
                StatusCode::BAD_REQUEST,
                "param is missing or the value is empty: company_id",
            ),
        );
    };
    let company = match call.company(headers, Some(company_id)) {
        Ok(company) => company,
        Err(response) => return fail(&call, *response),
    };
    let name = attributes.get("name");
    let blank = name.is_some_and(|n| n.as_str().is_none_or(|n| n.trim().is_empty()));
    if blank || (creating && name.is_none()) {
        let body = Json(json!({ "errors": { "name": ["can't be blank"] } }));
        return fail(
            &call,
            (StatusCode::UNPROCESSABLE_ENTITY, body).into_response(),
        );
    }
    Ok((call, company, attributes))
}

async fn show(
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path(id): Path<u64>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let call = match Call::begin(&sim, env, &headers) {
        Ok(call) => call,
        Err(response) => return *response,
    };
    let company_id = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "company_id")
        .and_then(|(_, v)| v.parse::<u64>().ok());
    let Some(company_id) = company_id else {
        return call.finish(error(StatusCode::BAD_REQUEST, "company_id is missing"));
    };
    let company = match call.company(&headers, Some(company_id)) {
        Ok(company) => company,
        Err(response) => return call.finish(*response),
    };
    let data = sim.data.read().expect("data lock");
    call.finish(
        match data
            .project(id)
            .filter(|p| p["company"]["id"] == company.id)
        {
            Some(project) => Json(project.clone()).into_response(),
            None => error(StatusCode::NOT_FOUND, "Not Found"),
        },
    )
}

async fn create(
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (call, company, attributes) = match begin_write(&sim, env, &headers, &body, true) {
        Ok(begun) => begun,
        Err(response) => return *response,
    };
    let mut data = sim.data.write().expect("data lock");
    let now = iso8601(unix_now());
    let mut project: Map<String, Value> = attributes
        .into_iter()
        .filter(|(k, _)| WRITABLE.contains(&k.as_str()))
        .collect();
    project.entry("active").or_insert(json!(true));
    project.insert("id".into(), json!(data.next_id()));
    project.insert("display_name".into(), json!(display_name(&project)));
    project.insert(
        "company".into(),
        json!({ "id": company.id, "name": company.name }),
    );
    project.insert("created_at".into(), json!(now));
    project.insert("updated_at".into(), json!(now));
    let project = Value::Object(project);
    data.projects.push(project.clone());
    call.finish((StatusCode::CREATED, Json(project)).into_response())
}

async fn update(
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path(id): Path<u64>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (call, company, attributes) = match begin_write(&sim, env, &headers, &body, false) {
        Ok(begun) => begun,
        Err(response) => return *response,
    };
    let mut data = sim.data.write().expect("data lock");
    let Some(Value::Object(project)) = data
        .projects
        .iter_mut()
        .find(|p| p["id"] == id && p["company"]["id"] == company.id)
    else {
        return call.finish(error(StatusCode::NOT_FOUND, "Not Found"));
    };
    for (key, value) in attributes
        .into_iter()
        .filter(|(k, _)| WRITABLE.contains(&k.as_str()))
    {
        project.insert(key, value);
    }
    let name = display_name(project);
    project.insert("display_name".into(), json!(name));
    project.insert("updated_at".into(), json!(iso8601(unix_now())));
    call.finish(Json(Value::Object(project.clone())).into_response())
}
