//! The object catalogue: every Procore object Trestle reads or writes, described as data.
//!
//! The facts (paths, versions, scope parameters, body wrappers, success statuses, fields,
//! sorts and filters) live in `catalogue.json`, taken from `procore-api.md` §2.3–§3 and
//! kept in step with the simulator. This module only parses that file once and answers
//! questions about it: which endpoint serves an operation ([`ObjectDef::operation`],
//! [`Endpoint::render`]), which fields a form designer may offer as Display, Value or
//! Sort by, which filters Procore applies server-side, and whether a record's attributes
//! would pass before any request is made ([`ObjectDef::validate`]).
//!
//! Conventions of the data:
//! - A field's `name` is the dotted path to read it from a record (`vendor.name`,
//!   `questions.0.body`; a number indexes an array), see [`lookup`].
//! - A writable field is written under its *write key*: `write_name`, else `name`. A dotted
//!   write key nests inside the wrapper (`question.body` is `{"question": {"body": …}}`);
//!   [`FieldDef::set`] builds that. Read-only fields never have a `write_name`: a nested
//!   object whose id is written elsewhere has two fields, e.g. `vendor.id` (written as
//!   `vendor_id`) and the read-only `vendor.name`.
//! - `sort_param` is the value the list endpoint's sort accepts for the field and
//!   `filter_param` the full `filters[…]` key. Server-side filters narrow the list; their
//!   matching may be looser than equality (e.g. `filters[name]` on projects matches part of
//!   the name), so a query should still check its conditions on what comes back.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Messages per field, the shape of Procore's 422 `errors`.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// The catalogue shipped with this crate, parsed on first use.
pub fn catalogue() -> &'static Catalogue {
    static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(|| {
        Catalogue::from_json(include_str!("catalogue.json"))
            .unwrap_or_else(|error| panic!("catalogue.json: {error}"))
    });
    &CATALOGUE
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    objects: Vec<ObjectDef>,
}

impl Catalogue {
    /// Parses a catalogue and checks that it is consistent (see [`Catalogue::problems`]).
    pub fn from_json(json: &str) -> Result<Catalogue, CatalogueError> {
        let catalogue: Catalogue =
            serde_json::from_str(json).map_err(|e| CatalogueError::Invalid(e.to_string()))?;
        let problems = catalogue.problems();
        if problems.is_empty() {
            Ok(catalogue)
        } else {
            Err(CatalogueError::Invalid(problems.join("; ")))
        }
    }

    pub fn objects(&self) -> &[ObjectDef] {
        &self.objects
    }

    pub fn get(&self, key: &str) -> Option<&ObjectDef> {
        self.objects.iter().find(|o| o.key == key)
    }

    /// Everything that makes the catalogue inconsistent; empty when it is sound.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (i, object) in self.objects.iter().enumerate() {
            if object.key.is_empty() {
                problems.push(format!("object #{i} has no key"));
            }
            if self.objects[..i].iter().any(|o| o.key == object.key) {
                problems.push(format!("{}: the key is used twice", object.key));
            }
            object.problems(self, &mut problems);
        }
        problems
    }
}

/// Where an object lives: nowhere in particular (companies), in a company or in a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    None,
    Company,
    Project,
}

/// A scope id sent at the top level of a create/update body, beside the wrapper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeParam {
    CompanyId,
    ProjectId,
}

impl ScopeParam {
    /// The body key: `company_id` or `project_id`.
    pub fn key(self) -> &'static str {
        match self {
            ScopeParam::CompanyId => "company_id",
            ScopeParam::ProjectId => "project_id",
        }
    }

    /// The id from `ctx` that goes under [`ScopeParam::key`].
    pub fn value(self, ctx: &Scoped) -> Option<u64> {
        match self {
            ScopeParam::CompanyId => Some(ctx.company_id),
            ScopeParam::ProjectId => ctx.project_id,
        }
    }
}

/// How a list endpoint sorts server-side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortStyle {
    /// No server-side sort: sort after fetching every page.
    None,
    /// `sort=field`, `sort=-field` for descending.
    Param,
    /// RFIs: `sort[attribute]=field&sort[direction]=asc|desc`.
    AttributeDirection,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    List,
    Get,
    Create,
    Update,
    Delete,
}

impl Operation {
    pub const ALL: [Operation; 5] = [
        Operation::List,
        Operation::Get,
        Operation::Create,
        Operation::Update,
        Operation::Delete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Operation::List => "list",
            Operation::Get => "get",
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }

    /// Whether the operation names one record (`{id}`).
    pub fn needs_id(self) -> bool {
        matches!(self, Operation::Get | Operation::Update | Operation::Delete)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("Procore has no {operation} for {object}")]
    Unsupported {
        object: String,
        operation: Operation,
    },
    #[error("{path} needs a project id")]
    MissingProjectId { path: String },
    #[error("{path} needs the id of a record")]
    MissingId { path: String },
    #[error("{path} has an unknown placeholder {{{name}}}")]
    UnknownPlaceholder { path: String, name: String },
    #[error("the object catalogue is invalid: {0}")]
    Invalid(String),
}

/// The ids an endpoint's placeholders are filled from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Scoped {
    pub company_id: u64,
    pub project_id: Option<u64>,
    pub id: Option<u64>,
}

/// One HTTP call of an object. `path` and the values of `query` may hold `{company_id}`,
/// `{project_id}` and `{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub query: Vec<(String, String)>,
    /// The status Procore answers on success (201 for creates, 200 or 204 for deletes).
    pub status: u16,
}

impl Endpoint {
    /// The path and query with the placeholders filled in (values not yet URL-encoded).
    pub fn render(&self, ctx: &Scoped) -> Result<(String, Vec<(String, String)>), CatalogueError> {
        let path = fill(&self.path, ctx, &self.path)?;
        let query = self
            .query
            .iter()
            .map(|(key, value)| Ok((key.clone(), fill(value, ctx, &self.path)?)))
            .collect::<Result<Vec<_>, CatalogueError>>()?;
        Ok((path, query))
    }

    /// The placeholder names used in the path and the query values, in order.
    pub fn placeholders(&self) -> Vec<&str> {
        let mut names = placeholders(&self.path);
        for (_, value) in &self.query {
            names.extend(placeholders(value));
        }
        names
    }
}

/// `{name}`s of a template; an unclosed brace yields what follows it.
fn placeholders(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                names.push(&after[..end]);
                rest = &after[end + 1..];
            }
            None => {
                names.push(after);
                break;
            }
        }
    }
    names
}

