//! The REST API under `/api/v1`, for programs: data sources, objects and records,
//! authenticated with personal API tokens.
//!
//! Every route is one [`Op`]: the router and the OpenAPI document are both made from that
//! one list, so the document names every route the router serves. Checks of rights,
//! catalogue and input live in [`records`] (shared with the explorer and data rules);
//! this module reads requests, writes JSON, and turns every error — ours, Procore's, and
//! axum's own rejections — into one JSON shape with the status that goes with it.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Path, RawQuery, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use axum::{Json, Router};
use chrono::Utc;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::AppState;
use super::api_tokens::{self, AuthError, BearerError};
use super::forms::{may_query, queryable};
use super::records;
use super::store::SourceRecord;
use crate::data_source::Status;
use crate::error::AppError;
use crate::model::{SessionUser, is_record_key};
use crate::record::{
    DEFAULT_PER_PAGE, Direction, MAX_PER_PAGE, Operator, RecordFilter, RecordQuery, RecordScope,
};

/// Where [`router`] is mounted.
pub const BASE: &str = "/api/v1";

pub fn router() -> Router<AppState> {
    // Methods of one path share a `MethodRouter`: a second `route` for a path would panic.
    let mut paths: Vec<(&'static str, MethodRouter<AppState>)> = Vec::new();
    for op in Op::ALL {
        match paths.iter_mut().find(|(path, _)| *path == op.path()) {
            Some((_, methods)) => {
                let taken = std::mem::replace(methods, MethodRouter::new());
                *methods = op.serve(taken);
            }
            None => paths.push((op.path(), op.serve(MethodRouter::new()))),
        }
    }
    paths
        .into_iter()
        .fold(Router::new(), |router, (path, methods)| {
            router.route(path, methods)
        })
        .fallback(no_such_route)
        .layer(axum::middleware::map_response(json_errors))
}

/// One operation of the API: its method, path, handler and OpenAPI description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    OpenApi,
    ListDataSources,
    GetDataSource,
    ListObjects,
    GetObject,
    ListRecords,
    CreateRecord,
    GetRecord,
    UpdateRecord,
    DeleteRecord,
}

const RECORDS: &str = "/data-sources/{id}/objects/{object}/records";
const RECORD: &str = "/data-sources/{id}/objects/{object}/records/{record_id}";

impl Op {
    pub const ALL: [Op; 10] = [
        Op::OpenApi,
        Op::ListDataSources,
        Op::GetDataSource,
        Op::ListObjects,
        Op::GetObject,
        Op::ListRecords,
        Op::CreateRecord,
        Op::GetRecord,
        Op::UpdateRecord,
        Op::DeleteRecord,
    ];

    pub fn method(self) -> Method {
        match self {
            Op::CreateRecord => Method::POST,
            Op::UpdateRecord => Method::PATCH,
            Op::DeleteRecord => Method::DELETE,
            _ => Method::GET,
        }
    }

