//! SurrealDB access: one typed function per operation, rows mapped to the DTOs in
//! [`crate::model`]. SurrealDB types never leave this module, so the browser build
//! never sees them.

mod api_tokens;
mod cloud_connect;
mod data_sources;
mod forms;
mod people;
mod procore_tokens;
mod recent;
mod sessions;
mod throttle;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use surrealdb::Surreal;
use surrealdb::engine::any::Any;
use surrealdb::opt::auth::Root;
use surrealdb::types::{RecordId, RecordIdKey};

use super::config::{DatabaseConfig, DatabaseEndpoint};
use crate::error::AppError;
use recent::Recent;

pub use cloud_connect::AgentRecord;
pub use data_sources::{OAuthState, SourceRecord};
pub use people::Credentials;
pub use procore_tokens::SurrealTokenStore;
pub use recent::KEEP_FOR;
pub use sessions::SessionRecord;
pub use throttle::Throttle;

/// The schema, in the order it is applied.
const SCHEMA: &[(&str, &str)] = &[
    (
        "001_people",
        include_str!("../../../schema/001_people.surql"),
    ),
    (
        "002_procore_tokens",
        include_str!("../../../schema/002_procore_tokens.surql"),
    ),
    (
        "003_data_sources",
        include_str!("../../../schema/003_data_sources.surql"),
    ),
    ("004_forms", include_str!("../../../schema/004_forms.surql")),
    (
        "005_api_tokens",
        include_str!("../../../schema/005_api_tokens.surql"),
    ),
    (
        "006_data_rules",
        include_str!("../../../schema/006_data_rules.surql"),
    ),
    (
        "007_cloud_connect",
        include_str!("../../../schema/007_cloud_connect.surql"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(Box<surrealdb::Error>),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(&'static str),
    /// A value the schema refused that the shared validation let through (the schema's
    /// `string::is_email` is the stricter): still the caller's input, not a fault.
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: &'static str,
    },
    #[error("schema {name}: {source}")]
    Schema {
        name: &'static str,
        source: Box<surrealdb::Error>,
    },
}

impl From<surrealdb::Error> for StoreError {
    fn from(err: surrealdb::Error) -> Self {
        StoreError::Db(Box::new(err))
    }
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(message) => AppError::Conflict(message),
            StoreError::NotFound(what) => AppError::NotFound(what.to_string()),
            StoreError::Invalid { field, message } => AppError::invalid(field, message),
            other => {
                tracing::error!(error = %other, "store operation failed");
                AppError::Internal
            }
        }
    }
}

#[derive(Clone)]
pub struct Store {
    /// Shared, not cloned: every clone of a `Surreal` handle is a session of its own in the
    /// engine (its own maps and their reclamation buffers, ~30 KB), and a `Store` is cloned
    /// with the app state on every request. One handle serves concurrent queries fine.
    db: Arc<Surreal<Any>>,
    /// Round trips to the database so far, to count what a request costs (benchmarks).
    operations: Arc<AtomicU64>,
    recent: Arc<RecentRows>,
}

/// The hot rows kept for a moment (see [`recent`]).
struct RecentRows {
    sessions: Recent<SessionRecord>,
    forms: Recent<crate::form::Form>,
    sources: Recent<SourceRecord>,
}

impl Default for RecentRows {
    fn default() -> Self {
        RecentRows {
            sessions: Recent::new(recent::KEEP_FOR),
            forms: Recent::new(recent::KEEP_FOR),
            sources: Recent::new(recent::KEEP_FOR),
        }
    }
}

impl Store {
    pub async fn connect(config: &DatabaseConfig) -> Result<Store, StoreError> {
        let db = surrealdb::engine::any::connect(config.endpoint.address()).await?;
        if let DatabaseEndpoint::Remote(_) = config.endpoint
            && let (Some(user), Some(password)) = (&config.user, &config.password)
        {
            db.signin(Root {
                username: user.clone(),
                password: password.expose().to_string(),
            })
            .await?;
        }
        // Namespace and database names are checked identifiers (see config), never user input.
        let define = format!(
            "DEFINE NAMESPACE IF NOT EXISTS {ns}; USE NS {ns}; DEFINE DATABASE IF NOT EXISTS {db};",
            ns = config.namespace,
            db = config.database
        );
        retrying(|| async { db.query(&define).await?.check().map(drop) }).await?;
        db.use_ns(&config.namespace)
            .use_db(&config.database)
            .await?;
        let store = Store {
            db: Arc::new(db),
            operations: Arc::default(),
            recent: Arc::default(),
        };
        store.apply_schema().await?;
        Ok(store)
    }

    /// A fresh in-memory store, for tests.
    pub async fn memory() -> Result<Store, StoreError> {
        Store::connect(&DatabaseConfig {
            endpoint: DatabaseEndpoint::Memory,
            user: None,
            password: None,
            namespace: "trestle".into(),
            database: "trestle".into(),
        })
        .await
    }

    /// The database, for one round trip: every query goes through here to be counted.
    fn db(&self) -> &Surreal<Any> {
        self.operations.fetch_add(1, Ordering::Relaxed);
        &self.db
    }

    /// Round trips to the database since start.
    pub fn operations(&self) -> u64 {
        self.operations.load(Ordering::Relaxed)
    }

