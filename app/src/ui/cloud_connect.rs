//! Administration > Cloud Connect agents: the agents that carry Procore traffic from
//! inside a customer's network, enrolment tokens for new ones (shown once), revoking.
//!
//! The list refreshes itself while the page is open, so an agent that connects or drops
//! shows its new status without a reload.

use std::time::Duration;

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;

use super::widgets::{Confirm, EmptyState, LoadError, Modal, Toasts};
use crate::api::cloud_connect::{
    Agent, CreateEnrolment, IssuedEnrolment, RevokeAgent, list_agents,
};

/// How often the open page asks for the agents again.
const REFRESH: Duration = Duration::from_secs(5);

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The current time; wasm32 has no system clock, so the browser asks JavaScript.
fn now() -> DateTime<Utc> {
    #[cfg(feature = "hydrate")]
    {
        DateTime::from_timestamp_millis(web_sys::js_sys::Date::now() as i64).unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        Utc::now()
    }
}

/// "just now", "5 minutes ago", … and the date beyond a week.
fn ago(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - at).num_seconds();
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit} ago")
        } else {
            format!("{n} {unit}s ago")
        }
    };
    match secs {
        s if s < 45 => "just now".to_string(),
        s if s < 3_600 => plural(((s + 30) / 60).max(1), "minute"),
        s if s < 86_400 => plural(s / 3_600, "hour"),
        s if s < 7 * 86_400 => plural(s / 86_400, "day"),
        _ => at.format("%Y-%m-%d").to_string(),
    }
}

/// "in 24 hours", "in 10 minutes".
fn from_now(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let minutes = ((at - now).num_seconds() + 30) / 60;
    let (n, unit) = if minutes >= 120 {
        (minutes / 60, "hour")
    } else {
        (minutes.max(1), "minute")
    };
    if n == 1 {
        format!("in 1 {unit}")
    } else {
        format!("in {n} {unit}s")
    }
}

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
            view! { <time datetime=at.to_rfc3339() title=when(at)>{ago(at, now)}</time> }.into_any()
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
                    <time datetime=expires.to_rfc3339()>{when(expires)}</time>
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

/// Puts `text` on the clipboard (the Clipboard API, reached without extra web-sys
/// features); false when the browser offers none.
fn copy_text(text: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        use web_sys::js_sys::{Function, Reflect};
        use web_sys::wasm_bindgen::{JsCast, JsValue};

        let Some(window) = web_sys::window() else {
            return false;
        };
        let get = |target: &JsValue, key: &str| {
            Reflect::get(target, &JsValue::from_str(key))
                .ok()
                .filter(|v| !v.is_undefined() && !v.is_null())
        };
        let Some(clipboard) =
            get(&window.into(), "navigator").and_then(|navigator| get(&navigator, "clipboard"))
        else {
            return false;
        };
        let Some(write) = get(&clipboard, "writeText").and_then(|f| f.dyn_into::<Function>().ok())
        else {
            return false;
        };
        write.call1(&clipboard, &JsValue::from_str(text)).is_ok()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = text;
        false
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn times_read_as_people_say_them() {
        let now = Utc.with_ymd_and_hms(2025, 3, 10, 12, 0, 0).unwrap();
        assert_eq!(ago(now, now), "just now");
        assert_eq!(
            ago(now - chrono::Duration::minutes(5), now),
            "5 minutes ago"
        );
        assert_eq!(ago(now - chrono::Duration::hours(1), now), "1 hour ago");
        assert_eq!(
            from_now(now + chrono::Duration::hours(24), now),
            "in 24 hours"
        );
        assert_eq!(
            from_now(now + chrono::Duration::minutes(10), now),
            "in 10 minutes"
        );
        assert_eq!(
            from_now(now + chrono::Duration::seconds(20), now),
            "in 1 minute"
        );
    }
}
