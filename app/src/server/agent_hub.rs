//! The Cloud Connect agents connected to this server, and the Procore transport that sends
//! a data source's calls through its agent.
//!
//! Each connected agent has a link: an outbox of messages for its WebSocket and the
//! requests waiting for its answers. A request never waits longer than its timeout, and
//! when the link goes (the agent stopped, the network dropped, the heartbeat went quiet)
//! every request on it fails at once, so no caller hangs on an agent that is gone.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cloud_connect::protocol::{FailureKind, FromAgent, RelayRequest, ToAgent};
use futures::future::BoxFuture;
use procore::transport::{
    HttpRequest, HttpResponse, Transport, TransportError, TransportErrorKind,
};
use tokio::sync::{mpsc, oneshot};

use super::store::Store;

/// How much longer than a call's own timeout the server waits for an agent's answer: the
/// trip to the agent and back.
pub const RELAY_MARGIN: Duration = Duration::from_secs(5);

type Reply = Result<HttpResponse, RelayError>;
type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Reply>>>>;

#[derive(Clone, Default)]
pub struct AgentHub {
    inner: Arc<HubInner>,
}

#[derive(Default)]
struct HubInner {
    links: Mutex<HashMap<String, Link>>,
    next_request: AtomicU64,
    next_link: AtomicU64,
}

#[derive(Clone)]
struct Link {
    serial: u64,
    outbox: mpsc::Sender<ToAgent>,
    pending: Pending,
}

/// A connection's side of its link: what to send the agent, and where its answers go.
pub struct Attached {
    pub serial: u64,
    pub outbox: mpsc::Receiver<ToAgent>,
    pending: Pending,
}

/// Why a relayed request got no answer from Procore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayError {
    Offline,
    /// The agent disconnected, or did not answer in time, after the request was sent.
    Lost(String),
    Failed {
        kind: FailureKind,
        message: String,
    },
}

impl AgentHub {
    pub fn is_online(&self, agent: &str) -> bool {
        self.links().contains_key(agent)
    }

    pub fn online(&self) -> HashSet<String> {
        self.links().keys().cloned().collect()
    }

    fn links(&self) -> std::sync::MutexGuard<'_, HashMap<String, Link>> {
        self.inner.links.lock().expect("agent links")
    }

    /// Registers a new connection of `agent`. An older connection of the same agent (a
    /// reconnect racing the old socket's close) is replaced: its outbox closes, which ends
    /// it, and its requests fail so their callers can retry on the new one.
    pub fn attach(&self, agent: &str) -> Attached {
        let (outbox, receiver) = mpsc::channel(64);
        let pending: Pending = Arc::default();
        let serial = self.inner.next_link.fetch_add(1, Ordering::Relaxed);
        let link = Link {
            serial,
            outbox,
            pending: pending.clone(),
        };
        if let Some(old) = self.links().insert(agent.to_string(), link) {
            fail_all(&old, "reconnected");
        }
        Attached {
            serial,
            outbox: receiver,
            pending,
        }
    }

    /// Ends a connection's link (if it is still the current one) and fails what waited on it.
    pub fn detach(&self, agent: &str, serial: u64) {
        let mut links = self.links();
        if links.get(agent).is_some_and(|link| link.serial == serial) {
            let link = links.remove(agent).expect("checked above");
            drop(links);
            fail_all(&link, "disconnected");
        }
    }

    /// Tells a connected agent it is revoked; its connection ends when it has said so.
    pub fn revoke(&self, agent: &str) {
        let link = self.links().remove(agent);
        if let Some(link) = link {
            // A full outbox means a stuck connection: dropping the link closes it anyway.
            let _ = link.outbox.try_send(ToAgent::Revoked);
            fail_all(&link, "was revoked");
        }
    }

    /// Hands an agent's answer to the request waiting for it.
    pub fn deliver(attached: &Attached, message: FromAgent) {
        let (id, reply) = match message {
            FromAgent::Response(response) => {
                let reply = response.to_http().map_err(|e| RelayError::Failed {
                    kind: FailureKind::Other,
                    message: format!("it sent a broken response: {e}"),
                });
                (response.id, reply)
            }
            FromAgent::Failure { id, kind, message } => {
                (id, Err(RelayError::Failed { kind, message }))
            }
        };
        let waiting = attached
            .pending
            .lock()
            .expect("pending requests")
            .remove(&id);
        if let Some(waiting) = waiting {
            let _ = waiting.send(reply);
        }
    }

    /// Sends `request` through `agent` and waits for Procore's answer, at most `timeout`.
    pub async fn relay(
        &self,
        agent: &str,
        request: &HttpRequest,
        timeout: Duration,
    ) -> Result<HttpResponse, RelayError> {
        let Some(link) = self.links().get(agent).cloned() else {
            return Err(RelayError::Offline);
        };
        let id = self.inner.next_request.fetch_add(1, Ordering::Relaxed);
        let message =
            RelayRequest::from_http(id, request, timeout).map_err(|e| RelayError::Failed {
                kind: FailureKind::Other,
                message: e.to_string(),
            })?;
        let (reply, answer) = oneshot::channel();
        link.pending
            .lock()
            .expect("pending requests")
            .insert(id, reply);
        if link.outbox.send(ToAgent::Request(message)).await.is_err() {
            link.pending.lock().expect("pending requests").remove(&id);
            return Err(RelayError::Offline);
        }
        // The agent enforces `timeout` on Procore; the margin covers the trip to the agent.
        match tokio::time::timeout(timeout + RELAY_MARGIN, answer).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(_)) => Err(RelayError::Lost("disconnected".into())),
            Err(_) => {
                link.pending.lock().expect("pending requests").remove(&id);
                let _ = link.outbox.try_send(ToAgent::Cancel { id });
                Err(RelayError::Lost("did not answer in time".into()))
            }
        }
    }
}

