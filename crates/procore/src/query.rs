//! The query API over the [catalogue](crate::catalogue): list, get, create, update and
//! delete any catalogued object, checked against the catalogue before a request is made.
//!
//! A list's filters, search and sort go to Procore where its endpoint supports them (the
//! catalogue says which) and are otherwise applied here, after reading every page, with
//! the same rules Procore uses — so a result does not depend on where the work was done.

use std::cmp::Ordering;

use futures::StreamExt;
use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::catalogue::{FieldDef, ObjectDef, Operation, Scoped, SortStyle, is_date, lookup};
use crate::{ApiRequest, Client, Error};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    #[default]
    Asc,
    Desc,
}

/// How a [`Filter`] compares a record's field with its values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    /// Equals any of the values; a value `from...to` is an inclusive range (dates and
    /// timestamps compare at the precision given, as Procore's `...` ranges do). The only
    /// comparison Procore's own filters make, so the only one that can go to Procore.
    #[default]
    Eq,
    /// Equals none of the values; a record without the field is not equal.
    Ne,
    /// The text contains any of the values, case-insensitively.
    Contains,
    /// Ordered as Procore sorts: numbers by value, text case-insensitively, dates at the
    /// precision given.
    Gt,
    Ge,
    Lt,
    Le,
}

impl Operator {
    pub const ALL: [Operator; 7] = [
        Operator::Eq,
        Operator::Ne,
        Operator::Contains,
        Operator::Gt,
        Operator::Ge,
        Operator::Lt,
        Operator::Le,
    ];
}

/// Records whose `field` compares with `values` as `op` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    pub field: String,
    #[serde(default)]
    pub op: Operator,
    pub values: Vec<String>,
}

impl Filter {
    /// Records whose `field` equals any of `values`.
    pub fn eq(field: impl Into<String>, values: Vec<String>) -> Filter {
        Filter {
            field: field.into(),
            op: Operator::Eq,
            values,
        }
    }

    pub fn matches(&self, record: &Value) -> bool {
        let actual = lookup(record, &self.field).and_then(text_of);
        let Some(actual) = actual else {
            // Nothing equals a missing value, so it is unequal to every value.
            return self.op == Operator::Ne;
        };
        let any = |test: &dyn Fn(&str) -> bool| self.values.iter().any(|v| test(v));
        match self.op {
            Operator::Eq => any(&|wanted| equals(&actual, wanted)),
            Operator::Ne => !any(&|wanted| equals(&actual, wanted)),
            Operator::Contains => {
                let actual = actual.to_lowercase();
                any(&|wanted| actual.contains(&wanted.to_lowercase()))
            }
            Operator::Gt => any(&|w| compare(&actual, w) == Ordering::Greater),
            Operator::Ge => any(&|w| compare(&actual, w) != Ordering::Less),
            Operator::Lt => any(&|w| compare(&actual, w) == Ordering::Less),
            Operator::Le => any(&|w| compare(&actual, w) != Ordering::Greater),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListQuery {
    pub filters: Vec<Filter>,
    /// Free text, matched case-insensitively.
    pub search: Option<String>,
    pub sort: Option<(String, Direction)>,
    /// 1-based page of `limit` records; `None` reads the whole list.
    pub page: Option<(u64, u64)>,
    /// Apply filters, search and sort here even where Procore could: to compare the two,
    /// or to work around an endpoint that misbehaves.
    pub evaluate_locally: bool,
}

/// A list's records (one page of them if a page was asked for) and how many match in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Listing {
    pub records: Vec<Value>,
    pub total: u64,
}

/// What goes to Procore and what is left for the client.
struct Plan<'q> {
    params: Vec<(String, String)>,
    local_filters: Vec<&'q Filter>,
    local_search: Option<&'q str>,
    local_sort: Option<(&'q FieldDef, Direction)>,
}

impl Plan<'_> {
    fn all_remote(&self) -> bool {
        self.local_filters.is_empty() && self.local_search.is_none() && self.local_sort.is_none()
    }
}

fn plan<'q>(object: &'q ObjectDef, query: &'q ListQuery) -> Result<Plan<'q>, Error> {
    let mut errors = crate::FieldErrors::new();
    let mut plan = Plan {
        params: Vec::new(),
        local_filters: Vec::new(),
        local_search: None,
        local_sort: None,
    };
    for filter in &query.filters {
        let Some(field) = object.field(&filter.field) else {
            errors
                .entry(filter.field.clone())
                .or_default()
                .push(format!("is not a field of {}", object.singular));
            continue;
        };
        match field.filter_param.as_deref() {
            Some(param) if filter.op == Operator::Eq && !query.evaluate_locally => {
                if let [value] = filter.values.as_slice() {
                    plan.params.push((param.to_string(), value.clone()));
                } else {
                    for value in &filter.values {
                        plan.params.push((format!("{param}[]"), value.clone()));
                    }
                }
            }
            _ => plan.local_filters.push(filter),
        }
    }
    if let Some(term) = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        match object.search.as_deref() {
            Some(param) if !query.evaluate_locally => {
                plan.params.push((param.to_string(), term.to_string()));
            }
            _ => plan.local_search = Some(term),
        }
    }
    if let Some((name, direction)) = &query.sort {
        match object.field(name) {
            None => errors
                .entry("sort".into())
                .or_default()
                .push(format!("{name} is not a field of {}", object.singular)),
            Some(field) => match (object.sort, field.sort_param.as_deref()) {
                (SortStyle::Param, Some(param)) if !query.evaluate_locally => {
                    let sign = if *direction == Direction::Desc {
                        "-"
                    } else {
                        ""
                    };
                    plan.params.push(("sort".into(), format!("{sign}{param}")));
                }
                (SortStyle::AttributeDirection, Some(param)) if !query.evaluate_locally => {
                    plan.params
                        .push(("sort[attribute]".into(), param.to_string()));
                    let direction = if *direction == Direction::Desc {
                        "desc"
                    } else {
                        "asc"
                    };
                    plan.params
                        .push(("sort[direction]".into(), direction.into()));
                }
                _ => plan.local_sort = Some((field, *direction)),
            },
        }
    }
    if let Some((page, limit)) = query.page
        && (page == 0 || limit == 0)
    {
        errors
            .entry("page".into())
            .or_default()
            .push("page and limit start at 1".into());
    }
    if errors.is_empty() {
        Ok(plan)
    } else {
        Err(Error::Validation { errors })
    }
}

