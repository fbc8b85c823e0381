//! The directory (procore-api.md §3.3–§3.5): company users
//! (`/rest/v1.3/companies/{company_id}/users`), vendors (`/rest/v1.0/vendors?company_id=`)
//! and project users (`/rest/v1.0/projects/{project_id}/users`).
//!
//! Company users and vendors are created and updated but never deleted: `is_active: false`
//! moves them to `/rest/v1.0/companies/{company_id}/{users|vendors}/inactive`, whose
//! `PATCH …/inactive/{id}` reactivates them. Project users are people of the project's
//! company: creating one also creates the company user, `…/users/{id}/actions/add` adds an
//! existing one and `…/actions/remove` takes them off the project again. A person is one
//! record copied into each directory they are in, so a change (deactivation included)
//! shows in all of them.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum::{Extension, Json, Router};
use serde_json::{Value, json};

use crate::data::{Dataset, PERMISSION_TEMPLATES, person_names};
use crate::rest::{
    Call, FieldErrors, ListQuery, Object, begin_in_project, begin_list, error, matches_filter,
    matches_search, page_response, sort_records, unprocessable,
};
use crate::{Environment, Simulator, iso8601, unix_now};

pub(crate) fn routes() -> Router<Arc<Simulator>> {
    Router::new()
        .route(
            "/rest/v1.3/companies/{company_id}/users",
            get(list_users).post(create_user),
        )
        .route(
            "/rest/v1.3/companies/{company_id}/users/{id}",
            get(show_user).patch(update_user),
        )
        .route(
            "/rest/v1.0/companies/{company_id}/users/inactive",
            get(|s, e, p, h, u, q| list_inactive(&USERS, s, e, p, h, u, q)),
        )
        .route(
            "/rest/v1.0/companies/{company_id}/users/inactive/{id}",
            patch(|s, e, p, h, q| reactivate(&USERS, s, e, p, h, q)),
        )
        .route("/rest/v1.0/vendors", get(list_vendors).post(create_vendor))
        .route(
            "/rest/v1.0/vendors/{id}",
            get(show_vendor).patch(update_vendor),
        )
        .route(
            "/rest/v1.0/companies/{company_id}/vendors/inactive",
            get(|s, e, p, h, u, q| list_inactive(&VENDORS, s, e, p, h, u, q)),
        )
        .route(
            "/rest/v1.0/companies/{company_id}/vendors/inactive/{id}",
            patch(|s, e, p, h, q| reactivate(&VENDORS, s, e, p, h, q)),
        )
        .route(
            "/rest/v1.0/projects/{project_id}/users",
            get(list_project_users).post(create_project_user),
        )
        .route(
            "/rest/v1.0/projects/{project_id}/users/{id}",
            get(show_project_user).patch(update_project_user),
        )
        .route(
            "/rest/v1.0/projects/{project_id}/users/{id}/actions/add",
            post(add_project_user),
        )
        .route(
            "/rest/v1.0/projects/{project_id}/users/{id}/actions/remove",
            delete(remove_project_user),
        )
}

/// How one directory list reads its records, searches, sorts and saves a change.
struct Directory {
    /// Records with the id of the company or project they belong to.
    records: fn(&Dataset) -> &[(u64, Value)],
    search_fields: &'static [&'static str],
    /// The endpoint's `sort` values and the record field each sorts by.
    sorts: &'static [(&'static str, &'static str)],
    /// Writes a changed record back, with the copies other records keep of it.
    store: fn(&mut Dataset, u64, &Value),
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
    store: |d, _, person| sync_person(d, person),
};

const PROJECT_USERS: Directory = Directory {
    records: |d| &d.project_users,
    search_fields: &["name", "email_address", "job_title"],
    sorts: &[
        ("name", "last_name"),
        ("vendor_name", "vendor.name"),
        ("permission_template", "permission_template.name"),
    ],
    store: |d, _, person| sync_person(d, person),
};

const VENDORS: Directory = Directory {
    records: |d| &d.vendors,
    search_fields: &["name", "abbreviated_name"],
    sorts: &[("name", "name")],
    store: store_vendor,
};

