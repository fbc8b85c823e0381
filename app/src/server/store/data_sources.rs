//! Data sources, their change history and Procore call log, and OAuth states.

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SurrealValue};

use super::{Store, StoreError, key_of, retrying, violates_unique};
use crate::data_source::{
    Authorization, CallLogEntry, Change, Environment, Principal, PrincipalKind, Status, ValidDraft,
};

pub(super) fn source_id(key: &str) -> RecordId {
    RecordId::new("data_source", key.to_string())
}

fn user_id(key: &str) -> RecordId {
    RecordId::new("user", key.to_string())
}

fn principal_id(kind: PrincipalKind, key: &str) -> RecordId {
    match kind {
        PrincipalKind::User => user_id(key),
        PrincipalKind::Group => RecordId::new("user_group", key.to_string()),
    }
}

fn principal_of(id: &RecordId) -> Option<(PrincipalKind, String)> {
    let kind = match id.table.as_str() {
        "user" => PrincipalKind::User,
        "user_group" => PrincipalKind::Group,
        _ => return None,
    };
    Some((kind, key_of(id)))
}

fn name_taken(err: surrealdb::Error) -> StoreError {
    if violates_unique(&err, "data_source_name") {
        StoreError::Conflict("Another data source already has this name.".into())
    } else {
        err.into()
    }
}

const SOURCE_FIELDS: &str = "id, name, kind, company_id, environment, cloud_connect, connector, \
    status, status_reason, authorization, admins, users, updated_at, updated_by.name AS updated_by_name";

#[derive(SurrealValue)]
struct AuthorizationRow {
    procore_user_id: i64,
    login: String,
    name: Option<String>,
    at: DateTime<Utc>,
}

#[derive(SurrealValue)]
struct SourceRow {
    id: RecordId,
    name: String,
    kind: String,
    company_id: Option<i64>,
    environment: String,
    cloud_connect: bool,
    connector: Option<String>,
    status: String,
    status_reason: Option<String>,
    authorization: Option<AuthorizationRow>,
    admins: Vec<RecordId>,
    users: Vec<RecordId>,
    updated_at: DateTime<Utc>,
    updated_by_name: Option<String>,
}

/// A data source as the server keeps it: security lists as ids, to check rights with.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub company_id: Option<u64>,
    pub environment: Environment,
    pub cloud_connect: bool,
    pub connector: Option<String>,
    pub status: Status,
    pub status_reason: Option<String>,
    pub authorization: Option<Authorization>,
    pub admins: Vec<(PrincipalKind, String)>,
    pub users: Vec<(PrincipalKind, String)>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Option<String>,
}

impl From<SourceRow> for SourceRecord {
    fn from(row: SourceRow) -> Self {
        SourceRecord {
            id: key_of(&row.id),
            name: row.name,
            kind: row.kind,
            company_id: row.company_id.and_then(|c| u64::try_from(c).ok()),
            // The schema asserts both, so the fallbacks never apply.
            environment: Environment::from_key(&row.environment).unwrap_or_default(),
            cloud_connect: row.cloud_connect,
            connector: row.connector,
            status: Status::from_key(&row.status).unwrap_or_default(),
            status_reason: row.status_reason,
            authorization: row.authorization.map(|a| Authorization {
                procore_user_id: u64::try_from(a.procore_user_id).unwrap_or_default(),
                login: a.login,
                name: a.name,
                at: a.at,
            }),
            admins: row.admins.iter().filter_map(principal_of).collect(),
            users: row.users.iter().filter_map(principal_of).collect(),
            updated_at: row.updated_at,
            updated_by: row.updated_by_name,
        }
    }
}

#[derive(SurrealValue)]
struct PrincipalRow {
    id: RecordId,
    name: String,
}

#[derive(SurrealValue)]
struct ChangeRow {
    at: DateTime<Utc>,
    by_name: Option<String>,
    summary: String,
}

#[derive(SurrealValue)]
struct CallRow {
    at: DateTime<Utc>,
    method: String,
    path: String,
    status: Option<i64>,
    duration_ms: i64,
    rate_remaining: Option<i64>,
    error: Option<String>,
}

/// An OAuth `state` that was just used up.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthState {
    pub data_source: String,
    pub user: String,
    pub environment: Environment,
    pub expires_at: DateTime<Utc>,
}

#[derive(SurrealValue)]
struct StateRow {
    data_source: RecordId,
    user: RecordId,
    environment: String,
    expires_at: DateTime<Utc>,
}

