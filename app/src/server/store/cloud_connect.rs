//! Cloud Connect agents and enrolment tokens: stored hashed, never the secrets themselves.

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SurrealValue};

use super::{Store, StoreError, key_of};

fn agent_id(key: &str) -> RecordId {
    RecordId::new("cloud_agent", key.to_string())
}

fn user_id(key: &str) -> RecordId {
    RecordId::new("user", key.to_string())
}

const AGENT_FIELDS: &str = "id, name, version, enrolled_at, last_seen, \
     (SELECT VALUE name FROM data_source WHERE cloud_connect = true AND connector = record::id($parent.id) ORDER BY name) AS data_sources";

/// An agent as stored, with the names of the data sources assigned to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRecord {
    pub id: String,
    pub name: String,
    pub version: String,
    pub enrolled_at: DateTime<Utc>,
    pub last_seen: Option<DateTime<Utc>>,
    pub data_sources: Vec<String>,
}

#[derive(SurrealValue)]
struct AgentRow {
    id: RecordId,
    name: String,
    version: String,
    enrolled_at: DateTime<Utc>,
    last_seen: Option<DateTime<Utc>>,
    data_sources: Vec<String>,
}

impl From<AgentRow> for AgentRecord {
    fn from(row: AgentRow) -> Self {
        AgentRecord {
            id: key_of(&row.id),
            name: row.name,
            version: row.version,
            enrolled_at: row.enrolled_at,
            last_seen: row.last_seen,
            data_sources: row.data_sources,
        }
    }
}

#[derive(SurrealValue)]
struct EnrolmentRow {
    created_by: RecordId,
    expires_at: DateTime<Utc>,
}

impl Store {
    pub async fn create_enrolment(
        &self,
        hash: &str,
        created_by: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.db()
            .query("CREATE cloud_enrolment CONTENT { hash: $hash, created_by: $by, expires_at: $expires }")
            .bind(("hash", hash.to_string()))
            .bind(("by", user_id(created_by)))
            .bind(("expires", expires_at))
            .await?
            .check()?;
        Ok(())
    }

    /// Uses up an enrolment token and creates its agent. Deleting the token is the claim:
    /// of two agents trying one token at once, one gets it. `None` when the token is
    /// unknown, used or expired.
    pub async fn enrol_agent(
        &self,
        token_hash: &str,
        name: &str,
        version: &str,
        secret_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<AgentRecord>, StoreError> {
        let claimed: Vec<EnrolmentRow> = self
            .db()
            .query("DELETE cloud_enrolment WHERE hash = $enrolment RETURN BEFORE")
            .bind(("enrolment", token_hash.to_string()))
            .await?
            .take(0)?;
        let Some(enrolment) = claimed.into_iter().find(|e| e.expires_at > now) else {
            return Ok(None);
        };
        let created: Option<IdRow> = self
            .db()
            .query(
                "CREATE ONLY cloud_agent CONTENT { name: $name, version: $version, \
                 secret_hash: $secret, enrolled_by: $by } RETURN id",
            )
            .bind(("name", name.to_string()))
            .bind(("version", version.to_string()))
            .bind(("secret", secret_hash.to_string()))
            .bind(("by", enrolment.created_by))
            .await?
            .take(0)?;
        match created {
            Some(row) => self.agent(&key_of(&row.id)).await,
            None => Err(StoreError::NotFound("Cloud Connect agent")),
        }
    }

    pub async fn agent(&self, id: &str) -> Result<Option<AgentRecord>, StoreError> {
        let row: Option<AgentRow> = self
            .db()
            .query(format!("SELECT {AGENT_FIELDS} FROM ONLY $id"))
            .bind(("id", agent_id(id)))
            .await?
            .take(0)?;
        Ok(row.map(AgentRecord::from))
    }

    pub async fn agent_by_secret(&self, hash: &str) -> Result<Option<AgentRecord>, StoreError> {
        let row: Option<AgentRow> = self
            .db()
            .query(format!(
                "SELECT {AGENT_FIELDS} FROM cloud_agent WHERE secret_hash = $hash LIMIT 1"
            ))
            .bind(("hash", hash.to_string()))
            .await?
            .take(0)?;
        Ok(row.map(AgentRecord::from))
    }

    pub async fn list_agents(&self) -> Result<Vec<AgentRecord>, StoreError> {
        let rows: Vec<AgentRow> = self
            .db()
            .query(format!(
                "SELECT {AGENT_FIELDS} FROM cloud_agent ORDER BY name, enrolled_at"
            ))
            .await?
            .take(0)?;
        Ok(rows.into_iter().map(AgentRecord::from).collect())
    }

    /// Notes that the agent is connected now, running `version`.
    pub async fn agent_seen(
        &self,
        id: &str,
        version: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.db()
            .query("UPDATE $id SET last_seen = $at, version = $version")
            .bind(("id", agent_id(id)))
            .bind(("at", at))
            .bind(("version", version.to_string()))
            .await?
            .check()?;
        Ok(())
    }

    /// Deletes the agent and its credential; false when there is no such agent. Data
    /// sources keep pointing at it, and fail saying so, until someone picks another.
    pub async fn delete_agent(&self, id: &str) -> Result<bool, StoreError> {
        let deleted: Vec<IdRow> = self
            .db()
            .query("DELETE $id RETURN BEFORE")
            .bind(("id", agent_id(id)))
            .await?
            .take(0)?;
        Ok(!deleted.is_empty())
    }

    /// Forgets enrolment tokens nobody used in time.
    pub async fn prune_enrolments(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.db()
            .query("DELETE cloud_enrolment WHERE expires_at <= $now")
            .bind(("now", now))
            .await?
            .check()?;
        Ok(())
    }
}

#[derive(SurrealValue)]
struct IdRow {
    id: RecordId,
}
