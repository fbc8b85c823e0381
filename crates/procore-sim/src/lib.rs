//! An in-memory stand-in for Procore: OAuth and REST for three environments, built
//! from `procore-api.md`. Mount [`api_router`] in-process, or run the `procore-sim` binary.

mod collections;
pub mod data;
mod directory;
mod documents;
mod env;
pub mod faults;
mod oauth;
mod projects;
pub mod ratelimit;
pub mod rest;
mod rfis;
pub mod seed;
pub mod testing;
pub mod tokens;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

pub use env::{ClientPair, Environment};
use serde::Serialize;
use tokens::Tokens;

/// An app registered with Procore: its id, secret and exact redirect URIs.
#[derive(Debug, Clone)]
pub struct AppCredentials {
    pub client_id: String,
    pub client_secret: String,
}

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub production: AppCredentials,
    pub sandbox: AppCredentials,
    /// Redirect URIs registered for the app; `/oauth/authorize` requires an exact match.
    pub redirect_uris: Vec<String>,
    /// Access-token lifetime (Procore: 5400 s).
    pub access_token_ttl: i64,
    pub rate_limits: ratelimit::Limits,
    /// The largest `per_page` honoured; larger requests get this many.
    pub max_per_page: usize,
    pub faults: faults::Faults,
    /// Drives the generated data, so the same seed gives the same records.
    pub seed: u64,
    /// RFIs in the "Scale Test Project" (0: no such project).
    pub scale: usize,
}

pub const OOB_REDIRECT_URI: &str = "urn:ietf:wg:oauth:2.0:oob";

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            production: AppCredentials {
                client_id: "trestle-production".into(),
                client_secret: "production-secret".into(),
            },
            sandbox: AppCredentials {
                client_id: "trestle-sandbox".into(),
                client_secret: "sandbox-secret".into(),
            },
            redirect_uris: vec![
                "http://127.0.0.1:3000/oauth/callback".into(),
                "http://localhost:3000/oauth/callback".into(),
                OOB_REDIRECT_URI.into(),
            ],
            access_token_ttl: 5400,
            rate_limits: ratelimit::Limits::default(),
            max_per_page: 1000,
            faults: faults::Faults::default(),
            seed: 1,
            scale: 0,
        }
    }
}

/// What tests read to check how a client behaved.
#[derive(Debug, Default, Serialize, Clone, Copy, PartialEq, Eq)]
pub struct CounterSnapshot {
    pub tokens_issued: u64,
    pub refreshes: u64,
    pub failed_refreshes: u64,
    pub revocations: u64,
    /// REST calls received, including those a fault answered.
    pub requests: u64,
}

#[derive(Default)]
struct Counters {
    tokens_issued: AtomicU64,
    refreshes: AtomicU64,
    failed_refreshes: AtomicU64,
    revocations: AtomicU64,
    requests: AtomicU64,
}

pub struct Simulator {
    config: Mutex<SimConfig>,
    users: Vec<seed::ProcoreUser>,
    data: RwLock<data::Dataset>,
    rate_limiters: [Mutex<ratelimit::RateLimiter>; 3],
    /// One token table per environment: tokens never cross environments.
    tokens: [Mutex<Tokens>; 3],
    /// Logins waiting for the allow/deny step, keyed by a random ticket.
    pending: Mutex<std::collections::HashMap<String, oauth::PendingConsent>>,
    counters: Counters,
    /// REST calls per endpoint, e.g. "GET /developer-sandbox/rest/v1.0/projects/{project_id}/rfis".
    requests: Mutex<std::collections::BTreeMap<String, u64>>,
    /// Calls (OAuth and REST) per client program, by `User-Agent` product name.
    clients: Mutex<std::collections::BTreeMap<String, u64>>,
}

impl Simulator {
    pub fn new(config: SimConfig) -> Arc<Simulator> {
        let data = data::Dataset::seed(config.seed, config.scale);
        Arc::new(Simulator {
            config: Mutex::new(config),
            users: seed::users(),
            data: RwLock::new(data),
            rate_limiters: Default::default(),
            tokens: Default::default(),
            pending: Default::default(),
            counters: Counters::default(),
            requests: Default::default(),
            clients: Default::default(),
        })
    }

    pub fn config(&self) -> SimConfig {
        self.config.lock().expect("config lock").clone()
    }

