//! Forms behind [`crate::api::forms`]: definitions checked against the Procore catalogue,
//! list options read through the data source's client (with a short cache), and the
//! Security "Connection users" of each data source enforced on every options query.

use std::sync::Arc;

use procore::catalogue::{ObjectDef, Scope, Scoped, catalogue, lookup};
use procore::query::{self, Filter, ListQuery};
use serde_json::Value;

use super::AppState;
use super::data_rules;
use super::data_sources::administers;
use super::records;
use super::store::SourceRecord;
use crate::api::guard::{require, signed_in};
use crate::data_source::{PrincipalKind, Status};
use crate::error::AppError;
use crate::form::{
    Answer, Direction, FieldKind, Form, FormDraft, ListBinding, ListOption, ListSource, ObjectInfo,
    Operand, OptionsPage, OptionsRequest, QueryableSource, Submission, SubmissionState,
};
use crate::model::{Role, SessionUser, is_record_key};

/// Options per page of a list field: enough for a dropdown, small enough to be quick.
pub const OPTIONS_PER_PAGE: u64 = 50;

fn check_key(what: &str, id: &str) -> Result<(), AppError> {
    if is_record_key(id) {
        Ok(())
    } else {
        Err(AppError::NotFound(what.into()))
    }
}

async fn load_form(state: &AppState, id: &str) -> Result<Form, AppError> {
    check_key("Form", id)?;
    state
        .store
        .form(id)
        .await?
        .ok_or_else(|| AppError::NotFound("Form".into()))
}

/// Whether `user` may read Procore data through `source`: its connection users (empty:
/// everyone signed in); its connection administrators may always.
pub async fn may_query(
    state: &AppState,
    user: &SessionUser,
    source: &SourceRecord,
) -> Result<bool, AppError> {
    // Most data sources let everyone query: no need to read the person's groups then,
    // on the path every list option takes.
    if queries(user, &[], source) {
        return Ok(true);
    }
    let groups = state.store.groups_of(&user.id).await?;
    Ok(queries(user, &groups, source))
}

/// [`may_query`] with the person's groups already known.
fn queries(user: &SessionUser, groups: &[String], source: &SourceRecord) -> bool {
    source.users.is_empty()
        || administers(user, groups, source)
        || source.users.iter().any(|(kind, id)| match kind {
            PrincipalKind::User => *id == user.id,
            PrincipalKind::Group => groups.iter().any(|g| g == id),
        })
}

pub async fn list() -> Result<Vec<Form>, AppError> {
    let (state, _) = signed_in().await?;
    Ok(state.store.list_forms().await?)
}

pub async fn get(id: &str) -> Result<Form, AppError> {
    let (state, _) = signed_in().await?;
    load_form(&state, id).await
}

fn object(key: &str) -> Result<&'static ObjectDef, String> {
    catalogue()
        .get(key)
        .filter(|o| o.supports(procore::catalogue::Operation::List))
        .ok_or_else(|| format!("“{key}” is not a Procore object Trestle can list."))
}

/// The catalogue checks of a binding: the object exists, every named field is one of its
/// fields, and project-scoped objects say which project.
fn check_binding(binding: &ListBinding) -> Result<&'static ObjectDef, String> {
    let object = object(&binding.object)?;
    let field = |role: &str, name: &str| {
        object
            .field(name)
            .map(|_| ())
            .ok_or_else(|| format!("{role} “{name}” is not a field of {}.", object.label))
    };
    field("Display field", &binding.display_field)?;
    field("Value field", &binding.value_field)?;
    if let Some(sort) = &binding.sort_by {
        field("Sort by", sort)?;
    }
    for condition in &binding.conditions {
        field("The condition field", &condition.field)?;
    }
    if object.scope == Scope::Project && binding.project.is_none() {
        return Err(format!(
            "{} belong to a project: choose the project.",
            object.label
        ));
    }
    Ok(object)
}

