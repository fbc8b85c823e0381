//! Users and groups.

use chrono::{DateTime, Utc};
// `Value` must be in scope for `#[surreal(flatten)]`: the derive names it unqualified.
#[allow(unused_imports)]
use surrealdb::types::{Object, RecordId, SurrealValue, Value, object};

use super::{Store, StoreError, key_of, retrying, violates_assert, violates_unique};
use crate::model::{Group, GroupDraft, Role, User, UserDraft};

pub(super) const USER_FIELDS: &str =
    "id, email, name, roles, active, must_change_password, created_at, updated_at";

#[derive(SurrealValue)]
pub(super) struct UserRow {
    id: RecordId,
    email: String,
    name: String,
    roles: Vec<String>,
    active: bool,
    must_change_password: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        User {
            id: key_of(&row.id),
            email: row.email,
            name: row.name,
            // The schema asserts the role names, so an unknown one cannot be stored.
            roles: row
                .roles
                .iter()
                .filter_map(|r| r.parse::<Role>().ok())
                .collect(),
            active: row.active,
            must_change_password: row.must_change_password,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(SurrealValue)]
struct CredentialRow {
    #[surreal(flatten)]
    user: UserRow,
    password_hash: String,
}

/// What sign-in needs: the person and their password hash. Never sent to a browser.
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

#[derive(SurrealValue)]
struct GroupRow {
    id: RecordId,
    name: String,
    description: String,
    members: Vec<RecordId>,
    updated_at: DateTime<Utc>,
}

impl From<GroupRow> for Group {
    fn from(row: GroupRow) -> Self {
        Group {
            id: key_of(&row.id),
            name: row.name,
            description: row.description,
            member_ids: row.members.iter().map(key_of).collect(),
            updated_at: row.updated_at,
        }
    }
}

fn user_id(key: &str) -> RecordId {
    RecordId::new("user", key.to_string())
}

fn group_id(key: &str) -> RecordId {
    RecordId::new("user_group", key.to_string())
}

fn role_names(roles: &[Role]) -> Vec<String> {
    roles.iter().map(|r| r.as_str().to_string()).collect()
}

fn email_taken(err: surrealdb::Error) -> StoreError {
    if violates_unique(&err, "user_email") {
        StoreError::Conflict("Another person already uses this e-mail address.".into())
    } else if violates_assert(&err, "email") {
        // e.g. `a..b@example.com` or `a:b@example.com`, which `normalize_email` lets by.
        StoreError::Invalid {
            field: "email",
            message: "Enter a valid e-mail address.",
        }
    } else {
        err.into()
    }
}

fn group_name_taken(err: surrealdb::Error) -> StoreError {
    if violates_unique(&err, "user_group_name") {
        StoreError::Conflict("A group with this name already exists.".into())
    } else {
        err.into()
    }
}

impl Store {
    pub async fn count_users(&self) -> Result<u64, StoreError> {
        let count: Option<i64> = self
            .db()
            .query("SELECT count() AS n FROM user GROUP ALL")
            .await?
            .take((0, "n"))?;
        Ok(count.unwrap_or(0).max(0) as u64)
    }

    /// `draft` must already be validated.
    pub async fn create_user(
        &self,
        draft: &UserDraft,
        password_hash: &str,
        must_change_password: bool,
    ) -> Result<User, StoreError> {
        // Retried on a conflict: two servers starting at once may both create the first
        // administrator, and the loser must then see the address taken.
        let row: Option<UserRow> = retrying(|| async {
            self.db()
                .query(format!(
                    "CREATE ONLY user CONTENT {{ email: $email, name: $name, roles: $roles, \
                     password_hash: $hash, active: true, must_change_password: $must }} RETURN {USER_FIELDS}"
                ))
                .bind(("email", draft.email.clone()))
                .bind(("name", draft.name.clone()))
                .bind(("roles", role_names(&draft.roles)))
                .bind(("hash", password_hash.to_string()))
                .bind(("must", must_change_password))
                .await?
                .take(0)
        })
        .await
        .map_err(email_taken)?;
        row.map(User::from).ok_or(StoreError::NotFound("User"))
    }