/// What a person's create and update may set (procore-api.md §3.3, §3.4). `name`,
/// `initials` and `vendor` are derived; `vendor_id` is checked against the company.
const PERSON_FIELDS: [&str; 20] = [
    "first_name",
    "last_name",
    "email_address",
    "job_title",
    "address",
    "city",
    "state_code",
    "zip",
    "country_code",
    "business_phone",
    "business_phone_extension",
    "mobile_phone",
    "fax_number",
    "email_signature",
    "notes",
    "is_active",
    "is_employee",
    "employee_id",
    "origin_id",
    "origin_data",
];

/// What a vendor's create and update may set (procore-api.md §3.5); trades, groups and
/// contacts need tables the simulator does not keep.
const VENDOR_FIELDS: [&str; 23] = [
    "name",
    "abbreviated_name",
    "trade_name",
    "address",
    "city",
    "state_code",
    "zip",
    "country_code",
    "business_phone",
    "mobile_phone",
    "fax_number",
    "email_address",
    "website",
    "license_number",
    "labor_union",
    "union_member",
    "prequalified",
    "authorized_bidder",
    "notes",
    "is_active",
    "origin_id",
    "origin_data",
    "origin_code",
];

/// Deactivated records leave the normal list and show for the `…/inactive` endpoints.
#[derive(Clone, Copy, PartialEq)]
enum Status {
    Active,
    Inactive,
}

fn status(record: &Value) -> Status {
    if record["is_active"] == false {
        Status::Inactive
    } else {
        Status::Active
    }
}

fn find<'a>(
    directory: &Directory,
    data: &'a Dataset,
    scope: u64,
    id: u64,
    wanted: Status,
) -> Option<&'a Value> {
    (directory.records)(data)
        .iter()
        .find(|(owner, r)| *owner == scope && r["id"] == id && status(r) == wanted)
        .map(|(_, record)| record)
}

/// The same person appears in the company directory and in each of their projects': a
/// change to one is copied to all, each project keeping its own permission template.
fn sync_person(data: &mut Dataset, person: &Value) {
    let mut fields = person.clone();
    if let Value::Object(map) = &mut fields {
        map.remove("permission_template");
    }
    let copies = data
        .company_users
        .iter_mut()
        .chain(data.project_users.iter_mut());
    for (_, record) in copies.filter(|(_, r)| r["id"] == person["id"]) {
        let template = record.get("permission_template").cloned();
        *record = fields.clone();
        if let (Some(template), Value::Object(map)) = (template, record) {
            map.insert("permission_template".into(), template);
        }
    }
}

/// People carry their vendor's name, so a renamed vendor renames it on them too.
fn store_vendor(data: &mut Dataset, company: u64, vendor: &Value) {
    let Some(id) = vendor["id"].as_u64() else {
        return;
    };
    if let Some((_, record)) = data
        .vendors
        .iter_mut()
        .find(|(owner, v)| *owner == company && v["id"] == id)
    {
        *record = vendor.clone();
    }
    let people = data
        .company_users
        .iter_mut()
        .chain(data.project_users.iter_mut());
    for (_, person) in people.filter(|(_, p)| p["vendor"]["id"] == id) {
        person["vendor"]["name"] = vendor["name"].clone();
    }
}