pub async fn save(id: Option<String>, draft: FormDraft) -> Result<Form, AppError> {
    let (state, user) = require(Role::Designer).await?;
    let draft = draft.validated()?;
    // Every data source a list or a rule names, and where the form names it.
    let mut sources = Vec::new();
    for (index, field) in draft.fields.iter().enumerate() {
        if let Some(ListSource::DataSource { binding }) = &field.list {
            let at = format!("fields.{index}");
            check_binding(binding).map_err(|m| AppError::invalid(&at, m))?;
            sources.push((at, &binding.data_source));
        }
    }
    for (index, rule) in draft.rules.iter().enumerate() {
        let at = format!("rules.{index}");
        data_rules::check(rule).map_err(|m| AppError::invalid(&at, m))?;
        sources.push((at, &rule.data_source));
    }
    for (at, source) in sources {
        check_key("Data source", source)?;
        let source =
            state.store.data_source(source).await?.ok_or_else(|| {
                AppError::invalid(&at, "The chosen data source no longer exists.")
            })?;
        if !may_query(&state, &user, &source).await? {
            return Err(AppError::Denied(format!(
                "You may not use the data source “{}”; ask its administrators to add you to its connection users.",
                source.name
            )));
        }
    }
    let form = match id {
        Some(id) => {
            load_form(&state, &id).await?;
            state.store.update_form(&id, &draft, &user.id).await?
        }
        None => state.store.create_form(&draft, &user.id).await?,
    };
    tracing::info!(form = %form.id, "form saved");
    Ok(form)
}

pub async fn delete(id: &str) -> Result<(), AppError> {
    let (state, _) = require(Role::Designer).await?;
    load_form(&state, id).await?;
    state.store.delete_form(id).await?;
    Ok(())
}

/// The data sources `user` may query (read and write Procore data through), by name.
pub async fn queryable(
    state: &AppState,
    user: &SessionUser,
) -> Result<Vec<SourceRecord>, AppError> {
    let groups = state.store.groups_of(&user.id).await?;
    Ok(state
        .store
        .list_data_sources()
        .await?
        .into_iter()
        .filter(|source| queries(user, &groups, source))
        .collect())
}

/// For the designer's pickers and the explorer: anyone signed in sees the ones they may use.
pub async fn queryable_sources() -> Result<Vec<QueryableSource>, AppError> {
    let (state, user) = signed_in().await?;
    Ok(queryable(&state, &user)
        .await?
        .into_iter()
        .map(|source| QueryableSource {
            ready: source.status == Status::Ready,
            id: source.id,
            name: source.name,
        })
        .collect())
}

/// The catalogue is no secret: anyone signed in may read it (the explorer needs it too).
pub async fn objects() -> Result<Vec<ObjectInfo>, AppError> {
    signed_in().await?;
    Ok(records::objects())
}

pub async fn preview(
    binding: ListBinding,
    request: OptionsRequest,
) -> Result<OptionsPage, AppError> {
    let (state, user) = require(Role::Designer).await?;
    options_for(&state, &user, &binding, &request).await
}

pub async fn options(
    form: &str,
    field: &str,
    request: OptionsRequest,
) -> Result<OptionsPage, AppError> {
    let (state, user) = signed_in().await?;
    let form = load_form(&state, form).await?;
    let Some(ListSource::DataSource { binding }) = form
        .fields
        .iter()
        .find(|f| f.id == field && f.kind == FieldKind::List)
        .and_then(|f| f.list.clone())
    else {
        return Err(AppError::NotFound("List field".into()));
    };
    options_for(&state, &user, &binding, &request).await
}

/// An operand's value now: the constant, or what the named field holds (`None`: not
/// chosen yet, so a cascading list has nothing to show).
fn resolve<'a>(operand: &'a Operand, request: &'a OptionsRequest) -> Option<&'a str> {
    match operand {
        Operand::Constant(value) => Some(value.as_str()),
        Operand::Field(id) => request
            .values
            .iter()
            .find(|(field, _)| field == id)
            .map(|(_, value)| value.as_str())
            .filter(|v| !v.is_empty()),
    }
}

