//! Trestle's side of the Procore connection: one [`procore::Client`] per data source (so
//! its rate budget and single-flight refresh are shared by every request in this process),
//! tokens sealed in SurrealDB, and each call written to the data source's call log.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use procore::transport::{ReqwestTransport, Transport};
use procore::{Authorizer, CallLog, CallRecord, Client, ClientConfig, Hosts, OAuthApp};

use super::agent_hub::{AgentHub, AgentTransport, RELAY_MARGIN};
use super::config::Config;
use super::crypto::{SecretKey, TokenCipher};
use super::store::{SourceRecord, Store, SurrealTokenStore};
use crate::data_source::{CallLogEntry, Environment};
use crate::error::AppError;

#[derive(Clone)]
pub struct Procore {
    inner: Arc<Inner>,
}

struct Inner {
    config: Arc<Config>,
    store: Store,
    tokens: Arc<SurrealTokenStore>,
    /// Straight to Procore, for data sources without Cloud Connect.
    transport: Arc<dyn Transport>,
    agents: AgentHub,
    /// Keyed by data source; a client is only reused for the same route to Procore.
    clients: Mutex<HashMap<String, (Route, Client)>>,
    options: OptionsCache,
}

/// Everything a cached client depends on besides its tokens.
#[derive(Clone, PartialEq, Eq)]
struct Route {
    environment: Environment,
    company_id: u64,
    /// The Cloud Connect agent carrying the calls, if any.
    agent: Option<String>,
}

impl Procore {
    pub fn new(config: Arc<Config>, store: Store, key: &SecretKey) -> Procore {
        let tokens = Arc::new(SurrealTokenStore::new(store.clone(), TokenCipher::new(key)));
        let cache_ttl = std::time::Duration::from_secs(config.procore.options_cache_seconds);
        let timeout = call_timeout(&config);
        let transport =
            ReqwestTransport::new(timeout.min(std::time::Duration::from_secs(10)), timeout)
                .expect("the HTTP client for Procore builds");
        Procore {
            inner: Arc::new(Inner {
                config,
                store,
                tokens,
                transport: Arc::new(transport),
                agents: AgentHub::default(),
                clients: Mutex::new(HashMap::new()),
                options: OptionsCache::new(cache_ttl),
            }),
        }
    }

    fn app(&self, environment: Environment) -> Result<(Hosts, OAuthApp), AppError> {
        let endpoint = self.inner.config.procore_endpoint(environment);
        let Some(client) = endpoint.client else {
            tracing::warn!(
                environment = environment.label(),
                "no Procore app credentials configured"
            );
            return Err(AppError::Conflict(format!(
                "Trestle has no Procore app credentials for {}; ask your administrator to configure them.",
                environment.label()
            )));
        };
        Ok((
            Hosts {
                login: endpoint.login_host,
                api: endpoint.api_host,
            },
            OAuthApp {
                client_id: client.client_id,
                client_secret: procore::Secret::new(client.client_secret.expose()),
                redirect_uri: self.inner.config.oauth_redirect_uri(),
            },
        ))
    }

    /// The agents connected to this server.
    pub fn agents(&self) -> &AgentHub {
        &self.inner.agents
    }

    /// The Cloud Connect agent that must carry `source`'s calls, if it uses one.
    fn agent_of(source: &SourceRecord) -> Result<Option<String>, AppError> {
        match (source.cloud_connect, &source.connector) {
            (false, _) => Ok(None),
            (true, Some(agent)) => Ok(Some(agent.clone())),
            (true, None) => Err(AppError::Conflict(
                "Cloud Connect is on but no agent is chosen: pick one under Connectors, or turn Cloud Connect off."
                    .into(),
            )),
        }
    }

    /// How `source`'s requests reach Procore: straight, or through its agent.
    fn transport_for(&self, agent: Option<&String>) -> Arc<dyn Transport> {
        match agent {
            None => self.inner.transport.clone(),
            Some(agent) => Arc::new(AgentTransport::new(
                self.inner.agents.clone(),
                self.inner.store.clone(),
                agent.clone(),
                call_timeout(&self.inner.config),
            )),
        }
    }