impl Store {
    pub async fn create_data_source(
        &self,
        draft: &ValidDraft,
        by: &str,
        admins: &[(PrincipalKind, String)],
    ) -> Result<SourceRecord, StoreError> {
        let admins: Vec<RecordId> = admins
            .iter()
            .map(|(kind, id)| principal_id(*kind, id))
            .collect();
        let row: Option<SourceRow> = self
            .db()
            .query(format!(
                "CREATE ONLY data_source CONTENT {{ name: $name, name_key: string::lowercase($name), \
                 kind: 'procore', company_id: $company, environment: $env, cloud_connect: $cc, \
                 connector: $connector, admins: $admins, users: [], created_by: $by, updated_by: $by }} \
                 RETURN {SOURCE_FIELDS}"
            ))
            .bind(("name", draft.name.clone()))
            .bind(("company", draft.company_id.map(|c| c as i64)))
            .bind(("env", draft.environment.key()))
            .bind(("cc", draft.cloud_connect))
            .bind(("connector", draft.connector.clone()))
            .bind(("admins", admins))
            .bind(("by", user_id(by)))
            .await?
            .take(0)
            .map_err(name_taken)?;
        row.map(SourceRecord::from)
            .ok_or(StoreError::NotFound("Data source"))
    }

    /// Saves the drawer's details. When the environment changes the authorization goes
    /// with it (tokens never cross environments) and the status drops to incomplete.
    pub async fn update_data_source(
        &self,
        id: &str,
        draft: &ValidDraft,
        by: &str,
        environment_changed: bool,
    ) -> Result<SourceRecord, StoreError> {
        let _written = self.recent.sources.writing();
        let reset = if environment_changed {
            ", authorization = NONE, status = 'incomplete', status_reason = NONE"
        } else {
            ""
        };
        let row: Option<SourceRow> = self
            .db()
            .query(format!(
                "UPDATE ONLY $id SET name = $name, name_key = string::lowercase($name), \
                 company_id = $company, environment = $env, cloud_connect = $cc, connector = $connector, \
                 updated_at = time::now(), updated_by = $by{reset} RETURN {SOURCE_FIELDS}"
            ))
            .bind(("id", source_id(id)))
            .bind(("name", draft.name.clone()))
            .bind(("company", draft.company_id.map(|c| c as i64)))
            .bind(("env", draft.environment.key()))
            .bind(("cc", draft.cloud_connect))
            .bind(("connector", draft.connector.clone()))
            .bind(("by", user_id(by)))
            .await?
            .take(0)
            .map_err(name_taken)?;
        row.map(SourceRecord::from)
            .ok_or(StoreError::NotFound("Data source"))
    }

    pub async fn data_source(&self, id: &str) -> Result<Option<SourceRecord>, StoreError> {
        let recent = &self.recent.sources;
        if let Some(source) = recent.get(id) {
            return Ok(Some(source));
        }
        let ticket = recent.ticket();
        let row: Option<SourceRow> = self
            .db()
            .query(format!("SELECT {SOURCE_FIELDS} FROM ONLY $id"))
            .bind(("id", source_id(id)))
            .await?
            .take(0)?;
        let source = row.map(SourceRecord::from);
        if let Some(source) = &source {
            recent.put(ticket, id, source.clone());
        }
        Ok(source)
    }

    pub async fn list_data_sources(&self) -> Result<Vec<SourceRecord>, StoreError> {
        let rows: Vec<SourceRow> = self
            .db()
            .query(format!(
                "SELECT {SOURCE_FIELDS} FROM data_source ORDER BY name_key ASC"
            ))
            .await?
            .take(0)?;
        Ok(rows.into_iter().map(SourceRecord::from).collect())
    }

    /// Removes a data source with its history, call log and pending authorizations.
    pub async fn delete_data_source(&self, id: &str) -> Result<(), StoreError> {
        let _written = self.recent.sources.writing();
        self.db()
            .query(
                "BEGIN; \
                 DELETE data_source_change WHERE data_source = $id; \
                 DELETE procore_call WHERE data_source = $id; \
                 DELETE oauth_state WHERE data_source = $id; \
                 DELETE $id; \
                 COMMIT;",
            )
            .bind(("id", source_id(id)))
            .await?
            .check()?;
        Ok(())
    }

    pub async fn set_status(
        &self,
        id: &str,
        status: Status,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        let _written = self.recent.sources.writing();
        retrying(|| async {
            self.db()
                .query("UPDATE $id SET status = $status, status_reason = $reason")
                .bind(("id", source_id(id)))
                .bind(("status", status.key()))
                .bind(("reason", reason.map(str::to_string)))
                .await?
                .check()
                .map(drop)
        })
        .await?;
        Ok(())
    }