impl Client {
    pub async fn list_objects(
        &self,
        object: &ObjectDef,
        scope: &Scoped,
        query: &ListQuery,
    ) -> Result<Listing, Error> {
        let plan = plan(object, query)?;
        let (path, mut params) = object.operation(Operation::List)?.render(scope)?;
        params.extend(plan.params.iter().cloned());
        let request = ApiRequest {
            method: Method::GET,
            path,
            query: params,
            body: None,
        };
        if !object.paged {
            let records = match self.json(&request).await? {
                Value::Array(records) => records,
                single => vec![single],
            };
            return Ok(finish(records, &plan, query));
        }
        // Everything done by Procore: ask for just the page wanted.
        if let (true, Some((page, limit))) = (plan.all_remote(), query.page) {
            let mut request = request;
            request.query.push(("page".into(), page.to_string()));
            request.query.push(("per_page".into(), limit.to_string()));
            let response = self.send(&request).await?;
            let total = response.header_number("total");
            let Value::Array(records) = response.json()? else {
                return Err(Error::Protocol(
                    "a list answered with something other than an array".into(),
                ));
            };
            // Pages and limits come from callers: no arithmetic here may overflow.
            let total = total.unwrap_or_else(|| {
                (page - 1)
                    .saturating_mul(limit)
                    .saturating_add(records.len() as u64)
            });
            return Ok(Listing { records, total });
        }
        let mut records = Vec::new();
        let mut pages = self.pages(request);
        while let Some(page) = pages.next().await {
            records.extend(page?.records);
        }
        Ok(finish(records, &plan, query))
    }

    pub async fn get_object(
        &self,
        object: &ObjectDef,
        scope: &Scoped,
        id: u64,
    ) -> Result<Value, Error> {
        let scope = Scoped {
            id: Some(id),
            ..*scope
        };
        let (path, query) = object.operation(Operation::Get)?.render(&scope)?;
        self.json(&ApiRequest {
            method: Method::GET,
            path,
            query,
            body: None,
        })
        .await
    }

    /// Creates a record from attributes keyed as the catalogue's write keys.
    pub async fn create_object(
        &self,
        object: &ObjectDef,
        scope: &Scoped,
        attributes: Map<String, Value>,
    ) -> Result<Value, Error> {
        self.write(object, Operation::Create, scope, attributes)
            .await
    }

    pub async fn update_object(
        &self,
        object: &ObjectDef,
        scope: &Scoped,
        id: u64,
        attributes: Map<String, Value>,
    ) -> Result<Value, Error> {
        let scope = Scoped {
            id: Some(id),
            ..*scope
        };
        self.write(object, Operation::Update, &scope, attributes)
            .await
    }

    pub async fn delete_object(
        &self,
        object: &ObjectDef,
        scope: &Scoped,
        id: u64,
    ) -> Result<(), Error> {
        let scope = Scoped {
            id: Some(id),
            ..*scope
        };
        let (path, query) = object.operation(Operation::Delete)?.render(&scope)?;
        self.send(&ApiRequest {
            method: Method::DELETE,
            path,
            query,
            body: None,
        })
        .await
        .map(|_| ())
    }

