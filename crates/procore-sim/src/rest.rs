//! REST conventions (procore-api.md §2): bearer check, rate limits, the
//! `Procore-Company-Id` rules, bare-array lists with `Total`/`Per-Page`/`Link`, filters in
//! all three spellings, sorts and views; and the companies and projects resources.

use std::borrow::{Borrow, Cow};
use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde_json::{Value, json};

use crate::{Environment, Simulator, unix_now};

pub(crate) fn routes() -> Router<Arc<Simulator>> {
    Router::new()
        .route("/rest/v1.0/me", get(crate::oauth::me))
        .route("/rest/v1.0/companies", get(companies))
        .route("/rest/v1.0/projects", get(projects_v10))
        .route("/rest/v1.1/projects", get(projects_v11))
}

pub const DEFAULT_PER_PAGE: usize = 100;

/// A list request's query: paging, filters, sort and view.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ListQuery {
    pub page: usize,
    pub per_page: usize,
    /// `filters[a]=1`, `filters[a][]=1&filters[a][]=2` and `filters[a]=1&filters[a]=2` alike.
    pub filters: BTreeMap<String, Vec<String>>,
    pub params: BTreeMap<String, Vec<String>>,
}

impl ListQuery {
    pub fn parse(raw: Option<&str>, max_per_page: usize) -> Result<ListQuery, String> {
        let mut query = ListQuery {
            page: 1,
            per_page: DEFAULT_PER_PAGE,
            ..ListQuery::default()
        };
        for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            let key = key.into_owned();
            let value = value.into_owned();
            if let Some(rest) = key.strip_prefix("filters[") {
                let name = rest
                    .trim_end_matches("[]")
                    .trim_end_matches(']')
                    .to_string();
                query.filters.entry(name).or_default().push(value);
            } else {
                match key.as_str() {
                    "page" => {
                        query.page = value
                            .parse()
                            .ok()
                            .filter(|p| *p >= 1)
                            .ok_or("page must be a positive integer")?
                    }
                    "per_page" => {
                        let n: usize = value
                            .parse()
                            .ok()
                            .filter(|n| *n >= 1)
                            .ok_or("per_page must be a positive integer")?;
                        query.per_page = n.min(max_per_page);
                    }
                    _ => query.params.entry(key).or_default().push(value),
                }
            }
        }
        Ok(query)
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .get(name)
            .and_then(|v| v.last())
            .map(String::as_str)
    }
}

/// A scalar as text; strings are borrowed, since filters read every record of a list.
fn text_of(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

/// Equality against any of the values, or a `from...to` range (dates compare as text).
pub fn matches_filter(record: &Value, field: &str, values: &[String]) -> bool {
    let Some(actual) = record.get(field).and_then(text_of) else {
        return false;
    };
    values.iter().any(|wanted| match wanted.split_once("...") {
        Some((from, to)) => {
            let len = from.len().max(to.len()).min(actual.len());
            // `get` rather than indexing: a cut inside a character is no match, not a panic.
            let cut = |s: &str| s.get(..s.len().min(len)).map(str::to_owned);
            match (cut(&actual), cut(from), cut(to)) {
                (Some(actual), Some(from), Some(to)) => actual >= from && actual <= to,
                _ => false,
            }
        }
        None => *actual == **wanted,
    })
}

/// `filters[search]`-style matching: any term, case-insensitively, in any of `fields`.
pub fn matches_search(record: &Value, fields: &[&str], terms: &[String]) -> bool {
    fields.iter().any(|f| {
        record[f].as_str().is_some_and(|v| {
            let v = v.to_lowercase();
            terms.iter().any(|t| v.contains(&t.to_lowercase()))
        })
    })
}

/// A field by dotted path (`vendor.name`), as sorts on nested objects need.
pub fn lookup<'a>(record: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(record, |value, key| value.get(key))
}

/// Sorts by a comma-separated list of fields (dotted paths allowed), `-` meaning descending.
/// Each record's keys are worked out once, not once per comparison: sorting a 10,000-record
/// project would otherwise lowercase strings hundreds of thousands of times.
pub fn sort_records<T: Borrow<Value>>(records: &mut Vec<T>, spec: &str) {
    let keys: Vec<(&str, bool)> = spec
        .split(',')
        .filter(|k| !k.is_empty())
        .map(|k| match k.strip_prefix('-') {
            Some(name) => (name, true),
            None => (k, false),
        })
        .collect();
    let mut keyed: Vec<(Vec<SortKey>, T)> = std::mem::take(records)
        .into_iter()
        .map(|record| {
            let key = keys
                .iter()
                .map(|(path, _)| SortKey::of(lookup(record.borrow(), path)))
                .collect();
            (key, record)
        })
        .collect();
    keyed.sort_by(|(a, _), (b, _)| {
        for ((x, y), (_, descending)) in a.iter().zip(b).zip(&keys) {
            let ordering = x.cmp(y);
            let ordering = if *descending {
                ordering.reverse()
            } else {
                ordering
            };
            if ordering.is_ne() {
                return ordering;
            }
        }
        std::cmp::Ordering::Equal
    });
    records.extend(keyed.into_iter().map(|(_, record)| record));
}

