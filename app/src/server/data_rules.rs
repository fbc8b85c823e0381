//! Data rules: what a form does in Procore when it is submitted — create, update, delete
//! or find an item, with form fields mapped in and Procore fields copied back out. They run
//! in order after the submission is stored, through the same records service as the
//! explorer and the REST API, with the rights of the person submitting.

use procore::catalogue::{Operation, Scope, catalogue};
use serde_json::Value;

use super::AppState;
use super::records;
use crate::error::AppError;
use crate::form::{Answer, DataRule, Form, OnError, Operand, RuleAction, SubmissionState};
use crate::model::SessionUser;
use crate::record::{Attributes, RecordFilter, RecordQuery, RecordScope, cell_text, lookup};

fn operation(action: RuleAction) -> Operation {
    match action {
        RuleAction::Create => Operation::Create,
        RuleAction::Update => Operation::Update,
        RuleAction::Delete => Operation::Delete,
        RuleAction::Find => Operation::List,
    }
}

/// The catalogue checks of a rule: the object exists and Procore allows the action, every
/// mapped attribute is writable, every condition and output names a field, and a
/// project-scoped object says which project.
pub fn check(rule: &DataRule) -> Result<(), String> {
    let object = catalogue()
        .get(&rule.object)
        .ok_or_else(|| format!("“{}” is not a Procore object.", rule.object))?;
    if !object.supports(operation(rule.action)) {
        return Err(format!(
            "Procore does not allow “{}” on {}.",
            rule.action.label(),
            object.label
        ));
    }
    for input in &rule.inputs {
        if !object
            .fields
            .iter()
            .any(|f| f.write_key() == Some(input.attribute.as_str()))
        {
            return Err(format!(
                "{} has no field “{}” Trestle can write.",
                object.label, input.attribute
            ));
        }
    }
    for name in rule
        .conditions
        .iter()
        .map(|c| &c.field)
        .chain(rule.outputs.iter().map(|o| &o.field))
    {
        if object.field(name).is_none() {
            return Err(format!("“{name}” is not a field of {}.", object.label));
        }
    }
    if object.scope == Scope::Project && rule.project.as_ref().is_none_or(Operand::is_blank) {
        return Err(format!("{} belong to a project: say which.", object.label));
    }
    Ok(())
}

/// What one run of a submission's rules ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub answers: Vec<Answer>,
    pub state: SubmissionState,
    /// Rules done, counting from the first: the next run starts after them.
    pub completed: u32,
    pub messages: Vec<String>,
}

/// Runs `form`'s rules from index `from` on `answers`. A rule that fails stops the run
/// (its submission is kept for a retry from that rule) unless it says to go on.
pub async fn run(
    state: &AppState,
    user: &SessionUser,
    form: &Form,
    mut answers: Vec<Answer>,
    from: u32,
) -> Run {
    let mut messages = Vec::new();
    for (index, rule) in form.rules.iter().enumerate().skip(from as usize) {
        match run_rule(state, user, rule, &answers).await {
            Ok(record) => copy_outputs(rule, record.as_ref(), &mut answers),
            Err(error) => {
                let message = describe(index, rule, &error);
                tracing::info!(form = %form.id, rule = %rule.id, error = %error, "data rule failed");
                messages.push(message);
                if rule.on_error == OnError::Stop {
                    return Run {
                        answers,
                        state: SubmissionState::Failed,
                        completed: index as u32,
                        messages,
                    };
                }
            }
        }
    }
    Run {
        answers,
        state: SubmissionState::Done,
        completed: form.rules.len() as u32,
        messages,
    }
}

fn describe(index: usize, rule: &DataRule, error: &AppError) -> String {
    let object = catalogue()
        .get(&rule.object)
        .map_or(rule.object.as_str(), |o| o.label.as_str());
    let mut message = format!(
        "Rule {} ({}, {object}) failed: {error}",
        index + 1,
        rule.action.label()
    );
    let fields: Vec<String> = error
        .field_messages()
        .into_iter()
        .map(|(field, messages)| format!("{field} {}", messages.join(", ")))
        .collect();
    if !fields.is_empty() && !message.contains(&fields[0]) {
        message.push_str(&format!(" ({})", fields.join("; ")));
    }
    message
}

fn value_of<'a>(operand: &'a Operand, answers: &'a [Answer]) -> &'a str {
    match operand {
        Operand::Constant(value) => value,
        Operand::Field(id) => answers
            .iter()
            .find(|a| a.field == *id)
            .map_or("", |a| a.value.as_str()),
    }
}

fn id_from(what: &str, operand: Option<&Operand>, answers: &[Answer]) -> Result<u64, AppError> {
    let text = operand.map_or("", |o| value_of(o, answers)).trim();
    text.parse().map_err(|_| {
        AppError::invalid(
            what,
            if text.is_empty() {
                format!("No {what} id was given.")
            } else {
                format!("“{text}” is not a Procore {what} id.")
            },
        )
    })
}

