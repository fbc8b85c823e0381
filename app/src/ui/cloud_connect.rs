//! Administration > Cloud Connect agents: the agents that carry Procore traffic from
//! inside a customer's network, enrolment tokens for new ones (shown once), revoking.
//!
//! The list refreshes itself while the page is open, so an agent that connects or drops
//! shows its new status without a reload.

use std::time::Duration;

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;

use super::time::{from_now, full_time, now, relative_time};
use super::widgets::{Confirm, EmptyState, LoadError, Modal, Toasts, copy_text};
use crate::api::cloud_connect::{
    Agent, CreateEnrolment, IssuedEnrolment, RevokeAgent, list_agents,
};

/// How often the open page asks for the agents again.
const REFRESH: Duration = Duration::from_secs(5);

#[component]
pub fn AgentsPage() -> impl IntoView {
    let create = ServerAction::<CreateEnrolment>::new();
    let revoke = ServerAction::<RevokeAgent>::new();
    let tick = RwSignal::new(0_u64);
    let agents = Resource::new(
        move || (create.version().get(), revoke.version().get(), tick.get()),
        |_| list_agents(),
    );
    let issued = RwSignal::new(None::<IssuedEnrolment>);
    let revoking = RwSignal::new(None::<Agent>);

    // Effects run in the browser only: the server renders the list once.
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || {
                tick.try_update(|t| *t += 1);
            },
            REFRESH,
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    Effect::new(move |_| match create.value().get() {
        Some(Ok(result)) => {
            issued.set(Some(result));
            // The token lives on only in the dialog, until it is closed.
            create.value().set(None);
        }
        Some(Err(e)) => Toasts::error(e.to_string()),
        None => {}
    });
    Effect::new(move |_| match revoke.value().get() {
        Some(Ok(())) => Toasts::success("Agent revoked"),
        Some(Err(e)) => Toasts::error(e.to_string()),
        None => {}
    });

    view! {
        <Title text="Cloud Connect agents" />
        <div class="toolbar">
            <h2 class="section-title">"Cloud Connect agents"</h2>
            <button
                type="button"
                class="button primary"
                disabled=move || create.pending().get()
                on:click=move |_| {
                    create.dispatch(CreateEnrolment {});
                }
            >
                "Add agent"
            </button>
        </div>
        <p class="muted agents-intro">
            "An agent is a small program that runs inside your network and carries the Procore "
            "traffic of the data sources that use Cloud Connect, so Procore calls leave from "
            "your network rather than from Trestle's server. "
            <a href="/help/cloud-connect">"How to install an agent"</a>
        </p>
        <Transition fallback=|| view! { <p class="loading">"Loading agents…"</p> }>
            {move || Suspend::new(async move {
                match agents.await {
                    Ok(list) if list.is_empty() => view! {
                        <EmptyState
                            title="No agents registered yet"
                            message="Click Add agent for an enrolment token, then start trestle-agent with it on a machine inside your network."
                        />
                    }
                    .into_any(),
                    Ok(list) => {
                        let now = now();
                        view! {
                            <table class="table agents" aria-label="Cloud Connect agents">
                                <thead>
                                    <tr>
                                        <th scope="col">"Name"</th>
                                        <th scope="col">"Version"</th>
                                        <th scope="col">"Status"</th>
                                        <th scope="col">"Last seen"</th>
                                        <th scope="col">"Data sources"</th>
                                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {list
                                        .into_iter()
                                        .map(|agent| agent_row(agent, revoking, now))
                                        .collect_view()}
                                </tbody>
                            </table>
                        }
                        .into_any()
                    }
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
        {move || issued.get().map(|result| view! {
            <EnrolmentDialog result on_close=move || issued.set(None) />
        })}
        {move || revoking.get().map(|agent| {
            let id = agent.id.clone();
            view! {
                <Confirm
                    title=format!("Revoke “{}”?", agent.name)
                    message="The agent is disconnected now and can never connect again. Data sources that use it fail until they use another agent. This cannot be undone."
                    confirm_label="Revoke"
                    on_cancel=move || revoking.set(None)
                    on_confirm=move || {
                        revoke.dispatch(RevokeAgent { id: id.clone() });
                        revoking.set(None);
                    }
                />
            }
        })}
    }
}

fn agent_row(agent: Agent, revoking: RwSignal<Option<Agent>>, now: DateTime<Utc>) -> impl IntoView {
    let label = format!("Revoke {}", agent.name);
    let id = agent.id.clone();
    let name = agent.name.clone();
    let status = if agent.online {
        view! { <span class="badge online badge-ok" data-testid="agent-status">"Online"</span> }
    } else {
        view! { <span class="badge offline badge-muted" data-testid="agent-status">"Offline"</span> }
    };
    let last_seen = agent
        .last_seen
        .map(|at| {
            view! { <time datetime=at.to_rfc3339() title=full_time(at)>{relative_time(at, now)}</time> }.into_any()
        })
        .unwrap_or_else(|| view! { <span class="muted">"never"</span> }.into_any());
    let version = if agent.version.trim().is_empty() {
        "—".to_string()
    } else {
        agent.version.clone()
    };
    let sources = if agent.data_sources.is_empty() {
        "—".to_string()
    } else {
        agent.data_sources.join(", ")
    };
    view! {
        <tr data-testid="agent-row" data-agent-id=id>
            <td class="agent-name">{name}</td>
            <td>{version}</td>
            <td>{status}</td>
            <td data-testid="agent-last-seen">{last_seen}</td>
            <td data-testid="agent-data-sources">{sources}</td>
            <td class="row-actions">
                <button
                    type="button"
                    class="button subtle revoke"
                    aria-label=label
                    on:click=move |_| revoking.set(Some(agent.clone()))
                >
                    "Revoke"
                </button>
            </td>
        </tr>
    }
}

#[component]
fn EnrolmentDialog(result: IssuedEnrolment, #[prop(into)] on_close: Callback<()>) -> impl IntoView {
    let token = result.token.clone();
    let command = result.command.clone();
    let copy_token = move |_| {
        if copy_text(&token) {
            Toasts::success("Token copied");
        } else {
            Toasts::error("Could not copy: select the token and copy it yourself.");
        }
    };
    let copy_command = move |_| {
        if copy_text(&command) {
            Toasts::success("Command copied");
        } else {
            Toasts::error("Could not copy: select the command and copy it yourself.");
        }
    };
    let expires = result.expires_at;
    view! {
        <Modal title="New agent" on_close>
            <div class="stack enrolment">
                <p class="notice" role="note">
                    "Copy it now: this token is shown only this once, and it works once: it "
                    "enrols one agent and is then used up. Trestle keeps only a hash of it."
                </p>
                <div class="field">
                    <label for="enrolment-token">"Enrolment token"</label>
                    <div class="api-token-secret">
                        <input
                            id="enrolment-token"
                            type="text"
                            readonly
                            spellcheck="false"
                            data-testid="enrolment-token"
                            value=result.token.clone()
                        />
                        <button type="button" class="button" on:click=copy_token>"Copy token"</button>
                    </div>
                </div>
                <figure class="field enrolment-command" aria-labelledby="enrolment-command-label">
                    <figcaption class="field-label" id="enrolment-command-label">
                        "Run this on the agent's machine"
                    </figcaption>
                    <pre><code data-testid="enrolment-command">{result.command.clone()}</code></pre>
                    <button type="button" class="button" on:click=copy_command>"Copy command"</button>
                </figure>
                <p class="hint" data-testid="enrolment-expiry">
                    "Expires "
                    <time datetime=expires.to_rfc3339()>{full_time(expires)}</time>
                    {format!(" ({}). ", from_now(expires, now()))}
                    "The agent shows up in the list below once it has connected."
                </p>
                <div class="modal-actions">
                    <button type="button" class="button primary" autofocus on:click=move |_| on_close.run(())>
                        "Done"
                    </button>
                </div>
            </div>
        </Modal>
    }
}