fn fill(template: &str, ctx: &Scoped, path: &str) -> Result<String, CatalogueError> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            return Err(CatalogueError::UnknownPlaceholder {
                path: path.into(),
                name: after.into(),
            });
        };
        let (name, next) = (&after[..end], &after[end + 1..]);
        let value = match name {
            "company_id" => ctx.company_id,
            "project_id" => ctx
                .project_id
                .ok_or_else(|| CatalogueError::MissingProjectId { path: path.into() })?,
            "id" => ctx
                .id
                .ok_or_else(|| CatalogueError::MissingId { path: path.into() })?,
            other => {
                return Err(CatalogueError::UnknownPlaceholder {
                    path: path.into(),
                    name: other.into(),
                });
            }
        };
        out.push_str(&value.to_string());
        rest = next;
    }
    out.push_str(rest);
    Ok(out)
}

/// The endpoints of an object; `None` where Procore has no such call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operations {
    #[serde(default)]
    pub list: Option<Endpoint>,
    #[serde(default)]
    pub get: Option<Endpoint>,
    #[serde(default)]
    pub create: Option<Endpoint>,
    #[serde(default)]
    pub update: Option<Endpoint>,
    #[serde(default)]
    pub delete: Option<Endpoint>,
}

impl Operations {
    pub fn endpoint(&self, operation: Operation) -> Option<&Endpoint> {
        match operation {
            Operation::List => self.list.as_ref(),
            Operation::Get => self.get.as_ref(),
            Operation::Create => self.create.as_ref(),
            Operation::Update => self.update.as_ref(),
            Operation::Delete => self.delete.as_ref(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Integer,
    Decimal,
    Text,
    LongText,
    Boolean,
    /// `YYYY-MM-DD`.
    Date,
    /// RFC 3339.
    DateTime,
    Enum {
        values: Vec<String>,
    },
    /// The id of a record of another catalogue object.
    Reference {
        object: String,
    },
    Object,
    List,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    /// Dotted path in a record, e.g. `vendor.name`.
    pub name: String,
    pub label: String,
    pub kind: FieldKind,
    #[serde(default)]
    pub required_on_create: bool,
    #[serde(default)]
    pub read_only: bool,
    /// The key writes use when it is not `name`, e.g. `vendor_id` for `vendor.id`.
    #[serde(default)]
    pub write_name: Option<String>,
    /// What the list endpoint's sort accepts to sort by this field.
    #[serde(default)]
    pub sort_param: Option<String>,
    /// The `filters[…]` key that filters the list by this field server-side.
    #[serde(default)]
    pub filter_param: Option<String>,
    /// Text that Procore orders by its numeric value (RFI numbers: "2" before "10").
    #[serde(default)]
    pub sorts_numerically: bool,
}

impl FieldDef {
    /// The key this field is written under (dotted: nested in the body); `None` if read-only.
    pub fn write_key(&self) -> Option<&str> {
        if self.read_only {
            None
        } else {
            Some(self.write_name.as_deref().unwrap_or(&self.name))
        }
    }

    /// The field's value in a record.
    pub fn read<'a>(&self, record: &'a Value) -> Option<&'a Value> {
        lookup(record, &self.name)
    }

    /// Puts `value` into a wrapper's attributes under the write key, nesting objects for a
    /// dotted key. Returns `false` (and changes nothing) for a read-only field.
    pub fn set(&self, attributes: &mut Map<String, Value>, value: Value) -> bool {
        let Some(key) = self.write_key() else {
            return false;
        };
        let mut parts = key.split('.').peekable();
        let mut map = attributes;
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                map.insert(part.to_string(), value);
                return true;
            }
            let slot = map
                .entry(part.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            let Value::Object(inner) = slot else {
                return false;
            };
            map = inner;
        }
        false
    }
}