    /// Relative to [`BASE`], in axum's (and OpenAPI's) `{param}` syntax.
    pub fn path(self) -> &'static str {
        match self {
            Op::OpenApi => "/openapi.json",
            Op::ListDataSources => "/data-sources",
            Op::GetDataSource => "/data-sources/{id}",
            Op::ListObjects => "/objects",
            Op::GetObject => "/objects/{object}",
            Op::ListRecords | Op::CreateRecord => RECORDS,
            Op::GetRecord | Op::UpdateRecord | Op::DeleteRecord => RECORD,
        }
    }

    fn serve(self, methods: MethodRouter<AppState>) -> MethodRouter<AppState> {
        match self {
            Op::OpenApi => methods.get(openapi),
            Op::ListDataSources => methods.get(list_data_sources),
            Op::GetDataSource => methods.get(get_data_source),
            Op::ListObjects => methods.get(list_objects),
            Op::GetObject => methods.get(get_object),
            Op::ListRecords => methods.get(list_records),
            Op::CreateRecord => methods.post(create_record),
            Op::GetRecord => methods.get(get_record),
            Op::UpdateRecord => methods.patch(update_record),
            Op::DeleteRecord => methods.delete(delete_record),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Errors

/// `{"error": {"status": 422, "message": "…", "fields": {"subject": ["can't be blank"]}}}`,
/// with `Retry-After` when the wait is known and `WWW-Authenticate` on a 401.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    fields: BTreeMap<String, Vec<String>>,
    retry_after: Option<u64>,
    challenge: Option<&'static str>,
}

/// RFC 6750: the scheme, and why a token that was sent did not do.
const CHALLENGE: &str = "Bearer realm=\"trestle\"";
const INVALID_TOKEN: &str = "Bearer realm=\"trestle\", error=\"invalid_token\"";

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            fields: BTreeMap::new(),
            retry_after: None,
            challenge: None,
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    fn unauthorized(challenge: &'static str, message: &str) -> Self {
        ApiError {
            challenge: Some(challenge),
            ..ApiError::new(StatusCode::UNAUTHORIZED, message)
        }
    }

    fn body(&self) -> Value {
        let mut error = json!({ "status": self.status.as_u16(), "message": self.message });
        if !self.fields.is_empty() {
            error["fields"] = json!(self.fields);
        }
        json!({ "error": error })
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        let status =
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut fields = error.field_messages();
        // The API's name for the project is its query parameter's.
        if let Some(messages) = fields.remove("project") {
            fields.insert("project_id".into(), messages);
        }
        ApiError {
            status,
            message: error.to_string(),
            fields,
            retry_after: error.retry_after(),
            challenge: (status == StatusCode::UNAUTHORIZED).then_some(CHALLENGE),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        let headers = response.headers_mut();
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if let Some(challenge) = self.challenge {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

/// The answer for a path under [`BASE`] that names no route (also mounted for
/// `/api/v1/`, which a nested router cannot match).
pub async fn no_such_route() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("There is no such route; {BASE}/openapi.json lists them all."),
    )
}

/// Errors made outside the handlers (axum's 405 for a method a path does not take, and
/// any other plain-text rejection) get the same JSON shape; their headers (`Allow`) stay.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let message = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            "This route does not take that method; the Allow header lists the ones it takes."
                .to_string()
        }
        _ => status.canonical_reason().unwrap_or("Error").to_string(),
    };
    let (mut parts, _) = response.into_parts();
    let body = ApiError::new(status, message).body().to_string();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(body))
}

// ---------------------------------------------------------------------------------------
// Extractors: each refuses with an ApiError, so axum's plain-text rejections never leak.

/// The person a request's `Authorization: Bearer` token acts for. Cookies are ignored:
/// the API takes tokens only, so a browser's session cannot be borrowed by another site.
pub struct Caller(SessionUser);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match api_tokens::authenticate(state, &parts.headers, Utc::now()).await {
            Ok(user) if user.must_change_password => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "Your password was reset: sign in to Trestle and choose a new one; until then your API tokens do nothing.",
            )),
            Ok(user) => Ok(Caller(user)),
            Err(AuthError::Bearer(BearerError::Missing)) => Err(ApiError::unauthorized(
                CHALLENGE,
                "Send a personal API token in the Authorization header: “Bearer trestle_pat_…”. Create one in Trestle under API tokens.",
            )),
            Err(AuthError::Bearer(BearerError::Malformed)) => Err(ApiError::unauthorized(
                INVALID_TOKEN,
                "The Authorization header must be “Bearer ” followed by a Trestle API token (trestle_pat_…).",
            )),
            Err(AuthError::Bearer(BearerError::Invalid)) => Err(ApiError::unauthorized(
                INVALID_TOKEN,
                "This API token is not valid: it was revoked, or its owner was deactivated.",
            )),
            Err(AuthError::Server(error)) => Err(error.into()),
        }
    }
}

/// Path parameters, refused as JSON when they cannot be read.
struct ApiPath<T>(T);

impl<T> FromRequestParts<AppState> for ApiPath<T>
where
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| ApiPath(value))
            .map_err(|rejection| ApiError::new(rejection.status(), rejection.body_text()))
    }
}

/// A request body that must be a JSON object of attributes keyed by write key.
struct Attributes(crate::record::Attributes);

