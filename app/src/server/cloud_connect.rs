//! Cloud Connect on the server: enrolment tokens and agents for administrators, the
//! enrolment endpoint, and each agent's WebSocket (see [`super::agent_hub`] for what
//! travels over it).

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use cloud_connect::protocol::{
    CONNECT_PATH, ENROL_PATH, EnrolRequest, Enrolled, FromAgent, PING_EVERY, Refusal,
    SILENCE_LIMIT, ToAgent, VERSION_HEADER,
};
use futures::{SinkExt, StreamExt};
use http::{HeaderMap, StatusCode};

use super::AppState;
use super::agent_hub::{AgentHub, Attached};
use super::crypto::{random_token, token_hash};
use super::store::AgentRecord;
use crate::api::cloud_connect::{Agent, Connector, IssuedEnrolment};
use crate::error::AppError;
use crate::model::{SessionUser, is_record_key};

/// Enrolment tokens start with this, agent secrets with [`SECRET_PREFIX`]: either is
/// recognisable when pasted in the wrong place.
const ENROLMENT_PREFIX: &str = "trestle_enrol_";
const SECRET_PREFIX: &str = "trestle_agent_";
/// Long enough to copy a token to another machine, short enough that a forgotten one
/// stops mattering soon.
const ENROLMENT_LIFETIME: chrono::Duration = chrono::Duration::hours(24);
/// How often a connected agent's `last_seen` is written while it stays connected.
const SEEN_EVERY: Duration = Duration::from_secs(60);

const NAME_MAX_CHARS: usize = 100;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(ENROL_PATH, post(enrol))
        .route(CONNECT_PATH, get(connect))
}

pub async fn list_agents(state: &AppState) -> Result<Vec<Agent>, AppError> {
    let online = state.procore.agents().online();
    let agents = state.store.list_agents().await?;
    Ok(agents
        .into_iter()
        .map(|agent| {
            let online = online.contains(&agent.id);
            Agent {
                last_seen: if online {
                    Some(Utc::now())
                } else {
                    agent.last_seen
                },
                online,
                id: agent.id,
                name: agent.name,
                version: agent.version,
                enrolled_at: agent.enrolled_at,
                data_sources: agent.data_sources,
            }
        })
        .collect())
}

pub async fn connectors(state: &AppState) -> Result<Vec<Connector>, AppError> {
    Ok(list_agents(state)
        .await?
        .into_iter()
        .map(|agent| Connector {
            id: agent.id,
            name: agent.name,
            online: agent.online,
            last_seen: agent.last_seen,
        })
        .collect())
}

pub async fn create_enrolment(
    state: &AppState,
    user: &SessionUser,
) -> Result<IssuedEnrolment, AppError> {
    let token = format!("{ENROLMENT_PREFIX}{}", random_token());
    let expires_at = Utc::now() + ENROLMENT_LIFETIME;
    state
        .store
        .create_enrolment(&token_hash(&token), &user.id, expires_at)
        .await?;
    tracing::info!(by = %user.id, "Cloud Connect enrolment token created");
    let server = state.config.public_url.as_str().trim_end_matches('/');
    Ok(IssuedEnrolment {
        command: format!("trestle-agent --server {server} --token {token}"),
        token,
        expires_at,
    })
}

pub async fn revoke_agent(state: &AppState, user: &SessionUser, id: &str) -> Result<(), AppError> {
    if !is_record_key(id) {
        return Err(AppError::invalid("id", "That agent id is not valid."));
    }
    if !state.store.delete_agent(id).await? {
        return Err(AppError::NotFound("The agent".into()));
    }
    state.procore.agents().revoke(id);
    tracing::info!(agent = %id, by = %user.id, "Cloud Connect agent revoked");
    Ok(())
}

fn refuse(status: StatusCode, error: &str) -> Response {
    (
        status,
        Json(Refusal {
            error: error.to_string(),
        }),
    )
        .into_response()
}

async fn enrol(State(state): State<AppState>, body: Option<Json<EnrolRequest>>) -> Response {
    let Some(Json(request)) = body else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "expected JSON with token, name and version",
        );
    };
    let name = request.name.trim();
    let version = request.version.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX_CHARS || version.len() > 40 {
        return refuse(
            StatusCode::BAD_REQUEST,
            "the agent's name must have 1 to 100 characters and its version at most 40",
        );
    }
    const REFUSED: &str = "This enrolment token is not valid: it was already used, has expired or was never issued. Create a new one under Administration > Cloud Connect.";
    if !request.token.starts_with(ENROLMENT_PREFIX) {
        return refuse(StatusCode::UNAUTHORIZED, REFUSED);
    }
    let secret = format!("{SECRET_PREFIX}{}", random_token());
    let enrolled = state
        .store
        .enrol_agent(
            &token_hash(&request.token),
            name,
            version,
            &token_hash(&secret),
            Utc::now(),
        )
        .await;
    match enrolled {
        Ok(Some(agent)) => {
            tracing::info!(agent = %agent.id, name = %agent.name, "Cloud Connect agent enrolled");
            Json(Enrolled {
                agent_id: agent.id,
                secret,
            })
            .into_response()
        }
        Ok(None) => refuse(StatusCode::UNAUTHORIZED, REFUSED),
        Err(e) => {
            tracing::error!(error = %e, "enrolling a Cloud Connect agent failed");
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the server could not enrol the agent; try again",
            )
        }
    }
}