    async fn write(
        &self,
        object: &ObjectDef,
        operation: Operation,
        scope: &Scoped,
        attributes: Map<String, Value>,
    ) -> Result<Value, Error> {
        let endpoint = object.operation(operation)?;
        object
            .validate(operation, &attributes)
            .map_err(|errors| Error::Validation { errors })?;
        let (path, query) = endpoint.render(scope)?;
        let mut body = Map::new();
        match &object.wrapper {
            Some(wrapper) => {
                body.insert(wrapper.clone(), Value::Object(attributes));
            }
            None => body = attributes,
        }
        if let Some(param) = object.body_scope
            && let Some(id) = param.value(scope)
        {
            body.insert(param.key().into(), id.into());
        }
        let method = Method::from_bytes(endpoint.method.as_bytes()).map_err(|_| {
            Error::Protocol(format!(
                "the catalogue names an unknown method {}",
                endpoint.method
            ))
        })?;
        self.json(&ApiRequest {
            method,
            path,
            query,
            body: Some(Value::Object(body)),
        })
        .await
    }
}

/// Applies what Procore did not, then cuts the page.
fn finish(mut records: Vec<Value>, plan: &Plan<'_>, query: &ListQuery) -> Listing {
    for filter in &plan.local_filters {
        records.retain(|r| filter.matches(r));
    }
    if let Some(term) = plan.local_search {
        let term = term.to_lowercase();
        records.retain(|r| mentions(r, &term));
    }
    if let Some((field, direction)) = plan.local_sort {
        sort_records(&mut records, field, direction);
    }
    let total = records.len() as u64;
    if let Some((page, limit)) = query.page {
        let start = ((page - 1).saturating_mul(limit)).min(total) as usize;
        let end = (start as u64).saturating_add(limit).min(total) as usize;
        records = records.drain(start..end).collect();
    }
    Listing { records, total }
}

/// A scalar as Procore compares it in filters: strings as they are, numbers and booleans
/// as their JSON text.
fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn equals(actual: &str, wanted: &str) -> bool {
    match wanted.split_once("...") {
        Some((from, to)) => {
            compare(actual, from) != Ordering::Less && compare(actual, to) != Ordering::Greater
        }
        None => actual == wanted,
    }
}

/// `actual` cut to the length of `bound`, so "2026-01-31T10:00:00Z" is within
/// "2026-01-01...2026-01-31": a bound is as precise as it is written.
fn at_precision<'a>(actual: &'a str, bound: &str) -> &'a str {
    if !bound.get(..10).is_some_and(is_date) {
        return actual;
    }
    let end = actual
        .char_indices()
        .nth(bound.chars().count())
        .map_or(actual.len(), |(i, _)| i);
    &actual[..end]
}

/// Numbers by value when both sides are numbers, otherwise text case-insensitively (dates
/// at the precision of `wanted`).
fn compare(actual: &str, wanted: &str) -> Ordering {
    if let (Ok(a), Ok(w)) = (actual.trim().parse::<f64>(), wanted.trim().parse::<f64>()) {
        return a.total_cmp(&w);
    }
    at_precision(actual, wanted)
        .to_lowercase()
        .cmp(&wanted.to_lowercase())
}

/// Free-text search: any string value of the record (nested too) contains the term.
fn mentions(value: &Value, term: &str) -> bool {
    match value {
        Value::String(s) => s.to_lowercase().contains(term),
        Value::Array(items) => items.iter().any(|v| mentions(v, term)),
        Value::Object(map) => map.values().any(|v| mentions(v, term)),
        _ => false,
    }
}

/// Procore's order: numbers by value, text case-insensitively (or by value, for text
/// Procore orders numerically), missing values last when ascending (and so first when
/// descending); ties keep Procore's order.
pub fn sort_records(records: &mut [Value], field: &FieldDef, direction: Direction) {
    let key = |record: &Value| SortKey::of(field.read(record), field.sorts_numerically);
    records.sort_by_cached_key(key);
    if direction == Direction::Desc {
        // Reversing also reverses runs of equal keys; put those back in Procore's order.
        records.reverse();
        let mut start = 0;
        while start < records.len() {
            let run = key(&records[start]);
            let mut end = start + 1;
            while end < records.len() && key(&records[end]) == run {
                end += 1;
            }
            records[start..end].reverse();
            start = end;
        }
    }
}

/// Numbers before text before missing values. JSON numbers are never NaN, so the
/// order is total.
#[derive(PartialEq)]
enum SortKey {
    Number(f64),
    Text(String),
    Missing,
}

impl Eq for SortKey {}

impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SortKey {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (SortKey::Number(a), SortKey::Number(b)) => a.total_cmp(b),
            (SortKey::Text(a), SortKey::Text(b)) => a.cmp(b),
            (a, b) => a.rank().cmp(&b.rank()),
        }
    }
}

