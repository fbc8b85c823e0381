//! A form's submissions: what was entered and what data rules wrote back, how the rules
//! went, and a retry for those whose rules failed.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use super::{Scope, fill_url};
use crate::api::forms::{form_submissions, get_form, retry_submission};
use crate::form::{Form, Submission, SubmissionState};
use crate::ui::widgets::{EmptyState, LoadError, Toasts};

/// Field labels by id, in the form's order.
fn labels(form: &Form) -> Vec<(String, String)> {
    form.fields
        .iter()
        .map(|f| (f.id.clone(), f.label.clone()))
        .collect()
}

/// "Label: text" for every answer with text, in the form's order.
pub(super) fn answer_lines(submission: &Submission, labels: &[(String, String)]) -> Vec<String> {
    let by_field: HashMap<&str, &str> = submission
        .answers
        .iter()
        .map(|a| (a.field.as_str(), a.display.as_str()))
        .collect();
    labels
        .iter()
        .filter_map(|(id, label)| {
            by_field
                .get(id.as_str())
                .filter(|text| !text.is_empty())
                .map(|text| format!("{label}: {text}"))
        })
        .collect()
}

/// How a submission's data rules went, with a Retry button when they failed.
#[component]
pub(super) fn Outcome(
    submission: RwSignal<Submission>,
    labels: StoredValue<Vec<(String, String)>>,
) -> impl IntoView {
    let retrying = RwSignal::new(false);
    let scope = Scope::here();
    let retry = move |_| {
        if retrying.get_untracked() {
            return;
        }
        retrying.set(true);
        let id = submission.with_untracked(|s| s.id.clone());
        scope.spawn(async move {
            let result = retry_submission(id).await;
            retrying.try_set(false);
            match result {
                Ok(updated) => {
                    if updated.state == SubmissionState::Done {
                        Toasts::success("The data rules ran");
                    } else {
                        Toasts::error("A data rule failed again");
                    }
                    submission.try_set(updated);
                }
                Err(e) => Toasts::error(e.to_string()),
            }
        });
    };
    view! {
        <div class="submission-outcome">
            <ul class="answer-lines">
                {move || labels.with_value(|l| answer_lines(&submission.get(), l))
                    .into_iter()
                    .map(|line| view! { <li>{line}</li> })
                    .collect_view()}
            </ul>
            {move || {
                let s = submission.get();
                (!s.messages.is_empty()).then(|| {
                    let failed = s.state == SubmissionState::Failed;
                    view! {
                        <ul class="rule-messages" class:form-error=failed role=if failed { "alert" } else { "status" }>
                            {s.messages.into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}
                        </ul>
                    }
                })
            }}
            {move || submission.with(|s| s.can_retry).then(|| view! {
                <button type="button" class="button primary" disabled=move || retrying.get() on:click=retry>
                    {move || if retrying.get() { "Retrying…" } else { "Retry" }}
                </button>
            })}
        </div>
    }
}

#[component]
pub fn SubmissionsPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    // One resource per server function: a server function called after another one's
    // `.await` inside a single resource ran, now and then, without the request's context
    // on the server (a hydration error on this page in CI).
    let form = Resource::new(id, get_form);
    let submissions = Resource::new(id, form_submissions);
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading the submissions…"</p> }>
            {move || Suspend::new(async move {
                match (form.await, submissions.await) {
                    (Ok(form), Ok(submissions)) => view! { <SubmissionList form submissions /> }.into_any(),
                    (Err(error), _) | (_, Err(error)) => {
                        view! { <Title text="Submissions" /><LoadError error /> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn SubmissionList(form: Form, submissions: Vec<Submission>) -> impl IntoView {
    let labels = StoredValue::new(labels(&form));
    let title = format!("Submissions of {}", form.name);
    let empty = submissions.is_empty();
    view! {
        <Title text=title.clone() />
        <div class="page-header section-row">
            <h1>{title}</h1>
            <div class="actions">
                <A href=fill_url(&form.id) attr:class="button">"Fill in"</A>
                <A href="/forms" attr:class="button subtle">"Back to forms"</A>
            </div>
        </div>
        {empty.then(|| view! {
            <EmptyState title="No submissions yet" message="Submissions appear here once the form is filled in." />
        })}
        <ol class="submission-list" aria-label="Submissions">
            {submissions.into_iter().map(|s| {
                let heading = format!("{} · {}", s.at.format("%Y-%m-%d %H:%M UTC"), s.by);
                let submission = RwSignal::new(s);
                let failed = move || submission.with(|s| s.state == SubmissionState::Failed);
                view! {
                    <li class="card submission" data-testid="submission">
                        <div class="section-row">
                            <h2 class="submission-title">{heading}</h2>
                            <span class="badge" class:badge-danger=failed data-testid="submission-state">
                                {move || match submission.with(|s| s.state) {
                                    SubmissionState::Done => "Done",
                                    SubmissionState::Failed => "Failed",
                                }}
                            </span>
                        </div>
                        <Outcome submission labels />
                    </li>
                }
            }).collect_view()}
        </ol>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::Answer;

    #[test]
    fn answers_read_in_the_form_order_with_their_labels() {
        let submission = Submission {
            id: "s1".into(),
            form: "f".into(),
            at: chrono::Utc::now(),
            by: "Ann".into(),
            state: SubmissionState::Done,
            answers: vec![
                Answer {
                    field: "f2".into(),
                    value: "12".into(),
                    display: "12".into(),
                },
                Answer {
                    field: "f1".into(),
                    value: "7".into(),
                    display: "Door".into(),
                },
                Answer {
                    field: "f3".into(),
                    value: String::new(),
                    display: String::new(),
                },
            ],
            completed: 1,
            messages: Vec::new(),
            can_retry: false,
        };
        let labels = vec![
            ("f1".to_string(), "Subject".to_string()),
            ("f2".to_string(), "RFI number".to_string()),
            ("f3".to_string(), "Empty".to_string()),
        ];
        assert_eq!(
            answer_lines(&submission, &labels),
            vec!["Subject: Door", "RFI number: 12"]
        );
    }
}