async fn connect(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let secret = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|secret| secret.starts_with(SECRET_PREFIX));
    let agent = match secret {
        Some(secret) => state.store.agent_by_secret(&token_hash(secret)).await,
        None => Ok(None),
    };
    let agent = match agent {
        Ok(Some(agent)) => agent,
        Ok(None) => {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "this agent's credentials are not valid: it was revoked. Enrol it again with a new enrolment token.",
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "reading a Cloud Connect agent failed");
            return refuse(StatusCode::SERVICE_UNAVAILABLE, "try again later");
        }
    };
    let version = headers
        .get(VERSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(40).collect::<String>())
        .unwrap_or_else(|| agent.version.clone());
    upgrade.on_upgrade(move |socket| serve(state, agent, version, socket))
}

/// One agent connection, from welcome to goodbye.
async fn serve(state: AppState, agent: AgentRecord, version: String, socket: WebSocket) {
    let hub: AgentHub = state.procore.agents().clone();
    let mut attached = hub.attach(&agent.id);
    let seen = |at| {
        let (store, id, version) = (state.store.clone(), agent.id.clone(), version.clone());
        async move {
            if let Err(e) = store.agent_seen(&id, &version, at).await {
                tracing::warn!(error = %e, "could not note when a Cloud Connect agent was seen");
            }
        }
    };
    seen(Utc::now()).await;
    tracing::info!(agent = %agent.id, name = %agent.name, %version, "Cloud Connect agent connected");
    let (mut sink, mut stream) = socket.split();
    let welcome = ToAgent::Welcome {
        agent_id: agent.id.clone(),
        name: agent.name.clone(),
    };
    let reason = if send(&mut sink, &welcome).await.is_err() {
        "the welcome could not be sent".to_string()
    } else {
        talk(&mut sink, &mut stream, &mut attached, &seen).await
    };
    hub.detach(&agent.id, attached.serial);
    seen(Utc::now()).await;
    tracing::info!(agent = %agent.id, %reason, "Cloud Connect agent disconnected");
}

type Sink = futures::stream::SplitSink<WebSocket, Message>;
type Stream = futures::stream::SplitStream<WebSocket>;

async fn send(sink: &mut Sink, message: &ToAgent) -> Result<(), axum::Error> {
    let text = serde_json::to_string(message).expect("messages serialise");
    sink.send(Message::Text(text.into())).await
}

/// Carries messages both ways until the connection ends; says why it ended.
async fn talk<F: Future<Output = ()>>(
    sink: &mut Sink,
    stream: &mut Stream,
    attached: &mut Attached,
    seen: &impl Fn(chrono::DateTime<Utc>) -> F,
) -> String {
    let mut ping = tokio::time::interval(PING_EVERY);
    let mut last_heard = tokio::time::Instant::now();
    let mut last_noted = tokio::time::Instant::now();
    loop {
        tokio::select! {
            incoming = stream.next() => {
                last_heard = tokio::time::Instant::now();
                match incoming {
                    None | Some(Ok(Message::Close(_))) => return "the agent closed the connection".into(),
                    Some(Err(e)) => return format!("the connection failed: {e}"),
                    Some(Ok(Message::Text(text))) => match serde_json::from_str::<FromAgent>(text.as_str()) {
                        Ok(message) => AgentHub::deliver(attached, message),
                        Err(e) => tracing::warn!(error = %e, "ignoring a message from an agent"),
                    },
                    Some(Ok(_)) => {}
                }
            }
            outgoing = attached.outbox.recv() => match outgoing {
                Some(message) => {
                    let revoked = message == ToAgent::Revoked;
                    if send(sink, &message).await.is_err() {
                        return "sending failed".into();
                    }
                    if revoked {
                        let _ = sink.close().await;
                        return "revoked".into();
                    }
                }
                // A newer connection of the same agent took over.
                None => {
                    let _ = sink.close().await;
                    return "replaced by a newer connection".into();
                }
            },
            _ = ping.tick() => {
                if last_heard.elapsed() > SILENCE_LIMIT {
                    return "the agent stopped answering".into();
                }
                if sink.send(Message::Ping(Vec::new().into())).await.is_err() {
                    return "sending failed".into();
                }
                if last_noted.elapsed() >= SEEN_EVERY {
                    last_noted = tokio::time::Instant::now();
                    seen(Utc::now()).await;
                }
            }
        }
    }
}