/// A value by dotted path; a segment that is a number indexes an array (`questions.0.body`).
pub fn lookup<'a>(record: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(record, |value, key| match value {
        Value::Object(map) => map.get(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectDef {
    pub key: String,
    pub label: String,
    pub singular: String,
    pub scope: Scope,
    pub wrapper: Option<String>,
    pub body_scope: Option<ScopeParam>,
    pub operations: Operations,
    pub fields: Vec<FieldDef>,
    pub display_field: String,
    pub value_field: String,
    pub sort: SortStyle,
    pub search: Option<String>,
    /// `false` when the list endpoint answers in one response (the folder tree's root).
    pub paged: bool,
}

const BLANK: &str = "can't be blank";
const READ_ONLY: &str = "is read-only";

impl ObjectDef {
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The writable field written under `key` (a write key, possibly dotted).
    pub fn write_field(&self, key: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.write_key() == Some(key))
    }

    pub fn supports(&self, operation: Operation) -> bool {
        self.operations.endpoint(operation).is_some()
    }

    /// The endpoint of an operation, or the error to show when Procore has none.
    pub fn operation(&self, operation: Operation) -> Result<&Endpoint, CatalogueError> {
        self.operations
            .endpoint(operation)
            .ok_or_else(|| CatalogueError::Unsupported {
                object: self.label.clone(),
                operation,
            })
    }

    /// Fields Procore can sort by server-side.
    pub fn sortable_fields(&self) -> impl Iterator<Item = &FieldDef> {
        self.fields.iter().filter(|f| f.sort_param.is_some())
    }

    /// Fields Procore can filter by server-side.
    pub fn filterable_fields(&self) -> impl Iterator<Item = &FieldDef> {
        self.fields.iter().filter(|f| f.filter_param.is_some())
    }

    /// Fields a create or update may set.
    pub fn writable_fields(&self) -> impl Iterator<Item = &FieldDef> {
        self.fields.iter().filter(|f| !f.read_only)
    }

    fn has_custom_fields(&self) -> bool {
        self.field("custom_fields").is_some()
    }

    /// Checks the attributes of a create or update (the keys inside the wrapper) before
    /// any request: required fields, unknown and read-only keys, and each value's type.
    /// Errors are keyed by the attribute (write key; dotted when nested), as in a 422.
    /// `custom_field_<id>` keys pass unchecked on objects that have custom fields.
    pub fn validate(
        &self,
        operation: Operation,
        attributes: &Map<String, Value>,
    ) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if let Err(error) = self.operation(operation) {
            push(&mut errors, "base", error.to_string());
            return Err(errors);
        }
        if !matches!(operation, Operation::Create | Operation::Update) {
            if attributes.is_empty() {
                return Ok(());
            }
            push(
                &mut errors,
                "base",
                format!("a {operation} takes no attributes"),
            );
            return Err(errors);
        }
        self.check_attributes(attributes, "", &mut errors);
        for field in self.fields.iter().filter(|f| f.required_on_create) {
            let Some(key) = field.write_key() else {
                continue;
            };
            let value = lookup_object(attributes, key);
            let missing = match operation {
                Operation::Create => blank(value),
                _ => value.is_some() && blank(value),
            };
            if missing {
                push(&mut errors, key, BLANK.to_string());
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Checks one level of attributes; `prefix` is the dotted path of the enclosing object.
    fn check_attributes(&self, map: &Map<String, Value>, prefix: &str, errors: &mut FieldErrors) {
        for (key, value) in map {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            if let Some(field) = self.write_field(&path) {
                if let Some((outer, _)) = key.split_once('.') {
                    // A literal dotted key: Procore wants the nested object.
                    push(errors, &path, format!("must be nested under {outer}"));
                } else if let Some(message) = kind_error(&field.kind, value) {
                    push(errors, &path, message);
                }
                continue;
            }
            let nested = format!("{path}.");
            let parent_of_writable = self
                .writable_fields()
                .any(|f| f.write_key().is_some_and(|k| k.starts_with(&nested)));
            if parent_of_writable {
                match value {
                    Value::Object(inner) => self.check_attributes(inner, &path, errors),
                    Value::Null => {}
                    _ => push(errors, &path, "must be an object".to_string()),
                }
                continue;
            }
            if prefix.is_empty() && self.has_custom_fields() && is_custom_field_key(key) {
                continue;
            }
            push(errors, &path, self.misplaced_key_message(&path));
        }
    }

    /// Why `path` may not be written: a field read under that name is read-only or written
    /// under another key, or there is no such field.
    fn misplaced_key_message(&self, path: &str) -> String {
        let nested = format!("{path}.");
        let exact = self.fields.iter().filter(|f| f.name == path);
        let below = self.fields.iter().filter(|f| f.name.starts_with(&nested));
        for candidates in [exact.collect::<Vec<_>>(), below.collect::<Vec<_>>()] {
            if let Some(key) = candidates.iter().find_map(|f| f.write_key()) {
                return format!("is written as {key}");
            }
            if !candidates.is_empty() {
                return READ_ONLY.to_string();
            }
        }
        format!("is not a field of {}", self.singular)
    }

    fn problems(&self, catalogue: &Catalogue, problems: &mut Vec<String>) {
        let key = &self.key;
        let mut problem = |message: String| problems.push(format!("{key}: {message}"));
        let has_list = self.operations.list.is_some();
        let writes = self.operations.create.is_some() || self.operations.update.is_some();

        for (i, field) in self.fields.iter().enumerate() {
            let name = &field.name;
            if name.is_empty() || name.split('.').any(str::is_empty) {
                problem(format!("field #{i} has a malformed name {name:?}"));
            }
            if self.fields[..i].iter().any(|f| f.name == *name) {
                problem(format!("field {name} is listed twice"));
            }
            if let Some(write_key) = field.write_key()
                && self.fields[..i]
                    .iter()
                    .any(|f| f.write_key() == Some(write_key))
            {
                problem(format!("two fields are written as {write_key}"));
            }
            if field.read_only && field.write_name.is_some() {
                problem(format!("{name} is read-only but has a write_name"));
            }
            if field
                .write_name
                .as_deref()
                .is_some_and(|w| w.is_empty() || w.split('.').any(str::is_empty))
            {
                problem(format!("{name} has a malformed write_name"));
            }
            if field.required_on_create && (field.read_only || self.operations.create.is_none()) {
                problem(format!(
                    "{name} is required on create but cannot be created"
                ));
            }
            if !field.read_only && !writes {
                problem(format!(
                    "{name} is writable but {key} has no create or update"
                ));
            }
            if field.sort_param.is_some() && (self.sort == SortStyle::None || !has_list) {
                problem(format!("{name} has a sort_param but the list cannot sort"));
            }
            if let Some(filter) = &field.filter_param
                && (!has_list || !filter.starts_with("filters[") || !filter.ends_with(']'))
            {
                problem(format!(
                    "{name} has filter_param {filter} without a list filter"
                ));
            }
            match &field.kind {
                FieldKind::Enum { values } if values.is_empty() => {
                    problem(format!("{name} is an enum without values"));
                }
                FieldKind::Reference { object } if catalogue.get(object).is_none() => {
                    problem(format!("{name} refers to unknown object {object}"));
                }
                _ => {}
            }
        }
        // A written dotted key needs objects all the way down: no field may be written
        // both as `a` and as `a.b`.
        for field in self.writable_fields() {
            let Some(write_key) = field.write_key() else {
                continue;
            };
            let nested = format!("{write_key}.");
            if self
                .writable_fields()
                .any(|f| f.write_key().is_some_and(|k| k.starts_with(&nested)))
            {
                problem(format!(
                    "{write_key} is written both as a value and as an object"
                ));
            }
        }

        for (role, name) in [
            ("display", &self.display_field),
            ("value", &self.value_field),
        ] {
            if self.field(name).is_none() {
                problem(format!("{role} field {name} is not a field"));
            }
        }
        if self.sort != SortStyle::None && self.sortable_fields().next().is_none() {
            problem("sorts server-side but no field has a sort_param".into());
        }
        if (self.search.is_some() || !self.paged) && !has_list {
            problem("has list options but no list".into());
        }
        if writes != self.wrapper.is_some() {
            problem("must have a wrapper exactly when it has a create or update".into());
        }
        match (self.body_scope, self.scope) {
            (None, _) | (Some(ScopeParam::CompanyId), Scope::Company) => {}
            (Some(ScopeParam::ProjectId), Scope::Project) => {}
            (Some(param), scope) => problem(format!("{param:?} in the body of a {scope:?} object")),
        }
        if self.body_scope.is_some() && !writes {
            problem("has a body scope but no create or update".into());
        }

        for operation in Operation::ALL {
            let Some(endpoint) = self.operations.endpoint(operation) else {
                continue;
            };
            let mut problem = |message: String| {
                problems.push(format!("{key} {operation}: {message}"));
            };
            let (method, statuses): (&str, &[u16]) = match operation {
                Operation::List | Operation::Get => ("GET", &[200]),
                Operation::Create => ("POST", &[201]),
                Operation::Update => ("PATCH", &[200]),
                Operation::Delete => ("DELETE", &[200, 204]),
            };
            if endpoint.method != method {
                problem(format!("method {} is not {method}", endpoint.method));
            }
            if !statuses.contains(&endpoint.status) {
                problem(format!(
                    "status {} is not one of {statuses:?}",
                    endpoint.status
                ));
            }
            if !endpoint.path.starts_with("/rest/v") {
                problem(format!("path {} is not under /rest/v…", endpoint.path));
            }
            let names = endpoint.placeholders();
            for name in &names {
                if !["company_id", "project_id", "id"].contains(name) {
                    problem(format!("unknown placeholder {{{name}}}"));
                }
            }
            if names.contains(&"id") != operation.needs_id() {
                problem("{id} must appear exactly in get, update and delete".into());
            }
            let in_body = matches!(operation, Operation::Create | Operation::Update)
                .then_some(self.body_scope)
                .flatten();
            let (wanted, forbidden): (Option<&str>, &[&str]) = match self.scope {
                Scope::None => (None, &["company_id", "project_id"]),
                Scope::Company => (Some("company_id"), &["project_id"]),
                Scope::Project => (Some("project_id"), &["company_id"]),
            };
            for name in forbidden {
                if names.contains(name) {
                    problem(format!(
                        "{{{name}}} does not belong to a {:?} object",
                        self.scope
                    ));
                }
            }
            if let Some(wanted) = wanted
                && !names.contains(&wanted)
                && in_body.map(ScopeParam::key) != Some(wanted)
            {
                problem(format!(
                    "{{{wanted}}} is neither in the path, the query nor the body"
                ));
            }
        }
    }
}

fn push(errors: &mut FieldErrors, key: &str, message: String) {
    let messages = errors.entry(key.to_string()).or_default();
    if !messages.contains(&message) {
        messages.push(message);
    }
}

/// A value by dotted key inside attributes.
fn lookup_object<'a>(attributes: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    let mut parts = key.split('.');
    let first = attributes.get(parts.next()?)?;
    parts.try_fold(first, |value, part| value.as_object()?.get(part))
}

/// Missing, null, only whitespace, or an empty list or object.
fn blank(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(Value::Array(items)) => items.is_empty(),
        Some(Value::Object(map)) => map.is_empty(),
        Some(_) => false,
    }
}