impl SortKey {
    fn rank(&self) -> u8 {
        match self {
            SortKey::Number(_) => 0,
            SortKey::Text(_) => 1,
            SortKey::Missing => 2,
        }
    }

    fn of(value: Option<&Value>, numeric_text: bool) -> SortKey {
        match value {
            Some(Value::Number(n)) => n.as_f64().map_or(SortKey::Missing, SortKey::Number),
            Some(Value::String(s)) if numeric_text && s.trim().parse::<f64>().is_ok() => {
                s.trim().parse().map_or(SortKey::Missing, SortKey::Number)
            }
            Some(v) => text_of(v).map_or(SortKey::Missing, |t| SortKey::Text(t.to_lowercase())),
            None => SortKey::Missing,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn filter(field: &str, op: Operator, values: &[&str]) -> Filter {
        Filter {
            field: field.into(),
            op,
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    fn rfi() -> Value {
        json!({
            "id": 150,
            "number": "12",
            "subject": "Lobby Stone finish",
            "due_date": "2026-03-05",
            "updated_at": "2026-03-05T10:00:00Z",
            "assignee": { "name": "Ann" },
            "private": false,
        })
    }

    #[test]
    fn equality_ranges_and_their_precision() {
        let r = rfi();
        assert!(Filter::eq("id", vec!["7".into(), "150".into()]).matches(&r));
        assert!(Filter::eq("assignee.name", vec!["Ann".into()]).matches(&r));
        assert!(Filter::eq("private", vec!["false".into()]).matches(&r));
        assert!(Filter::eq("updated_at", vec!["2026-03-01...2026-03-05".into()]).matches(&r));
        assert!(!Filter::eq("updated_at", vec!["2026-03-06...2026-03-31".into()]).matches(&r));
        // Numbers in a range compare by value, not as text ("1500" is not within 100...200).
        assert!(Filter::eq("id", vec!["100...200".into()]).matches(&r));
        assert!(!Filter::eq("id", vec!["1000...2000".into()]).matches(&r));
        assert!(!Filter::eq("missing", vec!["x".into()]).matches(&r));
    }

    #[test]
    fn every_operator_on_numbers_text_and_dates() {
        let r = rfi();
        let holds = |field, op, values: &[&str]| filter(field, op, values).matches(&r);
        assert!(holds("id", Operator::Ne, &["7"]));
        assert!(!holds("id", Operator::Ne, &["7", "150"]));
        assert!(
            holds("missing", Operator::Ne, &["7"]),
            "nothing equals a missing value"
        );
        assert!(holds("subject", Operator::Contains, &["stone"]));
        assert!(!holds("subject", Operator::Contains, &["granite"]));
        // "12" is a number on both sides: 12 > 9, although "12" < "9" as text.
        assert!(holds("number", Operator::Gt, &["9"]));
        assert!(holds("id", Operator::Ge, &["150"]));
        assert!(!holds("id", Operator::Gt, &["150"]));
        assert!(holds("id", Operator::Lt, &["151"]));
        assert!(holds("id", Operator::Le, &["150"]));
        // Text case-insensitively, dates at the precision written.
        assert!(holds("subject", Operator::Gt, &["lobby"]));
        assert!(holds("updated_at", Operator::Le, &["2026-03-05"]));
        assert!(holds("updated_at", Operator::Ge, &["2026-03-05"]));
        assert!(!holds("updated_at", Operator::Lt, &["2026-03-05"]));
        assert!(holds("due_date", Operator::Lt, &["2026-04-01"]));
        for op in Operator::ALL.into_iter().filter(|op| *op != Operator::Ne) {
            assert!(!holds("missing", op, &["1"]), "{op:?} on a missing value");
        }
    }

    #[test]
    fn only_equality_goes_to_procore() {
        let object = crate::catalogue::catalogue().get("rfis").unwrap();
        let query = ListQuery {
            filters: vec![
                filter("status", Operator::Eq, &["open"]),
                filter("status", Operator::Ne, &["draft"]),
            ],
            ..ListQuery::default()
        };
        let plan = plan(object, &query).unwrap();
        assert_eq!(
            plan.params,
            vec![("filters[status]".to_string(), "open".to_string())]
        );
        assert_eq!(plan.local_filters.len(), 1);
        assert_eq!(plan.local_filters[0].op, Operator::Ne);
    }

    #[test]
    fn operators_read_and_write_as_snake_case() {
        let f: Filter = serde_json::from_value(json!({ "field": "id", "values": ["1"] })).unwrap();
        assert_eq!(f.op, Operator::Eq, "equality when no operator is given");
        let f: Filter =
            serde_json::from_value(json!({ "field": "id", "op": "ge", "values": ["1"] })).unwrap();
        assert_eq!(f.op, Operator::Ge);
    }
}
