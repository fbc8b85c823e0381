//! Procore records as the explorer, the REST API and data rules see them: which object of
//! which data source (and project), how a list is filtered, sorted and paged, and the
//! catalogue's description of each object's fields. Shared by server and browser.
//!
//! Attributes written to Procore are keyed by each field's *write key* (`vendor_id` for
//! `vendor.id`); Procore's field errors come back under the same keys, so a message lands
//! on the field it is about.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Largest page a caller may ask for: Procore's own `per_page` ceiling.
pub const MAX_PER_PAGE: u64 = 100;
pub const DEFAULT_PER_PAGE: u64 = 25;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    #[default]
    Asc,
    Desc,
}

/// How a filter or a condition compares a record's field with a value. Procore itself
/// filters only by equality; the server makes the other comparisons after reading the list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    #[default]
    Eq,
    Ne,
    Contains,
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

    /// How a person reads it: "status equals open".
    pub fn label(self) -> &'static str {
        match self {
            Operator::Eq => "equals",
            Operator::Ne => "does not equal",
            Operator::Contains => "contains",
            Operator::Gt => "is greater than",
            Operator::Ge => "is at least",
            Operator::Lt => "is less than",
            Operator::Le => "is at most",
        }
    }

    /// How it is stored and written in URLs.
    pub fn key(self) -> &'static str {
        match self {
            Operator::Eq => "eq",
            Operator::Ne => "ne",
            Operator::Contains => "contains",
            Operator::Gt => "gt",
            Operator::Ge => "ge",
            Operator::Lt => "lt",
            Operator::Le => "le",
        }
    }

    pub fn from_key(key: &str) -> Option<Operator> {
        Operator::ALL.into_iter().find(|op| op.key() == key)
    }
}

/// A catalogue field, as pickers and generated forms need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectField {
    /// Dotted path in a record, e.g. `vendor.name`.
    pub name: String,
    pub label: String,
    /// The catalogue kind, e.g. "text", "integer", "date", "enum", "reference".
    pub kind: String,
    /// Procore sorts by it server-side (otherwise Trestle sorts after reading every page).
    pub sortable: bool,
    pub filterable: bool,
    /// Where a write puts it (`vendor_id` for `vendor.id`); `None` when it is read-only.
    #[serde(default)]
    pub write_key: Option<String>,
    #[serde(default)]
    pub required_on_create: bool,
    /// The values an `enum` field takes.
    #[serde(default)]
    pub choices: Vec<String>,
    /// The object a `reference` field holds the id of.
    #[serde(default)]
    pub references: Option<String>,
}

/// What Procore lets Trestle do with an object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operations {
    pub list: bool,
    pub get: bool,
    pub create: bool,
    pub update: bool,
    pub delete: bool,
}

/// A Procore object of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectInfo {
    pub key: String,
    pub label: String,
    pub needs_project: bool,
    pub display_field: String,
    pub value_field: String,
    pub fields: Vec<ObjectField>,
    #[serde(default)]
    pub operations: Operations,
}

impl ObjectInfo {
    pub fn field(&self, name: &str) -> Option<&ObjectField> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn writable_fields(&self) -> impl Iterator<Item = &ObjectField> {
        self.fields.iter().filter(|f| f.write_key.is_some())
    }
}

/// Which object of which data source a request is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RecordScope {
    pub data_source: String,
    /// A catalogue object key, e.g. `rfis`.
    pub object: String,
    /// Required for project-scoped objects.
    #[serde(default)]
    pub project: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RecordFilter {
    pub field: String,
    #[serde(default)]
    pub op: Operator,
    pub value: String,
}

/// A page of a list: filtered, searched and sorted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RecordQuery {
    #[serde(default)]
    pub filters: Vec<RecordFilter>,
    #[serde(default)]
    pub search: Option<String>,
    #[serde(default)]
    pub sort: Option<String>,
    #[serde(default)]
    pub direction: Direction,
    /// 1-based.
    #[serde(default = "first_page")]
    pub page: u64,
    #[serde(default = "default_per_page")]
    pub per_page: u64,
}

fn first_page() -> u64 {
    1
}

fn default_per_page() -> u64 {
    DEFAULT_PER_PAGE
}

impl Default for RecordQuery {
    fn default() -> Self {
        RecordQuery {
            filters: Vec::new(),
            search: None,
            sort: None,
            direction: Direction::Asc,
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordPage {
    pub records: Vec<Value>,
    /// Every matching record; more pages follow while `page * per_page < total`.
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

/// Attributes to write, keyed by write key.
pub type Attributes = Map<String, Value>;

/// A record's field as text for a table cell: strings as they are, nested objects by
/// their name, lists joined.
pub fn cell_text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(true)) => "Yes".into(),
        Some(Value::Bool(false)) => "No".into(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| cell_text(Some(v)))
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(", "),
        Some(Value::Object(map)) => ["name", "display_name", "title", "login", "id"]
            .iter()
            .find_map(|k| map.get(*k).filter(|v| !v.is_null()))
            .map(|v| cell_text(Some(v)))
            .unwrap_or_default(),
    }
}

/// A value by dotted path (`vendor.name`); a numeric segment indexes a list.
pub fn lookup<'a>(record: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(record, |value, key| match value {
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => value.get(key),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn cells_read_as_people_say_them() {
        let record = json!({
            "subject": "Door hardware", "private": false, "number": 12,
            "assignee": { "id": 4, "name": "Ann" }, "tags": ["a", "b"], "none": null,
        });
        let cell = |path| cell_text(lookup(&record, path));
        assert_eq!(cell("subject"), "Door hardware");
        assert_eq!(cell("private"), "No");
        assert_eq!(cell("number"), "12");
        assert_eq!(cell("assignee"), "Ann");
        assert_eq!(cell("assignee.id"), "4");
        assert_eq!(cell("tags"), "a, b");
        assert_eq!(cell("tags.1"), "b");
        assert_eq!(cell("none"), "");
        assert_eq!(cell("missing"), "");
    }

    #[test]
    fn a_query_without_paging_asks_for_the_first_page() {
        let query: RecordQuery = serde_json::from_str("{}").unwrap();
        assert_eq!(query, RecordQuery::default());
        assert_eq!((query.page, query.per_page), (1, DEFAULT_PER_PAGE));
    }

    #[test]
    fn operators_have_keys() {
        for op in Operator::ALL {
            assert_eq!(Operator::from_key(op.key()), Some(op));
            assert_eq!(serde_json::to_value(op).unwrap(), op.key());
        }
        assert_eq!(Operator::from_key("like"), None);
    }
}
