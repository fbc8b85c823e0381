//! Procore tokens per data source, sealed at rest, shared by every server using the
//! database. Procore's refresh tokens are single-use, so the lease and the versioned write
//! of [`procore::TokenStore`] are each one conditional statement: the database decides who
//! wins, never a read followed by a write.

use std::future::Future;
use std::pin::Pin;

use procore::TokenSet;
use procore::token::{StoreError as TokenError, StoreResult, Stored, TokenStore};
use surrealdb::engine::any::Any;
use surrealdb::method::Query;
use surrealdb::types::{RecordId, SurrealValue};

use super::{CONFLICT_ATTEMPTS, Store, StoreError, conflict_backoff, is_conflict};
use crate::server::crypto::TokenCipher;

/// The same type as `futures::future::BoxFuture`, without depending on `futures` here.
type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

const UNREADABLE: &str =
    "stored Procore tokens cannot be decrypted with this installation's key: re-authorize";

fn token_id(key: &str) -> RecordId {
    RecordId::new("procore_token", key.to_string())
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[derive(SurrealValue)]
struct TokenRow {
    sealed: Option<String>,
    version: i64,
}

/// [`TokenStore`] on SurrealDB, with the semantics of [`procore::MemoryTokenStore`].
#[derive(Clone)]
pub struct SurrealTokenStore {
    store: Store,
    cipher: TokenCipher,
}

impl SurrealTokenStore {
    pub fn new(store: Store, cipher: TokenCipher) -> Self {
        SurrealTokenStore { store, cipher }
    }

    fn seal(&self, key: &str, tokens: &TokenSet) -> StoreResult<String> {
        // The message names no value: serde's messages may quote what they failed on.
        let json = serde_json::to_vec(tokens)
            .map_err(|_| TokenError("Procore tokens could not be serialized".into()))?;
        Ok(self.cipher.encrypt(key, &json))
    }

    fn open(&self, key: &str, sealed: &str) -> StoreResult<TokenSet> {
        let json = self
            .cipher
            .decrypt(key, sealed)
            .map_err(|_| TokenError(UNREADABLE.into()))?;
        serde_json::from_slice(&json).map_err(|_| TokenError(UNREADABLE.into()))
    }

    /// Runs one statement and returns the versions of the records it wrote, retrying while
    /// the database reports a conflict. `Ok(None)` means it still conflicted at the end.
    async fn write(
        &self,
        statement: &'static str,
        bind: impl Fn(Query<'_, Any>) -> Query<'_, Any>,
    ) -> StoreResult<Option<Vec<i64>>> {
        for attempt in 0..CONFLICT_ATTEMPTS {
            let outcome = async {
                bind(self.store.db().query(statement))
                    .await?
                    .take::<Vec<i64>>(0)
            }
            .await;
            match outcome {
                Ok(versions) => return Ok(Some(versions)),
                Err(err) if is_conflict(&err) => {
                    // A conflict means the transaction did not commit, so running the
                    // statement again re-checks its condition against what won.
                    tokio::time::sleep(conflict_backoff(attempt)).await;
                }
                Err(err) => return Err(failed(err)),
            }
        }
        Ok(None)
    }
}

fn failed(err: surrealdb::Error) -> TokenError {
    TokenError(StoreError::from(err).to_string())
}

fn still_conflicting() -> TokenError {
    TokenError("Procore tokens: the database kept reporting conflicting writes".into())
}

/// Versions are counted from 1 and bumped once per write, so they fit an `i64`.
fn db_version(version: u64) -> Option<i64> {
    i64::try_from(version).ok()
}

// Every statement names a single record, so each runs in its own transaction and its
// condition is checked and applied atomically.

const SAVE: &str = "UPSERT $id SET sealed = $sealed, version = (version ?? 0) + 1, \
                    updated_at = time::now() RETURN VALUE version";

/// The lease is free, already ours, or ran out. Creating the record here is on purpose: a
/// lease may be taken before tokens exist, as with the memory store.
const ACQUIRE: &str = "UPSERT $id SET lease_holder = $holder, lease_until = $until \
                       WHERE lease_holder = NONE OR lease_holder = $holder OR lease_until <= $now \
                       RETURN VALUE version";

/// Like the memory store, a lease that ran out still lets its holder save, as long as
/// nobody else took it meanwhile.
const SAVE_REFRESHED: &str = "UPDATE $id SET sealed = $sealed, version = $version + 1, \
                              lease_holder = NONE, lease_until = NONE, updated_at = time::now() \
                              WHERE sealed != NONE AND version = $version AND lease_holder = $holder \
                              RETURN VALUE version";

const RELEASE: &str = "UPDATE $id SET lease_holder = NONE, lease_until = NONE \
                       WHERE lease_holder = $holder RETURN VALUE version";

impl TokenStore for SurrealTokenStore {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, StoreResult<Option<Stored>>> {
        Box::pin(async move {
            let row: Option<TokenRow> = self
                .store
                .db()
                .query("SELECT sealed, version FROM ONLY $id")
                .bind(("id", token_id(key)))
                .await
                .and_then(|mut r| r.take(0))
                .map_err(failed)?;
            // A record holding only a lease has no tokens yet.
            let Some(TokenRow {
                sealed: Some(sealed),
                version,
            }) = row
            else {
                return Ok(None);
            };
            let version = u64::try_from(version)
                .map_err(|_| TokenError("stored Procore tokens have a negative version".into()))?;
            Ok(Some(Stored {
                tokens: self.open(key, &sealed)?,
                version,
            }))
        })
    }

    fn save<'a>(&'a self, key: &'a str, tokens: &'a TokenSet) -> BoxFuture<'a, StoreResult<u64>> {
        Box::pin(async move {
            let sealed = self.seal(key, tokens)?;
            let versions = self
                .write(SAVE, |q| {
                    q.bind(("id", token_id(key)))
                        .bind(("sealed", sealed.clone()))
                })
                .await?
                .ok_or_else(still_conflicting)?;
            versions
                .first()
                .and_then(|v| u64::try_from(*v).ok())
                .ok_or_else(|| TokenError("saving Procore tokens returned no version".into()))
        })
    }

    fn clear<'a>(&'a self, key: &'a str) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            self.write("DELETE $id", |q| q.bind(("id", token_id(key))))
                .await?
                .ok_or_else(still_conflicting)?;
            Ok(())
        })
    }

    fn acquire_lease<'a>(
        &'a self,
        key: &'a str,
        holder: &'a str,
        until: i64,
    ) -> BoxFuture<'a, StoreResult<bool>> {
        Box::pin(async move {
            let now = unix_now();
            let written = self
                .write(ACQUIRE, |q| {
                    q.bind(("id", token_id(key)))
                        .bind(("holder", holder.to_string()))
                        .bind(("until", until))
                        .bind(("now", now))
                })
                .await?;
            // Still conflicting: someone else is busy with this lease, so it is not ours.
            Ok(written.is_some_and(|rows| !rows.is_empty()))
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
            let Some(version) = db_version(version) else {
                return Ok(false);
            };
            let sealed = self.seal(key, tokens)?;
            // Procore has spent the old refresh token; only this write keeps the new pair.
            crate::server::crash::point("refresh-before-store");
            let written = self
                .write(SAVE_REFRESHED, |q| {
                    q.bind(("id", token_id(key)))
                        .bind(("sealed", sealed.clone()))
                        .bind(("version", version))
                        .bind(("holder", holder.to_string()))
                })
                .await?
                // The refresh token is already spent: an error says more than "not stored".
                .ok_or_else(still_conflicting)?;
            crate::server::crash::point("refresh-after-store");
            Ok(!written.is_empty())
        })
    }

    fn release_lease<'a>(
        &'a self,
        key: &'a str,
        holder: &'a str,
    ) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            self.write(RELEASE, |q| {
                q.bind(("id", token_id(key)))
                    .bind(("holder", holder.to_string()))
            })
            .await?
            .ok_or_else(still_conflicting)?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use surrealdb::types::QueryError;

    use procore::Secret;
    use tokio::sync::Barrier;

    use super::*;
    use crate::server::config::{DatabaseConfig, DatabaseEndpoint};
    use crate::server::crypto::SecretKey;

    #[derive(Debug, SurrealValue)]
    struct RawRow {
        sealed: Option<String>,
        version: i64,
        lease_holder: Option<String>,
        lease_until: Option<i64>,
    }

    fn pair(access: &str) -> TokenSet {
        TokenSet::new(
            Secret::new(access),
            Some(Secret::new(format!("{access}-refresh"))),
            Some(Duration::from_secs(5400)),
            1_000,
        )
    }

    async fn token_store() -> SurrealTokenStore {
        let store = Store::memory().await.unwrap();
        SurrealTokenStore::new(store, TokenCipher::new(&SecretKey::generate()))
    }

    #[test]
    fn only_conflicts_are_retried() {
        let conflict = surrealdb::Error::query(
            "Transaction write conflict".into(),
            Some(QueryError::TransactionConflict),
        );
        assert!(is_conflict(&conflict));
        let not_executed = surrealdb::Error::query("failed".into(), Some(QueryError::NotExecuted));
        assert!(!is_conflict(&not_executed));
        assert!(!is_conflict(&surrealdb::Error::internal(
            "can be retried".into()
        )));
    }

    async fn raw(tokens: &SurrealTokenStore, key: &str) -> Option<RawRow> {
        tokens
            .store
            .db()
            .query("SELECT sealed, version, lease_holder, lease_until FROM ONLY $id")
            .bind(("id", token_id(key)))
            .await
            .unwrap()
            .take(0)
            .unwrap()
    }

    #[tokio::test]
    async fn tokens_round_trip_sealed() {
        let store = token_store().await;
        assert_eq!(store.load("ds").await.unwrap(), None);
        let tokens = pair("access-text-4711");
        assert_eq!(store.save("ds", &tokens).await.unwrap(), 1);
        let stored = store.load("ds").await.unwrap().unwrap();
        assert_eq!(stored.tokens, tokens);
        assert_eq!(stored.version, 1);

        let row = raw(&store, "ds").await.unwrap();
        let sealed = row.sealed.unwrap();
        assert!(!sealed.contains("access-text-4711"), "{sealed}");
        assert!(!sealed.contains("refresh"), "{sealed}");
        assert_eq!(row.version, 1);
        assert_eq!(store.load("other").await.unwrap(), None);
    }

    #[tokio::test]
    async fn each_save_bumps_the_version_and_keeps_the_lease() {
        let store = token_store().await;
        assert_eq!(store.save("ds", &pair("a")).await.unwrap(), 1);
        let far = unix_now() + 30;
        assert!(store.acquire_lease("ds", "p1", far).await.unwrap());
        assert_eq!(store.save("ds", &pair("b")).await.unwrap(), 2);
        let stored = store.load("ds").await.unwrap().unwrap();
        assert_eq!(
            (stored.tokens.access_token.expose(), stored.version),
            ("b", 2)
        );
        assert!(
            !store.acquire_lease("ds", "p2", far).await.unwrap(),
            "a new authorization leaves the lease alone, as in memory"
        );
        assert_eq!(store.save("other", &pair("c")).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn one_lease_holder_at_a_time_and_versioned_saves() {
        let store = token_store().await;
        let version = store.save("ds", &pair("a")).await.unwrap();
        let far = unix_now() + 30;
        assert!(store.acquire_lease("ds", "p1", far).await.unwrap());
        assert!(
            store.acquire_lease("ds", "p1", far + 5).await.unwrap(),
            "the holder may extend"
        );
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
        let row = raw(&store, "ds").await.unwrap();
        assert_eq!((row.lease_holder, row.lease_until), (None, None));
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
        assert_eq!(store.load("ds").await.unwrap().unwrap().tokens, pair("b"));
    }

    #[tokio::test]
    async fn an_expired_lease_can_be_taken_over() {
        let store = token_store().await;
        let version = store.save("ds", &pair("a")).await.unwrap();
        let past = unix_now() - 1;
        assert!(store.acquire_lease("ds", "p1", past).await.unwrap());
        assert!(store.acquire_lease("ds", "p2", past + 60).await.unwrap());
        let row = raw(&store, "ds").await.unwrap();
        assert_eq!(row.lease_holder.as_deref(), Some("p2"));
        assert_eq!(row.lease_until, Some(past + 60));
        assert!(
            !store
                .save_refreshed("ds", "p1", version, &pair("x"))
                .await
                .unwrap(),
            "the lease was taken from p1"
        );
    }

    #[tokio::test]
    async fn only_the_holder_releases_the_lease() {
        let store = token_store().await;
        store.save("ds", &pair("a")).await.unwrap();
        let far = unix_now() + 30;
        assert!(store.acquire_lease("ds", "p1", far).await.unwrap());
        store.release_lease("ds", "p2").await.unwrap();
        assert!(!store.acquire_lease("ds", "p2", far).await.unwrap());
        store.release_lease("ds", "p1").await.unwrap();
        assert!(store.acquire_lease("ds", "p2", far).await.unwrap());
        store.release_lease("missing", "p1").await.unwrap();
        assert!(raw(&store, "missing").await.is_none());
        assert_eq!(store.load("ds").await.unwrap().unwrap().version, 1);
    }

    #[tokio::test]
    async fn clearing_forgets_tokens_and_lease() {
        let store = token_store().await;
        store.save("ds", &pair("a")).await.unwrap();
        store.save("ds", &pair("b")).await.unwrap();
        let far = unix_now() + 30;
        assert!(store.acquire_lease("ds", "p1", far).await.unwrap());
        store.clear("ds").await.unwrap();
        assert!(raw(&store, "ds").await.is_none());
        assert_eq!(store.load("ds").await.unwrap(), None);
        assert!(store.acquire_lease("ds", "p2", far).await.unwrap());
        assert_eq!(
            store.save("ds", &pair("c")).await.unwrap(),
            1,
            "counts anew"
        );
        store.clear("never-stored").await.unwrap();
    }

    /// As in memory, a lease can be taken before any tokens exist; it is exclusive all the
    /// same, and nothing can be saved as refreshed until tokens are stored.
    #[tokio::test]
    async fn a_lease_without_tokens() {
        let store = token_store().await;
        let far = unix_now() + 30;
        assert!(store.acquire_lease("ds", "p1", far).await.unwrap());
        assert!(!store.acquire_lease("ds", "p2", far).await.unwrap());
        assert_eq!(store.load("ds").await.unwrap(), None);
        for version in [0, 1] {
            assert!(
                !store
                    .save_refreshed("ds", "p1", version, &pair("x"))
                    .await
                    .unwrap()
            );
        }
        assert_eq!(store.save("ds", &pair("a")).await.unwrap(), 1);
        assert!(
            store
                .save_refreshed("ds", "p1", 1, &pair("b"))
                .await
                .unwrap()
        );
        assert_eq!(store.load("ds").await.unwrap().unwrap().version, 2);
    }

    #[tokio::test]
    async fn tokens_sealed_with_another_key_are_an_error() {
        let first = token_store().await;
        first.save("ds", &pair("a")).await.unwrap();
        let rekeyed = SurrealTokenStore::new(
            first.store.clone(),
            TokenCipher::new(&SecretKey::generate()),
        );
        let err = rekeyed.load("ds").await.unwrap_err();
        assert_eq!(err.0, UNREADABLE);
        assert!(!err.0.contains("a-refresh"));

        // A sealed pair copied onto another data source's record does not open there.
        first.save("other", &pair("b")).await.unwrap();
        first
            .store
            .db()
            .query("UPDATE $to SET sealed = $from.sealed")
            .bind(("to", token_id("other")))
            .bind(("from", token_id("ds")))
            .await
            .unwrap()
            .check()
            .unwrap();
        assert_eq!(first.load("other").await.unwrap_err().0, UNREADABLE);
        assert_eq!(first.load("ds").await.unwrap().unwrap().tokens, pair("a"));
    }

    /// The embedded engine servers use by default, which detects conflicts differently.
    async fn surrealkv_token_store(dir: &std::path::Path) -> SurrealTokenStore {
        let store = Store::connect(&DatabaseConfig {
            endpoint: DatabaseEndpoint::SurrealKv(dir.join("db")),
            user: None,
            password: None,
            namespace: "trestle".into(),
            database: "trestle".into(),
        })
        .await
        .unwrap();
        SurrealTokenStore::new(store, TokenCipher::new(&SecretKey::generate()))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_leases_have_one_winner() {
        leases_have_one_winner(token_store().await).await;
        let dir = tempfile::tempdir().unwrap();
        leases_have_one_winner(surrealkv_token_store(dir.path()).await).await;
    }

    async fn leases_have_one_winner(store: SurrealTokenStore) {
        let store = Arc::new(store);
        store.save("ds", &pair("a")).await.unwrap();
        let far = unix_now() + 30;
        // Released together, so the statements really overlap and conflict.
        let start = Arc::new(Barrier::new(50));
        let attempts: Vec<_> = (0..50)
            .map(|i| {
                let store = store.clone();
                let start = start.clone();
                tokio::spawn(async move {
                    let holder = format!("p{i}");
                    start.wait().await;
                    let won = store.acquire_lease("ds", &holder, far).await.unwrap();
                    (holder, won)
                })
            })
            .collect();
        let mut winners = Vec::new();
        for attempt in attempts {
            let (holder, won) = attempt.await.unwrap();
            if won {
                winners.push(holder);
            }
        }
        assert_eq!(winners.len(), 1, "{winners:?}");
        let row = raw(&store, "ds").await.unwrap();
        assert_eq!(row.lease_holder.as_ref(), winners.first());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_refreshed_saves_store_one_current_pair() {
        refreshed_saves_store_one_current_pair(token_store().await).await;
        let dir = tempfile::tempdir().unwrap();
        refreshed_saves_store_one_current_pair(surrealkv_token_store(dir.path()).await).await;
    }

    async fn refreshed_saves_store_one_current_pair(store: SurrealTokenStore) {
        let store = Arc::new(store);
        store.save("ds", &pair("a")).await.unwrap();
        let current = store.save("ds", &pair("b")).await.unwrap();
        assert!(
            store
                .acquire_lease("ds", "p1", unix_now() + 30)
                .await
                .unwrap()
        );
        let start = Arc::new(Barrier::new(20));
        let saves: Vec<_> = (0..20)
            .map(|i| {
                let store = store.clone();
                let start = start.clone();
                let version = if i % 2 == 0 { current } else { current - 1 };
                tokio::spawn(async move {
                    let tokens = pair(&format!("new-{i}"));
                    start.wait().await;
                    let saved = store
                        .save_refreshed("ds", "p1", version, &tokens)
                        .await
                        .unwrap();
                    (i, saved)
                })
            })
            .collect();
        let mut saved = Vec::new();
        for save in saves {
            let (i, ok) = save.await.unwrap();
            if ok {
                saved.push(i);
            }
        }
        // The first current save bumps the version and releases the lease, so the other
        // current ones are stale by the time they run; stale ones never win.
        assert_eq!(saved.len(), 1, "{saved:?}");
        assert_eq!(saved[0] % 2, 0, "a stale version was stored");
        let stored = store.load("ds").await.unwrap().unwrap();
        assert_eq!(stored.version, current + 1);
        assert_eq!(stored.tokens, pair(&format!("new-{}", saved[0])));
        let row = raw(&store, "ds").await.unwrap();
        assert_eq!((row.lease_holder, row.lease_until), (None, None));
    }

    /// Two clients on one database, as two server processes would be: Procore refuses the
    /// access token and 200 calls between them cause exactly one refresh, whose new pair
    /// both then use.
    #[tokio::test]
    async fn two_clients_on_one_database_refresh_once() {
        use procore::{ApiRequest, Client, ClientConfig, Hosts, OAuthApp, TokenStore};
        use procore_sim::testing::{TEST_REDIRECT, TestSim, roomy};

        let sim = TestSim::start(roomy()).await;
        sim.sim.update_config(|c| c.access_token_ttl = 1);
        let api = url::Url::parse(&sim.url("developer-sandbox", "")).unwrap();
        let config = ClientConfig::new(
            Hosts {
                login: api.clone(),
                api,
            },
            OAuthApp {
                client_id: "trestle-sandbox".into(),
                client_secret: Secret::new("sandbox-secret"),
                redirect_uri: url::Url::parse(TEST_REDIRECT).unwrap(),
            },
            procore_sim::data::SANDBOX_COMPANY_ID,
            "data-source-1",
        );
        let tokens = Arc::new(token_store().await);
        let client = |tokens: Arc<SurrealTokenStore>| {
            let transport = Arc::new(procore::transport::ReqwestTransport::default());
            Client::new(config.clone(), tokens, transport).unwrap()
        };
        let first = client(tokens.clone());
        let code = sim.code_for(&first.authorizer().authorize_url("s")).await;
        first.authorize(&code).await.unwrap();
        // Only the first access token is short-lived: a refreshed one that also ran out
        // after a second would fail calls on a slow machine for a reason this test is not about.
        sim.sim.update_config(|c| c.access_token_ttl = 3600);
        // Only Procore's 401 may reveal that the token ended: the store says it is good.
        let mut stored = tokens.load("data-source-1").await.unwrap().unwrap();
        stored.tokens.expires_at += 3600;
        tokens.save("data-source-1", &stored.tokens).await.unwrap();
        tokio::time::sleep(Duration::from_millis(2100)).await;
        let (first, second) = (client(tokens.clone()), client(tokens.clone()));

        let mut calls = tokio::task::JoinSet::new();
        for i in 0..200 {
            let client = if i % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            calls.spawn(async move { client.send(&ApiRequest::get("/rest/v1.0/me")).await });
        }
        while let Some(result) = calls.join_next().await {
            if let Err(e) = result.expect("call task") {
                panic!("a call failed: {e}");
            }
        }
        assert_eq!(sim.sim.counters().refreshes, 1);
        assert_eq!(sim.sim.counters().failed_refreshes, 0);
    }
}
