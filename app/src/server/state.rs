//! What every request handler and server function can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::config::Config;
use super::crypto::SecretKey;
use super::store::Store;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub config: Arc<Config>,
    pub store: Store,
    pub secret_key: SecretKey,
}

impl AppState {
    pub fn session_idle(&self) -> chrono::Duration {
        chrono::Duration::minutes(i64::from(self.config.session_idle_minutes))
    }

    /// A state over a fresh in-memory database, for tests.
    pub async fn for_tests() -> AppState {
        AppState {
            leptos_options: LeptosOptions::builder().output_name("trestle").build(),
            config: Arc::new(Config::for_tests()),
            store: Store::memory().await.expect("in-memory store"),
            secret_key: SecretKey::generate(),
        }
    }
}