/// What a field sorts by: numbers by value, text case-insensitively, missing and null
/// values after both (so first when the sort is descending).
#[derive(PartialEq, PartialOrd)]
enum SortKey {
    Number(f64),
    Text(String),
    Missing,
}

impl SortKey {
    fn of(value: Option<&Value>) -> SortKey {
        match value {
            Some(Value::Number(n)) => n.as_f64().map_or(SortKey::Missing, SortKey::Number),
            Some(v) => text_of(v).map_or(SortKey::Missing, |t| SortKey::Text(t.to_lowercase())),
            None => SortKey::Missing,
        }
    }

    fn cmp(&self, other: &SortKey) -> std::cmp::Ordering {
        self.partial_cmp(other).unwrap_or(std::cmp::Ordering::Equal)
    }
}

/// One page as a bare JSON array with `Total`, `Per-Page` and `Link` (absolute URLs that
/// keep every other parameter). `prev` appears from page 3, as Procore documents it.
/// Only the records of the page are copied, so long lists stay cheap to serve.
pub fn page_response<T: Borrow<Value>>(
    records: &[T],
    query: &ListQuery,
    base: &str,
    uri: &Uri,
) -> Response {
    let total = records.len();
    let last = total.div_ceil(query.per_page).max(1);
    let start = (query.page - 1).saturating_mul(query.per_page).min(total);
    let end = (start + query.per_page).min(total);
    let page: Vec<Value> = records[start..end]
        .iter()
        .map(|r| r.borrow().clone())
        .collect();

    let link = |n: usize, rel: &str| {
        let mut pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
                .filter(|(k, _)| k != "page")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        pairs.push(("page".into(), n.to_string()));
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        format!("<{base}{}?{query}>; rel=\"{rel}\"", uri.path())
    };
    let mut links = Vec::new();
    if query.page > 1 {
        links.push(link(1, "first"));
    }
    if query.page > 2 {
        links.push(link(query.page - 1, "prev"));
    }
    if query.page < last {
        links.push(link(query.page + 1, "next"));
    }
    if last > 1 {
        links.push(link(last, "last"));
    }
    let mut response = Json(page).into_response();
    let headers = response.headers_mut();
    headers.insert("Total", HeaderValue::from(total));
    headers.insert("Per-Page", HeaderValue::from(query.per_page));
    if !links.is_empty()
        && let Ok(value) = HeaderValue::from_str(&links.join(", "))
    {
        headers.insert(header::LINK, value);
    }
    response
}

/// A JSON object, as request bodies and records are.
pub(crate) type Object = serde_json::Map<String, Value>;

/// Messages per field, as Procore's 422 bodies carry them.
pub(crate) type FieldErrors = BTreeMap<&'static str, Vec<&'static str>>;

/// 422 `{"errors": {"field": ["message", ...]}}`.
pub(crate) fn unprocessable(errors: FieldErrors) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({ "errors": errors })),
    )
        .into_response()
}

/// A 422 for one field.
pub(crate) fn invalid(field: &'static str, message: &'static str) -> Response {
    unprocessable(BTreeMap::from([(field, vec![message])]))
}

/// Missing, null or only whitespace: what a required field may not be.
pub(crate) fn blank(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        _ => false,
    }
}

pub(crate) fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "errors": message }))).into_response()
}

pub const MISSING_COMPANY_HEADER: &str = "Missing Procore-Company-Id header! Each call your application makes to the Procore API must contain a request header that includes the Procore-Company-Id field.";

/// A REST call that passed authentication and the rate limit.
pub(crate) struct Call {
    pub sim: Arc<Simulator>,
    pub user_id: Option<u64>,
    pub base: String,
    rate: crate::ratelimit::Verdict,
}

