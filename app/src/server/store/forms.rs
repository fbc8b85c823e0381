//! Forms and submissions.

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SurrealValue};

use super::{Store, StoreError, key_of};
use crate::form::{Answer, Form, FormField};

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

impl FormRow {
    /// The definition was checked before it was stored; one that no longer parses (a
    /// newer release wrote it) is an error, not an empty form.
    fn into_form(self) -> Result<Form, StoreError> {
        let fields: Vec<FormField> = serde_json::from_str(&self.definition).map_err(|e| {
            StoreError::Conflict(format!(
                "The stored form “{}” cannot be read: {e}",
                self.name
            ))
        })?;
        Ok(Form {
            id: key_of(&self.id),
            name: self.name,
            fields,
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

fn definition(fields: &[FormField]) -> String {
    serde_json::to_string(fields).unwrap_or_else(|_| "[]".into())
}

impl Store {
    pub async fn list_forms(&self) -> Result<Vec<Form>, StoreError> {
        let rows: Vec<FormRow> = self
            .db
            .query("SELECT id, name, definition, updated_at FROM form ORDER BY name ASC")
            .await?
            .take(0)?;
        rows.into_iter().map(FormRow::into_form).collect()
    }

    pub async fn form(&self, id: &str) -> Result<Option<Form>, StoreError> {
        let row: Option<FormRow> = self
            .db
            .query("SELECT id, name, definition, updated_at FROM ONLY $id")
            .bind(("id", form_id(id)))
            .await?
            .take(0)?;
        row.map(FormRow::into_form).transpose()
    }

    pub async fn create_form(
        &self,
        name: &str,
        fields: &[FormField],
        by: &str,
    ) -> Result<Form, StoreError> {
        let row: Option<FormRow> = self
            .db
            .query(
                "CREATE ONLY form CONTENT { name: $name, definition: $definition, updated_by: $by } \
                 RETURN id, name, definition, updated_at",
            )
            .bind(("name", name.to_string()))
            .bind(("definition", definition(fields)))
            .bind(("by", user_id(by)))
            .await?
            .take(0)?;
        row.ok_or(StoreError::NotFound("Form"))?.into_form()
    }

    pub async fn update_form(
        &self,
        id: &str,
        name: &str,
        fields: &[FormField],
        by: &str,
    ) -> Result<Form, StoreError> {
        let row: Option<FormRow> = self
            .db
            .query(
                "UPDATE ONLY $id SET name = $name, definition = $definition, updated_by = $by, \
                 updated_at = time::now() RETURN id, name, definition, updated_at",
            )
            .bind(("id", form_id(id)))
            .bind(("name", name.to_string()))
            .bind(("definition", definition(fields)))
            .bind(("by", user_id(by)))
            .await?
            .take(0)?;
        row.ok_or(StoreError::NotFound("Form"))?.into_form()
    }

    pub async fn delete_form(&self, id: &str) -> Result<(), StoreError> {
        self.db
            .query("BEGIN; DELETE form_submission WHERE form = $id; DELETE $id; COMMIT;")
            .bind(("id", form_id(id)))
            .await?
            .check()?;
        Ok(())
    }

    pub async fn create_submission(
        &self,
        form: &str,
        by: &str,
        answers: &[Answer],
    ) -> Result<String, StoreError> {
        let answers: Vec<surrealdb::types::Object> = answers
            .iter()
            .map(|a| {
                surrealdb::types::object! {
                    field: a.field.clone(),
                    value: a.value.clone(),
                    display: a.display.clone(),
                }
            })
            .collect();
        let id: Option<RecordId> = self
            .db
            .query("CREATE ONLY form_submission CONTENT { form: $form, by: $by, answers: $answers } RETURN VALUE id")
            .bind(("form", form_id(form)))
            .bind(("by", user_id(by)))
            .bind(("answers", answers))
            .await?
            .take(0)?;
        id.map(|id| key_of(&id))
            .ok_or(StoreError::NotFound("Submission"))
    }

    /// A form's submissions' answers, newest first.
    pub async fn submissions(&self, form: &str) -> Result<Vec<Vec<Answer>>, StoreError> {
        let rows: Vec<Vec<AnswerRow>> = self
            .db
            .query("SELECT VALUE answers FROM form_submission WHERE form = $form ORDER BY at DESC")
            .bind(("form", form_id(form)))
            .await?
            .take(0)?;
        Ok(rows
            .into_iter()
            .map(|answers| {
                answers
                    .into_iter()
                    .map(|a| Answer {
                        field: a.field,
                        value: a.value,
                        display: a.display,
                    })
                    .collect()
            })
            .collect())
    }
}
