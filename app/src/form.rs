//! Forms as the designer builds them and the filling page reads them: an ordered list of
//! typed fields, where a list field takes its options from a manual list or from a Procore
//! object of a data source (Display / Value / Sort by, conditions, cascading from other
//! list fields). Shared by server and browser; the server checks every definition again.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::{is_record_key, validate_name};
pub use crate::record::{Direction, ObjectField, ObjectInfo, Operator};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    #[default]
    Text,
    Number,
    Date,
    Checkbox,
    List,
}

impl FieldKind {
    pub const ALL: [FieldKind; 5] = [
        FieldKind::Text,
        FieldKind::Number,
        FieldKind::Date,
        FieldKind::Checkbox,
        FieldKind::List,
    ];

    pub fn label(self) -> &'static str {
        match self {
            FieldKind::Text => "Text",
            FieldKind::Number => "Number",
            FieldKind::Date => "Date",
            FieldKind::Checkbox => "Checkbox",
            FieldKind::List => "List",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisplayFormat {
    #[default]
    Dropdown,
    Radio,
}

/// A value in a binding: typed by the designer, or taken from another field of the form
/// when the form is filled in (cascading lists).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Operand {
    Constant(String),
    Field(String),
}

/// Only records whose `field` (a catalogue field of the object) compares with the value
/// as `op` says. Definitions saved before operators existed read as equality.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Condition {
    pub field: String,
    #[serde(default)]
    pub op: Operator,
    pub value: Operand,
}

/// Where a list field's options come from in Procore.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ListBinding {
    pub data_source: String,
    /// A catalogue object key, e.g. `projects`, `rfis`.
    pub object: String,
    pub display_field: String,
    pub value_field: String,
    pub sort_by: Option<String>,
    pub direction: Direction,
    /// Required for project-scoped objects.
    pub project: Option<Operand>,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ListOption {
    pub value: String,
    pub display: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ListSource {
    Manual { options: Vec<ListOption> },
    DataSource { binding: ListBinding },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormField {
    /// Stable within the form, so conditions can name it: letters and digits.
    pub id: String,
    pub label: String,
    pub kind: FieldKind,
    pub required: bool,
    /// For list fields.
    pub list: Option<ListSource>,
    pub format: DisplayFormat,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Form {
    pub id: String,
    pub name: String,
    pub fields: Vec<FormField>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FormDraft {
    pub name: String,
    pub fields: Vec<FormField>,
}

/// A data source the caller may query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryableSource {
    pub id: String,
    pub name: String,
    pub ready: bool,
}

/// One page of a list field's options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionsPage {
    pub options: Vec<ListOption>,
    /// All matching options; more pages follow when it exceeds what was shown.
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

/// What a list field's options depend on while a form is filled in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OptionsRequest {
    /// Values of the other fields, by field id (the value, not the display text).
    pub values: Vec<(String, String)>,
    pub search: Option<String>,
    /// 1-based.
    pub page: u64,
}

/// A chosen value of a submission, with the text the person saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub field: String,
    pub value: String,
    pub display: String,
}

pub const FORM_NAME_MAX: usize = 100;
pub const MAX_FIELDS: usize = 100;

impl FormDraft {
    /// Checks what needs no catalogue: names, ids, and that cascades point at list fields
    /// earlier in the form. The server adds the catalogue checks.
    pub fn validated(mut self) -> Result<FormDraft, AppError> {
        self.name = validate_name("name", &self.name, FORM_NAME_MAX)?;
        if self.fields.len() > MAX_FIELDS {
            return Err(AppError::invalid(
                "fields",
                format!("A form has at most {MAX_FIELDS} fields."),
            ));
        }
        let mut seen: Vec<&str> = Vec::new();
        for (index, field) in self.fields.iter_mut().enumerate() {
            let at =
                |message: &str| AppError::invalid(&format!("fields.{index}"), message.to_string());
            field.label = validate_name(&format!("fields.{index}.label"), &field.label, 100)?;
            if !is_record_key(&field.id) || seen.contains(&field.id.as_str()) {
                return Err(at("Each field needs its own id of letters and digits."));
            }
            match (field.kind, &field.list) {
                (FieldKind::List, None) => {
                    return Err(at("Choose where the list's options come from."));
                }
                (FieldKind::List, Some(ListSource::Manual { options })) if options.is_empty() => {
                    return Err(at("Enter at least one option."));
                }
                (FieldKind::List, Some(ListSource::DataSource { binding })) => {
                    let earlier = |id: &str| seen.contains(&id);
                    for operand in binding
                        .conditions
                        .iter()
                        .map(|c| &c.value)
                        .chain(binding.project.iter())
                    {
                        if let Operand::Field(id) = operand
                            && !earlier(id)
                        {
                            return Err(at(
                                "A condition may only use a field that comes before this one.",
                            ));
                        }
                    }
                    if binding.display_field.is_empty() || binding.value_field.is_empty() {
                        return Err(at("Choose the Display field and the Value field."));
                    }
                }
                (FieldKind::List, Some(ListSource::Manual { .. })) => {}
                (_, Some(_)) => field.list = None,
                (_, None) => {}
            }
            seen.push(&field.id);
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(id: &str, binding: ListBinding) -> FormField {
        FormField {
            id: id.into(),
            label: id.into(),
            kind: FieldKind::List,
            required: false,
            list: Some(ListSource::DataSource { binding }),
            format: DisplayFormat::Dropdown,
        }
    }

    fn binding(project: Option<Operand>) -> ListBinding {
        ListBinding {
            data_source: "ds".into(),
            object: "rfis".into(),
            display_field: "subject".into(),
            value_field: "id".into(),
            project,
            ..Default::default()
        }
    }

    #[test]
    fn conditions_saved_before_operators_read_as_equality() {
        let saved = r#"{"field":"status","value":{"kind":"constant","value":"open"}}"#;
        let condition: Condition = serde_json::from_str(saved).unwrap();
        assert_eq!(condition.op, Operator::Eq);
    }

    #[test]
    fn cascades_only_from_earlier_fields() {
        let draft = FormDraft {
            name: "RFI".into(),
            fields: vec![
                list("project", binding(Some(Operand::Constant("1".into())))),
                list("rfi", binding(Some(Operand::Field("project".into())))),
            ],
        };
        assert!(draft.clone().validated().is_ok());
        let backwards = FormDraft {
            name: "RFI".into(),
            fields: draft.fields.into_iter().rev().collect(),
        };
        let err = backwards.validated().unwrap_err();
        assert_eq!(err.field(), Some("fields.0"));
    }

    #[test]
    fn list_fields_need_display_and_value() {
        let mut b = binding(None);
        b.value_field.clear();
        let draft = FormDraft {
            name: "F".into(),
            fields: vec![list("a", b)],
        };
        assert!(
            draft
                .validated()
                .unwrap_err()
                .to_string()
                .contains("Value field")
        );
    }
}
