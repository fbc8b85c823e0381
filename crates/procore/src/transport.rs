//! How requests reach Procore. The default goes straight out with reqwest; a data source
//! behind Cloud Connect swaps in a transport that relays through its agent, and nothing
//! above this layer notices.

use std::fmt;
use std::time::Duration;

use futures::future::BoxFuture;

pub type HttpRequest = http::Request<Vec<u8>>;
pub type HttpResponse = http::Response<Vec<u8>>;

pub trait Transport: Send + Sync + 'static {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportErrorKind {
    /// Nothing was sent (refused, DNS, TLS): always safe to try again.
    Connect,
    /// Sent, but no answer in time: the server may have acted on it.
    Timeout,
    Other,
}

#[derive(Debug, Clone)]
pub struct TransportError {
    pub kind: TransportErrorKind,
    pub message: String,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TransportError {}

/// reqwest with timeouts and without following redirects: a redirect from an API or token
/// endpoint is an error to report, not a place to resend credentials to.
pub struct ReqwestTransport {
    client: reqwest::Client,
}

impl ReqwestTransport {
    pub fn new(connect_timeout: Duration, timeout: Duration) -> Result<Self, TransportError> {
        let client = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("trestle-procore/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TransportError {
                kind: TransportErrorKind::Other,
                message: format!("HTTP client: {e}"),
            })?;
        Ok(ReqwestTransport { client })
    }
}

impl Default for ReqwestTransport {
    fn default() -> Self {
        ReqwestTransport::new(Duration::from_secs(10), Duration::from_secs(60))
            .expect("the default HTTP client builds")
    }
}

impl Transport for ReqwestTransport {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request).map_err(|e| TransportError {
                kind: TransportErrorKind::Other,
                message: format!("bad request: {e}"),
            })?;
            let response = self.client.execute(request).await.map_err(classify)?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await.map_err(classify)?;
            let mut out = http::Response::new(body.to_vec());
            *out.status_mut() = status;
            *out.headers_mut() = headers;
            Ok(out)
        })
    }
}

/// reqwest's errors carry the URL, which may hold a query; only the kind is kept.
fn classify(error: reqwest::Error) -> TransportError {
    let kind = if error.is_connect() {
        TransportErrorKind::Connect
    } else if error.is_timeout() {
        TransportErrorKind::Timeout
    } else {
        TransportErrorKind::Other
    };
    let message = match kind {
        TransportErrorKind::Connect => "could not connect",
        TransportErrorKind::Timeout => "timed out",
        TransportErrorKind::Other if error.is_body() || error.is_decode() => {
            "the response was cut off"
        }
        TransportErrorKind::Other => "the request failed",
    };
    TransportError {
        kind,
        message: message.to_string(),
    }
}