    /// Changes settings while running (fault switches, token lifetime).
    pub fn update_config(&self, change: impl FnOnce(&mut SimConfig)) {
        change(&mut self.config.lock().expect("config lock"));
    }

    pub fn counters(&self) -> CounterSnapshot {
        let c = &self.counters;
        CounterSnapshot {
            tokens_issued: c.tokens_issued.load(Ordering::Relaxed),
            refreshes: c.refreshes.load(Ordering::Relaxed),
            failed_refreshes: c.failed_refreshes.load(Ordering::Relaxed),
            revocations: c.revocations.load(Ordering::Relaxed),
            requests: c.requests.load(Ordering::Relaxed),
        }
    }

    /// Every access and refresh token issued in any environment, for tests that check
    /// none of them leaks.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.tokens
            .iter()
            .flat_map(|table| table.lock().expect("token lock").issued().to_vec())
            .collect()
    }

    /// Kills every token in every environment.
    pub fn revoke_all_tokens(&self) {
        for table in &self.tokens {
            table.lock().expect("token lock").revoke_all();
        }
    }

    fn tokens(&self, env: Environment) -> std::sync::MutexGuard<'_, Tokens> {
        self.tokens[env.index()].lock().expect("token lock")
    }

    fn rate_limiter(&self, env: Environment) -> std::sync::MutexGuard<'_, ratelimit::RateLimiter> {
        self.rate_limiters[env.index()]
            .lock()
            .expect("rate limiter lock")
    }

    /// Disconnects the app from (or reconnects it to) a company: the "app uninstalled"
    /// fault. False when there is no such company.
    pub fn set_app_installed(&self, company_id: u64, installed: bool) -> bool {
        let mut data = self.data.write().expect("data lock");
        match data.companies.iter_mut().find(|c| c.id == company_id) {
            Some(company) => {
                company.app_installed = installed;
                true
            }
            None => false,
        }
    }

    /// REST calls per endpoint so far.
    pub fn request_counts(&self) -> std::collections::BTreeMap<String, u64> {
        self.requests.lock().expect("request counter lock").clone()
    }

    /// Calls so far per client program (`trestle-agent`, `trestle-procore`, …): which
    /// machine's software actually talked to Procore.
    pub fn client_counts(&self) -> std::collections::BTreeMap<String, u64> {
        self.clients.lock().expect("client counter lock").clone()
    }

    fn credentials(&self, env: Environment) -> AppCredentials {
        let config = self.config.lock().expect("config lock");
        match env.client_pair() {
            ClientPair::Production => config.production.clone(),
            ClientPair::Sandbox => config.sandbox.clone(),
        }
    }

    fn user(&self, id: u64) -> Option<&seed::ProcoreUser> {
        self.users.iter().find(|u| u.id == id)
    }
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `YYYY-MM-DDTHH:MM:SSZ` for unix seconds (Howard Hinnant's civil-from-days).
pub(crate) fn iso8601(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Every environment under its prefix, e.g. `/developer-sandbox/oauth/token`, without the
/// `/_sim` switches: what a server may mount on a listener other people reach.
pub fn api_router(sim: Arc<Simulator>) -> axum::Router {
    environments(&sim).with_state(sim)
}

/// [`api_router`] plus the `/_sim` fault switches and counters, for the binary and tests.
pub fn router(sim: Arc<Simulator>) -> axum::Router {
    environments(&sim)
        .merge(faults::admin_routes())
        .with_state(sim)
}

fn environments(sim: &Arc<Simulator>) -> axum::Router<Arc<Simulator>> {
    let mut router = axum::Router::new();
    for env in Environment::ALL {
        let api = rest::routes()
            .merge(rfis::routes())
            .merge(directory::routes())
            .merge(collections::routes())
            .merge(documents::routes())
            .merge(projects::routes())
            .route_layer(axum::middleware::from_fn_with_state(
                sim.clone(),
                faults::inject,
            ));
        let routes = oauth::routes()
            .merge(api)
            .layer(axum::Extension(env))
            .route_layer(axum::middleware::from_fn_with_state(
                sim.clone(),
                faults::count_client,
            ));
        router = router.nest(&format!("/{}", env.prefix()), routes);
    }
    router
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_unix_time_as_iso8601() {
        assert_eq!(super::iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::iso8601(1_484_786_897), "2017-01-19T00:48:17Z");
        assert_eq!(super::iso8601(1_709_208_000), "2024-02-29T12:00:00Z");
    }
}