fn is_custom_field_key(key: &str) -> bool {
    key.strip_prefix("custom_field_")
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

/// What is wrong with a value for a field of `kind`. Null and blank text clear a field and
/// pass here; whether the field may be blank is the required check's business.
fn kind_error(kind: &FieldKind, value: &Value) -> Option<String> {
    if let Value::String(s) = value
        && s.trim().is_empty()
    {
        return None;
    }
    if value.is_null() {
        return None;
    }
    let ok = match kind {
        FieldKind::Integer => integer(value).is_some(),
        FieldKind::Decimal => match value {
            Value::Number(_) => true,
            Value::String(s) => s.trim().parse::<f64>().is_ok_and(f64::is_finite),
            _ => false,
        },
        FieldKind::Text | FieldKind::LongText => {
            matches!(value, Value::String(_) | Value::Number(_))
        }
        FieldKind::Boolean => value.is_boolean(),
        FieldKind::Date => value.as_str().is_some_and(is_date),
        FieldKind::DateTime => value.as_str().is_some_and(is_date_time),
        FieldKind::Enum { values } => value
            .as_str()
            .is_some_and(|v| values.iter().any(|x| x == v)),
        FieldKind::Reference { .. } => integer(value).is_some_and(|id| id > 0),
        FieldKind::Object => value.is_object(),
        FieldKind::List => value.is_array(),
    };
    if ok {
        return None;
    }
    Some(match kind {
        FieldKind::Integer => "must be an integer".into(),
        FieldKind::Decimal => "must be a number".into(),
        FieldKind::Text | FieldKind::LongText => "must be text".into(),
        FieldKind::Boolean => "must be true or false".into(),
        FieldKind::Date => "must be a date (YYYY-MM-DD)".into(),
        FieldKind::DateTime => "must be a date and time (RFC 3339)".into(),
        FieldKind::Enum { values } => format!("must be one of: {}", values.join(", ")),
        FieldKind::Reference { .. } => "must be a positive integer id".into(),
        FieldKind::Object => "must be an object".into(),
        FieldKind::List => "must be a list".into(),
    })
}

/// A whole number, from JSON (`3`, `3.0`) or a numeric string (`" 42 "`).
fn integer(value: &Value) -> Option<i128> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                    .map(|f| f as i128)
            }),
        Value::String(s) => s.trim().parse::<i128>().ok(),
        _ => None,
    }
}

fn digits(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    bytes.iter().try_fold(0u32, |n, b| {
        n.checked_mul(10)?.checked_add(u32::from(b - b'0'))
    })
}

/// `YYYY-MM-DD`, a real calendar date.
pub fn is_date(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Some(year), Some(month), Some(day)) = (digits(&b[..4]), digits(&b[5..7]), digits(&b[8..]))
    else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// An RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
