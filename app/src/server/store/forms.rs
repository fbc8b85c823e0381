//! Forms and submissions.

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SurrealValue};

use super::{Store, StoreError, key_of};
use serde::{Deserialize, Serialize};

use crate::form::{Answer, DataRule, Form, FormDraft, FormField, Submission, SubmissionState};

fn form_id(key: &str) -> RecordId {
    RecordId::new("form", key.to_string())
}

fn user_id(key: &str) -> RecordId {
    RecordId::new("user", key.to_string())
}

#[derive(SurrealValue)]
struct FormRow {
    id: RecordId,
    name: String,
    definition: String,
    updated_at: DateTime<Utc>,
}

/// A form's definition as stored: its fields and data rules, as one JSON value the server
/// checked as a whole. Forms stored before data rules existed are a bare list of fields.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Definition {
    Full {
        fields: Vec<FormField>,
        #[serde(default)]
        rules: Vec<DataRule>,
    },
    FieldsOnly(Vec<FormField>),
}

impl FormRow {
    /// The definition was checked before it was stored; one that no longer parses (a
    /// newer release wrote it) is an error, not an empty form.
    fn into_form(self) -> Result<Form, StoreError> {
        let definition: Definition = serde_json::from_str(&self.definition).map_err(|e| {
            StoreError::Conflict(format!(
                "The stored form “{}” cannot be read: {e}",
                self.name
            ))
        })?;
        let (fields, rules) = match definition {
            Definition::Full { fields, rules } => (fields, rules),
            Definition::FieldsOnly(fields) => (fields, Vec::new()),
        };
        Ok(Form {
            id: key_of(&self.id),
            name: self.name,
            fields,
            rules,
            updated_at: self.updated_at,
        })
    }
}

#[derive(SurrealValue)]
struct AnswerRow {
    field: String,
    value: String,
    display: String,
}

fn definition(draft: &FormDraft) -> String {
    serde_json::to_string(&Definition::Full {
        fields: draft.fields.clone(),
        rules: draft.rules.clone(),
    })
    .unwrap_or_else(|_| "[]".into())
}

#[derive(SurrealValue)]
struct SubmissionRow {
    id: RecordId,
    form: RecordId,
    at: DateTime<Utc>,
    by: RecordId,
    by_name: Option<String>,
    state: String,
    answers: Vec<AnswerRow>,
    completed: i64,
    messages: Vec<String>,
}

impl SubmissionRow {
    fn into_submission(self) -> (Submission, String) {
        let by = key_of(&self.by);
        let submission = Submission {
            id: key_of(&self.id),
            form: key_of(&self.form),
            at: self.at,
            by: self.by_name.unwrap_or_else(|| "A deleted user".into()),
            state: if self.state == "failed" {
                SubmissionState::Failed
            } else {
                SubmissionState::Done
            },
            answers: self
                .answers
                .into_iter()
                .map(AnswerRow::into_answer)
                .collect(),
            completed: u32::try_from(self.completed).unwrap_or(0),
            messages: self.messages,
            can_retry: false,
        };
        (submission, by)
    }
}

impl AnswerRow {
    fn into_answer(self) -> Answer {
        Answer {
            field: self.field,
            value: self.value,
            display: self.display,
        }
    }
}

fn answer_objects(answers: &[Answer]) -> Vec<surrealdb::types::Object> {
    answers
        .iter()
        .map(|a| {
            surrealdb::types::object! {
                field: a.field.clone(),
                value: a.value.clone(),
                display: a.display.clone(),
            }
        })
        .collect()
}

fn state_key(state: SubmissionState) -> &'static str {
    match state {
        SubmissionState::Done => "done",
        SubmissionState::Failed => "failed",
    }
}

const SUBMISSION_FIELDS: &str =
    "id, form, at, by, by.name AS by_name, state, answers, completed, messages";

impl Store {
    pub async fn list_forms(&self) -> Result<Vec<Form>, StoreError> {
        let rows: Vec<FormRow> = self
            .db()
            .query("SELECT id, name, definition, updated_at FROM form ORDER BY name ASC")
            .await?
            .take(0)?;
        rows.into_iter().map(FormRow::into_form).collect()
    }

    pub async fn form(&self, id: &str) -> Result<Option<Form>, StoreError> {
        let recent = &self.recent.forms;
        if let Some(form) = recent.get(id) {
            return Ok(Some(form));
        }
        let ticket = recent.ticket();
        let row: Option<FormRow> = self
            .db()
            .query("SELECT id, name, definition, updated_at FROM ONLY $id")
            .bind(("id", form_id(id)))
            .await?
            .take(0)?;
        let form = row.map(FormRow::into_form).transpose()?;
        if let Some(form) = &form {
            recent.put(ticket, id, form.clone());
        }
        Ok(form)
    }

    pub async fn create_form(&self, draft: &FormDraft, by: &str) -> Result<Form, StoreError> {
        let row: Option<FormRow> = self
            .db()
            .query(
                "CREATE ONLY form CONTENT { name: $name, definition: $definition, updated_by: $by } \
                 RETURN id, name, definition, updated_at",
            )
            .bind(("name", draft.name.clone()))
            .bind(("definition", definition(draft)))
            .bind(("by", user_id(by)))
            .await?
            .take(0)?;
        row.ok_or(StoreError::NotFound("Form"))?.into_form()
    }

