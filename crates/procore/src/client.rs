//! The [`Client`]: one data source's connection to Procore. It owns the token lifecycle,
//! the rate budget, retries and paging, so callers only say what they want.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use http::{HeaderMap, Method, StatusCode};
use rand::Rng;
use serde_json::Value;
use tokio::time::Instant;

use crate::env::endpoint;
use crate::error::parse_error_body;
use crate::governor::{Governor, RateBudget, jitter, retry_after};
use crate::oauth::{Authorizer, OAuthApp};
use crate::token::{Stored, TokenStore};
use crate::transport::{Transport, TransportErrorKind};
use crate::{Error, Hosts, Secret, TokenSet, unix_now};

#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub hosts: Hosts,
    pub app: OAuthApp,
    /// Sent as `Procore-Company-Id` on every REST call.
    pub company_id: u64,
    /// This data source's key in the token store.
    pub token_key: String,
    /// Records per page when listing.
    pub per_page: u32,
    /// Pages fetched at once once a list's `Total` is known.
    pub page_concurrency: usize,
    /// Retries after the first attempt, for failures worth retrying.
    pub max_retries: u32,
    /// First backoff; each retry doubles it (with jitter), up to ten seconds.
    pub backoff: Duration,
    /// Refresh this long before the access token runs out.
    pub refresh_margin: Duration,
    /// The longest one [`Client::send`] may take, attempts, backoff and waits for
    /// `Retry-After` or the rate budget included (a token refresh, which must not be cut
    /// off midway, is not). An attempt still under way then is given up as timed out, and
    /// a retry that would have to wait past it is not made: the error is returned at
    /// once, with Procore's `Retry-After` when it gave one, so nobody waits out an outage.
    pub deadline: Duration,
    /// How long a refresh may hold the store's refresh lease: longer than one token call
    /// can take (the transport's timeout) plus storing the new pair, so a live holder never
    /// loses it. A holder that died mid-refresh is waited out this long by the next one.
    pub refresh_lease: Duration,
}

impl ClientConfig {
    pub fn new(hosts: Hosts, app: OAuthApp, company_id: u64, token_key: impl Into<String>) -> Self {
        ClientConfig {
            hosts,
            app,
            company_id,
            token_key: token_key.into(),
            // Fewer, larger pages spend less of the hourly rate budget; Procore suggests
            // staying at or under 2,000.
            per_page: 1000,
            // Pages after the first go out together; the governor still holds them to
            // the rate budget.
            page_concurrency: 8,
            max_retries: 3,
            backoff: Duration::from_millis(500),
            refresh_margin: Duration::from_secs(300),
            deadline: Duration::from_secs(120),
            refresh_lease: Duration::from_secs(90),
        }
    }
}

/// One call to Procore as the call log sees it: never tokens or bodies.
#[derive(Debug, Clone)]
pub struct CallRecord {
    pub method: String,
    /// The path with its query string.
    pub path: String,
    /// `None` when no answer came (network error).
    pub status: Option<u16>,
    pub duration: Duration,
    pub budget: Option<RateBudget>,
    pub error: Option<String>,
}

/// Receives every call a client makes, e.g. to keep a per-data-source log.
pub trait CallLog: Send + Sync + 'static {
    fn record(&self, call: CallRecord);

    /// Procore refused the refresh token: only a new authorization helps.
    fn authorization_expired(&self) {}
}

/// A REST request: a path under the API host (e.g. `/rest/v1.0/me`), its query and body.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
}

impl ApiRequest {
    pub fn new(method: Method, path: impl Into<String>) -> ApiRequest {
        ApiRequest {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
        }
    }

    pub fn get(path: impl Into<String>) -> ApiRequest {
        ApiRequest::new(Method::GET, path)
    }

    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> ApiRequest {
        self.query.push((key.into(), value.into()));
        self
    }

    pub fn json(mut self, body: Value) -> ApiRequest {
        self.body = Some(body);
        self
    }

    fn path_and_query(&self) -> String {
        if self.query.is_empty() {
            return self.path.clone();
        }
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&self.query)
            .finish();
        format!("{}?{query}", self.path)
    }
}

