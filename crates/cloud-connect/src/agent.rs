//! The agent: enrols once, then keeps a WebSocket to the server open for as long as it
//! runs, reconnecting with backoff, and performs the Procore calls the server sends it.
//!
//! The agent trusts the server only as far as its own configuration allows: it calls
//! nothing but the Procore hosts it was given, so a compromised or misconfigured server
//! cannot use it to reach other machines inside the customer's network.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use procore::transport::{ReqwestTransport, Transport, TransportErrorKind};
use serde::{Deserialize, Serialize};
use tokio::sync::{Semaphore, mpsc};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use url::Url;

use crate::protocol::{
    CONNECT_PATH, ENROL_PATH, EnrolRequest, Enrolled, FailureKind, FromAgent, PING_EVERY, Refusal,
    RelayRequest, RelayResponse, SILENCE_LIMIT, ToAgent, VERSION_HEADER,
};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// Trestle's public address, e.g. `https://trestle.example.com`.
    pub server: Url,
    /// Where the agent keeps its credentials after enrolling.
    pub state_path: PathBuf,
    /// Needed only for the first run.
    pub enrolment_token: Option<String>,
    /// Shown to administrators; the machine's name by default.
    pub name: String,
    /// The only origins the agent will call.
    pub procore_hosts: Vec<Url>,
    pub max_in_flight: usize,
    /// The longest wait between reconnection attempts.
    pub max_backoff: Duration,
}

impl AgentConfig {
    pub fn new(server: Url, state_path: PathBuf) -> AgentConfig {
        AgentConfig {
            server,
            state_path,
            enrolment_token: None,
            name: machine_name(),
            procore_hosts: procore_hosts(),
            max_in_flight: 32,
            max_backoff: Duration::from_secs(60),
        }
    }
}

/// Procore's own login and API hosts, for all three environments.
pub fn procore_hosts() -> Vec<Url> {
    procore::Environment::ALL
        .into_iter()
        .flat_map(|environment| {
            let hosts = environment.default_hosts();
            [hosts.login, hosts.api]
        })
        .collect()
}

fn machine_name() -> String {
    std::env::var("HOSTNAME")
        .or_else(|_| std::env::var("COMPUTERNAME"))
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "trestle-agent".to_string())
}

/// Why the agent stopped for good. Everything else (the server restarting, the network
/// dropping) it recovers from by itself.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("the server refused the enrolment token: {0}")]
    EnrolmentRefused(String),
    #[error(
        "this agent is not enrolled: start it once with --token and an enrolment token from Administration > Cloud Connect"
    )]
    NotEnrolled,
    #[error("the server no longer accepts this agent (it was revoked): {0}")]
    Revoked(String),
    #[error("{0}")]
    State(String),
}

impl AgentError {
    /// The process exit status for this error, so service managers can tell them apart.
    pub fn exit_code(&self) -> i32 {
        match self {
            AgentError::EnrolmentRefused(_) | AgentError::NotEnrolled | AgentError::State(_) => 2,
            AgentError::Revoked(_) => 3,
        }
    }
}

/// What happens to the agent, for its log and for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Enrolled { agent_id: String },
    Connected { agent_id: String, name: String },
    Disconnected { reason: String, retry_in: Duration },
}

/// The agent's credentials, in a file only its user can read.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    server: String,
    agent_id: String,
    secret: String,
}

/// Runs until the agent is revoked or cannot enrol; reconnects by itself otherwise.
pub async fn run(config: AgentConfig, on_event: impl Fn(Event)) -> Result<(), AgentError> {
    ensure_crypto_provider();
    let transport = ReqwestTransport::new(Duration::from_secs(10), Duration::from_secs(120))
        .map_err(|e| AgentError::State(e.to_string()))?;
    let relay = Arc::new(Relay {
        transport,
        allowed: config.procore_hosts.iter().map(origin_of).collect(),
        permits: Semaphore::new(config.max_in_flight.max(1)),
        user_agent: format!("trestle-agent/{VERSION}"),
    });
    let state = match load_state(&config.state_path, &config.server)? {
        Some(state) => state,
        None => {
            let token = config
                .enrolment_token
                .as_deref()
                .ok_or(AgentError::NotEnrolled)?;
            let state = enrol(&config, token).await?;
            save_state(&config.state_path, &state)?;
            on_event(Event::Enrolled {
                agent_id: state.agent_id.clone(),
            });
            state
        }
    };
    let mut backoff = Backoff::new(config.max_backoff);
    loop {
        let started = Instant::now();
        let reason = match connect(&config, &state).await {
            Ok(socket) => match serve(socket, &relay, &on_event).await {
                Ok(reason) => reason,
                Err(revoked) => return Err(revoked),
            },
            Err(ConnectError::Refused(message)) => return Err(AgentError::Revoked(message)),
            Err(ConnectError::Failed(message)) => message,
        };
        // A connection that lasted a while was a good one: start the backoff over.
        if started.elapsed() > SILENCE_LIMIT {
            backoff.reset();
        }
        let retry_in = backoff.next();
        on_event(Event::Disconnected { reason, retry_in });
        tokio::time::sleep(retry_in).await;
    }
}

