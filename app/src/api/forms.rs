//! Forms: the designer (designers and administrators) and filling in (anyone signed in).
//! List options always come through the server, which checks that the person may query the
//! data source, and never from the browser to Procore.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;
use crate::form::{
    Answer, Form, FormDraft, ListBinding, ObjectInfo, OptionsPage, OptionsRequest, QueryableSource,
    Submission,
};

#[server(prefix = "/api", endpoint = "list_forms")]
pub async fn list_forms() -> Result<Vec<Form>, AppError> {
    crate::api::guard::respond(crate::server::forms::list().await)
}

#[server(prefix = "/api", endpoint = "get_form", input = Json)]
pub async fn get_form(id: String) -> Result<Form, AppError> {
    crate::api::guard::respond(crate::server::forms::get(&id).await)
}

/// Creates (`id: None`) or replaces a form's definition, checked against the catalogue.
#[server(prefix = "/api", endpoint = "save_form", input = Json)]
pub async fn save_form(id: Option<String>, draft: FormDraft) -> Result<Form, AppError> {
    crate::api::guard::respond(crate::server::forms::save(id, draft).await)
}

#[server(prefix = "/api", endpoint = "delete_form", input = Json)]
pub async fn delete_form(id: String) -> Result<(), AppError> {
    crate::api::guard::respond(crate::server::forms::delete(&id).await)
}

/// Data sources the caller may query (their Security "Connection users").
#[server(prefix = "/api", endpoint = "queryable_sources")]
pub async fn queryable_sources() -> Result<Vec<QueryableSource>, AppError> {
    crate::api::guard::respond(crate::server::forms::queryable_sources().await)
}

/// The Procore objects and their fields, for Display / Value / Sort by and conditions.
#[server(prefix = "/api", endpoint = "procore_objects")]
pub async fn procore_objects() -> Result<Vec<ObjectInfo>, AppError> {
    crate::api::guard::respond(crate::server::forms::objects().await)
}

/// The options a binding gives, exactly as the filled-in form will show them: the Edit
/// field dialog's live preview. `values` stand in for the fields it cascades from.
#[server(prefix = "/api", endpoint = "preview_options", input = Json)]
pub async fn preview_options(
    binding: ListBinding,
    request: OptionsRequest,
) -> Result<OptionsPage, AppError> {
    crate::api::guard::respond(crate::server::forms::preview(binding, request).await)
}

/// A saved form's list field's options while the form is filled in.
#[server(prefix = "/api", endpoint = "form_options", input = Json)]
pub async fn form_options(
    form: String,
    field: String,
    request: OptionsRequest,
) -> Result<OptionsPage, AppError> {
    crate::api::guard::respond(crate::server::forms::options(&form, &field, request).await)
}

/// Stores a filled-in form and runs its data rules; a rule that fails leaves the
/// submission stored with the error, for a retry.
#[server(prefix = "/api", endpoint = "submit_form", input = Json)]
pub async fn submit_form(form: String, answers: Vec<Answer>) -> Result<Submission, AppError> {
    crate::api::guard::respond(crate::server::forms::submit(&form, answers).await)
}

/// A form's submissions, newest first: all of them for designers, one's own otherwise.
#[server(prefix = "/api", endpoint = "form_submissions", input = Json)]
pub async fn form_submissions(form: String) -> Result<Vec<Submission>, AppError> {
    crate::api::guard::respond(crate::server::forms::submissions(&form).await)
}

/// Runs a failed submission's data rules again, from the one that failed.
#[server(prefix = "/api", endpoint = "retry_submission", input = Json)]
pub async fn retry_submission(id: String) -> Result<Submission, AppError> {
    crate::api::guard::respond(crate::server::forms::retry(&id).await)
}
