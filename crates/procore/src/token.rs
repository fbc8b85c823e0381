//! Tokens and where they live. Procore's refresh tokens are single-use and rotate
//! (procore-api.md §1.5): a refresh consumes the old one even when the call fails. So at
//! most one refresh per data source may run at a time, across every process sharing the
//! store, and the new pair must be stored before anyone uses it. [`TokenStore`] is the
//! contract that makes that possible: a lease for the refresh, and a versioned write.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::Secret;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSet {
    pub access_token: Secret,
    /// Absent for client-credentials tokens, which are simply requested again.
    pub refresh_token: Option<Secret>,
    /// Unix seconds.
    pub issued_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

impl TokenSet {
    /// From a token response's `expires_in`, counted from our own clock: Procore's
    /// `created_at` is its clock, and a skewed one must not make a token look fresh.
    pub fn new(
        access_token: Secret,
        refresh_token: Option<Secret>,
        expires_in: Option<Duration>,
        now: i64,
    ) -> TokenSet {
        // Procore documents 5400 s; assume so when the response leaves it out.
        let lifetime = expires_in.map_or(5400, |d| d.as_secs() as i64);
        TokenSet {
            access_token,
            refresh_token,
            issued_at: now,
            expires_at: now.saturating_add(lifetime),
        }
    }

    /// True when the token ends within `margin` of `now` (or already has). The margin is
    /// at most half the token's lifetime: with short-lived tokens a fixed margin would
    /// call every new token stale and refresh on every request.
    pub fn expires_within(&self, margin: Duration, now: i64) -> bool {
        let lifetime = self.expires_at.saturating_sub(self.issued_at).max(0);
        let margin = (margin.as_secs() as i64).min(lifetime / 2);
        self.expires_at <= now.saturating_add(margin)
    }
}

/// A token pair with the version it was stored under; each write bumps the version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub tokens: TokenSet,
    pub version: u64,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(pub String);

pub type StoreResult<T> = Result<T, StoreError>;

/// Persistent tokens per key (a data source). Implementations must make
/// [`acquire_lease`](TokenStore::acquire_lease) and [`save_refreshed`](TokenStore::save_refreshed)
/// atomic with respect to other processes sharing the same storage.
pub trait TokenStore: Send + Sync + 'static {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, StoreResult<Option<Stored>>>;

    /// Stores a pair from a new authorization, replacing what was there; returns the version.
    fn save<'a>(&'a self, key: &'a str, tokens: &'a TokenSet) -> BoxFuture<'a, StoreResult<u64>>;

    /// Forgets the tokens (the data source was deleted or changed environment).
    fn clear<'a>(&'a self, key: &'a str) -> BoxFuture<'a, StoreResult<()>>;

    /// Takes the right to refresh until `until` (unix seconds), unless someone else holds
    /// it and it has not run out. True when `holder` now holds it.
    fn acquire_lease<'a>(
        &'a self,
        key: &'a str,
        holder: &'a str,
        until: i64,
    ) -> BoxFuture<'a, StoreResult<bool>>;

    /// Stores the refreshed pair if the tokens are still at `version` and `holder` still
    /// holds the lease, and releases it. False when either changed: the pair was not stored.
    fn save_refreshed<'a>(
        &'a self,
        key: &'a str,
        holder: &'a str,
        version: u64,
        tokens: &'a TokenSet,
    ) -> BoxFuture<'a, StoreResult<bool>>;

    /// Gives the lease up without storing anything (the refresh failed).
    fn release_lease<'a>(&'a self, key: &'a str, holder: &'a str)
    -> BoxFuture<'a, StoreResult<()>>;
}

/// Tokens in memory: for tests, tools and single-process use.
#[derive(Default)]
pub struct MemoryTokenStore {
    entries: Mutex<HashMap<String, Entry>>,
}

#[derive(Default)]
struct Entry {
    stored: Option<Stored>,
    lease: Option<(String, i64)>,
}

impl MemoryTokenStore {
    fn with<T>(&self, key: &str, f: impl FnOnce(&mut Entry) -> T) -> StoreResult<T> {
        let mut entries = self
            .entries
            .lock()
            .map_err(|_| StoreError("token store lock poisoned".into()))?;
        Ok(f(entries.entry(key.to_string()).or_default()))
    }
}

impl TokenStore for MemoryTokenStore {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, StoreResult<Option<Stored>>> {
        Box::pin(async move { self.with(key, |e| e.stored.clone()) })
    }