/// rustls needs one process-wide crypto provider; the build may enable several.
fn ensure_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn load_state(path: &Path, server: &Url) -> Result<Option<State>, AgentError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(AgentError::State(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    let state: State = serde_json::from_str(&text).map_err(|e| {
        AgentError::State(format!(
            "{} is not an agent state file: {e}",
            path.display()
        ))
    })?;
    if state.server != server.as_str() {
        return Err(AgentError::State(format!(
            "{} belongs to the server {}; use another --state file for {server}",
            path.display(),
            state.server
        )));
    }
    Ok(Some(state))
}

fn save_state(path: &Path, state: &State) -> Result<(), AgentError> {
    let failed =
        |e: std::io::Error| AgentError::State(format!("cannot write {}: {e}", path.display()));
    let text = serde_json::to_string_pretty(state).expect("the state serialises");
    // Written whole to a private temporary file, then renamed: a crash never leaves half
    // a credential, and no other user can read it at any point.
    let temporary = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temporary).map_err(failed)?;
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(failed)?;
    file.sync_all().map_err(failed)?;
    std::fs::rename(&temporary, path).map_err(failed)
}

async fn enrol(config: &AgentConfig, token: &str) -> Result<State, AgentError> {
    let url = config
        .server
        .join(ENROL_PATH)
        .map_err(|e| AgentError::State(format!("the server address: {e}")))?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| AgentError::State(e.to_string()))?;
    let request = EnrolRequest {
        token: token.to_string(),
        name: config.name.clone(),
        version: VERSION.to_string(),
    };
    let mut backoff = Backoff::new(config.max_backoff);
    loop {
        match http.post(url.clone()).json(&request).send().await {
            Ok(response) if response.status().is_success() => {
                let enrolled: Enrolled = response.json().await.map_err(|e| {
                    AgentError::State(format!("the server's enrolment answer: {e}"))
                })?;
                return Ok(State {
                    server: config.server.to_string(),
                    agent_id: enrolled.agent_id,
                    secret: enrolled.secret,
                });
            }
            Ok(response) if response.status().is_client_error() => {
                let status = response.status();
                let message = response
                    .json::<Refusal>()
                    .await
                    .map(|r| r.error)
                    .unwrap_or_else(|_| format!("HTTP {status}"));
                return Err(AgentError::EnrolmentRefused(message));
            }
            // The server is down or restarting: enrolment can wait for it.
            Ok(response) => {
                tracing::warn!(status = %response.status(), "enrolment failed; retrying");
            }
            Err(e) => tracing::warn!(error = %without_url(&e), "cannot reach the server; retrying"),
        }
        tokio::time::sleep(backoff.next()).await;
    }
}

