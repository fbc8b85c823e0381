//! The designer's Data rules: what the form does in Procore on submit (Create item, Update
//! item, Delete item, Find items), with form fields mapped in and Procore fields copied
//! back into the form.

use leptos::prelude::*;

use super::{Catalog, ConditionNames, OperandInput, condition_rows};
use crate::form::{DataRule, FormField, OnError, Operand, RuleAction, RuleInput, RuleOutput};
use crate::record::ObjectInfo;
use crate::ui::widgets::{Confirm, Modal};

/// `r1`, `r2`, …: the first free one.
pub(super) fn next_rule_id(rules: &[DataRule]) -> String {
    (1..)
        .map(|n| format!("r{n}"))
        .find(|id| !rules.iter().any(|r| r.id == *id))
        .unwrap_or_default()
}

/// "Create item · RFI · through Sandbox".
fn rule_summary(rule: &DataRule, catalog: Catalog) -> String {
    let object = catalog
        .object(&rule.object)
        .map_or_else(|| rule.object.clone(), |o| o.label);
    let source = catalog
        .sources
        .with(|s| {
            s.as_ref()
                .and_then(|r| r.as_ref().ok())
                .and_then(|list| list.iter().find(|x| x.id == rule.data_source))
                .map(|x| x.name.clone())
        })
        .unwrap_or_else(|| "a data source".into());
    let mut parts = vec![format!(
        "{} · {object} · through {source}",
        rule.action.label()
    )];
    if !rule.outputs.is_empty() {
        parts.push(format!(
            "{} result{} into the form",
            rule.outputs.len(),
            if rule.outputs.len() == 1 { "" } else { "s" }
        ));
    }
    if rule.on_error == OnError::Continue {
        parts.push("goes on after an error".into());
    }
    parts.join(" · ")
}

/// What the dialog refuses before the server checks it against the catalogue.
fn problem(rule: &DataRule, object: Option<&ObjectInfo>) -> Option<&'static str> {
    if rule.data_source.is_empty() || rule.object.is_empty() {
        return Some("Choose a data source and a Procore object.");
    }
    if object.is_some_and(|o| o.needs_project)
        && rule.project.as_ref().is_none_or(Operand::is_blank)
    {
        return Some(
            "This object belongs to a project: enter a project id or choose the field it comes from.",
        );
    }
    if rule.action.needs_record() && rule.record.as_ref().is_none_or(Operand::is_blank) {
        return Some("Say which record: enter its id or choose the field that holds it.");
    }
    if rule.action.takes_inputs() && rule.inputs.iter().all(|i| i.attribute.is_empty()) {
        return Some("Map at least one form field to a Procore field.");
    }
    if rule.inputs.iter().any(|i| i.attribute.is_empty())
        || rule.conditions.iter().any(|c| c.field.is_empty())
        || rule
            .outputs
            .iter()
            .any(|o| o.field.is_empty() || o.into.is_empty())
    {
        return Some("Complete or remove the rows without a field.");
    }
    None
}

/// Keeps only what the action uses, so a rule switched from Create to Delete does not
/// carry hidden mappings.
fn trimmed(mut rule: DataRule, object: Option<&ObjectInfo>) -> DataRule {
    if !rule.action.takes_inputs() {
        rule.inputs.clear();
    }
    if rule.action != RuleAction::Find {
        rule.conditions.clear();
    }
    if !rule.action.needs_record() {
        rule.record = None;
    }
    if !rule.action.gives_outputs() {
        rule.outputs.clear();
    }
    if !object.is_some_and(|o| o.needs_project) {
        rule.project = None;
    }
    rule
}

#[derive(Clone)]
struct EditingRule {
    index: Option<usize>,
    rule: DataRule,
}

