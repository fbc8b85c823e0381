//! The data source operations behind the server functions in [`crate::api::data_sources`],
//! and the rights they check: administrators may do anything; data source managers may
//! see every data source and edit those whose connection administrators include them
//! (directly or through a group). Nothing here ever returns a token.

use chrono::{Duration, Utc};
use procore::connection::{Cause, Passed, Step};

use super::AppState;
use super::store::SourceRecord;
use crate::api::guard::require;
use crate::data_source::{
    Authorization, CallLogEntry, Change, DataSource, DataSourceDraft, DataSourceRow, Principal,
    PrincipalKind, Saved, SecurityDraft, Status, StepResult, TestStep, ValidDraft,
};
use crate::error::AppError;
use crate::model::{Role, SessionUser, is_record_key};

fn check_key(id: &str) -> Result<(), AppError> {
    if is_record_key(id) {
        Ok(())
    } else {
        Err(AppError::NotFound("Data source".into()))
    }
}

async fn manager() -> Result<(AppState, SessionUser), AppError> {
    require(Role::DataSourceManager).await
}

async fn load(state: &AppState, id: &str) -> Result<SourceRecord, AppError> {
    check_key(id)?;
    state
        .store
        .data_source(id)
        .await?
        .ok_or_else(|| AppError::NotFound("Data source".into()))
}

/// Whether `user` may change `source` (product.md §1 and the Security dialog).
pub async fn may_edit(
    state: &AppState,
    user: &SessionUser,
    source: &SourceRecord,
) -> Result<bool, AppError> {
    if user.is_admin() {
        return Ok(true);
    }
    let groups = state.store.groups_of(&user.id).await?;
    Ok(administers(user, &groups, source))
}

/// [`may_edit`] with the person's groups already known.
pub(crate) fn administers(user: &SessionUser, groups: &[String], source: &SourceRecord) -> bool {
    user.is_admin()
        || (user.has_role(Role::DataSourceManager)
            && source.admins.iter().any(|(kind, id)| match kind {
                PrincipalKind::User => *id == user.id,
                PrincipalKind::Group => groups.contains(id),
            }))
}

/// The data source and its editor, or 403 for someone who may only look.
async fn editable(id: &str) -> Result<(AppState, SessionUser, SourceRecord), AppError> {
    let (state, user) = manager().await?;
    let source = load(&state, id).await?;
    if !may_edit(&state, &user, &source).await? {
        return Err(AppError::Forbidden);
    }
    Ok((state, user, source))
}

async fn view(
    state: &AppState,
    user: &SessionUser,
    source: SourceRecord,
) -> Result<DataSource, AppError> {
    let can_edit = may_edit(state, user, &source).await?;
    let names = state.store.principals().await?;
    let named = |list: &[(PrincipalKind, String)]| -> Vec<Principal> {
        list.iter()
            .map(|(kind, id)| Principal {
                kind: *kind,
                id: id.clone(),
                name: names
                    .iter()
                    .find(|p| p.kind == *kind && p.id == *id)
                    .map_or_else(|| "(removed)".to_string(), |p| p.name.clone()),
            })
            .collect()
    };
    Ok(DataSource {
        admins: named(&source.admins),
        users: named(&source.users),
        id: source.id,
        name: source.name,
        company_id: source.company_id,
        environment: source.environment,
        cloud_connect: source.cloud_connect,
        connector: source.connector,
        status: source.status,
        status_reason: source.status_reason,
        authorization: source.authorization,
        updated_at: source.updated_at,
        updated_by: source.updated_by,
        can_edit,
    })
}

pub async fn list() -> Result<Vec<DataSourceRow>, AppError> {
    let (state, user) = manager().await?;
    let groups = state.store.groups_of(&user.id).await?;
    Ok(state
        .store
        .list_data_sources()
        .await?
        .into_iter()
        .map(|source| DataSourceRow {
            can_edit: administers(&user, &groups, &source),
            id: source.id,
            name: source.name,
            kind: source.kind,
            status: source.status,
            updated_at: source.updated_at,
            updated_by: source.updated_by,
        })
        .collect())
}

