//! A Procore API client that owns what every caller would otherwise repeat: OAuth and the
//! token lifecycle (single-use refresh tokens, also across processes sharing a store),
//! paging, rate limits and retries, typed errors, and a catalogue of the objects Trestle
//! reads and writes. No web framework in here; facts come from `procore-api.md`.

pub mod catalogue;
mod client;
pub mod connection;
mod env;
mod error;
mod governor;
pub mod oauth;
mod paging;
pub mod query;
mod secret;
pub mod token;
pub mod transport;

pub use client::{ApiRequest, ApiResponse, CallLog, CallRecord, Client, ClientConfig};
pub use env::{CredentialPair, Environment, Hosts};
pub use error::{Error, FieldErrors};
pub use governor::RateBudget;
pub use oauth::{Authorizer, OAuthApp};
pub use paging::Page;
pub use secret::Secret;
pub use token::{MemoryTokenStore, TokenSet, TokenStore};

pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
