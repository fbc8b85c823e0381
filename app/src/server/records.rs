//! Create, read, update and delete on Procore records: the one place the explorer, the REST
//! API and data rules go through, so each checks rights, catalogue and input the same way
//! and turns Procore's answers into the same errors.

use procore::catalogue::{self, FieldKind, ObjectDef, Operation, Scope, Scoped, catalogue};
use procore::query::{self, Filter, ListQuery};
use serde_json::{Map, Value};

use super::AppState;
use super::forms::{may_query, options_cache_prefix};
use super::store::SourceRecord;
use crate::error::AppError;
use crate::model::{SessionUser, is_record_key};
use crate::record::{
    Attributes, Direction, MAX_PER_PAGE, ObjectField, ObjectInfo, Operations, Operator, RecordPage,
    RecordQuery, RecordScope,
};

/// The catalogue's objects, as pickers and generated forms describe them.
pub fn objects() -> Vec<ObjectInfo> {
    catalogue()
        .objects()
        .iter()
        .filter(|o| o.supports(Operation::List))
        .map(object_info)
        .collect()
}

pub fn object_info(object: &ObjectDef) -> ObjectInfo {
    ObjectInfo {
        key: object.key.clone(),
        label: object.label.clone(),
        needs_project: object.scope == Scope::Project,
        display_field: object.display_field.clone(),
        value_field: object.value_field.clone(),
        fields: object
            .fields
            .iter()
            .map(|f| ObjectField {
                name: f.name.clone(),
                label: f.label.clone(),
                kind: kind_name(&f.kind).into(),
                sortable: f.sort_param.is_some(),
                filterable: f.filter_param.is_some(),
                write_key: f.write_key().map(str::to_string),
                required_on_create: f.required_on_create,
                choices: match &f.kind {
                    FieldKind::Enum { values } => values.clone(),
                    _ => Vec::new(),
                },
                references: match &f.kind {
                    FieldKind::Reference { object } => Some(object.clone()),
                    _ => None,
                },
            })
            .collect(),
        operations: Operations {
            list: object.supports(Operation::List),
            get: object.supports(Operation::Get),
            create: object.supports(Operation::Create),
            update: object.supports(Operation::Update),
            delete: object.supports(Operation::Delete),
        },
    }
}

fn kind_name(kind: &FieldKind) -> &'static str {
    match kind {
        FieldKind::Integer => "integer",
        FieldKind::Decimal => "decimal",
        FieldKind::Text => "text",
        FieldKind::LongText => "long_text",
        FieldKind::Boolean => "boolean",
        FieldKind::Date => "date",
        FieldKind::DateTime => "date_time",
        FieldKind::Enum { .. } => "enum",
        FieldKind::Reference { .. } => "reference",
        FieldKind::Object => "object",
        FieldKind::List => "list",
    }
}

/// A data source and object the caller may use, ready to talk to Procore.
pub struct Target {
    pub source: SourceRecord,
    pub object: &'static ObjectDef,
    pub scope: Scoped,
    client: procore::Client,
}

fn verb(operation: Operation) -> &'static str {
    match operation {
        Operation::List => "list",
        Operation::Get => "read one of",
        Operation::Create => "create",
        Operation::Update => "update",
        Operation::Delete => "delete",
    }
}

