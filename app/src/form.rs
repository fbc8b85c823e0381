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
    /// Run in order when the form is submitted.
    #[serde(default)]
    pub rules: Vec<DataRule>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FormDraft {
    pub name: String,
    pub fields: Vec<FormField>,
    #[serde(default)]
    pub rules: Vec<DataRule>,
}

/// What a data rule does with its Procore object when the form is submitted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleAction {
    #[default]
    Create,
    Update,
    Delete,
    Find,
}

impl RuleAction {
    pub const ALL: [RuleAction; 4] = [
        RuleAction::Create,
        RuleAction::Update,
        RuleAction::Delete,
        RuleAction::Find,
    ];

    pub fn label(self) -> &'static str {
        match self {
            RuleAction::Create => "Create item",
            RuleAction::Update => "Update item",
            RuleAction::Delete => "Delete item",
            RuleAction::Find => "Find items",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            RuleAction::Create => "create",
            RuleAction::Update => "update",
            RuleAction::Delete => "delete",
            RuleAction::Find => "find",
        }
    }

    pub fn from_key(key: &str) -> Option<RuleAction> {
        RuleAction::ALL.into_iter().find(|a| a.key() == key)
    }

    /// Writes take attributes from the form.
    pub fn takes_inputs(self) -> bool {
        matches!(self, RuleAction::Create | RuleAction::Update)
    }

    /// Update and delete act on one record, named by its id.
    pub fn needs_record(self) -> bool {
        matches!(self, RuleAction::Update | RuleAction::Delete)
    }

    /// Delete leaves no record to read back from.
    pub fn gives_outputs(self) -> bool {
        !matches!(self, RuleAction::Delete)
    }
}

/// A Procore attribute (by write key) and where its value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RuleInput {
    pub attribute: String,
    pub value: Operand,
}

/// A field of the Procore record the rule ends with, copied into a form field.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RuleOutput {
    /// A catalogue field (dotted path), e.g. `number`.
    pub field: String,
    /// A form field id.
    pub into: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    /// Keep the submission with the error, for a retry from this rule.
    #[default]
    Stop,
    /// Note the error and go on with the next rule.
    Continue,
}

/// Create / Update / Delete / Find against a data source object, run on submit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DataRule {
    /// Stable within the form: letters and digits.
    pub id: String,
    pub action: RuleAction,
    pub data_source: String,
    pub object: String,
    /// Required for project-scoped objects.
    #[serde(default)]
    pub project: Option<Operand>,
    /// Update and delete: the record's id.
    #[serde(default)]
    pub record: Option<Operand>,
    #[serde(default)]
    pub inputs: Vec<RuleInput>,
    /// Find: which records; the first one found gives the outputs.
    #[serde(default)]
    pub conditions: Vec<Condition>,
    #[serde(default)]
    pub outputs: Vec<RuleOutput>,
    #[serde(default)]
    pub on_error: OnError,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionState {
    /// Stored, and every data rule ran (or there were none).
    #[default]
    Done,
    /// A data rule failed; the answers are kept for a retry from that rule.
    Failed,
}

/// A stored submission: what was entered (and what data rules wrote back), and how the
/// rules went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submission {
    pub id: String,
    pub form: String,
    pub at: DateTime<Utc>,
    /// Who submitted it (their name).
    pub by: String,
    pub state: SubmissionState,
    pub answers: Vec<Answer>,
    /// How many rules have run; a retry starts after them.
    pub completed: u32,
    /// Why the last run stopped, or what rules that may fail noted.
    pub messages: Vec<String>,
    /// Whether the caller may retry it (theirs, or they design forms).
    #[serde(default)]
    pub can_retry: bool,
}