#[component]
pub(super) fn RulesSection(
    rules: RwSignal<Vec<DataRule>>,
    fields: RwSignal<Vec<FormField>>,
    catalog: Catalog,
) -> impl IntoView {
    let editing = RwSignal::new(None::<EditingRule>);
    let deleting = RwSignal::new(None::<usize>);
    let add = move |_| {
        let rule = DataRule {
            id: rules.with_untracked(|r| next_rule_id(r)),
            ..DataRule::default()
        };
        editing.set(Some(EditingRule { index: None, rule }));
    };
    let shift = move |from: usize, to: usize| rules.update(|r| super::move_item(r, from, to));
    view! {
        <section class="fields-panel rules-panel" aria-labelledby="rules-title">
            <div class="section-row">
                <h2 id="rules-title">"Data rules"</h2>
                <button type="button" class="button" on:click=add>"+ Add rule"</button>
            </div>
            <p class="hint">"Run in order when the form is submitted. A rule that fails keeps the submission, with the error, for a retry."</p>
            {move || rules.with(Vec::is_empty).then(|| view! {
                <p class="muted empty-fields">"No data rules: submissions are only stored."</p>
            })}
            <ol class="field-list" aria-label="Data rules">
                {move || {
                    let list = rules.get();
                    let count = list.len();
                    list.into_iter()
                        .enumerate()
                        .map(|(index, rule)| {
                            let n = index + 1;
                            let summary = rule_summary(&rule, catalog);
                            let edit = rule.clone();
                            view! {
                                <li class="field-row" data-testid="rule-row">
                                    <div class="field-row-text">
                                        <span class="field-row-label">{format!("Rule {n}")}</span>
                                        <span class="field-row-summary muted">{summary}</span>
                                    </div>
                                    <div class="field-row-actions">
                                        <button type="button" class="button subtle small" aria-label=format!("Move rule {n} up")
                                            disabled=index == 0 on:click=move |_| shift(index, index - 1)>"↑"</button>
                                        <button type="button" class="button subtle small" aria-label=format!("Move rule {n} down")
                                            disabled={n >= count} on:click=move |_| shift(index, index + 1)>"↓"</button>
                                        <button type="button" class="button small" aria-label=format!("Edit rule {n}")
                                            on:click=move |_| editing.set(Some(EditingRule { index: Some(index), rule: edit.clone() }))>"Edit"</button>
                                        <button type="button" class="button subtle small danger-text" aria-label=format!("Delete rule {n}")
                                            on:click=move |_| deleting.set(Some(index))>"Delete"</button>
                                    </div>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ol>
        </section>
        {move || editing.get().map(|EditingRule { index, rule }| view! {
            <RuleDialog
                rule
                is_new=index.is_none()
                fields=fields.get_untracked()
                catalog
                on_close=move || editing.set(None)
                on_save=move |rule: DataRule| {
                    rules.update(|r| match index {
                        Some(i) if i < r.len() => r[i] = rule,
                        _ => r.push(rule),
                    });
                    editing.set(None);
                }
            />
        })}
        {move || deleting.get().map(|index| view! {
            <Confirm
                title=format!("Delete rule {}?", index + 1)
                message="Submissions will no longer do this in Procore."
                confirm_label="Delete"
                on_cancel=move || deleting.set(None)
                on_confirm=move || {
                    rules.update(|r| if index < r.len() { r.remove(index); });
                    deleting.set(None);
                }
            />
        })}
    }
}

#[component]
fn RuleDialog(
    rule: DataRule,
    is_new: bool,
    fields: Vec<FormField>,
    catalog: Catalog,
    #[prop(into)] on_save: Callback<DataRule>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let rule = RwSignal::new(rule);
    let problem_text = RwSignal::new(None::<&'static str>);
    // Any field of the form may feed a rule or take a result.
    let form_fields = StoredValue::new(
        fields
            .into_iter()
            .map(|f| (f.id, f.label))
            .collect::<Vec<_>>(),
    );
    let object = Memo::new(move |_| {
        let key = rule.with(|r| r.object.clone());
        catalog.object(&key)
    });
    let action = Memo::new(move |_| rule.with(|r| r.action));
    let submit = move || {
        let info = object.get_untracked();
        let current = trimmed(rule.get_untracked(), info.as_ref());
        if let Some(p) = problem(&current, info.as_ref()) {
            problem_text.set(Some(p));
            return;
        }
        problem_text.set(None);
        on_save.run(current);
    };
    let title = if is_new {
        "Add data rule"
    } else {
        "Edit data rule"
    };
    view! {
        <Modal title on_close>
            <form class="field-editor rule-editor" novalidate on:submit=move |ev| { ev.prevent_default(); submit(); }>
                <div class="stack">
                    <div class="field">
                        <label for="rd-action">"Action"</label>
                        <select id="rd-action" on:change=move |ev| {
                            if let Some(a) = RuleAction::from_key(&event_target_value(&ev)) {
                                rule.update(|r| r.action = a);
                            }
                        }>
                            {RuleAction::ALL.into_iter().map(|a| view! {
                                <option value=a.key() prop:selected=move || action.get() == a>{a.label()}</option>
                            }).collect_view()}
                        </select>
                    </div>
                    <TargetPickers rule object action catalog form_fields />
                    {move || action.get().takes_inputs().then(|| view! { <Inputs rule object form_fields /> })}
                    {move || (action.get() == RuleAction::Find).then(|| view! { <FindConditions rule object form_fields /> })}
                    {move || action.get().gives_outputs().then(|| view! { <Outputs rule object form_fields /> })}
                    <div class="field">
                        <label for="rd-on-error">"If it fails"</label>
                        <select id="rd-on-error" on:change=move |ev| {
                            let v = if event_target_value(&ev) == "continue" { OnError::Continue } else { OnError::Stop };
                            rule.update(|r| r.on_error = v);
                        }>
                            <option value="stop" prop:selected=move || rule.with(|r| r.on_error == OnError::Stop)>
                                "Stop, and keep the submission for a retry"
                            </option>
                            <option value="continue" prop:selected=move || rule.with(|r| r.on_error == OnError::Continue)>
                                "Note the error and go on with the next rule"
                            </option>
                        </select>
                    </div>
                </div>
                {move || problem_text.get().map(|p| view! { <p class="form-error" role="alert">{p}</p> })}
                <div class="modal-actions">
                    <button type="button" class="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button type="submit" class="button primary">"OK"</button>
                </div>
            </form>
        </Modal>
    }
}

/// Data source, object, project and record id.
#[component]
fn TargetPickers(
    rule: RwSignal<DataRule>,
    object: Memo<Option<ObjectInfo>>,
    action: Memo<RuleAction>,
    catalog: Catalog,
    form_fields: StoredValue<Vec<(String, String)>>,
) -> impl IntoView {
    let allows = move |o: &ObjectInfo| match action.get() {
        RuleAction::Create => o.operations.create,
        RuleAction::Update => o.operations.update,
        RuleAction::Delete => o.operations.delete,
        RuleAction::Find => o.operations.list,
    };
    view! {
        <div class="field">
            <label for="rd-source">"Data source"</label>
            <select id="rd-source" on:change=move |ev| {
                let v = event_target_value(&ev);
                rule.update(|r| r.data_source = v);
            }>
                <option value="" prop:selected=move || rule.with(|r| r.data_source.is_empty())>"Choose a data source"</option>
                {move || catalog.sources.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|s| {
                    let id = s.id.clone();
                    let label = if s.ready { s.name.clone() } else { format!("{} (not ready)", s.name) };
                    view! { <option value=s.id.clone() prop:selected=move || rule.with(|r| r.data_source == id)>{label}</option> }
                }).collect_view()}
            </select>
        </div>
        <div class="field">
            <label for="rd-object">"Procore object"</label>
            <select id="rd-object" on:change=move |ev| {
                let key = event_target_value(&ev);
                let info = catalog.object(&key);
                rule.update(|r| {
                    r.object = key;
                    r.inputs.clear();
                    r.conditions.clear();
                    r.outputs.clear();
                    r.project = info.filter(|i| i.needs_project).map(|_| Operand::Constant(String::new()));
                });
            }>
                <option value="" prop:selected=move || rule.with(|r| r.object.is_empty())>"Choose an object"</option>
                {move || catalog.objects.get().and_then(Result::ok).unwrap_or_default().into_iter().filter(allows).map(|o| {
                    let key = o.key.clone();
                    view! { <option value=o.key.clone() prop:selected=move || rule.with(|r| r.object == key)>{o.label.clone()}</option> }
                }).collect_view()}
            </select>
        </div>
        {move || object.get().is_some_and(|o| o.needs_project).then(|| view! {
            <div class="field">
                <span class="label">"Project"</span>
                <OperandInput
                    id="rd-project"
                    label="Project"
                    value=Signal::derive(move || rule.with(|r| r.project.clone()))
                    on_change=move |o: Operand| rule.update(|r| r.project = Some(o))
                    earlier_lists=form_fields
                />
            </div>
        })}
        {move || action.get().needs_record().then(|| view! {
            <div class="field">
                <span class="label">"Record id"</span>
                <OperandInput
                    id="rd-record"
                    label="Record id"
                    value=Signal::derive(move || rule.with(|r| r.record.clone()))
                    on_change=move |o: Operand| rule.update(|r| r.record = Some(o))
                    earlier_lists=form_fields
                />
            </div>
        })}
    }
}

/// A select of the object's fields: writable ones (by write key) or all (by name).
fn field_select(
    id: String,
    label: String,
    object: Memo<Option<ObjectInfo>>,
    writable: bool,
    current: Signal<String>,
    on_change: impl Fn(String) + 'static,
) -> impl IntoView {
    view! {
        <label for=id.clone() class="visually-hidden">{label}</label>
        <select id=id on:change=move |ev| on_change(event_target_value(&ev))>
            <option value="" prop:selected=move || current.get().is_empty()>"Choose a field"</option>
            {move || object.get().map(|o| o.fields).unwrap_or_default().into_iter().filter_map(|f| {
                let key = if writable { f.write_key.clone()? } else { f.name.clone() };
                let mark = if writable && f.required_on_create { " *" } else { "" };
                let chosen = key.clone();
                Some(view! {
                    <option value=key prop:selected=move || current.get() == chosen>{format!("{}{mark} ({})", f.label, f.kind)}</option>
                })
            }).collect_view()}
        </select>
    }
}

#[component]
fn Inputs(
    rule: RwSignal<DataRule>,
    object: Memo<Option<ObjectInfo>>,
    form_fields: StoredValue<Vec<(String, String)>>,
) -> impl IntoView {
    let count = Memo::new(move |_| rule.with(|r| r.inputs.len()));
    let add = move |_| {
        let first = form_fields
            .with_value(|f| f.first().map(|x| x.0.clone()))
            .unwrap_or_default();
        rule.update(|r| {
            r.inputs.push(RuleInput {
                attribute: String::new(),
                value: Operand::Field(first),
            })
        });
    };
    view! {
        <fieldset class="field conditions">
            <legend>"Form → Procore"</legend>
            <p class="hint">"Each Procore field takes a form field's value or a constant. * marks fields Procore requires to create one."</p>
            <ol class="condition-list">
                {move || (0..count.get()).map(|i| {
                    let n = i + 1;
                    view! {
                        <li class="condition" data-testid="rule-input">
                            {field_select(
                                format!("rd-input-{n}-attribute"),
                                format!("Input {n} Procore field"),
                                object,
                                true,
                                Signal::derive(move || rule.with(|r| r.inputs.get(i).map(|x| x.attribute.clone()).unwrap_or_default())),
                                move |v| rule.update(|r| if let Some(x) = r.inputs.get_mut(i) { x.attribute = v }),
                            )}
                            <span class="operator">"←"</span>
                            <OperandInput
                                id=format!("rd-input-{n}")
                                label=format!("Input {n}")
                                value=Signal::derive(move || rule.with(|r| r.inputs.get(i).map(|x| x.value.clone())))
                                on_change=move |o: Operand| rule.update(|r| if let Some(x) = r.inputs.get_mut(i) { x.value = o })
                                earlier_lists=form_fields
                            />
                            <button type="button" class="button subtle small" aria-label=format!("Remove input {n}")
                                on:click=move |_| rule.update(|r| if i < r.inputs.len() { r.inputs.remove(i); })>"×"</button>
                        </li>
                    }
                }).collect_view()}
            </ol>
            <button type="button" class="button small" on:click=add>"+ Add input"</button>
        </fieldset>
    }
}

#[component]
fn FindConditions(
    rule: RwSignal<DataRule>,
    object: Memo<Option<ObjectInfo>>,
    form_fields: StoredValue<Vec<(String, String)>>,
) -> impl IntoView {
    view! {
        <fieldset class="field conditions">
            <legend>"Find where"</legend>
            <p class="hint">"The first record found gives the results; none found leaves them empty."</p>
            {condition_rows(
                rule,
                |r| &r.conditions,
                |r| &mut r.conditions,
                object,
                form_fields,
                ConditionNames { id: "rd-condition", label: "Find condition", test_id: "rule-condition" },
            )}
        </fieldset>
    }
}

#[component]
fn Outputs(
    rule: RwSignal<DataRule>,
    object: Memo<Option<ObjectInfo>>,
    form_fields: StoredValue<Vec<(String, String)>>,
) -> impl IntoView {
    let count = Memo::new(move |_| rule.with(|r| r.outputs.len()));
    let add = move |_| {
        rule.update(|r| {
            r.outputs.push(RuleOutput {
                field: String::new(),
                into: String::new(),
            })
        })
    };
    view! {
        <fieldset class="field conditions">
            <legend>"Procore → form"</legend>
            <p class="hint">"Copy fields of the record back into the submission, e.g. a new RFI's number."</p>
            <ol class="condition-list">
                {move || (0..count.get()).map(|i| {
                    let n = i + 1;
                    let into_id = format!("rd-output-{n}-into");
                    let current_into = move || rule.with(|r| r.outputs.get(i).map(|o| o.into.clone()).unwrap_or_default());
                    view! {
                        <li class="condition" data-testid="rule-output">
                            {field_select(
                                format!("rd-output-{n}-field"),
                                format!("Output {n} Procore field"),
                                object,
                                false,
                                Signal::derive(move || rule.with(|r| r.outputs.get(i).map(|o| o.field.clone()).unwrap_or_default())),
                                move |v| rule.update(|r| if let Some(o) = r.outputs.get_mut(i) { o.field = v }),
                            )}
                            <span class="operator">"→"</span>
                            <label for=into_id.clone() class="visually-hidden">{format!("Output {n} form field")}</label>
                            <select id=into_id on:change=move |ev| {
                                let v = event_target_value(&ev);
                                rule.update(|r| if let Some(o) = r.outputs.get_mut(i) { o.into = v });
                            }>
                                <option value="" prop:selected=move || current_into().is_empty()>"Choose a form field"</option>
                                {form_fields.get_value().into_iter().map(|(id, label)| {
                                    let chosen = id.clone();
                                    view! { <option value=id prop:selected=move || current_into() == chosen>{label}</option> }
                                }).collect_view()}
                            </select>
                            <button type="button" class="button subtle small" aria-label=format!("Remove output {n}")
                                on:click=move |_| rule.update(|r| if i < r.outputs.len() { r.outputs.remove(i); })>"×"</button>
                        </li>
                    }
                }).collect_view()}
            </ol>
            <button type="button" class="button small" on:click=add>"+ Add output"</button>
        </fieldset>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create() -> DataRule {
        DataRule {
            id: "r1".into(),
            action: RuleAction::Create,
            data_source: "ds".into(),
            object: "rfis".into(),
            project: Some(Operand::Constant("1".into())),
            inputs: vec![RuleInput {
                attribute: "subject".into(),
                value: Operand::Field("f1".into()),
            }],
            outputs: vec![RuleOutput {
                field: "number".into(),
                into: "f2".into(),
            }],
            ..DataRule::default()
        }
    }

    #[test]
    fn rule_ids_fill_the_first_gap() {
        let mut rules = vec![create()];
        assert_eq!(next_rule_id(&rules), "r2");
        rules[0].id = "r2".into();
        assert_eq!(next_rule_id(&rules), "r1");
    }

    #[test]
    fn a_rule_keeps_only_what_its_action_uses() {
        let mut rule = create();
        rule.action = RuleAction::Delete;
        rule.record = Some(Operand::Field("f3".into()));
        let kept = trimmed(rule, None);
        assert!(kept.inputs.is_empty() && kept.outputs.is_empty());
        assert_eq!(kept.project, None, "no project for an object that has none");
        assert_eq!(kept.record, Some(Operand::Field("f3".into())));
        let find = trimmed(
            DataRule {
                action: RuleAction::Find,
                ..create()
            },
            None,
        );
        assert!(find.inputs.is_empty() && !find.outputs.is_empty());
    }

    #[test]
    fn incomplete_rules_say_what_is_missing() {
        assert_eq!(problem(&create(), None), None);
        let mut no_inputs = create();
        no_inputs.inputs.clear();
        assert!(
            problem(&no_inputs, None)
                .unwrap()
                .contains("Map at least one")
        );
        let update = DataRule {
            action: RuleAction::Update,
            ..create()
        };
        assert!(problem(&update, None).unwrap().contains("which record"));
        let mut half_output = create();
        half_output.outputs[0].into.clear();
        assert!(
            problem(&half_output, None)
                .unwrap()
                .contains("Complete or remove")
        );
    }
}