pub async fn get(id: &str) -> Result<DataSource, AppError> {
    let (state, user) = manager().await?;
    let source = load(&state, id).await?;
    view(&state, &user, source).await
}

/// What changed, in words for the history.
fn describe_changes(old: &SourceRecord, new: &ValidDraft) -> Vec<String> {
    let mut changes = Vec::new();
    if old.name != new.name {
        changes.push(format!("Renamed from “{}” to “{}”", old.name, new.name));
    }
    if old.company_id != new.company_id {
        changes.push(match new.company_id {
            Some(id) => format!("Company id set to {id}"),
            None => "Company id cleared".to_string(),
        });
    }
    if old.environment != new.environment {
        changes.push(format!(
            "Environment changed from {} to {}",
            old.environment.label(),
            new.environment.label()
        ));
    }
    if old.cloud_connect != new.cloud_connect {
        changes.push(format!(
            "Cloud Connect turned {}",
            if new.cloud_connect { "on" } else { "off" }
        ));
    }
    if old.connector != new.connector && new.cloud_connect {
        changes.push("Connector changed".to_string());
    }
    changes
}

pub async fn save(id: Option<String>, draft: DataSourceDraft) -> Result<Saved, AppError> {
    let draft = draft.validated()?;
    let Some(id) = id else {
        let (state, user) = manager().await?;
        // A manager who creates a data source administers it; administrators need no entry.
        let admins = if user.is_admin() {
            Vec::new()
        } else {
            vec![(PrincipalKind::User, user.id.clone())]
        };
        let source = state
            .store
            .create_data_source(&draft, &user.id, &admins)
            .await?;
        state
            .store
            .record_change(&source.id, Some(&user.id), "Created")
            .await?;
        tracing::info!(data_source = %source.id, "data source created");
        return Ok(Saved {
            data_source: view(&state, &user, source).await?,
            notice: None,
        });
    };
    let (state, user, old) = editable(&id).await?;
    let changes = describe_changes(&old, &draft);
    let environment_changed = old.environment != draft.environment;
    let company_changed = old.company_id != draft.company_id;
    let mut notice = None;
    if environment_changed && old.authorization.is_some() {
        // Tokens never cross environments: the old ones go, at Procore too.
        state.procore.revoke(&old).await?;
        notice = Some(format!(
            "Changing the environment cleared the authorization: authorize again for {}.",
            draft.environment.label()
        ));
    }
    let mut source = state
        .store
        .update_data_source(&id, &draft, &user.id, environment_changed)
        .await?;
    if company_changed && !environment_changed && old.status != Status::Incomplete {
        // The last test was about another company.
        state
            .store
            .set_status(&id, Status::Incomplete, None)
            .await?;
        source.status = Status::Incomplete;
        source.status_reason = None;
    }
    if environment_changed || company_changed {
        state.procore.forget(&id);
    }
    if !changes.is_empty() {
        let mut summary = changes.join("; ");
        if notice.is_some() {
            summary.push_str(" (authorization cleared)");
        }
        state
            .store
            .record_change(&id, Some(&user.id), &summary)
            .await?;
    }
    Ok(Saved {
        data_source: view(&state, &user, source).await?,
        notice,
    })
}

pub async fn delete(id: &str) -> Result<(), AppError> {
    let (state, _user, source) = editable(id).await?;
    state.procore.revoke(&source).await?;
    state.store.delete_data_source(id).await?;
    tracing::info!(data_source = %id, "data source deleted");
    Ok(())
}

fn procore_step(step: TestStep) -> Step {
    match step {
        TestStep::Token => Step::Token,
        TestStep::Company => Step::Company,
        TestStep::AppInstalled => Step::AppInstalled,
    }
}