/// reqwest's errors name the URL; the agent's log needs only what went wrong.
fn without_url(error: &reqwest::Error) -> String {
    if error.is_connect() {
        "could not connect".into()
    } else if error.is_timeout() {
        "timed out".into()
    } else {
        "the request failed".into()
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

enum ConnectError {
    /// The server will never take these credentials again.
    Refused(String),
    Failed(String),
}

async fn connect(config: &AgentConfig, state: &State) -> Result<Socket, ConnectError> {
    let mut url = config
        .server
        .join(CONNECT_PATH)
        .map_err(|e| ConnectError::Failed(e.to_string()))?;
    let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
    url.set_scheme(scheme)
        .map_err(|_| ConnectError::Failed("the server address cannot carry a WebSocket".into()))?;
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| ConnectError::Failed(e.to_string()))?;
    let headers = request.headers_mut();
    let bearer = format!("Bearer {}", state.secret)
        .parse()
        .map_err(|_| ConnectError::Refused("the stored secret is damaged".into()))?;
    headers.insert(http::header::AUTHORIZATION, bearer);
    headers.insert(VERSION_HEADER, http::HeaderValue::from_static(VERSION));
    let connecting = tokio_tungstenite::connect_async(request);
    match tokio::time::timeout(Duration::from_secs(30), connecting).await {
        Err(_) => Err(ConnectError::Failed("connecting timed out".into())),
        Ok(Ok((socket, _))) => Ok(socket),
        Ok(Err(tungstenite::Error::Http(response)))
            if matches!(response.status().as_u16(), 401 | 403) =>
        {
            let message = response
                .body()
                .as_deref()
                .and_then(|body| serde_json::from_slice::<Refusal>(body).ok())
                .map(|r| r.error)
                .unwrap_or_else(|| format!("HTTP {}", response.status()));
            Err(ConnectError::Refused(message))
        }
        Ok(Err(tungstenite::Error::Http(response))) => Err(ConnectError::Failed(format!(
            "the server answered HTTP {}",
            response.status()
        ))),
        Ok(Err(e)) => Err(ConnectError::Failed(e.to_string())),
    }
}

/// Serves one connection until it ends. `Ok` carries why it ended (to reconnect);
/// `Err` means the agent was revoked.
async fn serve(
    socket: Socket,
    relay: &Arc<Relay>,
    on_event: &impl Fn(Event),
) -> Result<String, AgentError> {
    let (mut sink, mut stream) = socket.split();
    let (outbox, mut outgoing) = mpsc::channel::<FromAgent>(64);
    let in_flight: Arc<Mutex<HashMap<u64, tokio::task::AbortHandle>>> = Arc::default();
    let mut ping = tokio::time::interval(PING_EVERY);
    let mut last_heard = Instant::now();
    let reason = loop {
        tokio::select! {
            message = stream.next() => {
                last_heard = Instant::now();
                let text = match message {
                    None => break "the server closed the connection".to_string(),
                    Some(Err(e)) => break format!("the connection failed: {e}"),
                    Some(Ok(Message::Close(_))) => break "the server closed the connection".to_string(),
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(_)) => continue,
                };
                match serde_json::from_str::<ToAgent>(text.as_str()) {
                    Ok(ToAgent::Welcome { agent_id, name }) => {
                        on_event(Event::Connected { agent_id, name });
                    }
                    Ok(ToAgent::Request(request)) => {
                        let id = request.id;
                        let (relay, outbox, running) = (relay.clone(), outbox.clone(), in_flight.clone());
                        let task = tokio::spawn(async move {
                            let answer = relay.carry(request).await;
                            running.lock().expect("in-flight requests").remove(&id);
                            let _ = outbox.send(answer).await;
                        });
                        in_flight.lock().expect("in-flight requests").insert(id, task.abort_handle());
                    }
                    Ok(ToAgent::Cancel { id }) => {
                        if let Some(task) = in_flight.lock().expect("in-flight requests").remove(&id) {
                            task.abort();
                        }
                    }
                    Ok(ToAgent::Revoked) => {
                        let _ = sink.close().await;
                        return Err(AgentError::Revoked("an administrator revoked it".into()));
                    }
                    Err(e) => tracing::warn!(error = %e, "ignoring a message the agent does not understand"),
                }
            }
            Some(answer) = outgoing.recv() => {
                let text = serde_json::to_string(&answer).expect("answers serialise");
                if let Err(e) = sink.send(Message::text(text)).await {
                    break format!("sending failed: {e}");
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > SILENCE_LIMIT {
                    break "the server stopped answering".to_string();
                }
                if let Err(e) = sink.send(Message::Ping(Vec::new().into())).await {
                    break format!("sending failed: {e}");
                }
            }
        }
    };
    // The server fails whatever was in flight on this connection when it sees it close.
    for (_, task) in in_flight.lock().expect("in-flight requests").drain() {
        task.abort();
    }
    Ok(reason)
}

/// Performs relayed requests.
struct Relay {
    transport: ReqwestTransport,
    allowed: Vec<Origin>,
    permits: Semaphore,
    user_agent: String,
}

type Origin = (String, String, Option<u16>);

fn origin_of(url: &Url) -> Origin {
    (
        url.scheme().to_string(),
        url.host_str().unwrap_or_default().to_ascii_lowercase(),
        url.port_or_known_default(),
    )
}

impl Relay {
    async fn carry(&self, request: RelayRequest) -> FromAgent {
        let id = request.id;
        let fail = |kind, message: String| FromAgent::Failure { id, kind, message };
        let allowed = Url::parse(&request.url)
            .ok()
            .filter(|url| self.allowed.contains(&origin_of(url)));
        let Some(url) = allowed else {
            let host = Url::parse(&request.url)
                .ok()
                .and_then(|url| url.host_str().map(str::to_string))
                .unwrap_or_else(|| "that address".into());
            tracing::warn!(%host, "refused a request for a host that is not a configured Procore host");
            return fail(
                FailureKind::Refused,
                format!(
                    "the Cloud Connect agent may not call {host}: it is not one of its Procore hosts"
                ),
            );
        };
        let mut http_request = match request.to_http() {
            Ok(http_request) => http_request,
            Err(e) => return fail(FailureKind::Other, e.to_string()),
        };
        if let Ok(value) = self.user_agent.parse() {
            http_request
                .headers_mut()
                .insert(http::header::USER_AGENT, value);
        }
        let Ok(_permit) = self.permits.acquire().await else {
            return fail(FailureKind::Other, "the agent is shutting down".into());
        };
        let started = Instant::now();
        let outcome =
            tokio::time::timeout(request.timeout(), self.transport.send(http_request)).await;
        tracing::debug!(method = %request.method, path = url.path(), elapsed = ?started.elapsed(), "relayed");
        match outcome {
            Err(_) => fail(
                FailureKind::Timeout,
                "Procore did not answer in time".into(),
            ),
            Ok(Err(e)) => {
                let kind = match e.kind {
                    TransportErrorKind::Connect => FailureKind::Connect,
                    TransportErrorKind::Timeout => FailureKind::Timeout,
                    TransportErrorKind::Other => FailureKind::Other,
                };
                fail(kind, e.message)
            }
            Ok(Ok(response)) => match RelayResponse::from_http(id, &response) {
                Ok(response) => FromAgent::Response(response),
                Err(e) => fail(FailureKind::Other, format!("Procore's answer: {e}")),
            },
        }
    }
}

/// Exponential backoff with jitter, so many agents do not reconnect in step after the
/// server restarts.
struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(500);

    fn new(max: Duration) -> Backoff {
        Backoff {
            next: Backoff::FIRST,
            max,
        }
    }

    fn reset(&mut self) {
        self.next = Backoff::FIRST;
    }

    fn next(&mut self) -> Duration {
        let base = self.next.min(self.max);
        self.next = (self.next * 2).min(self.max);
        let jitter = rand::random_range(0.8..1.2);
        base.mul_f64(jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_ceiling_and_starts_over() {
        let mut backoff = Backoff::new(Duration::from_secs(4));
        let waits: Vec<_> = (0..6).map(|_| backoff.next()).collect();
        for (wait, base) in waits.iter().zip([0.5, 1.0, 2.0, 4.0, 4.0, 4.0]) {
            let secs = wait.as_secs_f64();
            assert!(
                secs >= base * 0.8 && secs <= base * 1.2,
                "{secs} near {base}"
            );
        }
        backoff.reset();
        assert!(backoff.next() <= Duration::from_millis(600));
    }

    #[test]
    fn only_the_configured_origins_are_allowed() {
        let allowed: Vec<Origin> = procore_hosts().iter().map(origin_of).collect();
        let check = |url: &str| allowed.contains(&origin_of(&Url::parse(url).unwrap()));
        assert!(check("https://api.procore.com/rest/v1.0/me"));
        assert!(check("https://login.procore.com:443/oauth/token"));
        assert!(check("https://SANDBOX.procore.com/rest/v1.0/me"));
        assert!(
            !check("http://api.procore.com/rest/v1.0/me"),
            "scheme counts"
        );
        assert!(!check("https://api.procore.com:8443/"), "port counts");
        assert!(!check("https://api.procore.com.evil.example/"));
        assert!(!check("http://10.0.0.5/admin"));
    }

    #[test]
    fn the_state_file_is_private_and_bound_to_its_server() {
        let dir =
            std::env::temp_dir().join(format!("trestle-agent-test-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("agent.json");
        let server = Url::parse("https://trestle.example.com/").unwrap();
        assert!(load_state(&path, &server).unwrap().is_none());
        let state = State {
            server: server.to_string(),
            agent_id: "a1".into(),
            secret: "s".into(),
        };
        save_state(&path, &state).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(load_state(&path, &server).unwrap().unwrap().agent_id, "a1");
        let other = Url::parse("https://other.example.com/").unwrap();
        let Err(AgentError::State(message)) = load_state(&path, &other) else {
            panic!("another server's state is refused");
        };
        assert!(message.contains("other.example.com"), "{message}");
        std::fs::write(&path, "not json").unwrap();
        assert!(matches!(
            load_state(&path, &server),
            Err(AgentError::State(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