/// Checks, in the order a person would fix them: the data source exists and the caller may
/// use it, the object exists and Procore allows the operation, the data source is ready,
/// and a project-scoped object has its project.
pub async fn open(
    state: &AppState,
    user: &SessionUser,
    scope: &RecordScope,
    operation: Operation,
) -> Result<Target, AppError> {
    let not_found = || AppError::NotFound("Data source".into());
    if !is_record_key(&scope.data_source) {
        return Err(not_found());
    }
    let source = state
        .store
        .data_source(&scope.data_source)
        .await?
        .ok_or_else(not_found)?;
    if !may_query(state, user, &source).await? {
        return Err(AppError::Denied(format!(
            "You may not use Procore data through “{}”; ask its administrators to add you to its connection users.",
            source.name
        )));
    }
    let object = catalogue()
        .get(&scope.object)
        .ok_or_else(|| AppError::NotFound(format!("Procore object “{}”", scope.object)))?;
    if !object.supports(operation) {
        return Err(AppError::Conflict(format!(
            "Procore does not let Trestle {} {}.",
            verb(operation),
            object.label
        )));
    }
    // Authorized is enough: a connection test that failed a while ago (Procore was down)
    // should not stop work that Procore would now accept.
    if source.authorization.is_none() {
        return Err(AppError::Conflict(format!(
            "The data source “{}” is not authorized with Procore yet; its administrators need to authorize it.",
            source.name
        )));
    }
    let Some(company_id) = source.company_id else {
        return Err(AppError::Conflict(format!(
            "The data source “{}” has no Procore company id yet.",
            source.name
        )));
    };
    let project_id = match (object.scope, scope.project) {
        (Scope::Project, None) => {
            return Err(AppError::invalid(
                "project",
                format!("{} belong to a project: say which.", object.label),
            ));
        }
        (Scope::Project, project) => project,
        _ => None,
    };
    let client = state.procore.client(&source)?;
    Ok(Target {
        source,
        object,
        scope: Scoped {
            company_id,
            project_id,
            id: None,
        },
        client,
    })
}

pub async fn list(
    state: &AppState,
    user: &SessionUser,
    scope: &RecordScope,
    request: &RecordQuery,
) -> Result<RecordPage, AppError> {
    if request.page == 0 {
        return Err(AppError::invalid("page", "Pages start at 1."));
    }
    if !(1..=MAX_PER_PAGE).contains(&request.per_page) {
        return Err(AppError::invalid(
            "per_page",
            format!("Ask for 1 to {MAX_PER_PAGE} records a page."),
        ));
    }
    let target = open(state, user, scope, Operation::List).await?;
    let query = ListQuery {
        filters: request
            .filters
            .iter()
            .map(|f| Filter {
                field: f.field.clone(),
                op: operator(f.op),
                values: vec![f.value.clone()],
            })
            .collect(),
        search: request.search.clone().filter(|s| !s.trim().is_empty()),
        sort: request
            .sort
            .clone()
            .filter(|s| !s.is_empty())
            .map(|field| (field, direction(request.direction))),
        page: Some((request.page, request.per_page)),
        evaluate_locally: false,
    };
    let listing = target
        .client
        .list_objects(target.object, &target.scope, &query)
        .await
        .map_err(|e| procore_error(&target.source, e))?;
    Ok(RecordPage {
        records: listing.records,
        total: listing.total,
        page: request.page,
        per_page: request.per_page,
    })
}

pub async fn get(
    state: &AppState,
    user: &SessionUser,
    scope: &RecordScope,
    id: u64,
) -> Result<Value, AppError> {
    let target = open(state, user, scope, Operation::Get).await?;
    target
        .client
        .get_object(target.object, &target.scope, id)
        .await
        .map_err(|e| procore_error(&target.source, e))
}

pub async fn create(
    state: &AppState,
    user: &SessionUser,
    scope: &RecordScope,
    attributes: Attributes,
) -> Result<Value, AppError> {
    let target = open(state, user, scope, Operation::Create).await?;
    let body = nest(target.object, attributes)?;
    let created = target
        .client
        .create_object(target.object, &target.scope, body)
        .await
        .map_err(|e| on_write_keys(target.object, procore_error(&target.source, e)))?;
    changed(state, &target);
    Ok(created)
}

pub async fn update(
    state: &AppState,
    user: &SessionUser,
    scope: &RecordScope,
    id: u64,
    attributes: Attributes,
) -> Result<Value, AppError> {
    let target = open(state, user, scope, Operation::Update).await?;
    let body = nest(target.object, attributes)?;
    let updated = target
        .client
        .update_object(target.object, &target.scope, id, body)
        .await
        .map_err(|e| on_write_keys(target.object, procore_error(&target.source, e)))?;
    changed(state, &target);
    Ok(updated)
}

pub async fn delete(
    state: &AppState,
    user: &SessionUser,
    scope: &RecordScope,
    id: u64,
) -> Result<(), AppError> {
    let target = open(state, user, scope, Operation::Delete).await?;
    target
        .client
        .delete_object(target.object, &target.scope, id)
        .await
        .map_err(|e| procore_error(&target.source, e))?;
    changed(state, &target);
    Ok(())
}

