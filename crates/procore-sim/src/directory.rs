//! The directory (procore-api.md §3.3–§3.5): company users
//! (`/rest/v1.3/companies/{company_id}/users`), vendors (`/rest/v1.0/vendors?company_id=`)
//! and project users (`/rest/v1.0/projects/{project_id}/users`), read-only here.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde_json::Value;

use crate::data::Dataset;
use crate::rest::{
    Call, ListQuery, begin_in_project, begin_list, error, matches_filter, matches_search,
    page_response, sort_records,
};
use crate::{Environment, Simulator};

pub(crate) fn routes() -> Router<Arc<Simulator>> {
    Router::new()
        .route("/rest/v1.3/companies/{company_id}/users", get(list_users))
        .route(
            "/rest/v1.3/companies/{company_id}/users/{id}",
            get(show_user),
        )
        .route("/rest/v1.0/vendors", get(list_vendors))
        .route("/rest/v1.0/vendors/{id}", get(show_vendor))
        .route(
            "/rest/v1.0/projects/{project_id}/users",
            get(list_project_users),
        )
        .route(
            "/rest/v1.0/projects/{project_id}/users/{id}",
            get(show_project_user),
        )
}

/// How one directory list reads its records, searches and sorts.
struct Directory {
    /// Records with the id of the company or project they belong to.
    records: fn(&Dataset) -> &[(u64, Value)],
    search_fields: &'static [&'static str],
    /// The endpoint's `sort` values and the record field each sorts by.
    sorts: &'static [(&'static str, &'static str)],
}

const USERS: Directory = Directory {
    records: |d| &d.company_users,
    search_fields: &["name", "email_address", "job_title"],
    sorts: &[
        ("name", "last_name"),
        ("full_name", "name"),
        ("email", "email_address"),
        ("job_title", "job_title"),
    ],
};

const PROJECT_USERS: Directory = Directory {
    records: |d| &d.project_users,
    search_fields: &["name", "email_address", "job_title"],
    sorts: &[
        ("name", "last_name"),
        ("vendor_name", "vendor.name"),
        ("permission_template", "permission_template.name"),
    ],
};

const VENDORS: Directory = Directory {
    records: |d| &d.vendors,
    search_fields: &["name", "abbreviated_name"],
    sorts: &[("name", "name")],
};

fn list(
    directory: &Directory,
    sim: &Arc<Simulator>,
    call: &Call,
    query: &ListQuery,
    scope: u64,
    uri: &Uri,
) -> Response {
    let data = sim.data.read().expect("data lock");
    let mut records: Vec<&Value> = (directory.records)(&data)
        .iter()
        .filter(|(owner, _)| *owner == scope)
        .map(|(_, record)| record)
        .collect();
    for (field, values) in &query.filters {
        if field == "search" {
            records.retain(|r| matches_search(r, directory.search_fields, values));
        } else if field == "vendor_id" {
            records.retain(|r| {
                r["vendor"]["id"]
                    .as_u64()
                    .is_some_and(|id| values.contains(&id.to_string()))
            });
        } else {
            records.retain(|r| matches_filter(r, field, values));
        }
    }
    if let Some(sort) = query.param("sort") {
        let (descending, name) = match sort.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, sort),
        };
        let Some((_, field)) = directory.sorts.iter().find(|(s, _)| *s == name) else {
            let allowed: Vec<&str> = directory.sorts.iter().map(|(s, _)| *s).collect();
            return call.finish(error(
                StatusCode::BAD_REQUEST,
                &format!("sort must be one of: {}", allowed.join(", ")),
            ));
        };
        let spec = if descending {
            format!("-{field}")
        } else {
            field.to_string()
        };
        sort_records(&mut records, &spec);
    }
    call.finish(page_response(&records, query, &call.base, uri))
}

fn show(
    directory: &Directory,
    sim: &Arc<Simulator>,
    call: &Call,
    company_id: u64,
    id: u64,
) -> Response {
    let data = sim.data.read().expect("data lock");
    let found = (directory.records)(&data)
        .iter()
        .find(|(company, record)| *company == company_id && record["id"] == id);
    call.finish(match found {
        Some((_, record)) => Json(record.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, "Not Found"),
    })
}

/// Starts a directory call: token, rate limit, then the company (path or `company_id`).
fn begin(
    sim: &Arc<Simulator>,
    env: Environment,
    headers: &HeaderMap,
    raw: Option<String>,
    path_company: Option<u64>,
) -> Result<(Call, ListQuery, u64), Box<Response>> {
    let (call, query) = begin_list(sim, env, headers, raw)?;
    let scope = path_company.or_else(|| query.param("company_id").and_then(|c| c.parse().ok()));
    let Some(company_id) = scope else {
        return Err(Box::new(
            call.finish(error(StatusCode::BAD_REQUEST, "company_id is missing")),
        ));
    };
    match call.company(headers, Some(company_id)) {
        Ok(company) => Ok((call, query, company.id)),
        Err(response) => Err(Box::new(call.finish(*response))),
    }
}

async fn list_users(
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path(company_id): Path<u64>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    match begin(&sim, env, &headers, raw, Some(company_id)) {
        Ok((call, query, company)) => list(&USERS, &sim, &call, &query, company, &uri),
        Err(response) => *response,
    }
}

async fn show_user(
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path((company_id, id)): Path<(u64, u64)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    match begin(&sim, env, &headers, raw, Some(company_id)) {
        Ok((call, _, company)) => show(&USERS, &sim, &call, company, id),
        Err(response) => *response,
    }
}

async fn list_vendors(
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    match begin(&sim, env, &headers, raw, None) {
        Ok((call, query, company)) => list(&VENDORS, &sim, &call, &query, company, &uri),
        Err(response) => *response,
    }
}

async fn show_vendor(
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path(id): Path<u64>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    match begin(&sim, env, &headers, raw, None) {
        Ok((call, _, company)) => show(&VENDORS, &sim, &call, company, id),
        Err(response) => *response,
    }
}

async fn list_project_users(
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path(project_id): Path<u64>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    match begin_in_project(&sim, env, &headers, raw, Some(project_id), None) {
        Ok((call, query, _)) => list(&PROJECT_USERS, &sim, &call, &query, project_id, &uri),
        Err(response) => *response,
    }
}

async fn show_project_user(
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path((project_id, id)): Path<(u64, u64)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    match begin_in_project(&sim, env, &headers, raw, Some(project_id), None) {
        Ok((call, _, _)) => show(&PROJECT_USERS, &sim, &call, project_id, id),
        Err(response) => *response,
    }
}
