//! Personal API tokens: stored as hashes, never as the token itself.

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SurrealValue};

use super::people::{USER_FIELDS, UserRow};
use super::{Store, StoreError, key_of, violates_unique};
use crate::api::api_tokens::ApiToken;
use crate::model::User;

fn token_id(key: &str) -> RecordId {
    RecordId::new("api_token", key.to_string())
}

fn user_id(key: &str) -> RecordId {
    RecordId::new("user", key.to_string())
}

const TOKEN_FIELDS: &str = "id, name, prefix, created_at, last_used_at";

#[derive(SurrealValue)]
struct TokenRow {
    id: RecordId,
    name: String,
    prefix: String,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
}

impl From<TokenRow> for ApiToken {
    fn from(row: TokenRow) -> Self {
        ApiToken {
            id: key_of(&row.id),
            name: row.name,
            prefix: row.prefix,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
        }
    }
}

#[derive(SurrealValue)]
struct BearerRow {
    id: RecordId,
    last_used_at: Option<DateTime<Utc>>,
    owner: UserRow,
}

/// A stored token found by its hash, with the person it acts for (as they are now).
pub struct TokenOwner {
    pub token_id: String,
    pub last_used_at: Option<DateTime<Utc>>,
    pub owner: User,
}

impl Store {
    /// The tokens of one person, newest first.
    pub async fn list_api_tokens(&self, owner: &str) -> Result<Vec<ApiToken>, StoreError> {
        let rows: Vec<TokenRow> = self
            .db()
            .query(format!(
                "SELECT {TOKEN_FIELDS} FROM api_token WHERE owner = $owner ORDER BY created_at DESC"
            ))
            .bind(("owner", user_id(owner)))
            .await?
            .take(0)?;
        Ok(rows.into_iter().map(ApiToken::from).collect())
    }

    /// Stores a new token by its hash; `prefix` is the part its owner sees again later.
    pub async fn create_api_token(
        &self,
        owner: &str,
        name: &str,
        hash: &str,
        prefix: &str,
    ) -> Result<ApiToken, StoreError> {
        let row: Option<TokenRow> = self
            .db()
            .query(format!(
                "CREATE ONLY api_token CONTENT {{ owner: $owner, name: $name, hash: $hash, \
                 prefix: $prefix }} RETURN {TOKEN_FIELDS}"
            ))
            .bind(("owner", user_id(owner)))
            .bind(("name", name.to_string()))
            .bind(("hash", hash.to_string()))
            .bind(("prefix", prefix.to_string()))
            .await?
            .take(0)
            .map_err(|err| {
                // 256 random bits do not collide; a duplicate is a bug, not a person's mistake.
                if violates_unique(&err, "api_token_hash") {
                    StoreError::Conflict("That token already exists.".into())
                } else {
                    err.into()
                }
            })?;
        row.map(ApiToken::from)
            .ok_or(StoreError::NotFound("API token"))
    }

    /// Deletes one of `owner`'s tokens; false when they have no token with this id.
    pub async fn delete_api_token(&self, owner: &str, id: &str) -> Result<bool, StoreError> {
        let deleted: Option<bool> = self
            .db()
            .query(
                "LET $found = SELECT VALUE id FROM $id WHERE owner = $owner; \
                 DELETE $found; \
                 RETURN array::len($found) > 0;",
            )
            .bind(("id", token_id(id)))
            .bind(("owner", user_id(owner)))
            .await?
            .take(2)?;
        Ok(deleted.unwrap_or(false))
    }

    /// The token with this hash and its owner, read in one query.
    pub async fn api_token_by_hash(&self, hash: &str) -> Result<Option<TokenOwner>, StoreError> {
        let row: Option<BearerRow> = self
            .db()
            .query(format!(
                "SELECT id, last_used_at, owner.{{ {USER_FIELDS} }} AS owner \
                 FROM ONLY api_token WHERE hash = $hash LIMIT 1"
            ))
            .bind(("hash", hash.to_string()))
            .await?
            .take(0)?;
        Ok(row.map(|row| TokenOwner {
            token_id: key_of(&row.id),
            last_used_at: row.last_used_at,
            owner: row.owner.into(),
        }))
    }

    pub async fn touch_api_token(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.db()
            .query("UPDATE $id SET last_used_at = $at")
            .bind(("id", token_id(id)))
            .bind(("at", at))
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

    const PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";
    const HASH_A: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const HASH_B: &str = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

    async fn person(store: &Store, email: &str) -> String {
        let draft = UserDraft {
            email: email.into(),
            name: email.into(),
            roles: vec![Role::User],
        };
        store
            .create_user(&draft, PASSWORD_HASH, false)
            .await
            .unwrap()
            .id
    }

    #[tokio::test]
    async fn tokens_are_found_by_hash_and_revoked_by_their_owner_only() {
        let store = Store::memory().await.unwrap();
        let ann = person(&store, "ann@example.com").await;
        let bob = person(&store, "bob@example.com").await;
        let token = store
            .create_api_token(&ann, "CI", HASH_A, "trestle_pat_AAAA")
            .await
            .unwrap();
        assert_eq!(token.name, "CI");
        assert_eq!(token.last_used_at, None);
        assert!(
            store
                .create_api_token(&bob, "copy", HASH_A, "trestle_pat_AAAA")
                .await
                .is_err(),
            "hashes are unique"
        );

        let found = store.api_token_by_hash(HASH_A).await.unwrap().unwrap();
        assert_eq!(found.token_id, token.id);
        assert_eq!(found.owner.id, ann);
        assert!(found.owner.active);
        assert!(store.api_token_by_hash(HASH_B).await.unwrap().is_none());

        let now = Utc::now();
        store.touch_api_token(&token.id, now).await.unwrap();
        let listed = store.list_api_tokens(&ann).await.unwrap();
        assert_eq!(listed.len(), 1);
        let used = listed[0].last_used_at.unwrap();
        assert!((used - now).abs() < Duration::seconds(1));
        assert!(store.list_api_tokens(&bob).await.unwrap().is_empty());

        assert!(!store.delete_api_token(&bob, &token.id).await.unwrap());
        assert!(store.api_token_by_hash(HASH_A).await.unwrap().is_some());
        assert!(store.delete_api_token(&ann, &token.id).await.unwrap());
        assert!(store.api_token_by_hash(HASH_A).await.unwrap().is_none());
        assert!(!store.delete_api_token(&ann, &token.id).await.unwrap());
    }
}