/// Lists read through this data source may now be out of date.
fn changed(state: &AppState, target: &Target) {
    state
        .procore
        .options_cache()
        .forget(&options_cache_prefix(&target.source.id));
}

/// Flat attributes keyed by write key, as callers send them, into the body Procore wants:
/// dotted keys nested, text turned into the field's type (forms and data rules hold text),
/// unknown and read-only keys refused by name.
pub fn nest(object: &ObjectDef, attributes: Attributes) -> Result<Map<String, Value>, AppError> {
    let mut body = Map::new();
    let mut errors = catalogue::FieldErrors::new();
    for (key, value) in attributes {
        let field = object.fields.iter().find(|f| f.write_key() == Some(&key));
        let Some(field) = field else {
            let message = if object.field(&key).is_some() {
                "is read-only"
            } else {
                "is not a field Trestle can write"
            };
            errors.entry(key).or_default().push(message.into());
            continue;
        };
        match coerce(&field.kind, value) {
            Ok(value) => {
                field.set(&mut body, value);
            }
            Err(message) => errors.entry(key).or_default().push(message),
        }
    }
    if errors.is_empty() {
        Ok(body)
    } else {
        Err(rejected(errors))
    }
}

/// Text into the field's JSON type; other values go as they are, for the catalogue's checks.
/// Empty text clears a field that is not text.
fn coerce(kind: &FieldKind, value: Value) -> Result<Value, String> {
    let Value::String(text) = &value else {
        return Ok(value);
    };
    let trimmed = text.trim();
    let number = |what: &str| format!("must be {what}, not “{trimmed}”");
    match kind {
        FieldKind::Text
        | FieldKind::LongText
        | FieldKind::Date
        | FieldKind::DateTime
        | FieldKind::Enum { .. } => Ok(value),
        _ if trimmed.is_empty() => Ok(Value::Null),
        FieldKind::Integer | FieldKind::Reference { .. } => trimmed
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| number("a whole number")),
        FieldKind::Decimal => trimmed
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| number("a number")),
        FieldKind::Boolean => match trimmed.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" | "on" => Ok(Value::Bool(true)),
            "false" | "no" | "0" | "off" => Ok(Value::Bool(false)),
            _ => Err(number("yes or no")),
        },
        // Lists of ids, as forms hold them: "1, 2, 3".
        FieldKind::List => trimmed
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<i64>().map(Value::from))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array)
            .map_err(|_| number("a list of ids")),
        FieldKind::Object => Err("must be an object".into()),
    }
}

/// Procore names a field in its errors as it pleases (`rfi_manager` for what is written
/// as `rfi_manager_id`, `question` for `question.body`); callers match messages to fields
/// by write key, so errors are moved onto the write key of the field they are about.
fn on_write_keys(object: &ObjectDef, error: AppError) -> AppError {
    let AppError::Rejected { message, fields } = error else {
        return error;
    };
    let mut moved = catalogue::FieldErrors::new();
    for (key, messages) in fields {
        let field = object
            .fields
            .iter()
            .find(|f| f.write_key() == Some(key.as_str()))
            .or_else(|| {
                object.fields.iter().find(|f| {
                    let write = f.write_key().unwrap_or(&f.name);
                    f.name == key
                        || f.name.starts_with(&format!("{key}."))
                        || write.starts_with(&format!("{key}."))
                        || write.strip_suffix("_id") == Some(key.as_str())
                        || write.strip_suffix("_ids") == Some(key.as_str())
                })
            });
        let key = field.map_or(key, |f| f.write_key().unwrap_or(&f.name).to_string());
        moved.entry(key).or_default().extend(messages);
    }
    AppError::Rejected {
        message,
        fields: moved,
    }
}

fn rejected(errors: catalogue::FieldErrors) -> AppError {
    let summary = errors
        .iter()
        .map(|(field, messages)| format!("{field} {}", messages.join(", ")))
        .collect::<Vec<_>>()
        .join("; ");
    AppError::Rejected {
        message: format!("Procore would not accept this: {summary}."),
        fields: errors,
    }
}