impl FromRequest<AppState> for Attributes {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| ApiError::new(rejection.status(), rejection.body_text()))?;
        let expected = "The body must be a JSON object of attributes keyed by write key, e.g. {\"subject\": \"…\"}.";
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::bad_request(expected));
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(Attributes(map)),
            Ok(_) => Err(ApiError::bad_request(expected)),
            Err(e) => Err(ApiError::bad_request(format!(
                "The body is not valid JSON: {e}."
            ))),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Query parameters

fn pairs(raw: Option<String>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

fn unknown_parameter(name: &str, known: &str) -> ApiError {
    ApiError::bad_request(format!(
        "Unknown query parameter “{name}”; this route takes {known}."
    ))
}

fn once(slot: &mut Option<String>, name: &str, value: String) -> Result<(), ApiError> {
    if slot.replace(value).is_some() {
        return Err(ApiError::bad_request(format!(
            "The query parameter “{name}” is given more than once."
        )));
    }
    Ok(())
}

fn number(name: &str, value: Option<String>) -> Result<Option<u64>, ApiError> {
    value
        .map(|v| {
            v.trim().parse::<u64>().map_err(|_| {
                ApiError::bad_request(format!("“{name}” must be a whole number, not “{v}”."))
            })
        })
        .transpose()
}

/// `project_id`, the one parameter of the routes about one record or a new one.
fn project_only(raw: Option<String>) -> Result<Option<u64>, ApiError> {
    let mut project = None;
    for (name, value) in pairs(raw) {
        match name.as_str() {
            "project_id" => once(&mut project, &name, value)?,
            _ => return Err(unknown_parameter(&name, "only project_id")),
        }
    }
    number("project_id", project)
}

/// `filter[FIELD]` (equals) or `filter[FIELD][OP]`; `None` when `name` is no filter.
fn filter_key(name: &str) -> Option<Result<(String, Operator), ApiError>> {
    let rest = name.strip_prefix("filter[")?;
    let bad = || {
        ApiError::bad_request(format!(
            "“{name}” is not a filter: write filter[FIELD]=VALUE or filter[FIELD][OP]=VALUE."
        ))
    };
    let Some((field, rest)) = rest.split_once(']') else {
        return Some(Err(bad()));
    };
    if field.is_empty() {
        return Some(Err(bad()));
    }
    let op = if rest.is_empty() {
        Operator::Eq
    } else {
        let Some(key) = rest.strip_prefix('[').and_then(|r| r.strip_suffix(']')) else {
            return Some(Err(bad()));
        };
        match Operator::from_key(key) {
            Some(op) => op,
            None => {
                let keys: Vec<_> = Operator::ALL.iter().map(|op| op.key()).collect();
                return Some(Err(ApiError::bad_request(format!(
                    "Unknown filter operator “{key}”; use one of {}.",
                    keys.join(", ")
                ))));
            }
        }
    };
    Some(Ok((field.to_string(), op)))
}

const LIST_PARAMETERS: &str =
    "project_id, page, per_page, sort, direction, search and filter[FIELD] or filter[FIELD][OP]";

fn list_query(raw: Option<String>) -> Result<(Option<u64>, RecordQuery), ApiError> {
    let mut slots: [Option<String>; 6] = Default::default();
    let [project, page, per_page, sort, direction, search] = &mut slots;
    let mut filters = Vec::new();
    for (name, value) in pairs(raw) {
        match name.as_str() {
            "project_id" => once(project, &name, value)?,
            "page" => once(page, &name, value)?,
            "per_page" => once(per_page, &name, value)?,
            "sort" => once(sort, &name, value)?,
            "direction" => once(direction, &name, value)?,
            "search" => once(search, &name, value)?,
            _ => match filter_key(&name) {
                Some(key) => {
                    let (field, op) = key?;
                    filters.push(RecordFilter { field, op, value });
                }
                None => return Err(unknown_parameter(&name, LIST_PARAMETERS)),
            },
        }
    }
    let direction = match direction.as_deref() {
        None | Some("asc") => Direction::Asc,
        Some("desc") => Direction::Desc,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "“direction” is asc or desc, not “{other}”."
            )));
        }
    };
    let query = RecordQuery {
        filters,
        search: search.take().filter(|s| !s.trim().is_empty()),
        sort: sort.take().filter(|s| !s.trim().is_empty()),
        direction,
        page: number("page", page.take())?.unwrap_or(1),
        per_page: number("per_page", per_page.take())?.unwrap_or(DEFAULT_PER_PAGE),
    };
    Ok((number("project_id", project.take())?, query))
}