/// One rule; the record it ends with (created, updated or found) gives the outputs.
async fn run_rule(
    state: &AppState,
    user: &SessionUser,
    rule: &DataRule,
    answers: &[Answer],
) -> Result<Option<Value>, AppError> {
    check(rule).map_err(AppError::Conflict)?;
    let project = match &rule.project {
        Some(operand) => Some(id_from("project", Some(operand), answers)?),
        None => None,
    };
    let scope = RecordScope {
        data_source: rule.data_source.clone(),
        object: rule.object.clone(),
        project,
    };
    let attributes = || -> Attributes {
        rule.inputs
            .iter()
            .map(|i| {
                (
                    i.attribute.clone(),
                    Value::String(value_of(&i.value, answers).to_string()),
                )
            })
            .collect()
    };
    match rule.action {
        RuleAction::Create => records::create(state, user, &scope, attributes())
            .await
            .map(Some),
        RuleAction::Update => {
            let id = id_from("record", rule.record.as_ref(), answers)?;
            records::update(state, user, &scope, id, attributes())
                .await
                .map(Some)
        }
        RuleAction::Delete => {
            let id = id_from("record", rule.record.as_ref(), answers)?;
            records::delete(state, user, &scope, id)
                .await
                .map(|()| None)
        }
        RuleAction::Find => {
            let query = RecordQuery {
                filters: rule
                    .conditions
                    .iter()
                    .map(|c| RecordFilter {
                        field: c.field.clone(),
                        op: c.op,
                        value: value_of(&c.value, answers).to_string(),
                    })
                    .collect(),
                per_page: 1,
                ..RecordQuery::default()
            };
            let page = records::list(state, user, &scope, &query).await?;
            Ok(page.records.into_iter().next())
        }
    }
}

/// Copies the record's fields into the form's answers; nothing found clears them, so a
/// value from an earlier run never passes for this one's.
fn copy_outputs(rule: &DataRule, record: Option<&Value>, answers: &mut Vec<Answer>) {
    for output in &rule.outputs {
        let text = cell_text(record.and_then(|r| lookup(r, &output.field)));
        match answers.iter_mut().find(|a| a.field == output.into) {
            Some(answer) => {
                answer.value = text.clone();
                answer.display = text;
            }
            None => answers.push(Answer {
                field: output.into.clone(),
                value: text.clone(),
                display: text,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::form::{Condition, Operator, RuleInput, RuleOutput};

    fn rule(action: RuleAction) -> DataRule {
        DataRule {
            id: "r1".into(),
            action,
            data_source: "ds".into(),
            object: "rfis".into(),
            project: Some(Operand::Field("project".into())),
            record: None,
            inputs: vec![RuleInput {
                attribute: "subject".into(),
                value: Operand::Field("subject".into()),
            }],
            conditions: Vec::new(),
            outputs: vec![RuleOutput {
                field: "number".into(),
                into: "number".into(),
            }],
            on_error: OnError::Stop,
        }
    }

    fn answer(field: &str, value: &str) -> Answer {
        Answer {
            field: field.into(),
            value: value.into(),
            display: value.into(),
        }
    }

    #[test]
    fn rules_are_checked_against_the_catalogue() {
        assert_eq!(check(&rule(RuleAction::Create)), Ok(()));
        let mut no_project = rule(RuleAction::Create);
        no_project.project = None;
        assert!(check(&no_project).unwrap_err().contains("project"));
        let mut unknown = rule(RuleAction::Create);
        unknown.inputs[0].attribute = "nonsense".into();
        assert!(check(&unknown).unwrap_err().contains("nonsense"));
        let mut bad_output = rule(RuleAction::Find);
        bad_output.outputs[0].field = "nope".into();
        assert!(check(&bad_output).unwrap_err().contains("nope"));
        let mut condition = rule(RuleAction::Find);
        condition.conditions.push(Condition {
            field: "status".into(),
            op: Operator::Eq,
            value: Operand::Constant("open".into()),
        });
        assert_eq!(check(&condition), Ok(()));
        let mut projects = rule(RuleAction::Delete);
        projects.object = "projects".into();
        projects.project = None;
        assert!(check(&projects).unwrap_err().contains("does not allow"));
    }

    #[test]
    fn outputs_replace_answers_and_nothing_found_clears_them() {
        let rule = rule(RuleAction::Find);
        let mut answers = vec![answer("subject", "Door"), answer("number", "old")];
        copy_outputs(&rule, Some(&json!({ "number": "12" })), &mut answers);
        assert_eq!(answers[1], answer("number", "12"));
        copy_outputs(&rule, None, &mut answers);
        assert_eq!(answers[1], answer("number", ""));
        let mut fresh = vec![answer("subject", "Door")];
        copy_outputs(&rule, Some(&json!({ "number": 7 })), &mut fresh);
        assert_eq!(fresh[1], answer("number", "7"));
    }

    #[test]
    fn ids_come_from_constants_or_fields() {
        let answers = vec![answer("project", " 2783001 "), answer("bad", "abc")];
        let field = |id: &str| Operand::Field(id.into());
        assert_eq!(
            id_from("project", Some(&field("project")), &answers),
            Ok(2783001)
        );
        assert_eq!(
            id_from("project", Some(&Operand::Constant("5".into())), &answers),
            Ok(5)
        );
        assert!(
            id_from("project", Some(&field("bad")), &answers)
                .unwrap_err()
                .to_string()
                .contains("“abc”")
        );
        assert!(
            id_from("record", Some(&field("missing")), &answers)
                .unwrap_err()
                .to_string()
                .contains("No record id")
        );
    }
}
