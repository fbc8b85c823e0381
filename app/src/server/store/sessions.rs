//! Browser sessions, keyed by the hash of the cookie token.

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SurrealValue};

use super::people::{USER_FIELDS, UserRow};
use super::{Store, StoreError};
use crate::model::{SessionUser, User};

fn session_id(token_hash: &str) -> RecordId {
    RecordId::new("web_session", token_hash.to_string())
}

#[derive(SurrealValue)]
struct SessionRow {
    expires_at: DateTime<Utc>,
    user: UserRow,
}

/// A stored session and the person it belongs to, read in one query.
#[derive(Clone)]
pub struct SessionRecord {
    pub user: SessionUser,
    pub user_active: bool,
    pub expires_at: DateTime<Utc>,
}

impl Store {
    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.db()
            .query("CREATE web_session CONTENT { id: $id, user: $user, created_at: $now, expires_at: $expires }")
            .bind(("id", session_id(token_hash)))
            .bind(("user", RecordId::new("user", user_id.to_string())))
            .bind(("now", now))
            .bind(("expires", expires_at))
            .await?
            .check()?;
        Ok(())
    }

    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let recent = &self.recent.sessions;
        if let Some(record) = recent.get(token_hash) {
            return Ok(Some(record));
        }
        let ticket = recent.ticket();
        let row: Option<SessionRow> = self
            .db()
            .query(format!(
                "SELECT expires_at, user.{{ {USER_FIELDS} }} AS user FROM ONLY $id"
            ))
            .bind(("id", session_id(token_hash)))
            .await?
            .take(0)?;
        let record = row.map(|row| {
            let user = User::from(row.user);
            SessionRecord {
                user_active: user.active,
                expires_at: row.expires_at,
                user: user.into(),
            }
        });
        if let Some(record) = &record {
            recent.put(ticket, token_hash, record.clone());
        }
        Ok(record)
    }

    pub async fn extend_session(
        &self,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let _written = self.recent.sessions.writing();
        self.db()
            .query("UPDATE $id SET expires_at = $expires")
            .bind(("id", session_id(token_hash)))
            .bind(("expires", expires_at))
            .await?
            .check()?;
        Ok(())
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let _written = self.recent.sessions.writing();
        self.db()
            .query("DELETE $id")
            .bind(("id", session_id(token_hash)))
            .await?
            .check()?;
        Ok(())
    }

    /// Signs a person out everywhere (deactivation, password change or reset).
    pub async fn delete_user_sessions(&self, user_id: &str) -> Result<(), StoreError> {
        let _written = self.recent.sessions.writing();
        self.db()
            .query("DELETE web_session WHERE user = $user")
            .bind(("user", RecordId::new("user", user_id.to_string())))
            .await?
            .check()?;
        Ok(())
    }

    pub async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        let _written = self.recent.sessions.writing();
        self.db()
            .query("DELETE web_session WHERE expires_at <= $now")
            .bind(("now", now))
            .await?
            .check()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::model::{Role, UserDraft};

    const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";

    #[tokio::test]
    async fn sessions_round_trip_and_expire() {
        let store = Store::memory().await.unwrap();
        let ann = store
            .create_user(
                &UserDraft {
                    email: "ann@example.com".into(),
                    name: "Ann".into(),
                    roles: vec![Role::Designer],
                },
                HASH,
                false,
            )
            .await
            .unwrap();
        let now = Utc::now();
        store
            .create_session("hash-a", &ann.id, now, now + Duration::hours(1))
            .await
            .unwrap();
        store
            .create_session("hash-b", &ann.id, now, now + Duration::seconds(-1))
            .await
            .unwrap();

        let record = store.session("hash-a").await.unwrap().unwrap();
        assert_eq!(record.user.id, ann.id);
        assert_eq!(record.user.roles, vec![Role::Designer]);
        assert!(record.user_active);
        assert!(store.session("unknown").await.unwrap().is_none());

        store
            .extend_session("hash-a", now + Duration::hours(2))
            .await
            .unwrap();
        let extended = store.session("hash-a").await.unwrap().unwrap();
        assert!(extended.expires_at > record.expires_at);

        store.delete_expired_sessions(now).await.unwrap();
        assert!(store.session("hash-b").await.unwrap().is_none());
        assert!(store.session("hash-a").await.unwrap().is_some());

        // The session rows are kept for a moment: changes to the person show at once.
        store
            .update_user(
                &ann.id,
                &UserDraft {
                    email: "ann@example.com".into(),
                    name: "Ann".into(),
                    roles: vec![Role::Administrator],
                },
            )
            .await
            .unwrap();
        let promoted = store.session("hash-a").await.unwrap().unwrap();
        assert_eq!(promoted.user.roles, vec![Role::Administrator]);
        store.set_user_active(&ann.id, false).await.unwrap();
        assert!(!store.session("hash-a").await.unwrap().unwrap().user_active);

        store.delete_user_sessions(&ann.id).await.unwrap();
        assert!(store.session("hash-a").await.unwrap().is_none());
    }
}
