//! Administration > Users & groups. Administrators only.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::{Group, GroupDraft, User, UserDraft};

/// A person together with the one-time password to hand them (shown once, never stored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssuedPassword {
    pub user: User,
    pub one_time_password: String,
}

#[cfg(feature = "ssr")]
mod imp {
    use crate::error::AppError;
    use crate::model::Role;
    use crate::server::AppState;
    use crate::server::crypto::one_time_password;
    use crate::server::password;

    pub use crate::api::guard::{require, respond};

    pub async fn admin() -> Result<AppState, AppError> {
        Ok(require(Role::Administrator).await?.0)
    }

    pub fn key(field: &str, id: &str) -> Result<(), AppError> {
        if crate::model::is_record_key(id) {
            Ok(())
        } else {
            Err(AppError::invalid(field, "That id is not valid."))
        }
    }

    /// Refuses a change that would leave nobody able to administer Trestle.
    pub async fn keep_an_admin(state: &AppState, id: &str) -> Result<(), AppError> {
        if state.store.count_other_active_admins(id).await? == 0 {
            return Err(AppError::Conflict(
                "This is the last active administrator; make someone else an administrator first."
                    .into(),
            ));
        }
        Ok(())
    }

    pub async fn new_password() -> Result<(String, String), AppError> {
        let plain = one_time_password();
        let hash = password::hash(plain.clone()).await?;
        Ok((plain, hash))
    }
}

#[server(prefix = "/api", endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<User>, AppError> {
    use imp::*;
    respond(async { Ok(admin().await?.store.list_users().await?) }.await)
}

#[server(prefix = "/api", endpoint = "create_user", input = Json)]
pub async fn create_user(draft: UserDraft) -> Result<IssuedPassword, AppError> {
    use imp::*;
    respond(
        async {
            let state = admin().await?;
            let draft = draft.validated()?;
            let (plain, hash) = new_password().await?;
            let user = state.store.create_user(&draft, &hash, true).await?;
            tracing::info!(user = %user.id, "user created");
            Ok(IssuedPassword {
                user,
                one_time_password: plain,
            })
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "update_user", input = Json)]
pub async fn update_user(id: String, draft: UserDraft) -> Result<User, AppError> {
    use crate::model::Role;
    use imp::*;
    respond(
        async {
            let state = admin().await?;
            key("id", &id)?;
            let draft = draft.validated()?;
            let existing = state
                .store
                .user(&id)
                .await?
                .ok_or(AppError::NotFound("User".into()))?;
            if existing.roles.contains(&Role::Administrator)
                && !draft.roles.contains(&Role::Administrator)
            {
                keep_an_admin(&state, &id).await?;
            }
            let user = state.store.update_user(&id, &draft).await?;
            tracing::info!(user = %user.id, "user updated");
            Ok(user)
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "set_user_active", input = Json)]
pub async fn set_user_active(id: String, active: bool) -> Result<User, AppError> {
    use crate::model::Role;
    use imp::*;
    respond(
        async {
            let (state, me) = require(Role::Administrator).await?;
            key("id", &id)?;
            if !active {
                if id == me.id {
                    return Err(AppError::Conflict("You cannot deactivate yourself.".into()));
                }
                keep_an_admin(&state, &id).await?;
            }
            let user = state.store.set_user_active(&id, active).await?;
            if !active {
                state.store.delete_user_sessions(&id).await?;
            }
            tracing::info!(user = %user.id, active, "user activation changed");
            Ok(user)
        }
        .await,
    )
}

/// Replaces the password with a one-time one and signs the person out everywhere.
#[server(prefix = "/api", endpoint = "reset_password", input = Json)]
pub async fn reset_password(id: String) -> Result<IssuedPassword, AppError> {
    use imp::*;
    respond(
        async {
            let state = admin().await?;
            key("id", &id)?;
            let user = state
                .store
                .user(&id)
                .await?
                .ok_or(AppError::NotFound("User".into()))?;
            let (plain, hash) = new_password().await?;
            state.store.set_password(&id, &hash, true).await?;
            state.store.delete_user_sessions(&id).await?;
            tracing::info!(user = %id, "password reset");
            Ok(IssuedPassword {
                user: User {
                    must_change_password: true,
                    ..user
                },
                one_time_password: plain,
            })
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "list_groups")]
pub async fn list_groups() -> Result<Vec<Group>, AppError> {
    use imp::*;
    respond(async { Ok(admin().await?.store.list_groups().await?) }.await)
}

#[server(prefix = "/api", endpoint = "save_group", input = Json)]
pub async fn save_group(id: Option<String>, draft: GroupDraft) -> Result<Group, AppError> {
    use imp::*;
    respond(
        async {
            let state = admin().await?;
            let draft = draft.validated()?;
            let group = match id {
                Some(id) => {
                    key("id", &id)?;
                    state.store.update_group(&id, &draft).await?
                }
                None => state.store.create_group(&draft).await?,
            };
            tracing::info!(group = %group.id, "group saved");
            Ok(group)
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "delete_group", input = Json)]
pub async fn delete_group(id: String) -> Result<(), AppError> {
    use imp::*;
    respond(
        async {
            let state = admin().await?;
            key("id", &id)?;
            state.store.delete_group(&id).await?;
            tracing::info!(group = %id, "group deleted");
            Ok(())
        }
        .await,
    )
}