fn failure(kind: FailureKind, message: String) -> TransportError {
    let kind = match kind {
        FailureKind::Connect => TransportErrorKind::Connect,
        FailureKind::Timeout => TransportErrorKind::Timeout,
        FailureKind::Refused | FailureKind::Other => TransportErrorKind::Other,
    };
    TransportError { kind, message }
}

/// Fails every request waiting on `link`: `what` says what happened to the agent.
fn fail_all(link: &Link, what: &str) {
    let waiting: Vec<_> = link
        .pending
        .lock()
        .expect("pending requests")
        .drain()
        .collect();
    for (_, reply) in waiting {
        let _ = reply.send(Err(RelayError::Lost(what.to_string())));
    }
}

/// A data source's Procore calls, token calls included, carried by its agent.
pub struct AgentTransport {
    hub: AgentHub,
    store: Store,
    agent: String,
    timeout: Duration,
}

impl AgentTransport {
    /// `timeout` bounds each call at the agent; the server waits [`RELAY_MARGIN`] more.
    pub fn new(hub: AgentHub, store: Store, agent: String, timeout: Duration) -> AgentTransport {
        AgentTransport {
            hub,
            store,
            agent,
            timeout,
        }
    }

    /// "Cloud Connect agent "NAME"", or why there is none.
    async fn describe(&self) -> Result<String, String> {
        match self.store.agent(&self.agent).await {
            Ok(Some(agent)) => Ok(format!("Cloud Connect agent \"{}\"", agent.name)),
            Ok(None) => Err(
                "this data source's Cloud Connect agent was revoked: choose another agent in its details"
                    .into(),
            ),
            Err(e) => {
                tracing::warn!(error = %e, "reading a Cloud Connect agent failed");
                Ok("the Cloud Connect agent".into())
            }
        }
    }
}

impl Transport for AgentTransport {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        Box::pin(async move {
            let outcome = self.hub.relay(&self.agent, &request, self.timeout).await;
            let error = match outcome {
                Ok(response) => return Ok(response),
                Err(error) => error,
            };
            let agent = match self.describe().await {
                Ok(agent) => agent,
                Err(gone) => {
                    return Err(TransportError {
                        kind: TransportErrorKind::Connect,
                        message: gone,
                    });
                }
            };
            Err(match error {
                // Nothing was sent: safe to try again, and it may be back by then.
                RelayError::Offline => TransportError {
                    kind: TransportErrorKind::Connect,
                    message: format!("{agent} is offline"),
                },
                RelayError::Lost(what) => TransportError {
                    kind: TransportErrorKind::Timeout,
                    message: format!("{agent} {what} during the call"),
                },
                RelayError::Failed { kind, message } => {
                    let error = failure(kind, message);
                    TransportError {
                        kind: error.kind,
                        message: format!("{agent}: {}", error.message),
                    }
                }
            })
        })
    }
}