#[derive(Debug, Clone)]
pub struct ApiResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl ApiResponse {
    pub fn json(&self) -> Result<Value, Error> {
        if self.body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body).map_err(|_| {
            Error::Protocol(format!("HTTP {} with a body that is not JSON", self.status))
        })
    }

    /// A numeric header such as `Total`.
    pub fn header_number(&self, name: &str) -> Option<u64> {
        self.headers.get(name)?.to_str().ok()?.trim().parse().ok()
    }
}

#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: ClientConfig,
    transport: Arc<dyn Transport>,
    store: Arc<dyn TokenStore>,
    authorizer: Authorizer,
    governor: Governor,
    /// One refresh at a time in this process; the store's lease covers other processes.
    refresh_lock: tokio::sync::Mutex<()>,
    current: RwLock<Option<Stored>>,
    /// Names this client when it holds the store's refresh lease.
    holder: String,
    call_log: Option<Arc<dyn CallLog>>,
    /// The refresh token Procore last refused: it is not offered again, so calls after a
    /// revocation fail at once instead of each asking the token endpoint.
    refused: RwLock<Option<Secret>>,
    /// Until when a 429 or 503's `Retry-After` holds requests back, and which it was.
    held: RwLock<Option<(Instant, StatusCode)>>,
}

/// The longest URI the `http` crate builds a request with.
const LONGEST_URI: usize = u16::MAX as usize - 1;

impl Client {
    pub fn new(
        config: ClientConfig,
        store: Arc<dyn TokenStore>,
        transport: Arc<dyn Transport>,
    ) -> Result<Client, Error> {
        let authorizer = Authorizer::new(&config.hosts.login, &config.app, transport.clone())?;
        let holder = format!("{:032x}", rand::rng().random::<u128>());
        Ok(Client {
            inner: Arc::new(Inner {
                config,
                transport,
                store,
                authorizer,
                governor: Governor::default(),
                refresh_lock: tokio::sync::Mutex::new(()),
                current: RwLock::new(None),
                holder,
                call_log: None,
                refused: RwLock::new(None),
                held: RwLock::new(None),
            }),
        })
    }