pub fn is_date_time(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() < 20 || !text.is_ascii() || !is_date(&text[..10]) || !matches!(b[10], b'T' | b't') {
        return false;
    }
    let clock = |at: usize, max_hour: u32, seconds: bool| -> bool {
        let end = if seconds { at + 8 } else { at + 5 };
        if b.len() < end || b[at + 2] != b':' || (seconds && b[at + 5] != b':') {
            return false;
        }
        let hour_ok = digits(&b[at..at + 2]).is_some_and(|h| h <= max_hour);
        let minute_ok = digits(&b[at + 3..at + 5]).is_some_and(|m| m <= 59);
        let second_ok = !seconds || digits(&b[at + 6..at + 8]).is_some_and(|s| s <= 60);
        hour_ok && minute_ok && second_ok
    };
    if !clock(11, 23, true) {
        return false;
    }
    let mut at = 19;
    if b[at] == b'.' {
        let fraction = b[at + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if fraction == 0 {
            return false;
        }
        at += 1 + fraction;
    }
    match b.get(at) {
        Some(b'Z' | b'z') => at + 1 == b.len(),
        Some(b'+' | b'-') => at + 6 == b.len() && clock(at + 1, 23, false),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(key: &str) -> &'static ObjectDef {
        catalogue()
            .get(key)
            .unwrap_or_else(|| panic!("{key} is not in the catalogue"))
    }

    fn attributes(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    fn errors_of(key: &str, operation: Operation, value: Value) -> FieldErrors {
        object(key)
            .validate(operation, &attributes(value))
            .expect_err("validation should fail")
    }

    fn errors(pairs: &[(&str, &str)]) -> FieldErrors {
        let mut map = FieldErrors::new();
        for (key, message) in pairs {
            map.entry(key.to_string())
                .or_default()
                .push(message.to_string());
        }
        map
    }

    #[test]
    fn the_json_parses_and_holds_every_object() {
        let parsed = Catalogue::from_json(include_str!("catalogue.json"));
        assert!(parsed.is_ok(), "{parsed:?}");
        let keys: Vec<&str> = catalogue()
            .objects()
            .iter()
            .map(|o| o.key.as_str())
            .collect();
        for key in [
            "companies",
            "projects",
            "company_users",
            "project_users",
            "vendors",
            "rfis",
            "submittals",
            "observations",
            "punch_items",
            "change_events",
            "folders",
            "files",
            "documents",
        ] {
            assert!(keys.contains(&key), "{key} is missing");
        }
        assert!(catalogue().problems().is_empty());
        assert!(catalogue().get("budgets").is_none());
        assert_eq!(object("rfis").label, "RFIs");
        assert_eq!(object("rfis").singular, "RFI");
    }

    #[test]
    fn the_catalogue_round_trips_through_serde() {
        let json = serde_json::to_string(catalogue()).expect("serializes");
        let again = Catalogue::from_json(&json).expect("parses again");
        assert_eq!(&again, catalogue());
    }

    #[test]
    fn display_and_value_fields_are_fields() {
        for o in catalogue().objects() {
            assert!(o.field(&o.display_field).is_some(), "{}: display", o.key);
            let value = o.field(&o.value_field);
            assert!(value.is_some(), "{}: value", o.key);
            assert_eq!(o.value_field, "id", "{}", o.key);
        }
        let expected = [
            ("companies", "name"),
            ("projects", "display_name"),
            ("company_users", "name"),
            ("project_users", "name"),
            ("vendors", "name"),
            ("rfis", "subject"),
            ("submittals", "title"),
            ("observations", "name"),
            ("punch_items", "name"),
            ("change_events", "title"),
            ("folders", "name_with_path"),
            ("files", "name_with_path"),
            ("documents", "name_with_path"),
        ];
        for (key, display) in expected {
            assert_eq!(object(key).display_field, display, "{key}");
        }
    }

    #[test]
    fn sorts_and_filters_only_where_the_list_allows_them() {
        for o in catalogue().objects() {
            let has_list = o.operations.list.is_some();
            for f in &o.fields {
                if f.sort_param.is_some() {
                    assert!(
                        has_list && o.sort != SortStyle::None,
                        "{}.{}",
                        o.key,
                        f.name
                    );
                }
                if let Some(filter) = &f.filter_param {
                    assert!(has_list, "{}.{}", o.key, f.name);
                    assert!(filter.starts_with("filters[") && filter.ends_with(']'));
                }
            }
            if o.sort == SortStyle::None {
                assert_eq!(o.sortable_fields().count(), 0, "{}", o.key);
            } else {
                assert!(o.sortable_fields().count() > 0, "{}", o.key);
            }
            if o.search.is_some() {
                assert!(has_list, "{}", o.key);
            }
        }
        // What the simulator's lists accept, field by field.
        let sorts = |key: &str| -> Vec<(String, String)> {
            object(key)
                .sortable_fields()
                .map(|f| (f.name.clone(), f.sort_param.clone().unwrap_or_default()))
                .collect()
        };
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        assert_eq!(
            sorts("projects"),
            pairs(&[("name", "name"), ("display_name", "display_name")])
        );
        assert_eq!(
            sorts("project_users"),
            pairs(&[
                ("last_name", "name"),
                ("vendor.name", "vendor_name"),
                ("permission_template.name", "permission_template"),
            ])
        );
        assert_eq!(object("rfis").sort, SortStyle::AttributeDirection);
        assert_eq!(object("rfis").search.as_deref(), Some("search"));
        assert_eq!(
            object("submittals").search.as_deref(),
            Some("filters[query]")
        );
        assert_eq!(
            object("punch_items").search.as_deref(),
            Some("filters[query]")
        );
        assert_eq!(object("vendors").search.as_deref(), Some("filters[search]"));
        for key in [
            "observations",
            "punch_items",
            "change_events",
            "folders",
            "companies",
        ] {
            assert_eq!(object(key).sort, SortStyle::None, "{key}");
        }
        let filters: Vec<&str> = object("company_users")
            .filterable_fields()
            .map(|f| f.name.as_str())
            .collect();
        assert!(filters.contains(&"vendor.id"));
    }

    #[test]
    fn paths_use_known_placeholders_that_match_the_scope() {
        for o in catalogue().objects() {
            for operation in Operation::ALL {
                let Some(endpoint) = o.operations.endpoint(operation) else {
                    continue;
                };
                let names = endpoint.placeholders();
                for name in &names {
                    assert!(
                        ["company_id", "project_id", "id"].contains(name),
                        "{} {operation}: {{{name}}}",
                        o.key
                    );
                }
                assert_eq!(
                    names.contains(&"id"),
                    operation.needs_id(),
                    "{} {operation}",
                    o.key
                );
                let body = matches!(operation, Operation::Create | Operation::Update)
                    .then_some(o.body_scope)
                    .flatten();
                match o.scope {
                    Scope::None => {
                        assert!(!names.contains(&"company_id") && !names.contains(&"project_id"));
                    }
                    Scope::Company => {
                        assert!(!names.contains(&"project_id"), "{} {operation}", o.key);
                        assert!(
                            names.contains(&"company_id") || body == Some(ScopeParam::CompanyId),
                            "{} {operation} does not say its company",
                            o.key
                        );
                    }
                    Scope::Project => {
                        assert!(!names.contains(&"company_id"), "{} {operation}", o.key);
                        assert!(
                            names.contains(&"project_id") || body == Some(ScopeParam::ProjectId),
                            "{} {operation} does not say its project",
                            o.key
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn company_scoped_objects_render_without_a_project() {
        let ctx = Scoped {
            company_id: 7,
            project_id: None,
            id: Some(9),
        };
        for o in catalogue()
            .objects()
            .iter()
            .filter(|o| o.scope != Scope::Project)
        {
            for operation in Operation::ALL {
                if let Ok(endpoint) = o.operation(operation) {
                    let rendered = endpoint.render(&ctx);
                    assert!(rendered.is_ok(), "{} {operation}: {rendered:?}", o.key);
                }
            }
        }
    }

    #[test]
    fn operations_are_those_procore_has() {
        use Operation::*;
        let expected: [(&str, &[Operation]); 13] = [
            ("companies", &[List]),
            ("projects", &[List, Get, Create, Update]),
            ("company_users", &[List, Get, Create, Update]),
            ("project_users", &[List, Get, Create, Update, Delete]),
            ("vendors", &[List, Get, Create, Update]),
            ("rfis", &[List, Get, Create, Update]),
            ("submittals", &[List, Get, Create, Update, Delete]),
            ("observations", &[List, Get, Create, Update, Delete]),
            ("punch_items", &[List, Get, Create, Update, Delete]),
            ("change_events", &[List, Get, Create, Update, Delete]),
            ("folders", &[List, Get, Create, Update, Delete]),
            ("files", &[List, Get, Create, Update, Delete]),
            ("documents", &[List]),
        ];
        for (key, operations) in expected {
            let o = object(key);
            for operation in Operation::ALL {
                assert_eq!(
                    o.supports(operation),
                    operations.contains(&operation),
                    "{key} {operation}"
                );
            }
        }
        let endpoint = |key: &str, operation| object(key).operation(operation).expect("supported");
        let observations_delete = endpoint("observations", Delete);
        assert_eq!(
            observations_delete.path,
            "/rest/v1.0/projects/{project_id}/observations/items/{id}"
        );
        assert_eq!(observations_delete.status, 204);
        assert_eq!(endpoint("punch_items", Delete).status, 200);
        assert_eq!(endpoint("submittals", Delete).status, 200);
        assert_eq!(endpoint("change_events", Delete).status, 204);
        assert_eq!(endpoint("project_users", Delete).status, 204);
        assert_eq!(endpoint("folders", Delete).status, 200);
        assert_eq!(endpoint("rfis", Create).status, 201);
        assert_eq!(endpoint("projects", List).path, "/rest/v1.1/projects");
        assert_eq!(
            endpoint("company_users", List).path,
            "/rest/v1.3/companies/{company_id}/users"
        );
        assert_eq!(object("projects").body_scope, Some(ScopeParam::CompanyId));
        assert_eq!(object("vendors").body_scope, Some(ScopeParam::CompanyId));
        assert_eq!(
            object("observations").body_scope,
            Some(ScopeParam::ProjectId)
        );
        assert_eq!(
            object("punch_items").body_scope,
            Some(ScopeParam::ProjectId)
        );
        assert_eq!(object("change_events").body_scope, None);
        assert!(!object("folders").paged);
        assert!(object("documents").paged);
        assert_eq!(object("companies").scope, Scope::None);
    }

    #[test]
    fn render_fills_path_and_query() {
        let ctx = Scoped {
            company_id: 4_264_807,
            project_id: Some(2_783_001),
            id: Some(42),
        };
        let (path, query) = object("rfis")
            .operation(Operation::Get)
            .and_then(|e| e.render(&ctx))
            .expect("renders");
        assert_eq!(path, "/rest/v1.0/projects/2783001/rfis/42");
        assert!(query.is_empty());

        let (path, query) = object("punch_items")
            .operation(Operation::Delete)
            .and_then(|e| e.render(&ctx))
            .expect("renders");
        assert_eq!(path, "/rest/v1.1/punch_items/42");
        assert_eq!(
            query,
            vec![("project_id".to_string(), "2783001".to_string())]
        );

        let (path, query) = object("projects")
            .operation(Operation::List)
            .and_then(|e| e.render(&ctx))
            .expect("renders");
        assert_eq!(path, "/rest/v1.1/projects");
        assert_eq!(
            query,
            vec![("company_id".to_string(), "4264807".to_string())]
        );

        let (_, query) = object("files")
            .operation(Operation::List)
            .and_then(|e| e.render(&ctx))
            .expect("renders");
        assert_eq!(
            query,
            vec![("filters[document_type]".to_string(), "file".to_string())]
        );
    }

    #[test]
    fn render_reports_a_missing_id_or_project() {
        let no_id = Scoped {
            company_id: 1,
            project_id: Some(2),
            id: None,
        };
        let get = object("rfis").operation(Operation::Get).expect("supported");
        assert_eq!(
            get.render(&no_id),
            Err(CatalogueError::MissingId {
                path: "/rest/v1.0/projects/{project_id}/rfis/{id}".into()
            })
        );
        let no_project = Scoped {
            company_id: 1,
            project_id: None,
            id: Some(3),
        };
        let err = get.render(&no_project).expect_err("no project");
        assert!(matches!(err, CatalogueError::MissingProjectId { .. }));
        assert_eq!(
            err.to_string(),
            "/rest/v1.0/projects/{project_id}/rfis/{id} needs a project id"
        );
        // In a query value too.
        let list = object("change_events")
            .operation(Operation::List)
            .expect("supported");
        assert!(matches!(
            list.render(&no_project),
            Err(CatalogueError::MissingProjectId { .. })
        ));
        // Unknown and unclosed placeholders are errors, not panics.
        for path in ["/rest/v1.0/things/{thing_id}", "/rest/v1.0/things/{id"] {
            let endpoint = Endpoint {
                method: "GET".into(),
                path: path.into(),
                query: vec![],
                status: 200,
            };
            let ctx = Scoped {
                id: Some(1),
                ..no_id
            };
            assert!(matches!(
                endpoint.render(&ctx),
                Err(CatalogueError::UnknownPlaceholder { .. })
            ));
        }
    }

    #[test]
    fn unsupported_operations_are_typed_errors() {
        let err = object("projects")
            .operation(Operation::Delete)
            .expect_err("no delete");
        assert_eq!(
            err,
            CatalogueError::Unsupported {
                object: "Projects".into(),
                operation: Operation::Delete
            }
        );
        assert_eq!(err.to_string(), "Procore has no delete for Projects");
        for (key, operation) in [
            ("company_users", Operation::Delete),
            ("vendors", Operation::Delete),
            ("rfis", Operation::Delete),
            ("companies", Operation::Get),
            ("companies", Operation::Create),
            ("documents", Operation::Update),
        ] {
            assert!(
                matches!(
                    object(key).operation(operation),
                    Err(CatalogueError::Unsupported { .. })
                ),
                "{key} {operation}"
            );
        }
        assert_eq!(
            object("rfis").operation(Operation::Delete).map(|_| ()),
            Err(CatalogueError::Unsupported {
                object: "RFIs".into(),
                operation: Operation::Delete
            })
        );
        assert_eq!(Operation::Update.to_string(), "update");
        // validate says the same.
        assert_eq!(
            errors_of("companies", Operation::Create, json!({ "name": "x" })),
            errors(&[("base", "Procore has no create for Companies")])
        );
    }

    #[test]
    fn a_complete_rfi_passes() {
        let rfi = attributes(json!({
            "subject": "Door hardware",
            "rfi_manager_id": 4_201_001,
            "question": { "body": "Which hinges?" },
            "due_date": "2026-02-28",
            "private": false,
            "assignee_ids": [4_201_002],
            "cost_impact": { "status": "tbd", "value": "1200.50" },
            "custom_field_123": "anything",
        }));
        assert_eq!(object("rfis").validate(Operation::Create, &rfi), Ok(()));
        assert_eq!(object("rfis").validate(Operation::Update, &rfi), Ok(()));
    }

    #[test]
    fn required_fields_cannot_be_blank() {
        assert_eq!(
            errors_of("rfis", Operation::Create, json!({ "subject": "  " })),
            errors(&[
                ("question.body", BLANK),
                ("rfi_manager_id", BLANK),
                ("subject", BLANK),
            ])
        );
        assert_eq!(
            errors_of(
                "rfis",
                Operation::Create,
                json!({ "subject": "s", "rfi_manager_id": 5, "question": { "body": "" } })
            ),
            errors(&[("question.body", BLANK)])
        );
        assert_eq!(
            errors_of("change_events", Operation::Create, json!({ "title": "t" })),
            errors(&[("scope", BLANK), ("status.id", BLANK)])
        );
        assert_eq!(
            errors_of("projects", Operation::Create, json!({ "name": null })),
            errors(&[("name", BLANK)])
        );
        // An update need not carry required fields, but may not blank them.
        assert_eq!(
            object("rfis").validate(Operation::Update, &attributes(json!({ "draft": true }))),
            Ok(())
        );
        assert_eq!(
            errors_of("vendors", Operation::Update, json!({ "name": "" })),
            errors(&[("name", BLANK)])
        );
    }

    #[test]
    fn unknown_and_read_only_keys_are_named() {
        assert_eq!(
            errors_of(
                "rfis",
                Operation::Update,
                json!({ "colour": "red", "id": 1, "full_number": "7", "rfi_manager": {}, "questions": [] })
            ),
            errors(&[
                ("colour", "is not a field of RFI"),
                ("full_number", READ_ONLY),
                ("id", READ_ONLY),
                ("questions", READ_ONLY),
                ("rfi_manager", "is written as rfi_manager_id"),
            ])
        );
        assert_eq!(
            errors_of(
                "punch_items",
                Operation::Update,
                json!({ "due_date": "2026-01-01" })
            ),
            errors(&[("due_date", "is written as due")])
        );
        assert_eq!(
            errors_of(
                "rfis",
                Operation::Update,
                json!({ "question": { "title": "x" } })
            ),
            errors(&[("question.title", "is not a field of RFI")])
        );
        assert_eq!(
            errors_of(
                "rfis",
                Operation::Update,
                json!({ "question": "plain text" })
            ),
            errors(&[("question", "must be an object")])
        );
        assert_eq!(
            errors_of(
                "rfis",
                Operation::Update,
                json!({ "question.body": "flat", "rfi_manager.id": 3 })
            ),
            errors(&[
                ("question.body", "must be nested under question"),
                ("rfi_manager.id", "is written as rfi_manager_id"),
            ])
        );
        // Custom fields only where the object has them.
        assert_eq!(
            errors_of(
                "company_users",
                Operation::Update,
                json!({ "custom_field_12": 1 })
            ),
            errors(&[("custom_field_12", "is not a field of Company user")])
        );
        assert_eq!(
            errors_of("projects", Operation::Update, json!({ "custom_field_": 1 })),
            errors(&[("custom_field_", "is not a field of Project")])
        );
    }

    #[test]
    fn values_must_fit_their_kind() {
        let cases: [(&str, Value, &str); 16] = [
            ("square_feet", json!(12.5), "must be an integer"),
            ("square_feet", json!("12a"), "must be an integer"),
            ("square_feet", json!(true), "must be an integer"),
            ("latitude", json!("north"), "must be a number"),
            ("latitude", json!("NaN"), "must be a number"),
            ("active", json!("true"), "must be true or false"),
            (
                "start_date",
                json!("2025-02-29"),
                "must be a date (YYYY-MM-DD)",
            ),
            (
                "start_date",
                json!("2026-13-01"),
                "must be a date (YYYY-MM-DD)",
            ),
            (
                "start_date",
                json!("2026-1-01"),
                "must be a date (YYYY-MM-DD)",
            ),
            ("start_date", json!(20260101), "must be a date (YYYY-MM-DD)"),
            ("flag", json!("Blue"), "must be one of: Red, Yellow, Green"),
            ("flag", json!("red"), "must be one of: Red, Yellow, Green"),
            ("name", json!({ "a": 1 }), "must be text"),
            ("department_ids", json!(3), "must be a list"),
            ("project_stage_id", json!("x"), "must be an integer"),
            ("description", json!([]), "must be text"),
        ];
        for (key, value, message) in cases {
            let got = errors_of("projects", Operation::Update, json!({ key: value.clone() }));
            assert_eq!(got, errors(&[(key, message)]), "{key} = {value}");
        }
        let references: [Value; 5] = [json!(0), json!(-3), json!("abc"), json!(1.5), json!([1])];
        for value in references {
            let got = errors_of(
                "rfis",
                Operation::Update,
                json!({ "rfi_manager_id": value.clone() }),
            );
            assert_eq!(
                got,
                errors(&[("rfi_manager_id", "must be a positive integer id")]),
                "{value}"
            );
        }
        let ok = attributes(json!({
            "square_feet": "1200", "latitude": 34.4, "longitude": "-119.5",
            "active": true, "start_date": "2024-02-29", "flag": "Green",
            "project_number": 1234, "office_id": 3.0, "zip": null, "description": "",
        }));
        assert_eq!(object("projects").validate(Operation::Update, &ok), Ok(()));
        assert_eq!(
            object("rfis").validate(
                Operation::Update,
                &attributes(json!({ "rfi_manager_id": "17" }))
            ),
            Ok(())
        );
        assert_eq!(
            errors_of(
                "rfis",
                Operation::Update,
                json!({ "cost_impact": { "status": "maybe" } })
            ),
            errors(&[(
                "cost_impact.status",
                "must be one of: yes_known, yes_unknown, no_impact, tbd, n_a"
            )])
        );
    }

    #[test]
    fn dates_and_times() {
        for good in ["2026-01-31", "2024-02-29", "2000-02-29", "0001-01-01"] {
            assert!(is_date(good), "{good}");
        }
        for bad in [
            "1900-02-29",
            "2026-04-31",
            "2026-00-10",
            "2026-01-00",
            "26-01-01",
            "2026/01/01",
            "2026-01-01T",
            "２０２６-01-01",
            "",
        ] {
            assert!(!is_date(bad), "{bad}");
        }
        for good in [
            "2026-05-04T15:30:00Z",
            "2026-05-04t15:30:00z",
            "2026-05-04T15:30:00.123456Z",
            "2026-05-04T15:30:00+02:00",
            "2026-05-04T23:59:60-08:30",
        ] {
            assert!(is_date_time(good), "{good}");
        }
        for bad in [
            "2026-05-04",
            "2026-05-04 15:30:00Z",
            "2026-05-04T15:30:00",
            "2026-05-04T24:00:00Z",
            "2026-05-04T15:60:00Z",
            "2026-05-04T15:30:00.Z",
            "2026-05-04T15:30:00+2:00",
            "2026-05-04T15:30:00+02:00x",
            "2026-02-30T15:30:00Z",
            "2026-05-04T15:30:00Zé",
            "2026-05-04T1é:30:00Z",
        ] {
            assert!(!is_date_time(bad), "{bad}");
        }
    }

    #[test]
    fn validation_never_panics() {
        let values = [
            json!(null),
            json!(true),
            json!(-1),
            json!(u64::MAX),
            json!(1e300),
            json!(""),
            json!("é{}..."),
            json!("2026-05-04T15:30:00.Z"),
            json!([null, { "a": [] }]),
            json!({ "body": { "deep": [1, 2, { "x": null }] }, "id": "" }),
        ];
        for o in catalogue().objects() {
            let mut keys: Vec<String> = o
                .fields
                .iter()
                .flat_map(|f| [Some(f.name.clone()), f.write_name.clone()])
                .flatten()
                .collect();
            keys.extend(["", ".", "a.b", "custom_field_1", "question", "status"].map(String::from));
            for operation in Operation::ALL {
                for key in &keys {
                    for value in &values {
                        let mut map = Map::new();
                        map.insert(key.clone(), value.clone());
                        let _ = o.validate(operation, &map);
                    }
                }
                let _ = o.validate(operation, &Map::new());
            }
        }
    }

    #[test]
    fn non_write_operations_take_no_attributes() {
        let rfis = object("rfis");
        assert_eq!(rfis.validate(Operation::List, &Map::new()), Ok(()));
        assert_eq!(
            errors_of("rfis", Operation::Get, json!({ "subject": "x" })),
            errors(&[("base", "a get takes no attributes")])
        );
    }

    #[test]
    fn set_nests_dotted_write_keys() {
        let rfis = object("rfis");
        let mut attrs = Map::new();
        let question = rfis.field("questions.0.body").expect("question field");
        assert!(question.set(&mut attrs, json!("Which hinges?")));
        let manager = rfis.field("rfi_manager.id").expect("manager field");
        assert!(manager.set(&mut attrs, json!(4_201_001)));
        let cost = rfis.field("cost_impact.value").expect("cost field");
        attrs.insert("cost_impact".into(), json!("not an object yet"));
        assert!(cost.set(&mut attrs, json!(10)));
        assert!(
            !rfis
                .field("full_number")
                .expect("field")
                .set(&mut attrs, json!("1"))
        );
        assert_eq!(
            Value::Object(attrs),
            json!({
                "question": { "body": "Which hinges?" },
                "rfi_manager_id": 4_201_001,
                "cost_impact": { "value": 10 },
            })
        );
    }

    #[test]
    fn fields_read_dotted_paths() {
        let record = json!({
            "subject": "s",
            "rfi_manager": { "id": 1, "name": "Test Architect" },
            "questions": [{ "id": 2, "body": "What should we do?" }],
        });
        let rfis = object("rfis");
        let read = |name: &str| rfis.field(name).and_then(|f| f.read(&record)).cloned();
        assert_eq!(read("rfi_manager.name"), Some(json!("Test Architect")));
        assert_eq!(read("questions.0.body"), Some(json!("What should we do?")));
        assert_eq!(read("location.name"), None);
        assert_eq!(lookup(&record, "questions.x.body"), None);
        assert_eq!(lookup(&record, "subject.more"), None);
    }

    #[test]
    fn problems_are_found() {
        let mut broken = catalogue().clone();
        let rfis = broken
            .objects
            .iter_mut()
            .find(|o| o.key == "rfis")
            .expect("rfis");
        rfis.display_field = "nope".into();
        rfis.operations.delete = Some(Endpoint {
            method: "DELETE".into(),
            path: "/rest/v1.0/companies/{company_id}/rfis/{rfi_id}".into(),
            query: vec![],
            status: 201,
        });
        rfis.fields[0].write_name = Some("x".into());
        let companies = broken
            .objects
            .iter_mut()
            .find(|o| o.key == "companies")
            .expect("companies");
        companies.fields[1].sort_param = Some("name".into());
        companies.fields[1].kind = FieldKind::Reference {
            object: "nothing".into(),
        };
        let problems = broken.problems().join("\n");
        for expected in [
            "rfis: display field nope is not a field",
            "rfis delete: status 201",
            "rfis delete: unknown placeholder {rfi_id}",
            "rfis delete: {id} must appear",
            "rfis delete: {company_id} does not belong",
            "rfis delete: {project_id} is neither",
            "rfis: id is read-only but has a write_name",
            "companies: name has a sort_param",
            "companies: name refers to unknown object nothing",
        ] {
            assert!(
                problems.contains(expected),
                "{expected}\nnot in\n{problems}"
            );
        }
        assert!(matches!(
            Catalogue::from_json(&serde_json::to_string(&broken).expect("serializes")),
            Err(CatalogueError::Invalid(_))
        ));
        assert!(matches!(
            Catalogue::from_json(r#"{"objects": [{"key": "x"}]}"#),
            Err(CatalogueError::Invalid(_))
        ));
    }
}
