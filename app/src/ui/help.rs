//! Help pages.

use leptos::prelude::*;
use leptos_meta::Title;

/// How to install a Cloud Connect agent and send a data source's traffic through it.
#[component]
pub fn CloudConnectHelp() -> impl IntoView {
    view! {
        <Title text="How to install a Cloud Connect agent" />
        <article class="help">
            <div class="page-header">
                <h1>"How to install a Cloud Connect agent"</h1>
                <p class="muted">
                    "A Cloud Connect agent is a small program, " <code>"trestle-agent"</code>
                    ", that runs on a machine inside your network. Data sources that use Cloud "
                    "Connect send their Procore calls through it, so they reach Procore from "
                    "your network rather than from Trestle's server. The agent connects out to "
                    "Trestle; nothing needs to connect in to your network."
                </p>
            </div>
            <ol class="help-steps">
                <li>
                    <h2>"Create an enrolment token"</h2>
                    <p>
                        "An administrator opens " <a href="/admin/cloud-connect">"Administration › Cloud Connect"</a>
                        " and clicks " <strong>"Add agent"</strong> ". Trestle shows an enrolment token "
                        "and the command that uses it. The token is shown only once, works for one "
                        "agent only, and expires after a while: copy it right away."
                    </p>
                </li>
                <li>
                    <h2>"Copy the agent to a machine in your network"</h2>
                    <p>
                        "Put " <code>"trestle-agent"</code> " on a machine that stays on and can reach both:"
                    </p>
                    <ul>
                        <li>
                            "Procore, over outbound HTTPS: " <code>"login.procore.com"</code> " and "
                            <code>"api.procore.com"</code> ", and for sandbox companies "
                            <code>"login-sandbox.procore.com"</code> ", " <code>"sandbox.procore.com"</code> ", "
                            <code>"login-sandbox-monthly.procore.com"</code> " and "
                            <code>"api-monthly.procore.com"</code> " as well;"
                        </li>
                        <li>"this Trestle server, at the address you open it with."</li>
                    </ul>
                </li>
                <li>
                    <h2>"Start it with the token"</h2>
                    <pre><code>"trestle-agent --server https://trestle.example.com --token TOKEN"</code></pre>
                    <p>
                        "Use your Trestle address for " <code>"--server"</code> " and the token from step 1. "
                        "On its first run the agent enrols with the token and writes its own credentials "
                        "to " <code>"trestle-agent.json"</code> " in the directory it runs in (or to the file named by "
                        <code>"--state PATH"</code> "). Later runs read that file and need no token:"
                    </p>
                    <pre><code>"trestle-agent --server https://trestle.example.com"</code></pre>
                    <p>
                        "Keep the credentials file private: it is what lets the agent connect. Run the "
                        "agent as a service so it starts with the machine. If the connection drops, the "
                        "agent reconnects on its own."
                    </p>
                    <h3>"Options"</h3>
                    <dl class="help-options">
                        <dt><code>"--server URL"</code></dt>
                        <dd>"The Trestle server to connect to."</dd>
                        <dt><code>"--token TOKEN"</code></dt>
                        <dd>"The enrolment token; needed on the first run only."</dd>
                        <dt><code>"--state PATH"</code></dt>
                        <dd>
                            "Where the agent keeps its credentials; " <code>"trestle-agent.json"</code>
                            " in the directory it runs in by default."
                        </dd>
                        <dt><code>"--name NAME"</code></dt>
                        <dd>"The name administrators see for it; the machine's name by default."</dd>
                        <dt><code>"--procore-host URL"</code></dt>
                        <dd>
                            "A Procore host the agent may call; repeat it for several. By default the agent "
                            "calls Procore's own hosts only, and refuses anything else it is asked to call."
                        </dd>
                    </dl>
                    <p>
                        "Once it is connected, the agent shows as " <strong>"Online"</strong>
                        " under Administration › Cloud Connect."
                    </p>
                </li>
                <li>
                    <h2>"Send a data source through it"</h2>
                    <p>
                        "Open the data source under " <a href="/data-sources">"Data sources"</a>
                        ", switch on " <strong>"Use Cloud Connect"</strong> ", pick the agent under "
                        <strong>"Connectors"</strong> " and save. Test connection then checks Procore "
                        "through the agent. While the agent is offline, that data source's Procore calls fail."
                    </p>
                </li>
            </ol>
            <h2>"Removing an agent"</h2>
            <p>
                "Revoke it under Administration › Cloud Connect: Trestle disconnects it at once and "
                "refuses it from then on. Data sources that used it need another agent."
            </p>
        </article>
    }
}