    /// Reports every call to `log`. Call before cloning the client.
    pub fn with_call_log(mut self, log: Arc<dyn CallLog>) -> Client {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.call_log = Some(log);
        }
        self
    }

    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    pub fn authorizer(&self) -> &Authorizer {
        &self.inner.authorizer
    }

    /// Finishes an authorization: exchanges the code and stores the new pair.
    pub async fn authorize(&self, code: &str) -> Result<TokenSet, Error> {
        let tokens = self.inner.authorizer.exchange_code(code).await?;
        let version = self
            .inner
            .store
            .save(&self.inner.config.token_key, &tokens)
            .await
            .map_err(|e| Error::Store(e.0))?;
        *self.inner.current.write().expect("token cache") = Some(Stored {
            tokens: tokens.clone(),
            version,
        });
        Ok(tokens)
    }

    /// Revokes the tokens at Procore (which kills both) and forgets them.
    pub async fn revoke(&self) -> Result<(), Error> {
        let key = &self.inner.config.token_key;
        let stored = self
            .inner
            .store
            .load(key)
            .await
            .map_err(|e| Error::Store(e.0))?;
        if let Some(stored) = stored {
            self.inner
                .authorizer
                .revoke(&stored.tokens.access_token)
                .await?;
        }
        self.inner
            .store
            .clear(key)
            .await
            .map_err(|e| Error::Store(e.0))?;
        *self.inner.current.write().expect("token cache") = None;
        Ok(())
    }

    pub fn rate_budget(&self) -> Option<RateBudget> {
        self.inner.governor.budget()
    }

    /// Sends a REST request: fresh token, rate budget, retries; errors typed. Takes at
    /// most [`ClientConfig::deadline`] (plus a token refresh, if one is due).
    pub async fn send(&self, request: &ApiRequest) -> Result<ApiResponse, Error> {
        let inner = &self.inner;
        // Longer than HTTP can carry (a search or filter values of many kilobytes): the
        // caller's input, so neither retried nor reported as Procore being unreachable.
        let mut url = endpoint(&inner.config.hosts.api, &request.path);
        if !request.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&request.query);
        }
        if url.as_str().len() > LONGEST_URI {
            return Err(Error::BadRequest {
                message: "the request is too long to send; shorten the search or filter values"
                    .into(),
            });
        }
        let now = Instant::now();
        let deadline = now
            .checked_add(inner.config.deadline)
            .unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600));
        // Whether a retry after `wait` still starts before the deadline.
        let in_time = |wait: Duration| {
            Instant::now()
                .checked_add(wait)
                .is_some_and(|at| at < deadline)
        };
        let mut attempt = 0;
        let mut refreshed = false;
        // Set after a 401: the token the refresh settled on, used as it is, since the
        // shared cache may already hold something else by the time we look.
        let mut after_refresh = None;
        loop {
            let access = match after_refresh.take() {
                Some(access) => access,
                None => self.access_token().await?,
            };
            // Held back past the deadline: say when to come back instead of waiting.
            if let Some(error) = self.held_past(deadline) {
                return Err(error);
            }
            let response = {
                let Ok(_permit) = tokio::time::timeout_at(deadline, inner.governor.admit()).await
                else {
                    return Err(self
                        .held_past(deadline)
                        .unwrap_or_else(|| Error::RateLimited {
                            retry_after: self.rate_budget().map(|b| {
                                Duration::from_secs(
                                    b.reset.saturating_sub(unix_now()).clamp(1, 3600) as u64,
                                )
                            }),
                        }));
                };
                self.send_once(request, &url, &access, deadline).await
            };
            let retry = |attempt: u32| attempt < inner.config.max_retries;
            let idempotent = request.method != Method::POST;
            let pause = backoff(inner.config.backoff, attempt);
            match response {
                Ok(response) if response.status.is_success() => return Ok(response),
                Ok(response) if response.status == StatusCode::UNAUTHORIZED && !refreshed => {
                    // Revoked or expired early: one refresh, then one more try.
                    refreshed = true;
                    after_refresh = Some(self.refresh(Some(&access)).await?);
                }
                Ok(response) if matches!(response.status.as_u16(), 429 | 503) => {
                    // Refused before any work was done, so even a POST may go again.
                    let asked = retry_after(&response.headers);
                    let wait = asked.unwrap_or(pause);
                    if retry(attempt) && in_time(wait) {
                        self.hold(wait, response.status);
                        attempt += 1;
                    } else {
                        // Procore's wait holds for the calls after this one too.
                        if let Some(asked) = asked {
                            self.hold(asked, response.status);
                        }
                        return Err(error_for(&response));
                    }
                }
                Ok(response)
                    if response.status.is_server_error()
                        && idempotent
                        && retry(attempt)
                        && in_time(pause) =>
                {
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
                Ok(response) => return Err(error_for(&response)),
                Err(e)
                    if retry(attempt)
                        && in_time(pause)
                        && (e.kind == TransportErrorKind::Connect || idempotent) =>
                {
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
                Err(e) => return Err(Error::Transport(e.message)),
            }
        }
    }

    /// Holds every request back for `wait` (at most an hour), as a 429 or 503 asked.
    fn hold(&self, wait: Duration, status: StatusCode) {
        let wait = wait.min(Duration::from_secs(3600));
        self.inner.governor.hold(wait);
        let until = Instant::now() + wait;
        let mut held = self.inner.held.write().expect("hold");
        if held.is_none_or(|(at, _)| at < until) {
            *held = Some((until, status));
        }
    }

    /// The error to return at once when requests are held back until after `deadline`.
    fn held_past(&self, deadline: Instant) -> Option<Error> {
        let (until, status) = (*self.inner.held.read().expect("hold"))?;
        if until <= deadline {
            return None;
        }
        let left = until.saturating_duration_since(Instant::now());
        let retry_after = Some(Duration::from_secs(
            left.as_secs() + u64::from(left.subsec_nanos() > 0),
        ));
        Some(match status {
            StatusCode::TOO_MANY_REQUESTS => Error::RateLimited { retry_after },
            status => Error::Unavailable {
                status: status.as_u16(),
                retry_after,
            },
        })
    }

    /// A request's JSON answer.
    pub async fn json(&self, request: &ApiRequest) -> Result<Value, Error> {
        self.send(request).await?.json()
    }

    async fn send_once(
        &self,
        request: &ApiRequest,
        url: &url::Url,
        access: &Secret,
        deadline: Instant,
    ) -> Result<ApiResponse, crate::transport::TransportError> {
        let inner = &self.inner;
        let path = request.path_and_query();
        let mut builder = http::Request::builder()
            .method(request.method.clone())
            .uri(url.as_str())
            .header(
                http::header::AUTHORIZATION,
                format!("Bearer {}", access.expose()),
            )
            .header("Procore-Company-Id", inner.config.company_id.to_string())
            .header(http::header::ACCEPT, "application/json");
        let body = match &request.body {
            Some(body) => {
                builder = builder.header(http::header::CONTENT_TYPE, "application/json");
                serde_json::to_vec(body).unwrap_or_default()
            }
            None => Vec::new(),
        };
        let started = Instant::now();
        let outcome = match builder.body(body) {
            Ok(http_request) => {
                tokio::time::timeout_at(deadline, inner.transport.send(http_request))
                    .await
                    .unwrap_or_else(|_| {
                        Err(crate::transport::TransportError {
                            kind: TransportErrorKind::Timeout,
                            message: "timed out".into(),
                        })
                    })
            }
            Err(e) => Err(crate::transport::TransportError {
                kind: TransportErrorKind::Other,
                message: format!("bad request: {e}"),
            }),
        };
        let outcome = outcome.map(|response| {
            let (parts, body) = response.into_parts();
            inner.governor.observe(&parts.headers);
            ApiResponse {
                status: parts.status,
                headers: parts.headers,
                body,
            }
        });
        self.log(CallRecord {
            method: request.method.to_string(),
            path,
            status: outcome.as_ref().ok().map(|r| r.status.as_u16()),
            duration: started.elapsed(),
            budget: inner.governor.budget(),
            error: outcome.as_ref().err().map(|e| e.message.clone()),
        });
        outcome
    }

    fn log(&self, record: CallRecord) {
        if let Some(log) = &self.inner.call_log {
            log.record(record);
        }
    }

    /// The access token to use now, refreshed first if it is about to run out.
    async fn access_token(&self) -> Result<Secret, Error> {
        let inner = &self.inner;
        let now = unix_now();
        let cached = inner.current.read().expect("token cache").clone();
        let stored = match cached {
            Some(stored) => stored,
            None => {
                let loaded = inner
                    .store
                    .load(&inner.config.token_key)
                    .await
                    .map_err(|e| Error::Store(e.0))?
                    .ok_or(Error::NotAuthorized)?;
                // A refresh may have cached a newer pair while this read was under way:
                // keep that one, or every call after it would send a dead token.
                inner
                    .current
                    .write()
                    .expect("token cache")
                    .get_or_insert(loaded)
                    .clone()
            }
        };
        if stored
            .tokens
            .expires_within(inner.config.refresh_margin, now)
        {
            return self.refresh(None).await;
        }
        Ok(stored.tokens.access_token)
    }

    /// Makes sure a usable token is stored, refreshing at most once across every client
    /// sharing the store. `rejected` is a token Procore refused; without one, the stored
    /// token is refreshed only if it is about to run out.
    async fn refresh(&self, rejected: Option<&Secret>) -> Result<Secret, Error> {
        let inner = &self.inner;
        let key = inner.config.token_key.as_str();
        let store = |e: crate::token::StoreError| Error::Store(e.0);
        let _one_at_a_time = inner.refresh_lock.lock().await;
        let waited = Instant::now();
        loop {
            let stored = inner
                .store
                .load(key)
                .await
                .map_err(store)?
                .ok_or(Error::NotAuthorized)?;
            let usable = rejected.is_none_or(|r| *r != stored.tokens.access_token)
                && !stored
                    .tokens
                    .expires_within(inner.config.refresh_margin, unix_now());
            if usable {
                // Someone else refreshed while we waited.
                *inner.current.write().expect("token cache") = Some(stored.clone());
                return Ok(stored.tokens.access_token);
            }
            let Some(refresh_token) = stored.tokens.refresh_token.clone() else {
                return Err(Error::AuthorizationExpired);
            };
            if inner.refused.read().expect("refused token").as_ref() == Some(&refresh_token) {
                // Refused already: asking again would only be refused again.
                return Err(Error::AuthorizationExpired);
            }
            let lease = inner.config.refresh_lease;
            let until = unix_now() + lease.as_secs().max(1) as i64;
            if !inner
                .store
                .acquire_lease(key, &inner.holder, until)
                .await
                .map_err(store)?
            {
                // Past the lease (kept in whole seconds, hence the margin) its holder
                // should have let go: something is wrong, and waiting longer won't help.
                if waited.elapsed() > lease + Duration::from_secs(2) {
                    return Err(Error::Store(
                        "another refresh has held the lease too long".into(),
                    ));
                }
                tokio::time::sleep(Duration::from_millis(50) + jitter() / 5).await;
                continue;
            }
            // Holding the lease: if the tokens moved on meanwhile, look again.
            let current = inner.store.load(key).await.map_err(store)?;
            if current.as_ref().map(|c| c.version) != Some(stored.version) {
                inner
                    .store
                    .release_lease(key, &inner.holder)
                    .await
                    .map_err(store)?;
                continue;
            }
            let started = Instant::now();
            let outcome = inner.authorizer.refresh(&refresh_token).await;
            self.log(CallRecord {
                method: "POST".into(),
                path: "/oauth/token".into(),
                status: None,
                duration: started.elapsed(),
                budget: None,
                error: outcome.as_ref().err().map(ToString::to_string),
            });
            let tokens = match outcome {
                Ok(tokens) => tokens,
                Err(e) => {
                    if matches!(e, Error::AuthorizationExpired) {
                        *inner.refused.write().expect("refused token") = Some(refresh_token);
                        if let Some(log) = &inner.call_log {
                            log.authorization_expired();
                        }
                    }
                    inner
                        .store
                        .release_lease(key, &inner.holder)
                        .await
                        .map_err(store)?;
                    return Err(e);
                }
            };
            // Stored before use: if this process died now, the others would find it.
            if !inner
                .store
                .save_refreshed(key, &inner.holder, stored.version, &tokens)
                .await
                .map_err(store)?
            {
                return Err(Error::Store(
                    "the refresh lease ran out before the new tokens were stored".into(),
                ));
            }
            *inner.current.write().expect("token cache") = Some(Stored {
                tokens: tokens.clone(),
                version: stored.version + 1,
            });
            return Ok(tokens.access_token);
        }
    }
}

/// Exponential backoff from `base`, with jitter, capped at ten seconds.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let exponential = base.saturating_mul(1 << attempt.min(10));
    exponential.min(Duration::from_secs(10)) + jitter() / 4
}

/// The typed error for a response that is not a success.
pub(crate) fn error_for(response: &ApiResponse) -> Error {
    let (message, fields) = parse_error_body(&response.body);
    match response.status.as_u16() {
        401 => Error::Unauthorized,
        403 => Error::Forbidden {
            reason: if message.is_empty() {
                "permission denied".into()
            } else {
                message
            },
        },
        404 => Error::NotFound,
        422 if !fields.is_empty() => Error::Validation { errors: fields },
        422 => Error::Validation {
            errors: [("base".to_string(), vec![message])].into(),
        },
        429 => Error::RateLimited {
            retry_after: retry_after(&response.headers),
        },
        status @ 500..=599 => Error::Unavailable {
            status,
            retry_after: retry_after(&response.headers),
        },
        _ => Error::BadRequest {
            message: if message.is_empty() {
                format!("HTTP {}", response.status)
            } else {
                message
            },
        },
    }
}
