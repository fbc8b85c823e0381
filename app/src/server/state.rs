//! What every request handler and server function can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::config::Config;
use super::crypto::SecretKey;
use super::procore::Procore;
use super::store::Store;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub config: Arc<Config>,
    pub store: Store,
    pub secret_key: SecretKey,
    pub procore: Procore,
}

impl AppState {
    pub fn session_idle(&self) -> chrono::Duration {
        chrono::Duration::minutes(i64::from(self.config.session_idle_minutes))
    }

    /// A state over a fresh in-memory database, for tests.
    pub async fn for_tests() -> AppState {
        let config = Arc::new(Config::for_tests());
        let store = Store::memory().await.expect("in-memory store");
        let secret_key = SecretKey::generate();
        AppState {
            leptos_options: LeptosOptions::builder().output_name("trestle").build(),
            procore: Procore::new(config.clone(), store.clone(), &secret_key),
            config,
            store,
            secret_key,
        }
    }
}