impl Call {
    /// Checks the token, then counts the call against its rate limits.
    pub fn begin(
        sim: &Arc<Simulator>,
        env: Environment,
        headers: &HeaderMap,
    ) -> Result<Call, Box<Response>> {
        let token =
            crate::oauth::bearer(headers).ok_or_else(|| Box::new(crate::oauth::invalid_token()))?;
        let now = unix_now();
        let user_id = match sim.tokens(env).access(token, now) {
            Some(access) => access.user_id,
            None => return Err(Box::new(crate::oauth::invalid_token())),
        };
        let limits = sim.config().rate_limits;
        let rate = sim.rate_limiter(env).check(token, limits, now);
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        let call = Call {
            sim: sim.clone(),
            user_id,
            base: format!("http://{host}"),
            rate,
        };
        if !rate.allowed {
            let retry_after = (rate.reset - now).max(1);
            let mut response = error(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded");
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            return Err(Box::new(call.finish(response)));
        }
        Ok(call)
    }

    /// The company named by the `Procore-Company-Id` header, if the user may use it.
    pub fn company(
        &self,
        headers: &HeaderMap,
        scope: Option<u64>,
    ) -> Result<crate::data::Company, Box<Response>> {
        let header_id = headers
            .get("procore-company-id")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let Some(id) = header_id else {
            return Err(Box::new(error(
                StatusCode::BAD_REQUEST,
                MISSING_COMPANY_HEADER,
            )));
        };
        let id = scope.unwrap_or(id);
        let data = self.sim.data.read().expect("data lock");
        let company = data
            .company(id)
            .filter(|_| self.user_id.is_some() || id == header_id.unwrap_or_default())
            .cloned()
            .ok_or_else(|| Box::new(error(StatusCode::NOT_FOUND, "Not Found")))?;
        if !company.app_installed {
            return Err(Box::new(error(
                StatusCode::FORBIDDEN,
                "App is not connected to this company",
            )));
        }
        Ok(company)
    }

    /// The project must belong to the company named in `Procore-Company-Id`.
    pub fn project(&self, headers: &HeaderMap, project_id: u64) -> Result<(), Box<Response>> {
        let company = self.company(headers, None)?;
        let data = self.sim.data.read().expect("data lock");
        match data.project(project_id) {
            Some(p) if p["company"]["id"] == company.id => Ok(()),
            _ => Err(Box::new(error(StatusCode::NOT_FOUND, "Not Found"))),
        }
    }

    /// Adds the rate-limit headers every REST response carries.
    pub fn finish(&self, mut response: Response) -> Response {
        let headers = response.headers_mut();
        headers.insert("X-Rate-Limit-Limit", HeaderValue::from(self.rate.limit));
        headers.insert(
            "X-Rate-Limit-Remaining",
            HeaderValue::from(self.rate.remaining),
        );
        headers.insert("X-Rate-Limit-Reset", HeaderValue::from(self.rate.reset));
        response
    }
}

/// Starts a project-scoped call. The project id comes from the path, else `project_id` in
/// the query, else the body (resources differ); it must belong to the header's company.
pub(crate) fn begin_in_project(
    sim: &Arc<Simulator>,
    env: Environment,
    headers: &HeaderMap,
    raw: Option<String>,
    path_project: Option<u64>,
    body_project: Option<u64>,
) -> Result<(Call, ListQuery, u64), Box<Response>> {
    let (call, query) = begin_list(sim, env, headers, raw)?;
    let project = path_project
        .or_else(|| query.param("project_id").and_then(|p| p.parse().ok()))
        .or(body_project);
    let Some(project) = project else {
        return Err(Box::new(
            call.finish(error(StatusCode::BAD_REQUEST, "project_id is missing")),
        ));
    };
    match call.project(headers, project) {
        Ok(()) => Ok((call, query, project)),
        Err(response) => Err(Box::new(call.finish(*response))),
    }
}

/// Authenticates and counts a list request, then parses its query.
pub(crate) fn begin_list(
    sim: &Arc<Simulator>,
    env: Environment,
    headers: &HeaderMap,
    raw: Option<String>,
) -> Result<(Call, ListQuery), Box<Response>> {
    let call = Call::begin(sim, env, headers)?;
    let max = sim.config().max_per_page;
    match ListQuery::parse(raw.as_deref(), max) {
        Ok(query) => Ok((call, query)),
        Err(m) => Err(Box::new(call.finish(error(StatusCode::BAD_REQUEST, &m)))),
    }
}

async fn companies(
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let (call, query) = match begin_list(&sim, env, &headers, raw) {
        Ok(begun) => begun,
        Err(response) => return *response,
    };
    let records: Vec<Value> = sim
        .data
        .read()
        .expect("data lock")
        .companies
        .iter()
        .map(crate::data::Company::to_json)
        .collect();
    call.finish(page_response(&records, &query, &call.base, &uri))
}

async fn projects_v10(
    state: State<Arc<Simulator>>,
    env: Extension<Environment>,
    headers: HeaderMap,
    uri: Uri,
    raw: RawQuery,
) -> Response {
    projects(state, env, headers, uri, raw, ProjectsVersion::V10).await
}

async fn projects_v11(
    state: State<Arc<Simulator>>,
    env: Extension<Environment>,
    headers: HeaderMap,
    uri: Uri,
    raw: RawQuery,
) -> Response {
    projects(state, env, headers, uri, raw, ProjectsVersion::V11).await
}

#[derive(Clone, Copy, PartialEq)]
enum ProjectsVersion {
    V10,
    V11,
}

/// `GET /rest/v1.x/projects?company_id=` (procore-api.md §3.2).
async fn projects(
    State(sim): State<Arc<Simulator>>,
    Extension(env): Extension<Environment>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
    version: ProjectsVersion,
) -> Response {
    let (call, query) = match begin_list(&sim, env, &headers, raw) {
        Ok(begun) => begun,
        Err(response) => return *response,
    };
    let Some(company_id) = query
        .param("company_id")
        .and_then(|c| c.parse::<u64>().ok())
    else {
        return call.finish(error(StatusCode::BAD_REQUEST, "company_id is missing"));
    };
    let company = match call.company(&headers, Some(company_id)) {
        Ok(c) => c,
        Err(response) => return call.finish(*response),
    };
    let mut records: Vec<Value> = sim
        .data
        .read()
        .expect("data lock")
        .projects
        .iter()
        .filter(|p| p["company"]["id"] == company.id)
        .cloned()
        .collect();
    for (field, values) in &query.filters {
        records.retain(|p| match field.as_str() {
            "by_status" => match values.last().map(String::as_str) {
                Some("Inactive") => p["active"] == false,
                Some("All") => true,
                _ => p["active"] == true,
            },
            "name" => values.iter().any(|v| {
                p["name"]
                    .as_str()
                    .is_some_and(|n| n.to_lowercase().contains(&v.to_lowercase()))
            }),
            other => matches_filter(p, other, values),
        });
    }
    if !query.filters.contains_key("by_status") {
        records.retain(|p| p["active"] == true);
    }
    if let Some(sort) = query.param("sort") {
        let allowed = ["name", "display_name"];
        if !sort
            .split(',')
            .all(|k| allowed.contains(&k.trim_start_matches('-')))
        {
            return call.finish(error(
                StatusCode::BAD_REQUEST,
                "sort must be one of: name, display_name",
            ));
        }
        sort_records(&mut records, sort);
    }
    let compact = match version {
        ProjectsVersion::V10 => query.param("serializer_view") == Some("compact"),
        ProjectsVersion::V11 => query.param("view") == Some("compact"),
    };
    if compact {
        let keep: &[&str] = match version {
            ProjectsVersion::V10 => &["id", "name", "display_name"],
            ProjectsVersion::V11 => &["id", "name"],
        };
        for record in &mut records {
            if let Value::Object(map) = record {
                map.retain(|k, _| keep.contains(&k.as_str()));
            }
        }
    }
    call.finish(page_response(&records, &query, &call.base, &uri))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_in_every_spelling() {
        let q = ListQuery::parse(
            Some("filters[id][]=1&filters[id][]=2&filters[status]=open&filters[status]=closed&filters[name]=x&page=2&per_page=5000&sort=-name"),
            1000,
        )
        .unwrap();
        assert_eq!(q.filters["id"], vec!["1", "2"]);
        assert_eq!(q.filters["status"], vec!["open", "closed"]);
        assert_eq!(q.filters["name"], vec!["x"]);
        assert_eq!((q.page, q.per_page), (2, 1000));
        assert_eq!(q.param("sort"), Some("-name"));
        assert!(ListQuery::parse(Some("page=0"), 10).is_err());
        assert!(ListQuery::parse(Some("per_page=abc"), 10).is_err());
    }

    #[test]
    fn date_ranges_and_equality() {
        let record = json!({ "id": 7, "created_at": "2026-03-05T10:00:00Z", "status": "open" });
        assert!(matches_filter(&record, "id", &["7".into()]));
        assert!(matches_filter(
            &record,
            "status",
            &["closed".into(), "open".into()]
        ));
        assert!(matches_filter(
            &record,
            "created_at",
            &["2026-03-01...2026-03-31".into()]
        ));
        assert!(matches_filter(
            &record,
            "created_at",
            &["2026-03-05T09:00:00Z...2026-03-05T11:00:00Z".into()]
        ));
        assert!(!matches_filter(
            &record,
            "created_at",
            &["2026-04-01...2026-04-30".into()]
        ));
        assert!(!matches_filter(&record, "missing", &["x".into()]));
        // A range cut inside a multi-byte character is no match rather than a panic.
        let accented = json!({ "name": "ééé" });
        assert!(!matches_filter(&accented, "name", &["ab...abc".into()]));
    }

    #[test]
    fn sorts_by_several_keys_and_direction() {
        let mut records = vec![
            json!({ "n": "b", "k": 1 }),
            json!({ "n": "a", "k": 2 }),
            json!({ "n": "B", "k": 3 }),
        ];
        sort_records(&mut records, "-n,k");
        let ks: Vec<i64> = records.iter().map(|r| r["k"].as_i64().unwrap()).collect();
        assert_eq!(ks, vec![1, 3, 2]);
    }
}