fn text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

async fn options_for(
    state: &AppState,
    user: &SessionUser,
    binding: &ListBinding,
    request: &OptionsRequest,
) -> Result<OptionsPage, AppError> {
    let object = check_binding(binding).map_err(|m| AppError::invalid("binding", m))?;
    check_key("Data source", &binding.data_source)?;
    let source = state
        .store
        .data_source(&binding.data_source)
        .await?
        .ok_or_else(|| AppError::NotFound("Data source".into()))?;
    if !may_query(state, user, &source).await? {
        return Err(AppError::Denied(format!(
            "You may not read Procore data through “{}”; ask its administrators to add you to its connection users.",
            source.name
        )));
    }
    let page = request.page.max(1);
    let empty = OptionsPage {
        options: Vec::new(),
        total: 0,
        page,
        per_page: OPTIONS_PER_PAGE,
    };
    let project_id = match &binding.project {
        None => None,
        Some(operand) => match resolve(operand, request) {
            None => return Ok(empty),
            Some(text) => Some(text.trim().parse::<u64>().map_err(|_| {
                AppError::invalid("project", format!("“{text}” is not a Procore project id."))
            })?),
        },
    };
    let mut filters = Vec::new();
    for condition in &binding.conditions {
        match resolve(&condition.value, request) {
            Some(value) => filters.push(Filter {
                field: condition.field.clone(),
                op: records::operator(condition.op),
                values: vec![value.to_string()],
            }),
            None => return Ok(empty),
        }
    }
    let query = ListQuery {
        filters,
        search: request.search.clone().filter(|s| !s.trim().is_empty()),
        sort: binding.sort_by.clone().map(|field| {
            let direction = match binding.direction {
                Direction::Asc => query::Direction::Asc,
                Direction::Desc => query::Direction::Desc,
            };
            (field, direction)
        }),
        page: Some((page, OPTIONS_PER_PAGE)),
        evaluate_locally: false,
    };
    let Some(company_id) = source.company_id else {
        return Err(AppError::Conflict(format!(
            "The data source “{}” has no Procore company id yet.",
            source.name
        )));
    };
    let scope = Scoped {
        company_id,
        project_id,
        id: None,
    };
    // Starts with the data source's id, so writes through it can drop its entries.
    let key = serde_json::to_string(&(
        &source.id,
        source.environment,
        company_id,
        &binding.object,
        project_id,
        &query,
    ))
    .unwrap_or_default();
    let listing = match state.procore.options_cache().get(&key) {
        Some(listing) => listing,
        None => {
            let client = state.procore.client(&source)?;
            let listing = Arc::new(
                client
                    .list_objects(object, &scope, &query)
                    .await
                    .map_err(|e| records::procore_error(&source, e))?,
            );
            state.procore.options_cache().put(key, listing.clone());
            listing
        }
    };
    Ok(OptionsPage {
        options: listing
            .records
            .iter()
            .map(|record| ListOption {
                value: text(lookup(record, &binding.value_field)),
                display: text(lookup(record, &binding.display_field)),
            })
            .collect(),
        total: listing.total,
        page,
        per_page: OPTIONS_PER_PAGE,
    })
}

/// The start of every options cache key of a data source.
pub fn options_cache_prefix(source: &str) -> String {
    format!("[{},", Value::from(source))
}