    /// The OAuth side of an environment: authorize URLs, which need no network.
    pub fn authorizer(&self, environment: Environment) -> Result<Authorizer, AppError> {
        self.authorizer_over(environment, self.inner.transport.clone())
    }

    /// The OAuth side of a data source: code exchanges and revokes go the way its REST
    /// calls go, through its agent if it has one.
    fn authorizer_for(&self, source: &SourceRecord) -> Result<Authorizer, AppError> {
        let agent = Self::agent_of(source)?;
        self.authorizer_over(source.environment, self.transport_for(agent.as_ref()))
    }

    fn authorizer_over(
        &self,
        environment: Environment,
        transport: Arc<dyn Transport>,
    ) -> Result<Authorizer, AppError> {
        let (hosts, app) = self.app(environment)?;
        Authorizer::new(&hosts.login, &app, transport).map_err(|e| {
            tracing::error!(error = %e, "Procore OAuth is misconfigured");
            AppError::Internal
        })
    }

    /// The data source's client. It needs a company id: every REST call names the company.
    pub fn client(&self, source: &SourceRecord) -> Result<Client, AppError> {
        let Some(company_id) = source.company_id else {
            return Err(AppError::invalid(
                "company_id",
                "Enter the Procore company id first.",
            ));
        };
        let route = Route {
            environment: source.environment,
            company_id,
            agent: Self::agent_of(source)?,
        };
        let mut clients = self.inner.clients.lock().expect("client cache");
        if let Some((cached, client)) = clients.get(&source.id)
            && *cached == route
        {
            return Ok(client.clone());
        }
        let (hosts, app) = self.app(source.environment)?;
        let mut config = ClientConfig::new(hosts, app, company_id, source.id.clone());
        let timeout = call_timeout(&self.inner.config);
        // Someone is waiting: retries and waits for Procore end within two call timeouts.
        config.deadline = timeout * 2;
        // A refresh is one token call (through an agent, with its margin) and a store
        // write or two: a server that died mid-refresh holds everyone up no longer.
        config.refresh_lease = timeout + RELAY_MARGIN + std::time::Duration::from_secs(10);
        let client = Client::new(
            config,
            self.inner.tokens.clone(),
            self.transport_for(route.agent.as_ref()),
        )
        .map_err(|e| {
            tracing::error!(error = %e, "Procore client could not be built");
            AppError::Internal
        })?
        .with_call_log(Arc::new(StoreCallLog {
            store: self.inner.store.clone(),
            data_source: source.id.clone(),
        }));
        clients.insert(source.id.clone(), (route, client.clone()));
        Ok(client)
    }

    /// Exchanges the code of a finished authorization and stores the tokens for `source`,
    /// replacing any it had.
    pub async fn authorize(&self, source: &SourceRecord, code: &str) -> Result<(), AppError> {
        use procore::TokenStore;
        let tokens = self
            .authorizer_for(source)?
            .exchange_code(code)
            .await
            .map_err(|e| AppError::Conflict(format!("Procore refused the authorization: {e}")))?;
        self.inner
            .tokens
            .save(&source.id, &tokens)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "storing Procore tokens failed");
                AppError::Internal
            })?;
        self.forget(&source.id);
        Ok(())
    }

    /// Revokes the data source's tokens at Procore, which kills both, then forgets them.
    /// Revoking is best effort: the tokens are forgotten here even if Procore is unreachable.
    pub async fn revoke(&self, source: &SourceRecord) -> Result<(), AppError> {
        use procore::TokenStore;
        let stored = self.inner.tokens.load(&source.id).await.map_err(|e| {
            tracing::error!(error = %e, "reading Procore tokens failed");
            AppError::Internal
        });
        if let Ok(Some(stored)) = stored {
            let revoked = match self.authorizer_for(source) {
                Ok(authorizer) => authorizer
                    .revoke(&stored.tokens.access_token)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(e) = revoked {
                tracing::warn!(data_source = %source.id, error = %e, "revoking Procore tokens failed");
            }
        }
        self.forget(&source.id);
        self.inner.tokens.clear(&source.id).await.map_err(|e| {
            tracing::error!(error = %e, "clearing Procore tokens failed");
            AppError::Internal
        })
    }

    pub fn options_cache(&self) -> &OptionsCache {
        &self.inner.options
    }

    /// Drops the cached client (after a change of environment or company, or a delete).
    pub fn forget(&self, id: &str) {
        self.inner.clients.lock().expect("client cache").remove(id);
    }
}