fn record_id(text: &str) -> Result<u64, ApiError> {
    text.parse::<u64>()
        .map_err(|_| ApiError::from(AppError::NotFound(format!("The Procore record “{text}”"))))
}

// ---------------------------------------------------------------------------------------
// Handlers

type ApiResult<T> = Result<T, ApiError>;

/// A data source as programs see it: never its tokens or security lists.
fn source_json(source: &SourceRecord) -> Value {
    json!({
        "id": source.id,
        "name": source.name,
        "type": source.kind,
        "status": source.status.key(),
        "ready": source.status == Status::Ready,
        "environment": source.environment.key(),
        "company_id": source.company_id,
        "updated_at": source.updated_at,
    })
}

async fn openapi() -> Json<Value> {
    Json(document())
}

async fn list_data_sources(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> ApiResult<Json<Value>> {
    let sources = queryable(&state, &user).await?;
    Ok(Json(json!({
        "data_sources": sources.iter().map(source_json).collect::<Vec<_>>(),
    })))
}

async fn get_data_source(
    State(state): State<AppState>,
    Caller(user): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let not_found = || AppError::NotFound("Data source".into());
    if !is_record_key(&id) {
        return Err(not_found().into());
    }
    let source = state
        .store
        .data_source(&id)
        .await
        .map_err(AppError::from)?
        .ok_or_else(not_found)?;
    if !may_query(&state, &user, &source).await? {
        return Err(AppError::Denied(format!(
            "You may not use Procore data through “{}”; ask its administrators to add you to its connection users.",
            source.name
        ))
        .into());
    }
    Ok(Json(source_json(&source)))
}

async fn list_objects(Caller(_): Caller) -> Json<Value> {
    Json(json!({ "objects": records::objects() }))
}

async fn get_object(Caller(_): Caller, ApiPath(key): ApiPath<String>) -> ApiResult<Json<Value>> {
    let object = records::objects()
        .into_iter()
        .find(|o| o.key == key)
        .ok_or_else(|| AppError::NotFound(format!("Procore object “{key}”")))?;
    Ok(Json(json!(object)))
}

fn scope(data_source: String, object: String, project: Option<u64>) -> RecordScope {
    RecordScope {
        data_source,
        object,
        project,
    }
}

async fn list_records(
    State(state): State<AppState>,
    Caller(user): Caller,
    ApiPath((id, object)): ApiPath<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let (project, query) = list_query(raw)?;
    let page = records::list(&state, &user, &scope(id, object, project), &query).await?;
    Ok(Json(json!(page)))
}

async fn get_record(
    State(state): State<AppState>,
    Caller(user): Caller,
    ApiPath((id, object, record)): ApiPath<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let project = project_only(raw)?;
    let record = record_id(&record)?;
    let found = records::get(&state, &user, &scope(id, object, project), record).await?;
    Ok(Json(found))
}

async fn create_record(
    State(state): State<AppState>,
    Caller(user): Caller,
    ApiPath((id, object)): ApiPath<(String, String)>,
    RawQuery(raw): RawQuery,
    Attributes(attributes): Attributes,
) -> ApiResult<Response> {
    let project = project_only(raw)?;
    let scope = scope(id, object, project);
    let created = records::create(&state, &user, &scope, attributes).await?;
    let mut response = (StatusCode::CREATED, Json(created.clone())).into_response();
    if let Some(new_id) = created.get("id").and_then(Value::as_u64) {
        let query = project
            .map(|p| format!("?project_id={p}"))
            .unwrap_or_default();
        let location = format!(
            "{BASE}/data-sources/{}/objects/{}/records/{new_id}{query}",
            scope.data_source, scope.object
        );
        if let Ok(value) = HeaderValue::from_str(&location) {
            response.headers_mut().insert(header::LOCATION, value);
        }
    }
    Ok(response)
}

async fn update_record(
    State(state): State<AppState>,
    Caller(user): Caller,
    ApiPath((id, object, record)): ApiPath<(String, String, String)>,
    RawQuery(raw): RawQuery,
    Attributes(attributes): Attributes,
) -> ApiResult<Json<Value>> {
    let project = project_only(raw)?;
    let record = record_id(&record)?;
    let updated = records::update(
        &state,
        &user,
        &scope(id, object, project),
        record,
        attributes,
    )
    .await?;
    Ok(Json(updated))
}

async fn delete_record(
    State(state): State<AppState>,
    Caller(user): Caller,
    ApiPath((id, object, record)): ApiPath<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<StatusCode> {
    let project = project_only(raw)?;
    let record = record_id(&record)?;
    records::delete(&state, &user, &scope(id, object, project), record).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------
// The OpenAPI document

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } },
    })
}