pub fn operator(op: Operator) -> query::Operator {
    match op {
        Operator::Eq => query::Operator::Eq,
        Operator::Ne => query::Operator::Ne,
        Operator::Contains => query::Operator::Contains,
        Operator::Gt => query::Operator::Gt,
        Operator::Ge => query::Operator::Ge,
        Operator::Lt => query::Operator::Lt,
        Operator::Le => query::Operator::Le,
    }
}

pub fn direction(direction: Direction) -> query::Direction {
    match direction {
        Direction::Asc => query::Direction::Asc,
        Direction::Desc => query::Direction::Desc,
    }
}

/// What went wrong in Procore, in words for the person (or program) that asked, with the
/// status that tells them whether to fix the input, re-authorize or try later.
pub fn procore_error(source: &SourceRecord, error: procore::Error) -> AppError {
    use procore::Error as E;
    match error {
        E::NotAuthorized => AppError::Conflict(format!(
            "The data source “{}” is not authorized with Procore; ask its administrators to authorize it.",
            source.name
        )),
        E::AuthorizationExpired | E::Unauthorized => AppError::Conflict(format!(
            "The authorization of the data source “{}” with Procore expired or was revoked; ask its administrators to re-authorize it.",
            source.name
        )),
        // Procore's 403 for a company whose app was uninstalled (or never installed).
        E::Forbidden { reason } if reason.contains("not connected") => AppError::Denied(format!(
            "Trestle's app is not installed in the Procore company of the data source “{}” (or was uninstalled): a Procore company admin must install it from the App Marketplace.",
            source.name
        )),
        E::Forbidden { reason } => AppError::Denied(format!("Procore refused access: {reason}")),
        E::NotFound => AppError::NotFound("The Procore record".into()),
        E::Validation { errors } => rejected(errors),
        E::BadRequest { message } => {
            AppError::BadRequest(format!("Procore rejected the request: {message}"))
        }
        E::Catalogue(error) => AppError::Conflict(error.to_string()),
        E::RateLimited { retry_after } => {
            let secs = retry_after.map_or(60, |d| d.as_secs().max(1));
            AppError::TooManyRequests {
                message: format!("Procore's rate limit was reached; try again in {secs} s."),
                retry_after_secs: secs,
            }
        }
        E::Unavailable { retry_after, .. } => AppError::Unavailable {
            message: "Procore is unavailable; try again later.".into(),
            retry_after_secs: retry_after.map(|d| d.as_secs().max(1)),
        },
        E::Transport(why) => AppError::Unavailable {
            message: format!("Procore could not be reached ({why}); try again later."),
            retry_after_secs: None,
        },
        other @ (E::Protocol(_) | E::OAuth { .. } | E::Store(_)) => {
            tracing::warn!(data_source = %source.id, error = %other, "Procore call failed");
            AppError::BadGateway("Procore did not answer as expected; try again later.".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rfis() -> &'static ObjectDef {
        catalogue().get("rfis").unwrap()
    }

    #[test]
    fn attributes_nest_and_take_their_types() {
        let object = rfis();
        let writable: Vec<_> = object.fields.iter().filter_map(|f| f.write_key()).collect();
        assert!(writable.contains(&"subject"), "{writable:?}");
        let body = nest(
            object,
            Map::from_iter([
                ("subject".to_string(), json!("Door hardware")),
                ("due_date".to_string(), json!("2026-03-05")),
            ]),
        )
        .unwrap();
        assert_eq!(body["subject"], "Door hardware");
        assert_eq!(body["due_date"], "2026-03-05");
    }

    #[test]
    fn unknown_and_read_only_keys_are_refused_by_name() {
        let object = rfis();
        let read_only = object
            .fields
            .iter()
            .find(|f| f.read_only)
            .expect("RFIs have a read-only field");
        let err = nest(
            object,
            Map::from_iter([
                ("nonsense".to_string(), json!(1)),
                (read_only.name.clone(), json!("x")),
            ]),
        )
        .unwrap_err();
        let fields = err.field_messages();
        assert_eq!(fields["nonsense"], vec!["is not a field Trestle can write"]);
        assert_eq!(fields[&read_only.name], vec!["is read-only"]);
        assert_eq!(err.status(), 422);
    }

    #[test]
    fn text_becomes_numbers_booleans_and_id_lists() {
        let reference = FieldKind::Reference {
            object: "projects".into(),
        };
        assert_eq!(coerce(&FieldKind::Integer, json!(" 42 ")), Ok(json!(42)));
        assert_eq!(coerce(&reference, json!("7")), Ok(json!(7)));
        assert_eq!(coerce(&FieldKind::Decimal, json!("2.5")), Ok(json!(2.5)));
        assert_eq!(coerce(&FieldKind::Boolean, json!("Yes")), Ok(json!(true)));
        assert_eq!(coerce(&FieldKind::List, json!("1, 2")), Ok(json!([1, 2])));
        assert_eq!(coerce(&FieldKind::Integer, json!("")), Ok(Value::Null));
        assert_eq!(coerce(&FieldKind::Text, json!("")), Ok(json!("")));
        assert_eq!(coerce(&FieldKind::Integer, json!(5)), Ok(json!(5)));
        assert!(coerce(&FieldKind::Integer, json!("five")).is_err());
        assert!(coerce(&FieldKind::Boolean, json!("maybe")).is_err());
        assert!(coerce(&FieldKind::List, json!("1, x")).is_err());
    }

    #[test]
    fn procore_field_errors_land_on_write_keys() {
        let errors = [
            ("rfi_manager", "is not a potential RFI manager"),
            ("question", "can't be blank"),
            ("subject", "can't be blank"),
            ("base", "something else"),
        ];
        let error = AppError::Rejected {
            message: "no".into(),
            fields: errors
                .iter()
                .map(|(k, m)| (k.to_string(), vec![m.to_string()]))
                .collect(),
        };
        let fields = on_write_keys(rfis(), error).field_messages();
        assert_eq!(
            fields.keys().map(String::as_str).collect::<Vec<_>>(),
            ["base", "question.body", "rfi_manager_id", "subject"]
        );
        assert_eq!(
            fields["rfi_manager_id"],
            vec!["is not a potential RFI manager"]
        );
    }

    #[test]
    fn the_options_cache_prefix_matches_its_keys() {
        let key = serde_json::to_string(&("ds1", "developer_sandbox", 4264807)).unwrap();
        assert!(key.starts_with(&options_cache_prefix("ds1")));
        assert!(!key.starts_with(&options_cache_prefix("ds")));
    }

    #[test]
    fn procore_errors_keep_their_kind() {
        let source = SourceRecord {
            id: "s1".into(),
            name: "Sandbox".into(),
            kind: "procore".into(),
            company_id: Some(1),
            environment: Default::default(),
            cloud_connect: false,
            connector: None,
            status: crate::data_source::Status::Ready,
            status_reason: None,
            authorization: None,
            admins: Vec::new(),
            users: Vec::new(),
            updated_at: chrono::Utc::now(),
            updated_by: None,
        };
        let status = |e| procore_error(&source, e).status();
        assert_eq!(status(procore::Error::NotFound), 404);
        assert_eq!(status(procore::Error::AuthorizationExpired), 409);
        assert_eq!(
            status(procore::Error::Forbidden {
                reason: "no".into()
            }),
            403
        );
        assert_eq!(
            status(procore::Error::BadRequest {
                message: "x".into()
            }),
            400
        );
        assert_eq!(
            status(procore::Error::Validation {
                errors: Default::default()
            }),
            422
        );
        assert_eq!(
            status(procore::Error::RateLimited { retry_after: None }),
            429
        );
        let unavailable = procore::Error::Unavailable {
            status: 503,
            retry_after: Some(std::time::Duration::from_secs(7)),
        };
        assert_eq!(procore_error(&source, unavailable).retry_after(), Some(7));
        assert_eq!(
            status(procore::Error::Unavailable {
                status: 500,
                retry_after: None
            }),
            503
        );
        assert_eq!(status(procore::Error::Protocol("x".into())), 502);
        let err = procore_error(
            &source,
            procore::Error::Validation {
                errors: [("subject".to_string(), vec!["can't be blank".to_string()])]
                    .into_iter()
                    .collect(),
            },
        );
        assert_eq!(err.field_messages()["subject"], vec!["can't be blank"]);
    }
}