    pub async fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = self
            .db()
            .query(format!("SELECT {USER_FIELDS} FROM ONLY $id"))
            .bind(("id", user_id(id)))
            .await?
            .take(0)?;
        Ok(row.map(User::from))
    }

    pub async fn credentials(&self, email: &str) -> Result<Option<Credentials>, StoreError> {
        let row: Option<CredentialRow> = self
            .db()
            .query(format!(
                "SELECT {USER_FIELDS}, password_hash FROM ONLY user WHERE email = $email LIMIT 1"
            ))
            .bind(("email", email.to_string()))
            .await?
            .take(0)?;
        Ok(row.map(|row| Credentials {
            user: row.user.into(),
            password_hash: row.password_hash,
        }))
    }

    pub async fn password_hash(&self, id: &str) -> Result<Option<String>, StoreError> {
        let hash: Option<String> = self
            .db()
            .query("SELECT VALUE password_hash FROM ONLY $id")
            .bind(("id", user_id(id)))
            .await?
            .take(0)?;
        Ok(hash)
    }

    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let rows: Vec<UserRow> = self
            .db()
            .query(format!(
                "SELECT {USER_FIELDS} FROM user ORDER BY name ASC, email ASC"
            ))
            .await?
            .take(0)?;
        Ok(rows.into_iter().map(User::from).collect())
    }

    /// Active users holding the administrator role, other than `except`.
    pub async fn count_other_active_admins(&self, except: &str) -> Result<u64, StoreError> {
        let count: Option<i64> = self
            .db()
            .query(
                "SELECT count() AS n FROM user WHERE active = true \
                 AND roles CONTAINS 'administrator' AND id != $id GROUP ALL",
            )
            .bind(("id", user_id(except)))
            .await?
            .take((0, "n"))?;
        Ok(count.unwrap_or(0).max(0) as u64)
    }

    pub async fn update_user(&self, id: &str, draft: &UserDraft) -> Result<User, StoreError> {
        self.merge_user(
            id,
            object! {
                email: draft.email.clone(),
                name: draft.name.clone(),
                roles: role_names(&draft.roles),
            },
        )
        .await
    }

    pub async fn set_user_active(&self, id: &str, active: bool) -> Result<User, StoreError> {
        self.merge_user(id, object! { active: active }).await
    }

    pub async fn set_password(
        &self,
        id: &str,
        password_hash: &str,
        must_change_password: bool,
    ) -> Result<(), StoreError> {
        self.merge_user(
            id,
            object! {
                password_hash: password_hash.to_string(),
                must_change_password: must_change_password,
            },
        )
        .await
        .map(|_| ())
    }

    /// Changes some fields of an existing user and stamps `updated_at`.
    async fn merge_user(&self, id: &str, mut changes: Object) -> Result<User, StoreError> {
        // Sessions carry the person's roles and state; data sources who last changed them.
        let _sessions = self.recent.sessions.writing();
        let _sources = self.recent.sources.writing();
        changes.insert("updated_at".to_string(), Utc::now().into_value());
        let row: Option<UserRow> = self
            .db()
            .query(format!(
                "UPDATE ONLY $id MERGE $changes RETURN {USER_FIELDS}"
            ))
            .bind(("id", user_id(id)))
            .bind(("changes", changes))
            .await?
            .take(0)
            .map_err(email_taken)?;
        row.map(User::from).ok_or(StoreError::NotFound("User"))
    }

    pub async fn list_groups(&self) -> Result<Vec<Group>, StoreError> {
        let rows: Vec<GroupRow> = self
            .db()
            .query("SELECT id, name, description, members, updated_at FROM user_group ORDER BY name_key ASC")
            .await?
            .take(0)?;
        Ok(rows.into_iter().map(Group::from).collect())
    }

    /// Keeps only members that exist, so a stale id from a browser cannot dangle.
    pub async fn create_group(&self, draft: &GroupDraft) -> Result<Group, StoreError> {
        let row: Option<GroupRow> = self
            .db()
            .query(
                "CREATE ONLY user_group CONTENT { name: $name, name_key: string::lowercase($name), \
                 description: $description, members: array::filter($members, |$m| record::exists($m)) } \
                 RETURN id, name, description, members, updated_at",
            )
            .bind(("name", draft.name.clone()))
            .bind(("description", draft.description.clone()))
            .bind(("members", draft.member_ids.iter().map(|k| user_id(k)).collect::<Vec<_>>()))
            .await?
            .take(0)
            .map_err(group_name_taken)?;
        row.map(Group::from).ok_or(StoreError::NotFound("Group"))
    }

    pub async fn update_group(&self, id: &str, draft: &GroupDraft) -> Result<Group, StoreError> {
        let row: Option<GroupRow> = self
            .db()
            .query(
                "UPDATE ONLY $id MERGE { name: $name, name_key: string::lowercase($name), \
                 description: $description, members: array::filter($members, |$m| record::exists($m)), \
                 updated_at: time::now() } RETURN id, name, description, members, updated_at",
            )
            .bind(("id", group_id(id)))
            .bind(("name", draft.name.clone()))
            .bind(("description", draft.description.clone()))
            .bind(("members", draft.member_ids.iter().map(|k| user_id(k)).collect::<Vec<_>>()))
            .await?
            .take(0)
            .map_err(group_name_taken)?;
        row.map(Group::from).ok_or(StoreError::NotFound("Group"))
    }

    pub async fn delete_group(&self, id: &str) -> Result<(), StoreError> {
        let deleted: Option<GroupRow> = self
            .db()
            .query("DELETE ONLY $id RETURN BEFORE")
            .bind(("id", group_id(id)))
            .await?
            .take(0)?;
        deleted.map(|_| ()).ok_or(StoreError::NotFound("Group"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(email: &str, name: &str, roles: &[Role]) -> UserDraft {
        UserDraft {
            email: email.into(),
            name: name.into(),
            roles: roles.to_vec(),
        }
    }

    const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";

    #[tokio::test]
    async fn users_round_trip() {
        let store = Store::memory().await.unwrap();
        assert_eq!(store.count_users().await.unwrap(), 0);
        let ann = store
            .create_user(
                &draft("ann@example.com", "Ann", &[Role::Designer, Role::User]),
                HASH,
                true,
            )
            .await
            .unwrap();
        assert_eq!(ann.email, "ann@example.com");
        assert_eq!(ann.roles, vec![Role::Designer, Role::User]);
        assert!(ann.active && ann.must_change_password);
        assert_eq!(store.count_users().await.unwrap(), 1);

        assert_eq!(store.user(&ann.id).await.unwrap().unwrap(), ann);
        let creds = store.credentials("ann@example.com").await.unwrap().unwrap();
        assert_eq!(creds.user.id, ann.id);
        assert_eq!(creds.password_hash, HASH);
        assert!(
            store
                .credentials("bob@example.com")
                .await
                .unwrap()
                .is_none()
        );

        let updated = store
            .update_user(
                &ann.id,
                &draft("ann@example.org", "Ann Lee", &[Role::Administrator]),
            )
            .await
            .unwrap();
        assert_eq!(updated.name, "Ann Lee");
        assert_eq!(updated.roles, vec![Role::Administrator]);
        assert_eq!(updated.created_at, ann.created_at);

        let inactive = store.set_user_active(&ann.id, false).await.unwrap();
        assert!(!inactive.active);
        assert!(store.user("missing1").await.unwrap().is_none());
        assert!(matches!(
            store.set_user_active("missing1", true).await,
            Err(StoreError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn emails_are_unique() {
        let store = Store::memory().await.unwrap();
        store
            .create_user(&draft("ann@example.com", "Ann", &[Role::User]), HASH, false)
            .await
            .unwrap();
        let err = store
            .create_user(
                &draft("ann@example.com", "Other Ann", &[Role::User]),
                HASH,
                false,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    }

    #[tokio::test]
    async fn addresses_only_the_schema_refuses_are_the_callers_mistake() {
        let store = Store::memory().await.unwrap();
        for email in ["x../../etc/passwd@example.com", "a:b@example.com"] {
            let draft = draft(email, "Ann", &[Role::User]).validated().unwrap();
            let err = store.create_user(&draft, HASH, false).await.unwrap_err();
            assert!(
                matches!(err, StoreError::Invalid { field: "email", .. }),
                "{email}: {err}"
            );
            assert_eq!(crate::error::AppError::from(err).status(), 422);
        }
    }

    #[tokio::test]
    async fn the_schema_refuses_what_validation_would() {
        let store = Store::memory().await.unwrap();
        let bad_email = store
            .create_user(
                &draft("Not-Lower@Example.com", "Ann", &[Role::User]),
                HASH,
                false,
            )
            .await;
        assert!(bad_email.is_err());
        let bad_hash = store
            .create_user(
                &draft("ann@example.com", "Ann", &[Role::User]),
                "plaintext",
                false,
            )
            .await;
        assert!(bad_hash.is_err());
        let no_role = store
            .create_user(&draft("ann@example.com", "Ann", &[]), HASH, false)
            .await;
        assert!(no_role.is_err());
    }

    #[tokio::test]
    async fn groups_round_trip_with_members() {
        let store = Store::memory().await.unwrap();
        let ann = store
            .create_user(&draft("ann@example.com", "Ann", &[Role::User]), HASH, false)
            .await
            .unwrap();
        let group = store
            .create_group(&GroupDraft {
                name: "Field crew".into(),
                description: "On site".into(),
                member_ids: vec![ann.id.clone(), "ghost".into()],
            })
            .await
            .unwrap();
        assert_eq!(group.member_ids, vec![ann.id.clone()]);

        let dup = store
            .create_group(&GroupDraft {
                name: "FIELD CREW".into(),
                description: String::new(),
                member_ids: vec![],
            })
            .await
            .unwrap_err();
        assert!(matches!(dup, StoreError::Conflict(_)));

        let renamed = store
            .update_group(
                &group.id,
                &GroupDraft {
                    name: "Office".into(),
                    description: String::new(),
                    member_ids: vec![],
                },
            )
            .await
            .unwrap();
        assert_eq!(renamed.name, "Office");
        assert!(renamed.member_ids.is_empty());
        assert_eq!(store.list_groups().await.unwrap(), vec![renamed]);

        store.delete_group(&group.id).await.unwrap();
        assert!(store.list_groups().await.unwrap().is_empty());
        assert!(matches!(
            store.delete_group(&group.id).await,
            Err(StoreError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn counts_other_active_administrators() {
        let store = Store::memory().await.unwrap();
        let a = store
            .create_user(
                &draft("a@example.com", "A", &[Role::Administrator]),
                HASH,
                false,
            )
            .await
            .unwrap();
        assert_eq!(store.count_other_active_admins(&a.id).await.unwrap(), 0);
        let b = store
            .create_user(
                &draft("b@example.com", "B", &[Role::Administrator]),
                HASH,
                false,
            )
            .await
            .unwrap();
        assert_eq!(store.count_other_active_admins(&a.id).await.unwrap(), 1);
        store.set_user_active(&b.id, false).await.unwrap();
        assert_eq!(store.count_other_active_admins(&a.id).await.unwrap(), 0);
    }
}
