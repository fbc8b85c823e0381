//! Failed sign-in counters, per e-mail address tried. Kept in the database so that
//! several servers behind one address share them.

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SurrealValue};

use super::{Store, StoreError};

fn throttle_id(email: &str) -> RecordId {
    RecordId::new("sign_in_throttle", email.to_string())
}

#[derive(Debug, Clone, PartialEq, SurrealValue)]
pub struct Throttle {
    pub failures: i64,
    pub last_failure_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
}

impl Store {
    pub async fn throttle(&self, email: &str) -> Result<Option<Throttle>, StoreError> {
        let row: Option<Throttle> = self
            .db()
            .query("SELECT failures, last_failure_at, locked_until FROM ONLY $id")
            .bind(("id", throttle_id(email)))
            .await?
            .take(0)?;
        Ok(row)
    }

    pub async fn save_throttle(&self, email: &str, throttle: Throttle) -> Result<(), StoreError> {
        self.db()
            .query("UPSERT $id CONTENT $throttle")
            .bind(("id", throttle_id(email)))
            .bind(("throttle", throttle))
            .await?
            .check()?;
        Ok(())
    }

    pub async fn clear_throttle(&self, email: &str) -> Result<(), StoreError> {
        self.db()
            .query("DELETE $id")
            .bind(("id", throttle_id(email)))
            .await?
            .check()?;
        Ok(())
    }
}