pub const MAX_RULES: usize = 20;

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
        if self.rules.len() > MAX_RULES {
            return Err(AppError::invalid(
                "rules",
                format!("A form has at most {MAX_RULES} data rules."),
            ));
        }
        let is_field = |id: &str| self.fields.iter().any(|f| f.id == id);
        let mut rule_ids: Vec<&str> = Vec::new();
        for (index, rule) in self.rules.iter().enumerate() {
            let at =
                |message: &str| AppError::invalid(&format!("rules.{index}"), message.to_string());
            if !is_record_key(&rule.id) || rule_ids.contains(&rule.id.as_str()) {
                return Err(at("Each data rule needs its own id of letters and digits."));
            }
            rule_ids.push(&rule.id);
            if rule.data_source.is_empty() || rule.object.is_empty() {
                return Err(at("Choose a data source and a Procore object."));
            }
            if rule.action.needs_record() && rule.record.as_ref().is_none_or(Operand::is_blank) {
                return Err(at("Say which record: its id, typed or from a field."));
            }
            if rule.action.takes_inputs() && rule.inputs.is_empty() {
                return Err(at("Map at least one form field to a Procore field."));
            }
            let operands = rule
                .inputs
                .iter()
                .map(|i| &i.value)
                .chain(rule.conditions.iter().map(|c| &c.value))
                .chain(rule.project.iter())
                .chain(rule.record.iter());
            for operand in operands {
                if let Operand::Field(id) = operand
                    && !is_field(id)
                {
                    return Err(at("A mapping uses a field that is not on the form."));
                }
            }
            for output in &rule.outputs {
                if !is_field(&output.into) {
                    return Err(at("A result goes into a field that is not on the form."));
                }
            }
            if !rule.action.gives_outputs() && !rule.outputs.is_empty() {
                return Err(at("A deleted item has nothing to copy back into the form."));
            }
        }
        Ok(self)
    }
}

impl Operand {
    /// An empty constant or no field chosen.
    pub fn is_blank(&self) -> bool {
        match self {
            Operand::Constant(v) | Operand::Field(v) => v.trim().is_empty(),
        }
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
    fn rules_name_fields_of_the_form_and_what_their_action_needs() {
        let text = |id: &str| FormField {
            id: id.into(),
            label: id.into(),
            kind: FieldKind::Text,
            required: false,
            list: None,
            format: DisplayFormat::Dropdown,
        };
        let rule = DataRule {
            id: "r1".into(),
            action: RuleAction::Create,
            data_source: "ds".into(),
            object: "rfis".into(),
            project: Some(Operand::Constant("1".into())),
            inputs: vec![RuleInput {
                attribute: "subject".into(),
                value: Operand::Field("subject".into()),
            }],
            outputs: vec![RuleOutput {
                field: "number".into(),
                into: "number".into(),
            }],
            ..DataRule::default()
        };
        let draft = |rules: Vec<DataRule>| FormDraft {
            name: "RFI".into(),
            fields: vec![text("subject"), text("number")],
            rules,
        };
        assert!(draft(vec![rule.clone()]).validated().is_ok());
        let refused = |rule: DataRule| draft(vec![rule]).validated().unwrap_err().to_string();
        let mut unknown_input = rule.clone();
        unknown_input.inputs[0].value = Operand::Field("gone".into());
        assert!(refused(unknown_input).contains("not on the form"));
        let mut unknown_output = rule.clone();
        unknown_output.outputs[0].into = "gone".into();
        assert!(refused(unknown_output).contains("not on the form"));
        let update = DataRule {
            action: RuleAction::Update,
            ..rule.clone()
        };
        assert!(refused(update).contains("which record"));
        let delete = DataRule {
            action: RuleAction::Delete,
            record: Some(Operand::Field("number".into())),
            inputs: Vec::new(),
            ..rule.clone()
        };
        assert!(refused(delete).contains("nothing to copy back"));
        let twice = draft(vec![rule.clone(), rule.clone()])
            .validated()
            .unwrap_err();
        assert_eq!(twice.field(), Some("rules.1"));
    }

    #[test]
    fn cascades_only_from_earlier_fields() {
        let draft = FormDraft {
            name: "RFI".into(),
            fields: vec![
                list("project", binding(Some(Operand::Constant("1".into())))),
                list("rfi", binding(Some(Operand::Field("project".into())))),
            ],
            rules: Vec::new(),
        };
        assert!(draft.clone().validated().is_ok());
        let backwards = FormDraft {
            name: "RFI".into(),
            fields: draft.fields.into_iter().rev().collect(),
            rules: Vec::new(),
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
            rules: Vec::new(),
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