    /// Who the data source now acts as (`None`: nobody, e.g. after a re-authorization failed).
    pub async fn set_authorization(
        &self,
        id: &str,
        authorization: Option<&Authorization>,
        by: Option<&str>,
    ) -> Result<(), StoreError> {
        let _written = self.recent.sources.writing();
        let value = authorization.map(|a| {
            surrealdb::types::object! {
                procore_user_id: a.procore_user_id as i64,
                login: a.login.clone(),
                name: a.name.clone(),
                at: a.at,
            }
        });
        retrying(|| async {
            self.db()
                .query(
                    "UPDATE $id SET authorization = $authorization, status = 'incomplete', status_reason = NONE, \
                     updated_at = time::now(), updated_by = $by",
                )
                .bind(("id", source_id(id)))
                .bind(("authorization", value.clone()))
                .bind(("by", by.map(user_id)))
                .await?
                .check()
                .map(drop)
        })
        .await?;
        Ok(())
    }

    pub async fn set_security(
        &self,
        id: &str,
        admins: &[(PrincipalKind, String)],
        users: &[(PrincipalKind, String)],
        by: &str,
    ) -> Result<(), StoreError> {
        let _written = self.recent.sources.writing();
        let ids = |list: &[(PrincipalKind, String)]| -> Vec<RecordId> {
            list.iter().map(|(k, id)| principal_id(*k, id)).collect()
        };
        self.db()
            .query(
                "UPDATE $id SET admins = $admins, users = $users, updated_at = time::now(), updated_by = $by",
            )
            .bind(("id", source_id(id)))
            .bind(("admins", ids(admins)))
            .bind(("users", ids(users)))
            .bind(("by", user_id(by)))
            .await?
            .check()?;
        Ok(())
    }

    /// Users and groups that exist, among `candidates`, with their names.
    pub async fn principals(&self) -> Result<Vec<Principal>, StoreError> {
        let mut response = self
            .db()
            .query("SELECT id, name FROM user WHERE active = true ORDER BY name ASC")
            .query("SELECT id, name FROM user_group ORDER BY name ASC")
            .await?;
        let users: Vec<PrincipalRow> = response.take(0)?;
        let groups: Vec<PrincipalRow> = response.take(1)?;
        Ok(users
            .into_iter()
            .chain(groups)
            .filter_map(|row| {
                let (kind, id) = principal_of(&row.id)?;
                Some(Principal {
                    kind,
                    id,
                    name: row.name,
                })
            })
            .collect())
    }

    /// The groups `user` belongs to.
    pub async fn groups_of(&self, user: &str) -> Result<Vec<String>, StoreError> {
        let ids: Vec<RecordId> = self
            .db()
            .query("SELECT VALUE id FROM user_group WHERE members CONTAINS $user")
            .bind(("user", user_id(user)))
            .await?
            .take(0)?;
        Ok(ids.iter().map(key_of).collect())
    }

    pub async fn record_change(
        &self,
        id: &str,
        by: Option<&str>,
        summary: &str,
    ) -> Result<(), StoreError> {
        self.db()
            .query("CREATE data_source_change CONTENT { data_source: $id, by: $by, summary: $summary }")
            .bind(("id", source_id(id)))
            .bind(("by", by.map(user_id)))
            .bind(("summary", summary.to_string()))
            .await?
            .check()?;
        Ok(())
    }

    pub async fn changes(&self, id: &str) -> Result<Vec<Change>, StoreError> {
        let rows: Vec<ChangeRow> = self
            .db()
            .query(
                "SELECT at, by.name AS by_name, summary FROM data_source_change \
                 WHERE data_source = $id ORDER BY at DESC LIMIT 200",
            )
            .bind(("id", source_id(id)))
            .await?
            .take(0)?;
        Ok(rows
            .into_iter()
            .map(|r| Change {
                at: r.at,
                by: r.by_name,
                summary: r.summary,
            })
            .collect())
    }

    pub async fn record_call(&self, id: &str, call: &CallLogEntry) -> Result<(), StoreError> {
        self.db()
            .query(
                "CREATE procore_call CONTENT { data_source: $id, at: $at, method: $method, path: $path, \
                 status: $status, duration_ms: $duration, rate_remaining: $remaining, error: $error }",
            )
            .bind(("id", source_id(id)))
            .bind(("at", call.at))
            .bind(("method", call.method.clone()))
            .bind(("path", call.path.clone()))
            .bind(("status", call.status.map(i64::from)))
            .bind(("duration", call.duration_ms.min(i64::MAX as u64) as i64))
            .bind(("remaining", call.rate_remaining.map(|r| r.min(i64::MAX as u64) as i64)))
            .bind(("error", call.error.clone()))
            .await?
            .check()?;
        Ok(())
    }