/// Writes each call to the data source's log without holding the call up.
struct StoreCallLog {
    store: Store,
    data_source: String,
}

impl CallLog for StoreCallLog {
    fn record(&self, call: CallRecord) {
        let entry = CallLogEntry {
            at: Utc::now(),
            method: call.method,
            path: call.path,
            status: call.status,
            duration_ms: call.duration.as_millis().min(u128::from(u64::MAX)) as u64,
            rate_remaining: call.budget.map(|b| b.remaining),
            error: call.error,
        };
        let (store, id) = (self.store.clone(), self.data_source.clone());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = store.record_call(&id, &entry).await {
                    tracing::warn!(error = %e, "could not log a Procore call");
                }
            });
        }
    }

    /// The data source's status says so until it is authorized again (which clears it).
    fn authorization_expired(&self) {
        let (store, id) = (self.store.clone(), self.data_source.clone());
        let reason = procore::connection::Cause::AuthorizationExpired.message();
        tracing::warn!(data_source = %id, "Procore refused the refresh token: {reason}");
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = store
                    .set_status(&id, crate::data_source::Status::TestFailed, Some(&reason))
                    .await
                {
                    tracing::warn!(error = %e, "could not record an expired authorization");
                }
            });
        }
    }
}

/// How long one call to Procore may take (`procore.timeout_seconds`).
fn call_timeout(config: &Config) -> std::time::Duration {
    std::time::Duration::from_secs(config.procore.timeout_seconds)
}

/// Keeps the call log to a day and forgets unfinished authorizations and unused Cloud
/// Connect enrolment tokens, now and then.
pub fn spawn_sweeper(store: Store) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            tick.tick().await;
            let now = Utc::now();
            if let Err(e) = store.prune_calls(now - chrono::Duration::hours(24)).await {
                tracing::warn!(error = %e, "could not prune the Procore call log");
            }
            if let Err(e) = store.prune_oauth_states(now).await {
                tracing::warn!(error = %e, "could not prune expired OAuth states");
            }
            if let Err(e) = store.prune_enrolments(now).await {
                tracing::warn!(error = %e, "could not prune expired enrolment tokens");
            }
        }
    })
}

/// Recent list results, so a form opened by many people asks Procore once per query.
/// Keyed by data source and everything the query depends on; entries live `ttl`.
pub struct OptionsCache {
    ttl: std::time::Duration,
    entries: Mutex<HashMap<String, (std::time::Instant, Arc<procore::query::Listing>)>>,
}

impl OptionsCache {
    pub fn new(ttl: std::time::Duration) -> OptionsCache {
        OptionsCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Shared, not copied: a page of full Procore records is tens of kilobytes.
    pub fn get(&self, key: &str) -> Option<Arc<procore::query::Listing>> {
        let entries = self.entries.lock().expect("options cache");
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, listing)| listing.clone())
    }

    /// Drops every entry whose key starts with `prefix`: after a write through a data
    /// source, its lists are read afresh.
    pub fn forget(&self, prefix: &str) {
        let mut entries = self.entries.lock().expect("options cache");
        entries.retain(|key, _| !key.starts_with(prefix));
    }

    pub fn put(&self, key: String, listing: Arc<procore::query::Listing>) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().expect("options cache");
        // Dropping what has expired when adding keeps the map as small as one `ttl` of
        // distinct queries, without scanning it on every read.
        entries.retain(|_, (at, _)| at.elapsed() < self.ttl);
        entries.insert(key, (std::time::Instant::now(), listing));
    }
}