fn list(
    directory: &Directory,
    sim: &Arc<Simulator>,
    call: &Call,
    query: &ListQuery,
    scope: u64,
    wanted: Status,
    uri: &Uri,
) -> Response {
    let data = sim.data.read().expect("data lock");
    let mut records: Vec<&Value> = (directory.records)(&data)
        .iter()
        .filter(|(owner, record)| *owner == scope && status(record) == wanted)
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

fn show(directory: &Directory, sim: &Arc<Simulator>, call: &Call, scope: u64, id: u64) -> Response {
    let data = sim.data.read().expect("data lock");
    call.finish(match find(directory, &data, scope, id, Status::Active) {
        Some(record) => Json(record.clone()).into_response(),
        None => not_found(),
    })
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Not Found")
}

/// Starts a directory call: token, rate limit, then the company — from the path or the
/// body when the request names one there, else the `company_id` query parameter.
fn begin(
    sim: &Arc<Simulator>,
    env: Environment,
    headers: &HeaderMap,
    raw: Option<String>,
    named_company: Option<u64>,
) -> Result<(Call, ListQuery, u64), Box<Response>> {
    let (call, query) = begin_list(sim, env, headers, raw)?;
    let scope = named_company.or_else(|| query.param("company_id").and_then(|c| c.parse().ok()));
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

/// The body's top level, if it is a JSON object.
fn top_level(body: &Bytes) -> Option<Object> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(top)) => Some(top),
        _ => None,
    }
}

/// The attributes under `wrapper`, or the 400 Procore gives without them.
fn wrapped(top: Option<&Object>, wrapper: &str) -> Result<Object, Box<Response>> {
    match top.and_then(|top| top.get(wrapper)) {
        Some(Value::Object(attributes)) => Ok(attributes.clone()),
        _ => Err(Box::new(error(
            StatusCode::BAD_REQUEST,
            &format!("param is missing or the value is empty: {wrapper}"),
        ))),
    }
}

fn present(value: Option<&Value>) -> bool {
    matches!(value, Some(Value::String(s)) if !s.trim().is_empty())
}

/// An id as a number or, as form-minded clients send it, a string of digits.
fn id_of(value: &Value) -> Option<u64> {
    value
        .as_u64()
        .or_else(|| value.as_str()?.trim().parse().ok())
}

