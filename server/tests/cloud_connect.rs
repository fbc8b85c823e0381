//! Cloud Connect end to end on loopback: the Trestle server, a real agent (the library
//! the `trestle-agent` binary runs) over a real WebSocket, and the Procore simulator,
//! which counts calls by the program that made them, so a test can tell whether a call
//! came from the agent or from the server.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use cloud_connect::agent::{self, AgentConfig, AgentError, Event};
use common::*;
use procore_sim::testing::{TestSim, roomy};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use url::Url;

/// A running agent and what it reported.
struct RunningAgent {
    task: JoinHandle<Result<(), AgentError>>,
    events: mpsc::UnboundedReceiver<Event>,
}

impl RunningAgent {
    fn start(config: AgentConfig) -> RunningAgent {
        let (tx, events) = mpsc::unbounded_channel();
        let task = tokio::spawn(agent::run(config, move |event| {
            let _ = tx.send(event);
        }));
        RunningAgent { task, events }
    }

    /// Waits for the agent to be connected; returns its id.
    async fn connected(&mut self) -> String {
        let wait = async {
            loop {
                match self.events.recv().await {
                    Some(Event::Connected { agent_id, .. }) => return agent_id,
                    Some(_) => continue,
                    None => panic!("the agent stopped: {:?}", (&mut self.task).await),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(20), wait)
            .await
            .expect("the agent connects")
    }

    /// Waits for the agent to stop by itself, with how it ended.
    async fn ended(self) -> Result<(), AgentError> {
        tokio::time::timeout(Duration::from_secs(20), self.task)
            .await
            .expect("the agent stops")
            .expect("the agent does not panic")
    }
}

fn state_file() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("trestle-agent-{}", rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("agent.json")
}

fn rand_suffix() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// An agent for `server` that may call the simulator (and nothing else).
fn agent_config(
    server: &Server,
    sim: &TestSim,
    state: PathBuf,
    token: Option<&str>,
) -> AgentConfig {
    let mut config = AgentConfig::new(Url::parse(&server.url("/")).unwrap(), state);
    config.enrolment_token = token.map(str::to_string);
    config.name = "site-office-pc".into();
    config.procore_hosts = vec![Url::parse(&sim.base).unwrap()];
    config.max_backoff = Duration::from_secs(1);
    config
}

async fn enrolment_token(server: &Server, admin: &reqwest::Client) -> Value {
    let issued = server.call(admin, "create_enrolment", json!({})).await;
    assert_eq!(issued.status(), StatusCode::OK);
    issued.json().await.unwrap()
}

async fn agents(server: &Server, admin: &reqwest::Client) -> Vec<Value> {
    let listed = server.call(admin, "list_agents", json!({})).await;
    assert_eq!(listed.status(), StatusCode::OK);
    listed.json().await.unwrap()
}

/// Switches Cloud Connect on for data source `id`, carried by `agent`.
async fn use_agent(server: &Server, admin: &reqwest::Client, id: &str, agent: Option<&str>) {
    let saved = server
        .call(
            admin,
            "save_data_source",
            json!({ "id": id, "draft": {
                "name": "Procore", "company_id": "4264807", "environment": "developer_sandbox",
                "cloud_connect": agent.is_some(), "connector": agent } }),
        )
        .await;
    assert_eq!(
        saved.status(),
        StatusCode::OK,
        "{}",
        saved.text().await.unwrap()
    );
}

fn calls_by(sim: &TestSim, program: &str) -> u64 {
    sim.sim.client_counts().get(program).copied().unwrap_or(0)
}

fn failure(steps: &[Value]) -> String {
    steps
        .iter()
        .find_map(|step| step["failure"].as_str())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_data_source_with_cloud_connect_sends_every_procore_call_through_its_agent() {
    run(async {
        let sim = TestSim::start(roomy()).await;
        let server = trestle(&sim).await;
        let admin = server.client();
        server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;

        let issued = enrolment_token(&server, &admin).await;
        let token = issued["token"].as_str().unwrap();
        assert!(token.starts_with("trestle_enrol_"), "{issued}");
        assert!(
            issued["command"]
                .as_str()
                .unwrap()
                .starts_with("trestle-agent --server http://127.0.0.1:9 --token trestle_enrol_"),
            "{issued}"
        );
        let mut agent = RunningAgent::start(agent_config(&server, &sim, state_file(), Some(token)));
        let agent_id = agent.connected().await;

        let listed = agents(&server, &admin).await;
        assert_eq!(listed.len(), 1, "{listed:?}");
        assert_eq!(listed[0]["id"], agent_id.as_str());
        assert_eq!(listed[0]["name"], "site-office-pc");
        assert_eq!(listed[0]["online"], true);
        assert_eq!(listed[0]["version"], cloud_connect::agent::VERSION);

        // Authorized the ordinary way, then moved behind the agent.
        let id = authorized(&server, &sim, &admin).await;
        use_agent(&server, &admin, &id, Some(&agent_id)).await;
        let direct = calls_by(&sim, "trestle-procore");
        let relayed = calls_by(&sim, "trestle-agent");

        let steps = test_steps(&server, &admin, &id).await;
        assert_eq!(steps.len(), 3);
        assert!(steps.iter().all(|s| s["failure"].is_null()), "{steps:?}");
        // Token calls too: re-authorizing exchanges the code through the agent.
        let back = sim
            .consent_at(&start(&server, &admin, &id).await, true)
            .await;
        assert_eq!(callback(&server, &admin, &back).await.0, StatusCode::OK);

        assert_eq!(
            calls_by(&sim, "trestle-procore"),
            direct,
            "the server called Procore itself"
        );
        assert!(
            calls_by(&sim, "trestle-agent") >= relayed + 4,
            "three test steps and a code exchange went through the agent: {:?}",
            sim.sim.client_counts()
        );
        let listed = agents(&server, &admin).await;
        assert_eq!(listed[0]["data_sources"], json!(["Procore"]));

        // Back off Cloud Connect: straight to Procore again.
        use_agent(&server, &admin, &id, None).await;
        let steps = test_steps(&server, &admin, &id).await;
        assert!(steps.iter().all(|s| s["failure"].is_null()), "{steps:?}");
        assert!(calls_by(&sim, "trestle-procore") > direct);
        agent.task.abort();
    });
}

#[test]
fn an_agent_lost_mid_call_fails_the_call_soon_and_the_data_source_recovers_when_it_returns() {
    run(async {
        let sim = TestSim::start(roomy()).await;
        let server = trestle(&sim).await;
        let admin = server.client();
        server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let issued = enrolment_token(&server, &admin).await;
        let state = state_file();
        let mut agent = RunningAgent::start(agent_config(
            &server,
            &sim,
            state.clone(),
            issued["token"].as_str(),
        ));
        let agent_id = agent.connected().await;
        let id = authorized(&server, &sim, &admin).await;
        use_agent(&server, &admin, &id, Some(&agent_id)).await;

        // Procore slows down; the agent dies while a call waits on it.
        sim.sim.update_config(|c| c.faults.latency_ms = 5_000);
        let testing = {
            let (server, admin, id) = (Server { addr: server.addr }, admin.clone(), id.clone());
            tokio::spawn(async move { test_steps(&server, &admin, &id).await })
        };
        tokio::time::sleep(Duration::from_millis(700)).await;
        agent.task.abort();
        let steps = tokio::time::timeout(Duration::from_secs(30), testing)
            .await
            .expect("the call fails instead of hanging")
            .unwrap();
        let message = failure(&steps);
        assert!(
            message.contains("Cloud Connect agent \"site-office-pc\""),
            "{steps:?}"
        );
        sim.sim.update_config(|c| c.faults.latency_ms = 0);

        let listed = agents(&server, &admin).await;
        assert_eq!(listed[0]["online"], false);
        assert!(!listed[0]["last_seen"].is_null());
        let steps = test_steps(&server, &admin, &id).await;
        assert!(
            failure(&steps).contains("Cloud Connect agent \"site-office-pc\" is offline"),
            "{steps:?}"
        );
        assert_eq!(steps.last().unwrap()["status"], "test_failed");

        // Restarted from its state file, without a token, it carries the calls again.
        let mut agent = RunningAgent::start(agent_config(&server, &sim, state, None));
        assert_eq!(agent.connected().await, agent_id);
        let steps = test_steps(&server, &admin, &id).await;
        assert!(steps.iter().all(|s| s["failure"].is_null()), "{steps:?}");
        agent.task.abort();
    });
}

#[test]
fn used_tokens_revoked_agents_and_other_hosts_are_refused() {
    run(async {
        let sim = TestSim::start(roomy()).await;
        let server = trestle(&sim).await;
        let admin = server.client();
        server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let issued = enrolment_token(&server, &admin).await;
        let token = issued["token"].as_str().unwrap();
        let state = state_file();
        let mut agent =
            RunningAgent::start(agent_config(&server, &sim, state.clone(), Some(token)));
        let agent_id = agent.connected().await;

        // The token enrolled one agent; it enrols no second.
        let second = RunningAgent::start(agent_config(&server, &sim, state_file(), Some(token)));
        match second.ended().await {
            Err(AgentError::EnrolmentRefused(message)) => {
                assert!(
                    message.contains("enrolment token is not valid"),
                    "{message}"
                )
            }
            other => panic!("a used token is refused: {other:?}"),
        }
        // Nor does a made-up one, and a WebSocket without the agent's secret is refused.
        let http = reqwest::Client::new();
        let forged = http
            .post(server.url("/cloud-connect/enrol"))
            .json(&json!({ "token": "trestle_enrol_forged", "name": "x", "version": "1" }))
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
        let unauthenticated = http
            .get(server.url("/cloud-connect/connect"))
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .send()
            .await
            .unwrap();
        assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);

        // An agent only calls its own Procore hosts, whatever the server asks.
        let id = authorized(&server, &sim, &admin).await;
        let narrow = state_file();
        let mut config = agent_config(&server, &sim, narrow, None);
        let other = enrolment_token(&server, &admin).await;
        config.enrolment_token = other["token"].as_str().map(str::to_string);
        config.procore_hosts = vec![Url::parse("https://api.procore.com").unwrap()];
        config.name = "strict-pc".into();
        let mut strict = RunningAgent::start(config);
        let strict_id = strict.connected().await;
        use_agent(&server, &admin, &id, Some(&strict_id)).await;
        let before = calls_by(&sim, "trestle-agent");
        let steps = test_steps(&server, &admin, &id).await;
        assert!(
            failure(&steps).contains("may not call 127.0.0.1"),
            "{steps:?}"
        );
        assert_eq!(calls_by(&sim, "trestle-agent"), before);
        strict.task.abort();

        // Revoked: the running agent is told and stops; restarted, it is refused.
        let revoked = server
            .call(&admin, "revoke_agent", json!({ "id": agent_id }))
            .await;
        assert_eq!(revoked.status(), StatusCode::OK);
        assert!(matches!(agent.ended().await, Err(AgentError::Revoked(_))));
        let again = RunningAgent::start(agent_config(&server, &sim, state, None));
        assert!(matches!(again.ended().await, Err(AgentError::Revoked(_))));
        let listed = agents(&server, &admin).await;
        assert!(
            listed.iter().all(|a| a["id"] != agent_id.as_str()),
            "{listed:?}"
        );
    });
}

#[test]
fn only_administrators_manage_agents_and_managers_see_connectors() {
    run(async {
        let sim = TestSim::start(roomy()).await;
        let server = trestle(&sim).await;
        let admin = server.client();
        server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let issued = enrolment_token(&server, &admin).await;
        let mut agent = RunningAgent::start(agent_config(
            &server,
            &sim,
            state_file(),
            issued["token"].as_str(),
        ));
        let agent_id = agent.connected().await;

        let (manager, _) = server
            .person(&admin, "manager@example.com", &["data_source_manager"])
            .await;
        let (user, _) = server.person(&admin, "user@example.com", &["user"]).await;
        for client in [&manager, &user] {
            for (name, body) in [
                ("list_agents", json!({})),
                ("create_enrolment", json!({})),
                ("revoke_agent", json!({ "id": agent_id })),
            ] {
                let refused = server.call(client, name, body).await;
                assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{name}");
            }
        }
        let connectors = server.call(&manager, "list_connectors", json!({})).await;
        assert_eq!(connectors.status(), StatusCode::OK);
        let connectors: Vec<Value> = connectors.json().await.unwrap();
        assert_eq!(connectors.len(), 1);
        assert_eq!(connectors[0]["name"], "site-office-pc");
        assert_eq!(connectors[0]["online"], true);
        let refused = server.call(&user, "list_connectors", json!({})).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);

        let bad = server
            .call(&admin, "revoke_agent", json!({ "id": "no such agent" }))
            .await;
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let missing = server
            .call(&admin, "revoke_agent", json!({ "id": "nosuchagent" }))
            .await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        agent.task.abort();
    });
}