pub async fn test_step(id: &str, step: TestStep) -> Result<StepResult, AppError> {
    let (state, _user, source) = editable(id).await?;
    let failed = |cause: Cause| {
        let status = if cause == Cause::NotAuthorized {
            Status::Incomplete
        } else {
            Status::TestFailed
        };
        (status, cause.message())
    };
    let outcome = match source.company_id {
        None => Err(failed(Cause::Other {
            message: "Enter the Procore company id first.".into(),
        })),
        Some(_) => {
            let client = state.procore.client(&source)?;
            client.check(procore_step(step)).await.map_err(failed)
        }
    };
    let mut authorization = source.authorization.clone();
    let status = match outcome {
        Err((status, reason)) => {
            state.store.set_status(id, status, Some(&reason)).await?;
            return Ok(StepResult {
                step,
                failure: Some(reason),
                status,
                authorization,
            });
        }
        Ok(Passed::Token(identity)) => {
            // Procore may have renamed the person since the authorization.
            if let Some(current) = &mut authorization
                && (current.name != identity.name || current.login != identity.login)
            {
                current.name = identity.name;
                current.login = identity.login;
                state
                    .store
                    .set_authorization(id, Some(current), None)
                    .await?;
            }
            source.status
        }
        Ok(Passed::Company { .. }) => source.status,
        Ok(Passed::AppInstalled) => {
            state.store.set_status(id, Status::Ready, None).await?;
            Status::Ready
        }
    };
    Ok(StepResult {
        step,
        failure: None,
        status,
        authorization,
    })
}

pub async fn security_candidates() -> Result<Vec<Principal>, AppError> {
    let (state, _) = manager().await?;
    Ok(state.store.principals().await?)
}

pub async fn save_security(id: &str, security: SecurityDraft) -> Result<DataSource, AppError> {
    let security = security.validated()?;
    let (state, user, _) = editable(id).await?;
    let known = state.store.principals().await?;
    let describe = |list: &[(PrincipalKind, String)], empty: &str| -> Result<String, AppError> {
        if list.is_empty() {
            return Ok(empty.to_string());
        }
        list.iter()
            .map(|(kind, key)| {
                known
                    .iter()
                    .find(|p| p.kind == *kind && p.id == *key)
                    .map(|p| p.name.clone())
                    .ok_or_else(|| {
                        AppError::invalid("security", "A chosen user or group no longer exists.")
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|names| names.join(", "))
    };
    let summary = format!(
        "Security: administrators {}; users {}",
        describe(&security.admins, "all administrators")?,
        describe(&security.users, "every signed-in user")?
    );
    state
        .store
        .set_security(id, &security.admins, &security.users, &user.id)
        .await?;
    state
        .store
        .record_change(id, Some(&user.id), &summary)
        .await?;
    let source = load(&state, id).await?;
    view(&state, &user, source).await
}

pub async fn call_log(id: &str) -> Result<Vec<CallLogEntry>, AppError> {
    let (state, _, _) = editable(id).await?;
    Ok(state
        .store
        .calls_since(id, Utc::now() - Duration::hours(1))
        .await?)
}

pub async fn history(id: &str) -> Result<Vec<Change>, AppError> {
    let (state, _, _) = editable(id).await?;
    Ok(state.store.changes(id).await?)
}

/// After a successful code exchange: ask Procore who authorized, and remember it.
pub async fn finish_authorization(
    state: &AppState,
    source: &SourceRecord,
    user_id: &str,
) -> Result<Authorization, AppError> {
    let client = state.procore.client(source)?;
    let identity = match client.check(Step::Token).await {
        Ok(Passed::Token(identity)) => identity,
        Ok(_) => return Err(AppError::Internal),
        Err(cause) => return Err(AppError::Conflict(cause.message())),
    };
    let authorization = Authorization {
        procore_user_id: identity.id,
        login: identity.login,
        name: identity.name,
        at: Utc::now(),
    };
    state
        .store
        .set_authorization(&source.id, Some(&authorization), Some(user_id))
        .await?;
    state
        .store
        .record_change(
            &source.id,
            Some(user_id),
            &format!("Authorized as {}", authorization.describe()),
        )
        .await?;
    Ok(authorization)
}