fn writable(attributes: &Object, fields: &[&str]) -> Object {
    attributes
        .iter()
        .filter(|(key, _)| fields.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// A new person (`existing: None`) or a change to one, checked against the company's
/// directory: last name and email may not be blank, an email belongs to one person per
/// company, and `vendor_id` must name one of the company's vendors. The id is the caller's.
fn write_person(
    data: &Dataset,
    company: u64,
    existing: Option<&Object>,
    attributes: &Object,
) -> Result<Object, FieldErrors> {
    let now = iso8601(unix_now());
    let creating = existing.is_none();
    let mut errors = FieldErrors::new();
    for field in ["last_name", "email_address"] {
        if (creating || attributes.contains_key(field)) && !present(attributes.get(field)) {
            errors.entry(field).or_default().push("can't be blank");
        }
    }
    let own_id = existing.and_then(|p| p.get("id"));
    if let Some(email) = attributes.get("email_address").and_then(Value::as_str) {
        let email = email.trim().to_lowercase();
        let taken = data.company_users.iter().any(|(owner, other)| {
            *owner == company
                && Some(&other["id"]) != own_id
                && other["email_address"]
                    .as_str()
                    .is_some_and(|e| e.trim().to_lowercase() == email)
        });
        if taken {
            errors
                .entry("email_address")
                .or_default()
                .push("has already been taken");
        }
    }
    let vendor = match attributes.get("vendor_id") {
        None => None,
        Some(Value::Null) => Some(Value::Null),
        Some(id) => {
            let found = id_of(id).and_then(|id| {
                data.vendors
                    .iter()
                    .find(|(owner, v)| *owner == company && v["id"] == id)
            });
            match found {
                Some((_, v)) => Some(json!({ "id": v["id"], "name": v["name"] })),
                None => {
                    errors.entry("vendor").or_default().push("must exist");
                    None
                }
            }
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut person = match existing {
        Some(person) => person.clone(),
        None => Object::from_iter([
            ("is_active".to_string(), json!(true)),
            ("is_employee".to_string(), json!(false)),
            ("vendor".to_string(), Value::Null),
            ("created_at".to_string(), json!(now)),
        ]),
    };
    person.extend(writable(attributes, &PERSON_FIELDS));
    if let Some(vendor) = vendor {
        person.insert("vendor".into(), vendor);
    }
    let part = |key: &str| person.get(key).and_then(Value::as_str).unwrap_or_default();
    let (name, initials) = person_names(part("first_name"), part("last_name"));
    person.insert("name".into(), json!(name));
    person.insert("initials".into(), json!(initials));
    person.insert("updated_at".into(), json!(now));
    Ok(person)
}

/// `permission_template_id` as the `permission_template` a project user shows; none is
/// allowed, an unknown one is not.
fn permission_template(attributes: &Object) -> Result<Value, FieldErrors> {
    let Some(wanted) = attributes
        .get("permission_template_id")
        .filter(|v| !v.is_null())
    else {
        return Ok(Value::Null);
    };
    match PERMISSION_TEMPLATES
        .iter()
        .find(|(id, _)| id_of(wanted) == Some(*id))
    {
        Some((id, name)) => Ok(json!({ "id": id, "name": name })),
        None => Err(FieldErrors::from([(
            "permission_template",
            vec!["must exist"],
        )])),
    }
}

/// A person's entry in a project's directory.
fn member(person: &Object, template: Value) -> Value {
    let mut member = person.clone();
    member.insert("permission_template".into(), template);
    Value::Object(member)
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
        Ok((call, query, company)) => {
            list(&USERS, &sim, &call, &query, company, Status::Active, &uri)
        }
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

/// What company-user create and update share: the checks and the `user` attributes.
fn begin_user_write(
    sim: &Arc<Simulator>,
    env: Environment,
    headers: &HeaderMap,
    raw: Option<String>,
    company_id: u64,
    body: &Bytes,
) -> Result<(Call, u64, Object), Box<Response>> {
    let (call, _, company) = begin(sim, env, headers, raw, Some(company_id))?;
    match wrapped(top_level(body).as_ref(), "user") {
        Ok(attributes) => Ok((call, company, attributes)),
        Err(response) => Err(Box::new(call.finish(*response))),
    }
}

async fn create_user(
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path(company_id): Path<u64>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    let (call, company, attributes) =
        match begin_user_write(&sim, env, &headers, raw, company_id, &body) {
            Ok(begun) => begun,
            Err(response) => return *response,
        };
    let mut data = sim.data.write().expect("data lock");
    let mut person = match write_person(&data, company, None, &attributes) {
        Ok(person) => person,
        Err(errors) => return call.finish(unprocessable(errors)),
    };
    person.insert("id".into(), json!(data.next_id()));
    let person = Value::Object(person);
    data.company_users.push((company, person.clone()));
    call.finish((StatusCode::CREATED, Json(person)).into_response())
}

async fn update_user(
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path((company_id, id)): Path<(u64, u64)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    let (call, company, attributes) =
        match begin_user_write(&sim, env, &headers, raw, company_id, &body) {
            Ok(begun) => begun,
            Err(response) => return *response,
        };
    let mut data = sim.data.write().expect("data lock");
    let Some(current) = find(&USERS, &data, company, id, Status::Active).and_then(Value::as_object)
    else {
        return call.finish(not_found());
    };
    let person = match write_person(&data, company, Some(current), &attributes) {
        Ok(person) => Value::Object(person),
        Err(errors) => return call.finish(unprocessable(errors)),
    };
    (USERS.store)(&mut data, company, &person);
    call.finish(Json(person).into_response())
}

async fn list_inactive(
    directory: &'static Directory,
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path(company_id): Path<u64>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    match begin(&sim, env, &headers, raw, Some(company_id)) {
        Ok((call, query, company)) => list(
            directory,
            &sim,
            &call,
            &query,
            company,
            Status::Inactive,
            &uri,
        ),
        Err(response) => *response,
    }
}

/// `PATCH …/inactive/{id}`: only a deactivated record can be reactivated.
async fn reactivate(
    directory: &'static Directory,
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path((company_id, id)): Path<(u64, u64)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let (call, _, company) = match begin(&sim, env, &headers, raw, Some(company_id)) {
        Ok(begun) => begun,
        Err(response) => return *response,
    };
    let mut data = sim.data.write().expect("data lock");
    let Some(mut record) = find(directory, &data, company, id, Status::Inactive).cloned() else {
        return call.finish(not_found());
    };
    record["is_active"] = json!(true);
    record["updated_at"] = json!(iso8601(unix_now()));
    (directory.store)(&mut data, company, &record);
    call.finish(Json(record).into_response())
}

async fn list_vendors(
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    match begin(&sim, env, &headers, raw, None) {
        Ok((call, query, company)) => {
            list(&VENDORS, &sim, &call, &query, company, Status::Active, &uri)
        }
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

/// What vendor create and update share: the checks, the company (top-level `company_id`,
/// else the query's) and the `vendor` attributes, whose name is required on both.
fn begin_vendor_write(
    sim: &Arc<Simulator>,
    env: Environment,
    headers: &HeaderMap,
    raw: Option<String>,
    body: &Bytes,
) -> Result<(Call, u64, Object), Box<Response>> {
    let top = top_level(body);
    let body_company = top
        .as_ref()
        .and_then(|top| top.get("company_id"))
        .and_then(id_of);
    let (call, _, company) = begin(sim, env, headers, raw, body_company)?;
    let attributes = match wrapped(top.as_ref(), "vendor") {
        Ok(attributes) => attributes,
        Err(response) => return Err(Box::new(call.finish(*response))),
    };
    if !present(attributes.get("name")) {
        let errors = FieldErrors::from([("name", vec!["can't be blank"])]);
        return Err(Box::new(call.finish(unprocessable(errors))));
    }
    Ok((call, company, attributes))
}

async fn create_vendor(
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    let (call, company, attributes) = match begin_vendor_write(&sim, env, &headers, raw, &body) {
        Ok(begun) => begun,
        Err(response) => return *response,
    };
    let mut data = sim.data.write().expect("data lock");
    let now = iso8601(unix_now());
    let mut vendor = writable(&attributes, &VENDOR_FIELDS);
    vendor.entry("is_active").or_insert(json!(true));
    vendor.insert("id".into(), json!(data.next_id()));
    vendor.insert("trades".into(), json!([]));
    vendor.insert("created_at".into(), json!(now));
    vendor.insert("updated_at".into(), json!(now));
    let vendor = Value::Object(vendor);
    data.vendors.push((company, vendor.clone()));
    call.finish((StatusCode::CREATED, Json(vendor)).into_response())
}

async fn update_vendor(
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path(id): Path<u64>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    let (call, company, attributes) = match begin_vendor_write(&sim, env, &headers, raw, &body) {
        Ok(begun) => begun,
        Err(response) => return *response,
    };
    let mut data = sim.data.write().expect("data lock");
    let Some(Value::Object(mut vendor)) =
        find(&VENDORS, &data, company, id, Status::Active).cloned()
    else {
        return call.finish(not_found());
    };
    vendor.extend(writable(&attributes, &VENDOR_FIELDS));
    vendor.insert("updated_at".into(), json!(iso8601(unix_now())));
    let vendor = Value::Object(vendor);
    (VENDORS.store)(&mut data, company, &vendor);
    call.finish(Json(vendor).into_response())
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
        Ok((call, query, _)) => list(
            &PROJECT_USERS,
            &sim,
            &call,
            &query,
            project_id,
            Status::Active,
            &uri,
        ),
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

/// What the project-user writes share: the checks, the project's company and the `user`
/// attributes. `is_active` is dropped: deactivating is the company directory's business
/// here, and project-level inactive lists are not simulated.
fn begin_project_write(
    sim: &Arc<Simulator>,
    env: Environment,
    headers: &HeaderMap,
    project_id: u64,
    body: &Bytes,
    user_optional: bool,
) -> Result<(Call, u64, Object), Box<Response>> {
    let (call, _, project) = begin_in_project(sim, env, headers, None, Some(project_id), None)?;
    let company = sim
        .data
        .read()
        .expect("data lock")
        .project(project)
        .and_then(|p| p["company"]["id"].as_u64());
    let Some(company) = company else {
        return Err(Box::new(call.finish(not_found())));
    };
    let top = top_level(body);
    let no_user = match &top {
        Some(top) => !top.contains_key("user"),
        None => body.trim_ascii().is_empty(),
    };
    let attributes = if user_optional && no_user {
        Ok(Object::new())
    } else {
        wrapped(top.as_ref(), "user")
    };
    match attributes {
        Ok(mut attributes) => {
            attributes.remove("is_active");
            Ok((call, company, attributes))
        }
        Err(response) => Err(Box::new(call.finish(*response))),
    }
}

/// `POST …/users`: a new person, who joins the company directory and the project.
async fn create_project_user(
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path(project_id): Path<u64>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (call, company, attributes) =
        match begin_project_write(&sim, env, &headers, project_id, &body, false) {
            Ok(begun) => begun,
            Err(response) => return *response,
        };
    let mut data = sim.data.write().expect("data lock");
    let checked = (
        write_person(&data, company, None, &attributes),
        permission_template(&attributes),
    );
    let (mut person, template) = match checked {
        (Ok(person), Ok(template)) => (person, template),
        (person, template) => {
            let mut errors = person.err().unwrap_or_default();
            errors.extend(template.err().unwrap_or_default());
            return call.finish(unprocessable(errors));
        }
    };
    person.insert("id".into(), json!(data.next_id()));
    let member = member(&person, template);
    data.company_users.push((company, Value::Object(person)));
    data.project_users.push((project_id, member.clone()));
    call.finish((StatusCode::CREATED, Json(member)).into_response())
}

/// `POST …/users/{id}/actions/add`: a person of the company joins the project. Procore's
/// body is optional; without a `permission_template_id` the member has no template.
async fn add_project_user(
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path((project_id, id)): Path<(u64, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (call, company, attributes) =
        match begin_project_write(&sim, env, &headers, project_id, &body, true) {
            Ok(begun) => begun,
            Err(response) => return *response,
        };
    let mut data = sim.data.write().expect("data lock");
    let Some(person) = find(&USERS, &data, company, id, Status::Active).and_then(Value::as_object)
    else {
        return call.finish(not_found());
    };
    if data
        .project_users
        .iter()
        .any(|(project, r)| *project == project_id && r["id"] == id)
    {
        let errors = FieldErrors::from([("base", vec!["User is already in this project"])]);
        return call.finish(unprocessable(errors));
    }
    let member = match permission_template(&attributes) {
        Ok(template) => member(person, template),
        Err(errors) => return call.finish(unprocessable(errors)),
    };
    data.project_users.push((project_id, member.clone()));
    call.finish((StatusCode::CREATED, Json(member)).into_response())
}

/// `PATCH …/users/{id}`: changes the person, wherever they appear.
async fn update_project_user(
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path((project_id, id)): Path<(u64, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (call, company, attributes) =
        match begin_project_write(&sim, env, &headers, project_id, &body, false) {
            Ok(begun) => begun,
            Err(response) => return *response,
        };
    let mut data = sim.data.write().expect("data lock");
    let Some(current) =
        find(&PROJECT_USERS, &data, project_id, id, Status::Active).and_then(Value::as_object)
    else {
        return call.finish(not_found());
    };
    let person = match write_person(&data, company, Some(current), &attributes) {
        Ok(person) => Value::Object(person),
        Err(errors) => return call.finish(unprocessable(errors)),
    };
    (PROJECT_USERS.store)(&mut data, project_id, &person);
    call.finish(Json(person).into_response())
}

/// `DELETE …/users/{id}/actions/remove`: off the project, still in the company.
async fn remove_project_user(
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    Path((project_id, id)): Path<(u64, u64)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let (call, _, _) = match begin_in_project(&sim, env, &headers, raw, Some(project_id), None) {
        Ok(begun) => begun,
        Err(response) => return *response,
    };
    let mut data = sim.data.write().expect("data lock");
    let Some(i) = data
        .project_users
        .iter()
        .position(|(project, r)| *project == project_id && r["id"] == id)
    else {
        return call.finish(not_found());
    };
    data.project_users.remove(i);
    call.finish(StatusCode::NO_CONTENT.into_response())
}