fn waiting_response(description: &str) -> Value {
    let mut response = error_response(description);
    response["headers"] = json!({
        "Retry-After": {
            "description": "Seconds to wait before trying again, when known.",
            "schema": { "type": "integer" },
        },
    });
    response
}

fn ok(description: &str, schema: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } },
    })
}

fn parameter(name: &str) -> Value {
    json!({ "$ref": format!("#/components/parameters/{name}") })
}

/// The errors every operation on records may answer with.
fn record_errors(responses: &mut serde_json::Map<String, Value>) {
    for (status, name) in [
        ("400", "BadRequest"),
        ("401", "Unauthorized"),
        ("403", "Forbidden"),
        ("404", "NotFound"),
        ("409", "Conflict"),
        ("422", "Unprocessable"),
        ("429", "TooManyRequests"),
        ("502", "BadGateway"),
        ("503", "Unavailable"),
    ] {
        responses.insert(
            status.into(),
            json!({ "$ref": format!("#/components/responses/{name}") }),
        );
    }
}

impl Op {
    fn operation(self) -> Value {
        let attributes_body = json!({
            "required": true,
            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Attributes" } } },
        });
        let record_path = || {
            vec![
                parameter("DataSourceId"),
                parameter("ObjectKey"),
                parameter("RecordId"),
                parameter("ProjectId"),
            ]
        };
        let (id, summary, parameters, body, success): (&str, &str, Vec<Value>, Value, Value) =
            match self {
                Op::OpenApi => (
                    "getOpenApi",
                    "This document (no token needed).",
                    vec![],
                    Value::Null,
                    json!({ "200": { "description": "The OpenAPI document.",
                        "content": { "application/json": { "schema": { "type": "object" } } } } }),
                ),
                Op::ListDataSources => (
                    "listDataSources",
                    "The data sources the caller may use (as connection user or administrator).",
                    vec![],
                    Value::Null,
                    json!({ "200": ok("The data sources.", "DataSourceList") }),
                ),
                Op::GetDataSource => (
                    "getDataSource",
                    "One data source.",
                    vec![parameter("DataSourceId")],
                    Value::Null,
                    json!({ "200": ok("The data source.", "DataSource") }),
                ),
                Op::ListObjects => (
                    "listObjects",
                    "The Procore objects of the catalogue, with their fields and operations.",
                    vec![],
                    Value::Null,
                    json!({ "200": ok("The objects.", "ObjectList") }),
                ),
                Op::GetObject => (
                    "getObject",
                    "One Procore object: its fields (with write keys, sortable and filterable ones) and operations.",
                    vec![parameter("ObjectKey")],
                    Value::Null,
                    json!({ "200": ok("The object.", "Object") }),
                ),
                Op::ListRecords => (
                    "listRecords",
                    "A page of records, filtered, searched and sorted.",
                    vec![
                        parameter("DataSourceId"),
                        parameter("ObjectKey"),
                        parameter("ProjectId"),
                        parameter("Page"),
                        parameter("PerPage"),
                        parameter("Sort"),
                        parameter("Direction"),
                        parameter("Search"),
                        parameter("Filter"),
                    ],
                    Value::Null,
                    json!({ "200": ok("A page of records.", "RecordPage") }),
                ),
                Op::CreateRecord => (
                    "createRecord",
                    "Creates a record in Procore.",
                    vec![
                        parameter("DataSourceId"),
                        parameter("ObjectKey"),
                        parameter("ProjectId"),
                    ],
                    attributes_body.clone(),
                    json!({ "201": {
                        "description": "The record Procore created.",
                        "headers": { "Location": {
                            "description": "Where to read the new record.",
                            "schema": { "type": "string" } } },
                        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Record" } } },
                    } }),
                ),
                Op::GetRecord => (
                    "getRecord",
                    "One record, as Procore returns it.",
                    record_path(),
                    Value::Null,
                    json!({ "200": ok("The record.", "Record") }),
                ),
                Op::UpdateRecord => (
                    "updateRecord",
                    "Changes the given attributes of a record.",
                    record_path(),
                    attributes_body,
                    json!({ "200": ok("The record as Procore saved it.", "Record") }),
                ),
                Op::DeleteRecord => (
                    "deleteRecord",
                    "Deletes a record, where Procore allows it.",
                    record_path(),
                    Value::Null,
                    json!({ "204": { "description": "Deleted." } }),
                ),
            };
        let mut responses = success.as_object().cloned().unwrap_or_default();
        match self {
            Op::OpenApi => {}
            Op::ListDataSources | Op::ListObjects => {
                responses.insert(
                    "401".into(),
                    json!({ "$ref": "#/components/responses/Unauthorized" }),
                );
                responses.insert(
                    "403".into(),
                    json!({ "$ref": "#/components/responses/Forbidden" }),
                );
            }
            Op::GetDataSource | Op::GetObject => {
                for (status, name) in [
                    ("401", "Unauthorized"),
                    ("403", "Forbidden"),
                    ("404", "NotFound"),
                ] {
                    responses.insert(
                        status.into(),
                        json!({ "$ref": format!("#/components/responses/{name}") }),
                    );
                }
            }
            _ => record_errors(&mut responses),
        }
        let mut operation = json!({
            "operationId": id,
            "summary": summary,
            "parameters": parameters,
            "responses": responses,
        });
        if !body.is_null() {
            operation["requestBody"] = body;
        }
        if self == Op::OpenApi {
            operation["security"] = json!([]);
        }
        operation
    }
}