    pub async fn calls_since(
        &self,
        id: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<CallLogEntry>, StoreError> {
        let rows: Vec<CallRow> = self
            .db()
            .query(
                "SELECT at, method, path, status, duration_ms, rate_remaining, error FROM procore_call \
                 WHERE data_source = $id AND at >= $since ORDER BY at DESC LIMIT 1000",
            )
            .bind(("id", source_id(id)))
            .bind(("since", since))
            .await?
            .take(0)?;
        Ok(rows
            .into_iter()
            .map(|r| CallLogEntry {
                at: r.at,
                method: r.method,
                path: r.path,
                status: r.status.and_then(|s| u16::try_from(s).ok()),
                duration_ms: u64::try_from(r.duration_ms).unwrap_or_default(),
                rate_remaining: r.rate_remaining.and_then(|r| u64::try_from(r).ok()),
                error: r.error,
            })
            .collect())
    }

    /// Forgets calls older than `before`; the log is for the recent past.
    pub async fn prune_calls(&self, before: DateTime<Utc>) -> Result<(), StoreError> {
        self.db()
            .query("DELETE procore_call WHERE at < $before")
            .bind(("before", before))
            .await?
            .check()?;
        Ok(())
    }

    pub async fn create_oauth_state(
        &self,
        state_hash: &str,
        data_source: &str,
        user: &str,
        environment: Environment,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.db()
            .query(
                "CREATE oauth_state CONTENT { id: $id, data_source: $source, user: $user, \
                 environment: $env, expires_at: $expires }",
            )
            .bind(("id", RecordId::new("oauth_state", state_hash.to_string())))
            .bind(("source", source_id(data_source)))
            .bind(("user", user_id(user)))
            .bind(("env", environment.key()))
            .bind(("expires", expires_at))
            .await?
            .check()?;
        Ok(())
    }

    /// Uses a state up: one statement deletes and returns it, so it works only once even
    /// when two callbacks race.
    pub async fn take_oauth_state(
        &self,
        state_hash: &str,
    ) -> Result<Option<OAuthState>, StoreError> {
        let row: Option<StateRow> = self
            .db()
            .query("DELETE ONLY $id RETURN BEFORE")
            .bind(("id", RecordId::new("oauth_state", state_hash.to_string())))
            .await?
            .take(0)?;
        Ok(row.map(|r| OAuthState {
            data_source: key_of(&r.data_source),
            user: key_of(&r.user),
            environment: Environment::from_key(&r.environment).unwrap_or_default(),
            expires_at: r.expires_at,
        }))
    }

    pub async fn prune_oauth_states(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.db()
            .query("DELETE oauth_state WHERE expires_at < $now")
            .bind(("now", now))
            .await?
            .check()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Role, UserDraft};

    /// A status written in the background (an authorization found expired) and the one
    /// a request writes meet on the same row: every write succeeds, none is a 500.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_writes_to_one_data_source_all_succeed() {
        let store = Store::memory().await.unwrap();
        let (id, _) = a_data_source(&store).await;
        let writes: Vec<_> = (0..200)
            .map(|i| {
                let (store, id) = (store.clone(), id.clone());
                tokio::spawn(async move {
                    if i % 2 == 0 {
                        store
                            .set_status(&id, Status::TestFailed, Some("gone"))
                            .await
                    } else {
                        store.set_authorization(&id, None, None).await
                    }
                })
            })
            .collect();
        for write in writes {
            write.await.unwrap().unwrap();
        }
    }

    /// Data source rows are kept for a moment after a read (see `recent`): every write
    /// through the store must show in the next read all the same.
    #[tokio::test]
    async fn reads_see_every_write_at_once() {
        let store = Store::memory().await.unwrap();
        let (id, ann) = a_data_source(&store).await;
        let draft = site();
        let read = || async { store.data_source(&id).await.unwrap() };
        assert_eq!(read().await.unwrap().name, "Site");

        let renamed = ValidDraft {
            name: "Yard".into(),
            ..draft
        };
        store
            .update_data_source(&id, &renamed, &ann, false)
            .await
            .unwrap();
        assert_eq!(read().await.unwrap().name, "Yard");

        store
            .set_status(&id, Status::TestFailed, Some("gone"))
            .await
            .unwrap();
        assert_eq!(read().await.unwrap().status, Status::TestFailed);

        let users = [(PrincipalKind::User, ann.clone())];
        store.set_security(&id, &[], &users, &ann).await.unwrap();
        assert_eq!(read().await.unwrap().users, users);

        store.delete_data_source(&id).await.unwrap();
        assert!(read().await.is_none());
    }

    fn site() -> ValidDraft {
        ValidDraft {
            name: "Site".into(),
            company_id: Some(1),
            environment: Environment::DeveloperSandbox,
            cloud_connect: false,
            connector: None,
        }
    }

    /// A data source named "Site" and the administrator who made it: their ids.
    async fn a_data_source(store: &Store) -> (String, String) {
        let ann = store
            .create_user(
                &UserDraft {
                    email: "ann@example.com".into(),
                    name: "Ann".into(),
                    roles: vec![Role::Administrator],
                },
                "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
                false,
            )
            .await
            .unwrap();
        let id = store
            .create_data_source(&site(), &ann.id, &[])
            .await
            .unwrap()
            .id;
        (id, ann.id)
    }
}