    fn save<'a>(&'a self, key: &'a str, tokens: &'a TokenSet) -> BoxFuture<'a, StoreResult<u64>> {
        Box::pin(async move {
            self.with(key, |e| {
                let version = e.stored.as_ref().map_or(1, |s| s.version + 1);
                e.stored = Some(Stored {
                    tokens: tokens.clone(),
                    version,
                });
                version
            })
        })
    }

    fn clear<'a>(&'a self, key: &'a str) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move { self.with(key, |e| *e = Entry::default()) })
    }

    fn acquire_lease<'a>(
        &'a self,
        key: &'a str,
        holder: &'a str,
        until: i64,
    ) -> BoxFuture<'a, StoreResult<bool>> {
        Box::pin(async move {
            let now = crate::unix_now();
            self.with(key, |e| match &e.lease {
                Some((other, expires)) if other != holder && *expires > now => false,
                _ => {
                    e.lease = Some((holder.to_string(), until));
                    true
                }
            })
        })
    }

    fn save_refreshed<'a>(
        &'a self,
        key: &'a str,
        holder: &'a str,
        version: u64,
        tokens: &'a TokenSet,
    ) -> BoxFuture<'a, StoreResult<bool>> {
        Box::pin(async move {
            self.with(key, |e| {
                let holds = e.lease.as_ref().is_some_and(|(h, _)| h == holder);
                let current = e.stored.as_ref().is_some_and(|s| s.version == version);
                if !(holds && current) {
                    return false;
                }
                e.stored = Some(Stored {
                    tokens: tokens.clone(),
                    version: version + 1,
                });
                e.lease = None;
                true
            })
        })
    }

    fn release_lease<'a>(
        &'a self,
        key: &'a str,
        holder: &'a str,
    ) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            self.with(key, |e| {
                if e.lease.as_ref().is_some_and(|(h, _)| h == holder) {
                    e.lease = None;
                }
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(access: &str) -> TokenSet {
        TokenSet::new(
            Secret::new(access),
            Some(Secret::new(format!("{access}-refresh"))),
            Some(Duration::from_secs(5400)),
            1_000,
        )
    }

    #[test]
    fn expiry_counts_from_our_clock() {
        let tokens = pair("a");
        assert_eq!(tokens.expires_at, 6_400);
        assert!(!tokens.expires_within(Duration::from_secs(300), 6_000));
        assert!(tokens.expires_within(Duration::from_secs(300), 6_100));
    }

    #[test]
    fn the_margin_is_at_most_half_the_lifetime() {
        let short = TokenSet::new(Secret::new("a"), None, Some(Duration::from_secs(60)), 0);
        assert!(!short.expires_within(Duration::from_secs(300), 29));
        assert!(short.expires_within(Duration::from_secs(300), 30));
    }

    #[tokio::test]
    async fn one_lease_holder_at_a_time_and_versioned_saves() {
        let store = MemoryTokenStore::default();
        let version = store.save("ds", &pair("a")).await.unwrap();
        let far = crate::unix_now() + 30;
        assert!(store.acquire_lease("ds", "p1", far).await.unwrap());
        assert!(!store.acquire_lease("ds", "p2", far).await.unwrap());
        assert!(
            !store
                .save_refreshed("ds", "p2", version, &pair("x"))
                .await
                .unwrap(),
            "only the holder saves"
        );
        assert!(
            store
                .save_refreshed("ds", "p1", version, &pair("b"))
                .await
                .unwrap()
        );
        let stored = store.load("ds").await.unwrap().unwrap();
        assert_eq!(stored.tokens.access_token.expose(), "b");
        assert_eq!(stored.version, version + 1);
        assert!(
            store.acquire_lease("ds", "p2", far).await.unwrap(),
            "saving released the lease"
        );
        assert!(
            !store
                .save_refreshed("ds", "p2", version, &pair("c"))
                .await
                .unwrap(),
            "a stale version is refused"
        );
    }

    #[tokio::test]
    async fn an_expired_lease_can_be_taken_over() {
        let store = MemoryTokenStore::default();
        store.save("ds", &pair("a")).await.unwrap();
        let past = crate::unix_now() - 1;
        assert!(store.acquire_lease("ds", "p1", past).await.unwrap());
        assert!(store.acquire_lease("ds", "p2", past + 60).await.unwrap());
    }
}
