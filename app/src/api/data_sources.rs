//! Administration > Data sources: the grid, the Procore details drawer, connection tests,
//! security and the call log. Every function checks on the server who may do what
//! (product.md §1 and the data source's own Security lists); tokens never leave it.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::data_source::{
    CallLogEntry, Change, DataSource, DataSourceDraft, DataSourceRow, Principal, Saved,
    SecurityDraft, StepResult, TestStep,
};
use crate::error::AppError;

/// Every data source, for the grid. Administrators and data source managers.
#[server(prefix = "/api", endpoint = "list_data_sources")]
pub async fn list_data_sources() -> Result<Vec<DataSourceRow>, AppError> {
    use crate::server::data_sources as imp;
    crate::api::guard::respond(imp::list().await)
}

/// One data source with what the caller may do with it.
#[server(prefix = "/api", endpoint = "get_data_source", input = Json)]
pub async fn get_data_source(id: String) -> Result<DataSource, AppError> {
    use crate::server::data_sources as imp;
    crate::api::guard::respond(imp::get(&id).await)
}

/// Creates (`id: None`) or updates a data source; saving works even when incomplete.
/// Changing the environment of an authorized data source clears its authorization, and
/// the returned notice says so.
#[server(prefix = "/api", endpoint = "save_data_source", input = Json)]
pub async fn save_data_source(
    id: Option<String>,
    draft: DataSourceDraft,
) -> Result<Saved, AppError> {
    use crate::server::data_sources as imp;
    crate::api::guard::respond(imp::save(id, draft).await)
}

/// Deletes a data source after revoking its Procore tokens.
#[server(prefix = "/api", endpoint = "delete_data_source", input = Json)]
pub async fn delete_data_source(id: String) -> Result<(), AppError> {
    use crate::server::data_sources as imp;
    crate::api::guard::respond(imp::delete(&id).await)
}

/// Runs one step of the connection test. The drawer calls the steps in order, so each
/// shows as it passes; a failing step (or the last one passing) updates the status.
#[server(prefix = "/api", endpoint = "test_connection_step", input = Json)]
pub async fn test_connection_step(id: String, step: TestStep) -> Result<StepResult, AppError> {
    use crate::server::data_sources as imp;
    crate::api::guard::respond(imp::test_step(&id, step).await)
}

/// Users and groups that can go into the Security lists.
#[server(prefix = "/api", endpoint = "security_candidates")]
pub async fn security_candidates() -> Result<Vec<Principal>, AppError> {
    use crate::server::data_sources as imp;
    crate::api::guard::respond(imp::security_candidates().await)
}

#[server(prefix = "/api", endpoint = "save_security", input = Json)]
pub async fn save_security(id: String, security: SecurityDraft) -> Result<DataSource, AppError> {
    use crate::server::data_sources as imp;
    crate::api::guard::respond(imp::save_security(&id, security).await)
}

/// The data source's Procore calls of the last hour, newest first (its administrators).
#[server(prefix = "/api", endpoint = "call_log", input = Json)]
pub async fn call_log(id: String) -> Result<Vec<CallLogEntry>, AppError> {
    use crate::server::data_sources as imp;
    crate::api::guard::respond(imp::call_log(&id).await)
}

/// Who changed what, newest first (its administrators).
#[server(prefix = "/api", endpoint = "data_source_history", input = Json)]
pub async fn data_source_history(id: String) -> Result<Vec<Change>, AppError> {
    use crate::server::data_sources as imp;
    crate::api::guard::respond(imp::history(&id).await)
}
