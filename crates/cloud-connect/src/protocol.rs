//! What the server and an agent say to each other.
//!
//! An agent enrols once over plain HTTPS (`POST` [`ENROL_PATH`] with a one-time enrolment
//! token, answered with the agent's own secret), then keeps one WebSocket open to
//! [`CONNECT_PATH`], authenticated with that secret. Over it the server sends HTTP requests
//! for Procore and the agent answers each by id, so many can be in flight at once. Every
//! message is one JSON text frame; bodies travel as base64 because an HTTP body is bytes.
//! Liveness is WebSocket ping/pong in both directions.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

pub const ENROL_PATH: &str = "/cloud-connect/enrol";
pub const CONNECT_PATH: &str = "/cloud-connect/connect";
/// The agent's version travels in this header when it connects.
pub const VERSION_HEADER: &str = "trestle-agent-version";

/// How often each side pings, and how long silence lasts before a side gives the
/// connection up. Three missed pings: a busy link is not mistaken for a dead one.
pub const PING_EVERY: Duration = Duration::from_secs(10);
pub const SILENCE_LIMIT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolRequest {
    pub token: String,
    /// The machine the agent runs on, shown to administrators.
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolled {
    pub agent_id: String,
    /// The agent's credential from now on; the server keeps only its hash.
    pub secret: String,
}

/// The body of every refusal the server sends before a WebSocket is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub error: String,
}

/// Server → agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToAgent {
    /// The connection is accepted.
    Welcome {
        agent_id: String,
        name: String,
    },
    Request(RelayRequest),
    /// The server stopped waiting for this request.
    Cancel {
        id: u64,
    },
    /// An administrator revoked the agent: it must stop and not reconnect.
    Revoked,
}

/// Agent → server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromAgent {
    Response(RelayResponse),
    Failure {
        id: u64,
        kind: FailureKind,
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayRequest {
    pub id: u64,
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// Base64.
    pub body: String,
    /// The agent gives up after this long, as the server would have.
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayResponse {
    pub id: u64,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Base64.
    pub body: String,
}

/// Why an agent could not carry a request, in the terms a caller decides retries by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// Nothing reached Procore.
    Connect,
    /// Sent, no answer in time.
    Timeout,
    /// The agent will not call that host.
    Refused,
    Other,
}

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("a header is not valid: {0}")]
    Header(String),
    #[error("the body is not valid base64")]
    Body,
    #[error("not a valid request: {0}")]
    Request(String),
}

impl RelayRequest {
    pub fn from_http(
        id: u64,
        request: &http::Request<Vec<u8>>,
        timeout: Duration,
    ) -> Result<Self, CodecError> {
        Ok(RelayRequest {
            id,
            method: request.method().as_str().to_string(),
            url: request.uri().to_string(),
            headers: headers_to_pairs(request.headers())?,
            body: STANDARD.encode(request.body()),
            timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        })
    }

    pub fn to_http(&self) -> Result<http::Request<Vec<u8>>, CodecError> {
        let mut builder = http::Request::builder()
            .method(self.method.as_str())
            .uri(self.url.as_str());
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let body = STANDARD.decode(&self.body).map_err(|_| CodecError::Body)?;
        builder
            .body(body)
            .map_err(|e| CodecError::Request(e.to_string()))
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}

impl RelayResponse {
    pub fn from_http(id: u64, response: &http::Response<Vec<u8>>) -> Result<Self, CodecError> {
        Ok(RelayResponse {
            id,
            status: response.status().as_u16(),
            headers: headers_to_pairs(response.headers())?,
            body: STANDARD.encode(response.body()),
        })
    }

    pub fn to_http(&self) -> Result<http::Response<Vec<u8>>, CodecError> {
        let mut builder = http::Response::builder().status(self.status);
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let body = STANDARD.decode(&self.body).map_err(|_| CodecError::Body)?;
        builder
            .body(body)
            .map_err(|e| CodecError::Request(e.to_string()))
    }
}

fn headers_to_pairs(headers: &http::HeaderMap) -> Result<Vec<(String, String)>, CodecError> {
    headers
        .iter()
        .map(|(name, value)| {
            let value = value
                .to_str()
                .map_err(|_| CodecError::Header(name.as_str().to_string()))?;
            Ok((name.as_str().to_string(), value.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_survives_the_trip_with_its_bytes_and_repeated_headers() {
        let request = http::Request::builder()
            .method("PATCH")
            .uri("https://api.procore.com/rest/v1.0/rfis/7?project_id=1")
            .header("authorization", "Bearer abc")
            .header("accept", "application/json")
            .header("x-many", "one")
            .header("x-many", "two")
            .body(vec![0, 159, 146, 150, b'{'])
            .unwrap();
        let relayed = RelayRequest::from_http(9, &request, Duration::from_secs(60)).unwrap();
        let json = serde_json::to_string(&ToAgent::Request(relayed.clone())).unwrap();
        let ToAgent::Request(back) = serde_json::from_str(&json).unwrap() else {
            panic!("not a request: {json}");
        };
        assert_eq!(back, relayed);
        assert_eq!(back.timeout(), Duration::from_secs(60));
        let rebuilt = back.to_http().unwrap();
        assert_eq!(rebuilt.method(), "PATCH");
        assert_eq!(rebuilt.uri(), request.uri());
        assert_eq!(rebuilt.body(), request.body());
        let many: Vec<_> = rebuilt.headers().get_all("x-many").iter().collect();
        assert_eq!(many, ["one", "two"]);
    }

    #[test]
    fn a_response_keeps_status_headers_and_body() {
        let response = http::Response::builder()
            .status(429)
            .header("retry-after", "12")
            .body(b"[]".to_vec())
            .unwrap();
        let relayed = RelayResponse::from_http(3, &response).unwrap();
        let json = serde_json::to_string(&FromAgent::Response(relayed)).unwrap();
        let FromAgent::Response(back) = serde_json::from_str(&json).unwrap() else {
            panic!("not a response: {json}");
        };
        let rebuilt = back.to_http().unwrap();
        assert_eq!(rebuilt.status(), 429);
        assert_eq!(rebuilt.headers()["retry-after"], "12");
        assert_eq!(rebuilt.body(), b"[]");
    }

    #[test]
    fn garbage_from_the_other_side_is_an_error_not_a_panic() {
        let bad = RelayResponse {
            id: 1,
            status: 200,
            headers: vec![("bad header".into(), "x".into())],
            body: String::new(),
        };
        assert!(bad.to_http().is_err());
        let bad_body = RelayResponse {
            id: 1,
            status: 200,
            headers: vec![],
            body: "%%%".into(),
        };
        assert!(matches!(bad_body.to_http(), Err(CodecError::Body)));
        let bad_status = RelayResponse {
            id: 1,
            status: 1000,
            headers: vec![],
            body: String::new(),
        };
        assert!(bad_status.to_http().is_err());
        assert!(serde_json::from_str::<FromAgent>(r#"{"type":"nonsense"}"#).is_err());
    }
}