    pub async fn update_form(
        &self,
        id: &str,
        draft: &FormDraft,
        by: &str,
    ) -> Result<Form, StoreError> {
        let _written = self.recent.forms.writing();
        let row: Option<FormRow> = self
            .db()
            .query(
                "UPDATE ONLY $id SET name = $name, definition = $definition, updated_by = $by, \
                 updated_at = time::now() RETURN id, name, definition, updated_at",
            )
            .bind(("id", form_id(id)))
            .bind(("name", draft.name.clone()))
            .bind(("definition", definition(draft)))
            .bind(("by", user_id(by)))
            .await?
            .take(0)?;
        row.ok_or(StoreError::NotFound("Form"))?.into_form()
    }

    pub async fn delete_form(&self, id: &str) -> Result<(), StoreError> {
        let _written = self.recent.forms.writing();
        self.db()
            .query("BEGIN; DELETE form_submission WHERE form = $id; DELETE $id; COMMIT;")
            .bind(("id", form_id(id)))
            .await?
            .check()?;
        Ok(())
    }

    /// Stores what was entered before any data rule runs, so a crash mid-way loses nothing:
    /// with rules to run it starts as failed ("interrupted") and is marked done after.
    pub async fn create_submission(
        &self,
        form: &str,
        by: &str,
        answers: &[Answer],
        rules_to_run: bool,
    ) -> Result<String, StoreError> {
        let (state, messages) = if rules_to_run {
            (
                SubmissionState::Failed,
                vec!["Interrupted before its data rules finished; retry it.".to_string()],
            )
        } else {
            (SubmissionState::Done, Vec::new())
        };
        let id: Option<RecordId> = self
            .db()
            .query(
                "CREATE ONLY form_submission CONTENT { form: $form, by: $by, answers: $answers, \
                 state: $state, messages: $messages, \
                 claimed_until: IF $claim THEN time::now() + 5m ELSE NONE END } RETURN VALUE id",
            )
            .bind(("form", form_id(form)))
            .bind(("by", user_id(by)))
            .bind(("answers", answer_objects(answers)))
            .bind(("state", state_key(state)))
            .bind(("messages", messages))
            .bind(("claim", rules_to_run))
            .await?
            .take(0)?;
        id.map(|id| key_of(&id))
            .ok_or(StoreError::NotFound("Submission"))
    }

    /// Claims a failed submission for one run of its rules: `false` when another run holds
    /// it (a claim lapses after five minutes, in case that run's server died).
    pub async fn claim_submission(&self, id: &str, from: u32) -> Result<bool, StoreError> {
        let claimed: Option<RecordId> = self
            .db()
            .query(
                "UPDATE ONLY $id SET claimed_until = time::now() + 5m \
                 WHERE state = 'failed' AND completed = $from \
                 AND (claimed_until = NONE OR claimed_until < time::now()) RETURN VALUE id",
            )
            .bind(("id", RecordId::new("form_submission", id.to_string())))
            .bind(("from", i64::from(from)))
            .await?
            .take(0)?;
        Ok(claimed.is_some())
    }

    /// Records how a run of the data rules went. `from` is the `completed` count the run
    /// started at: a second run of the same submission at the same time loses, so no rule
    /// runs twice on its account.
    pub async fn save_submission_run(
        &self,
        id: &str,
        from: u32,
        answers: &[Answer],
        state: SubmissionState,
        completed: u32,
        messages: &[String],
    ) -> Result<bool, StoreError> {
        let saved: Option<RecordId> = self
            .db()
            .query(
                "UPDATE ONLY $id SET answers = $answers, state = $state, completed = $completed, \
                 messages = $messages, claimed_until = NONE, updated_at = time::now() \
                 WHERE completed = $from RETURN VALUE id",
            )
            .bind(("id", RecordId::new("form_submission", id.to_string())))
            .bind(("answers", answer_objects(answers)))
            .bind(("state", state_key(state)))
            .bind(("completed", i64::from(completed)))
            .bind(("messages", messages.to_vec()))
            .bind(("from", i64::from(from)))
            .await?
            .take(0)?;
        Ok(saved.is_some())
    }

    /// A submission and its submitter's id.
    pub async fn submission(&self, id: &str) -> Result<Option<(Submission, String)>, StoreError> {
        let row: Option<SubmissionRow> = self
            .db()
            .query(format!("SELECT {SUBMISSION_FIELDS} FROM ONLY $id"))
            .bind(("id", RecordId::new("form_submission", id.to_string())))
            .await?
            .take(0)?;
        Ok(row.map(SubmissionRow::into_submission))
    }

    /// A form's submissions, newest first; only `by`'s when given. With their submitters' ids.
    pub async fn submissions(
        &self,
        form: &str,
        by: Option<&str>,
    ) -> Result<Vec<(Submission, String)>, StoreError> {
        let filter = if by.is_some() { " AND by = $by" } else { "" };
        let rows: Vec<SubmissionRow> = self
            .db()
            .query(format!(
                "SELECT {SUBMISSION_FIELDS} FROM form_submission WHERE form = $form{filter} \
                 ORDER BY at DESC LIMIT 500"
            ))
            .bind(("form", form_id(form)))
            .bind(("by", by.map(user_id)))
            .await?
            .take(0)?;
        Ok(rows
            .into_iter()
            .map(SubmissionRow::into_submission)
            .collect())
    }
}