/// Stores a filled-in form, then runs its data rules. A rule that fails does not fail the
/// submission: it is kept, with the error, for a retry — nothing the person typed is lost.
pub async fn submit(form: &str, answers: Vec<Answer>) -> Result<Submission, AppError> {
    let (state, user) = signed_in().await?;
    let form = load_form(&state, form).await?;
    for answer in &answers {
        if !form.fields.iter().any(|f| f.id == answer.field) {
            return Err(AppError::invalid(
                "answers",
                format!("“{}” is not a field of this form.", answer.field),
            ));
        }
        if answer.value.chars().count() > 10_000 || answer.display.chars().count() > 10_000 {
            return Err(AppError::invalid(&answer.field, "This answer is too long."));
        }
    }
    for field in form.fields.iter().filter(|f| f.required) {
        let answered = answers
            .iter()
            .any(|a| a.field == field.id && !a.value.trim().is_empty());
        if !answered {
            return Err(AppError::invalid(
                &field.id,
                format!("“{}” is required.", field.label),
            ));
        }
    }
    crate::server::crash::point("submission-before-store");
    let id = state
        .store
        .create_submission(&form.id, &user.id, &answers, !form.rules.is_empty())
        .await?;
    crate::server::crash::point("submission-after-store");
    tracing::info!(form = %form.id, submission = %id, "form submitted");
    if !form.rules.is_empty() {
        run_rules(&state, &user, &form, &id, answers, 0).await?;
    }
    submission_for(&state, &user, &id).await
}

/// Runs the rules from `from` and records how far they got.
async fn run_rules(
    state: &AppState,
    user: &SessionUser,
    form: &Form,
    id: &str,
    answers: Vec<Answer>,
    from: u32,
) -> Result<(), AppError> {
    let run = data_rules::run(state, user, form, answers, from).await;
    let saved = state
        .store
        .save_submission_run(
            id,
            from,
            &run.answers,
            run.state,
            run.completed,
            &run.messages,
        )
        .await?;
    if !saved {
        return Err(AppError::Conflict(
            "This submission was retried by someone else at the same time; reload to see how it went."
                .into(),
        ));
    }
    Ok(())
}

/// Designers see every submission of a form; everyone else, their own.
fn sees_all(user: &SessionUser) -> bool {
    user.has_role(Role::Designer)
}

async fn submission_for(
    state: &AppState,
    user: &SessionUser,
    id: &str,
) -> Result<Submission, AppError> {
    check_key("Submission", id)?;
    let not_found = || AppError::NotFound("Submission".into());
    let (mut submission, by) = state.store.submission(id).await?.ok_or_else(not_found)?;
    if by != user.id && !sees_all(user) {
        return Err(not_found());
    }
    submission.can_retry = submission.state == SubmissionState::Failed;
    Ok(submission)
}

pub async fn submissions(form: &str) -> Result<Vec<Submission>, AppError> {
    let (state, user) = signed_in().await?;
    let form = load_form(&state, form).await?;
    let by = (!sees_all(&user)).then_some(user.id.as_str());
    Ok(state
        .store
        .submissions(&form.id, by)
        .await?
        .into_iter()
        .map(|(mut submission, _)| {
            submission.can_retry = submission.state == SubmissionState::Failed;
            submission
        })
        .collect())
}

/// Runs a failed submission's rules again, from the one that failed, with the caller's
/// rights; rules that already ran are not run twice.
pub async fn retry(id: &str) -> Result<Submission, AppError> {
    let (state, user) = signed_in().await?;
    let submission = submission_for(&state, &user, id).await?;
    if submission.state != SubmissionState::Failed {
        return Err(AppError::Conflict(
            "This submission's data rules have all run; there is nothing to retry.".into(),
        ));
    }
    let form = load_form(&state, &submission.form).await?;
    if !state
        .store
        .claim_submission(id, submission.completed)
        .await?
    {
        return Err(AppError::Conflict(
            "This submission's data rules are running now; reload in a moment to see how it went."
                .into(),
        ));
    }
    run_rules(
        &state,
        &user,
        &form,
        id,
        submission.answers,
        submission.completed,
    )
    .await?;
    tracing::info!(form = %form.id, submission = %id, "submission retried");
    submission_for(&state, &user, id).await
}