    async fn apply_schema(&self) -> Result<(), StoreError> {
        for (name, text) in SCHEMA {
            let failed = |source| StoreError::Schema {
                name,
                source: Box::new(source),
            };
            // Every definition is an OVERWRITE, so applying a file rewrites the catalogue:
            // skipped when this very text was applied before, or servers starting beside
            // running ones would conflict with them for nothing.
            let id = RecordId::new("schema_file", name.to_string());
            let applied: Option<String> = retrying_up_to(SCHEMA_ATTEMPTS, || async {
                self.db()
                    .query("DEFINE TABLE IF NOT EXISTS schema_file SCHEMALESS")
                    .query("SELECT VALUE text FROM ONLY $id")
                    .bind(("id", id.clone()))
                    .await?
                    .take(1)
            })
            .await
            .map_err(failed)?;
            if applied.as_deref() == Some(*text) {
                continue;
            }
            // Servers starting together apply it together: idempotent, so run again after
            // a conflict, patiently (a whole file per attempt).
            retrying_up_to(SCHEMA_ATTEMPTS, || async {
                self.db()
                    .query(*text)
                    .query("UPSERT $id SET text = $text")
                    .bind(("id", id.clone()))
                    .bind(("text", text.to_string()))
                    .await?
                    .check()
                    .map(drop)
            })
            .await
            .map_err(failed)?;
        }
        Ok(())
    }
}

/// Attempts at a write while the database reports conflicting concurrent transactions.
const CONFLICT_ATTEMPTS: u32 = 6;

/// Runs `write` again while the database reports that a concurrent transaction on the same
/// rows won (a background status update meeting the request's own; two servers starting
/// at once). The losing transaction did not commit, so this is safe for writes whose
/// outcome does not depend on what they replace.
async fn retrying<T, Fut>(write: impl Fn() -> Fut) -> Result<T, surrealdb::Error>
where
    Fut: Future<Output = Result<T, surrealdb::Error>>,
{
    retrying_up_to(CONFLICT_ATTEMPTS, write).await
}

/// Attempts at applying one schema file while other servers apply theirs.
const SCHEMA_ATTEMPTS: u32 = 40;

/// [`retrying`], `attempts` times at most.
async fn retrying_up_to<T, Fut>(
    attempts: u32,
    write: impl Fn() -> Fut,
) -> Result<T, surrealdb::Error>
where
    Fut: Future<Output = Result<T, surrealdb::Error>>,
{
    let mut attempt = 0;
    loop {
        match write().await {
            Err(err) if is_conflict(&err) && attempt + 1 < attempts => {
                tokio::time::sleep(conflict_backoff(attempt)).await;
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}

/// A conflicting concurrent transaction: this one did not commit and may be run again.
fn is_conflict(err: &surrealdb::Error) -> bool {
    matches!(
        err.query_details(),
        Some(surrealdb::types::QueryError::TransactionConflict)
    )
}

/// Short and jittered: contenders retrying in step would only conflict again.
fn conflict_backoff(attempt: u32) -> std::time::Duration {
    use rand::Rng;
    let base = 5u64 << attempt.min(5);
    std::time::Duration::from_millis(base + rand::rng().random_range(0..=base))
}

/// The key of a record id we created, as the string the browser sees.
fn key_of(id: &RecordId) -> String {
    match &id.key {
        RecordIdKey::String(s) => s.clone(),
        RecordIdKey::Number(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}

/// True when `err` is the unique index `index` refusing a duplicate.
fn violates_unique(err: &surrealdb::Error, index: &str) -> bool {
    let text = err.to_string();
    text.contains(index) && text.contains("already contains")
}

/// Whether `err` is the schema refusing a value of `field` (a failed `ASSERT`).
fn violates_assert(err: &surrealdb::Error, field: &str) -> bool {
    let text = err.to_string();
    text.contains(&format!("for field `{field}`")) && text.contains("must conform to")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Role, UserDraft};

    fn surrealkv_config(dir: &std::path::Path) -> DatabaseConfig {
        DatabaseConfig {
            endpoint: DatabaseEndpoint::SurrealKv(dir.join("db")),
            user: None,
            password: None,
            namespace: "trestle".into(),
            database: "trestle".into(),
        }
    }

    fn in_runtime<T>(phase: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(phase)
    }

    /// The embedded engine holds its lock until the process exits, so the first run is a
    /// child process (this same test, told where to write), like a server that stopped.
    #[test]
    fn data_survives_a_restart_on_surrealkv() {
        const WRITE_DIR: &str = "STORE_TEST_WRITE_DIR";
        if let Some(dir) = std::env::var_os(WRITE_DIR) {
            in_runtime(async {
                let store = Store::connect(&surrealkv_config(dir.as_ref()))
                    .await
                    .unwrap();
                let draft = UserDraft {
                    email: "ann@example.com".into(),
                    name: "Ann".into(),
                    roles: vec![Role::User],
                };
                let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";
                store.create_user(&draft, hash, false).await.unwrap();
            });
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "server::store::tests::data_survives_a_restart_on_surrealkv",
            ])
            .env(WRITE_DIR, dir.path())
            .output()
            .unwrap();
        assert!(
            child.status.success(),
            "the writing run failed: {}",
            String::from_utf8_lossy(&child.stdout)
        );
        // Reconnecting applies the schema again over existing data.
        in_runtime(async {
            let store = Store::connect(&surrealkv_config(dir.path())).await.unwrap();
            let saved = store.credentials("ann@example.com").await.unwrap();
            assert_eq!(saved.expect("user persisted").user.name, "Ann");
            assert_eq!(store.count_users().await.unwrap(), 1);
        });
    }
}
