//! Everything that only runs on the server: configuration, storage, authentication.

pub mod agent_hub;
pub mod api_tokens;
pub mod auth;
pub mod cloud_connect;
pub mod config;
pub mod crash;
pub mod crypto;
pub mod data_rules;
pub mod data_sources;
pub mod forms;
pub mod oauth_flow;
pub mod password;
pub mod procore;
pub mod records;
pub mod rest_api;
pub mod state;
pub mod store;

pub use state::AppState;