/// The OpenAPI 3.1 description of every [`Op`].
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for op in Op::ALL {
        let item = paths
            .entry(op.path())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("path items are objects");
        item.insert(op.method().as_str().to_lowercase(), op.operation());
    }
    let path_parameter = |name: &str, description: &str, schema: Value| json!({ "name": name, "in": "path", "required": true, "description": description, "schema": schema });
    let query_parameter = |name: &str, description: &str, schema: Value| json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema });
    let operators: Vec<_> = Operator::ALL.iter().map(|op| op.key()).collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Trestle REST API",
            "version": "1",
            "description": "Procore data through Trestle's data sources, with the caller's rights. \
                Authenticate with a personal API token (Trestle > API tokens) sent as \
                `Authorization: Bearer trestle_pat_…`. Errors are JSON: \
                `{\"error\": {\"status\", \"message\", \"fields\"}}`; 429 and 503 carry \
                `Retry-After` when the wait is known.",
        },
        "servers": [{ "url": BASE }],
        "security": [{ "bearer": [] }],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal API token, created in Trestle and shown once.",
                },
            },
            "parameters": {
                "DataSourceId": path_parameter("id", "A data source's id.", json!({ "type": "string" })),
                "ObjectKey": path_parameter("object", "A catalogue object's key, e.g. rfis.", json!({ "type": "string" })),
                "RecordId": path_parameter("record_id", "A Procore record's id.", json!({ "type": "integer", "minimum": 0 })),
                "ProjectId": query_parameter(
                    "project_id",
                    "The Procore project, for objects that belong to one (needs_project).",
                    json!({ "type": "integer", "minimum": 0 }),
                ),
                "Page": query_parameter("page", "1-based page number.", json!({ "type": "integer", "minimum": 1, "default": 1 })),
                "PerPage": query_parameter(
                    "per_page",
                    "Records per page.",
                    json!({ "type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE }),
                ),
                "Sort": query_parameter("sort", "A field to sort by.", json!({ "type": "string" })),
                "Direction": query_parameter(
                    "direction",
                    "Sort direction.",
                    json!({ "type": "string", "enum": ["asc", "desc"], "default": "asc" }),
                ),
                "Search": query_parameter("search", "Free text, matched case-insensitively.", json!({ "type": "string" })),
                "Filter": {
                    "name": "filter",
                    "in": "query",
                    "required": false,
                    "style": "deepObject",
                    "explode": true,
                    "description": format!(
                        "filter[FIELD]=VALUE keeps records whose field equals VALUE; \
                         filter[FIELD][OP]=VALUE compares with OP, one of {}. Filters combine with AND.",
                        operators.join(", ")
                    ),
                    "schema": {
                        "type": "object",
                        "additionalProperties": {
                            "oneOf": [
                                { "type": "string" },
                                {
                                    "type": "object",
                                    "propertyNames": { "enum": operators },
                                    "additionalProperties": { "type": "string" },
                                },
                            ],
                        },
                    },
                },
            },
            "responses": {
                "BadRequest": error_response("The request is malformed: query parameters, path or JSON body."),
                "Unauthorized": {
                    "description": "No API token, or one that is malformed, unknown or revoked.",
                    "headers": { "WWW-Authenticate": { "schema": { "type": "string" } } },
                    "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } },
                },
                "Forbidden": error_response("The caller may not use this data source (or Procore refused)."),
                "NotFound": error_response("No such data source, object or record."),
                "Conflict": error_response("The data source is not ready or authorized, or Procore does not allow this operation on the object."),
                "Unprocessable": error_response("Values were refused; `fields` has the messages by write key."),
                "TooManyRequests": waiting_response("Procore's rate limit was reached."),
                "BadGateway": error_response("Procore answered in a way Trestle could not use."),
                "Unavailable": waiting_response("Procore is unavailable."),
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["status", "message"],
                            "properties": {
                                "status": { "type": "integer" },
                                "message": { "type": "string" },
                                "fields": {
                                    "type": "object",
                                    "additionalProperties": { "type": "array", "items": { "type": "string" } },
                                },
                            },
                        },
                    },
                },
                "DataSource": {
                    "type": "object",
                    "properties": {
                        "id": { "type": "string" },
                        "name": { "type": "string" },
                        "type": { "type": "string", "examples": ["procore"] },
                        "status": { "type": "string", "enum": ["incomplete", "test_failed", "ready"] },
                        "ready": { "type": "boolean" },
                        "environment": { "type": "string", "enum": ["live", "monthly_sandbox", "developer_sandbox"] },
                        "company_id": { "type": ["integer", "null"] },
                        "updated_at": { "type": "string", "format": "date-time" },
                    },
                },
                "DataSourceList": {
                    "type": "object",
                    "properties": {
                        "data_sources": { "type": "array", "items": { "$ref": "#/components/schemas/DataSource" } },
                    },
                },
                "ObjectField": {
                    "type": "object",
                    "properties": {
                        "name": { "type": "string", "description": "Dotted path in a record, e.g. vendor.name." },
                        "label": { "type": "string" },
                        "kind": { "type": "string" },
                        "sortable": { "type": "boolean" },
                        "filterable": { "type": "boolean" },
                        "write_key": { "type": ["string", "null"], "description": "The attribute to send when writing; null when read-only." },
                        "required_on_create": { "type": "boolean" },
                        "choices": { "type": "array", "items": { "type": "string" } },
                        "references": { "type": ["string", "null"] },
                    },
                },
                "Object": {
                    "type": "object",
                    "properties": {
                        "key": { "type": "string" },
                        "label": { "type": "string" },
                        "needs_project": { "type": "boolean" },
                        "display_field": { "type": "string" },
                        "value_field": { "type": "string" },
                        "fields": { "type": "array", "items": { "$ref": "#/components/schemas/ObjectField" } },
                        "operations": {
                            "type": "object",
                            "properties": {
                                "list": { "type": "boolean" },
                                "get": { "type": "boolean" },
                                "create": { "type": "boolean" },
                                "update": { "type": "boolean" },
                                "delete": { "type": "boolean" },
                            },
                        },
                    },
                },
                "ObjectList": {
                    "type": "object",
                    "properties": {
                        "objects": { "type": "array", "items": { "$ref": "#/components/schemas/Object" } },
                    },
                },
                "Record": {
                    "type": "object",
                    "description": "A Procore record, as Procore returns it.",
                    "additionalProperties": true,
                },
                "RecordPage": {
                    "type": "object",
                    "properties": {
                        "records": { "type": "array", "items": { "$ref": "#/components/schemas/Record" } },
                        "total": { "type": "integer", "description": "Every matching record; more pages follow while page × per_page < total." },
                        "page": { "type": "integer" },
                        "per_page": { "type": "integer" },
                    },
                },
                "Attributes": {
                    "type": "object",
                    "description": "Values keyed by each field's write_key (see the object's fields), e.g. {\"subject\": \"Door hardware\", \"rfi_manager_id\": 42}.",
                    "additionalProperties": true,
                },
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(text: &str) -> Option<String> {
        Some(text.to_string())
    }

    #[test]
    fn list_parameters_become_a_query() {
        let (project, q) = list_query(query(
            "project_id=7&page=2&per_page=10&sort=subject&direction=desc&search=door\
             &filter[status]=open&filter%5Bnumber%5D%5Bge%5D=3",
        ))
        .unwrap();
        assert_eq!(project, Some(7));
        assert_eq!((q.page, q.per_page), (2, 10));
        assert_eq!(q.sort.as_deref(), Some("subject"));
        assert_eq!(q.direction, Direction::Desc);
        assert_eq!(q.search.as_deref(), Some("door"));
        assert_eq!(
            q.filters,
            vec![
                RecordFilter {
                    field: "status".into(),
                    op: Operator::Eq,
                    value: "open".into()
                },
                RecordFilter {
                    field: "number".into(),
                    op: Operator::Ge,
                    value: "3".into()
                },
            ]
        );
        let (project, q) = list_query(None).unwrap();
        assert_eq!(project, None);
        assert_eq!(q, RecordQuery::default());
    }

    #[test]
    fn bad_parameters_are_400s_that_say_what_is_wrong() {
        for (text, says) in [
            ("page=two", "whole number"),
            ("per_page=-1", "whole number"),
            ("project_id=x", "whole number"),
            ("direction=up", "asc or desc"),
            ("colour=red", "Unknown query parameter “colour”"),
            ("page=1&page=2", "more than once"),
            ("filter[status][like]=o", "Unknown filter operator “like”"),
            ("filter[]=o", "is not a filter"),
            ("filter[status=o", "is not a filter"),
            ("filter[status]x=o", "is not a filter"),
        ] {
            let err = list_query(query(text)).unwrap_err();
            assert_eq!(err.status, StatusCode::BAD_REQUEST, "{text}");
            assert!(err.message.contains(says), "{text}: {}", err.message);
        }
        assert!(project_only(query("project_id=5")).unwrap() == Some(5));
        assert_eq!(
            project_only(query("page=1")).unwrap_err().status,
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn app_errors_keep_their_status_fields_and_wait() {
        let err = ApiError::from(AppError::TooManyRequests {
            message: "slow down".into(),
            retry_after_secs: 7,
        });
        let response = err.into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "7");

        let err = ApiError::from(AppError::invalid("project", "say which"));
        assert_eq!(err.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            err.body()["error"]["fields"]["project_id"],
            json!(["say which"])
        );
        let err = ApiError::from(AppError::NotFound("Data source".into()));
        assert_eq!(err.body()["error"]["message"], "Data source was not found.");
        assert!(err.body()["error"].get("fields").is_none());
    }

    #[test]
    fn the_document_describes_every_operation_once() {
        let doc = document();
        let mut described = 0;
        for op in Op::ALL {
            let operation = &doc["paths"][op.path()][op.method().as_str().to_lowercase()];
            assert!(operation.is_object(), "{op:?} is described");
            assert!(operation["operationId"].is_string());
            described += 1;
        }
        let in_document: usize = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|item| item.as_object().unwrap().len())
            .sum();
        assert_eq!(in_document, described);
        // Every reference points at something the document defines.
        let text = doc.to_string();
        for reference in text.split("\"$ref\":\"#/").skip(1) {
            let path = reference.split('"').next().unwrap();
            let target = path.split('/').fold(&doc, |node, key| &node[key]);
            assert!(!target.is_null(), "{path} is defined");
        }
    }
}
