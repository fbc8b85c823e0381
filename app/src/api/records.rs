//! Procore records for the data explorer: list, read, create, update and delete through a
//! data source the caller may use. The same checks serve the REST API and data rules.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde_json::Value;

use crate::error::AppError;
use crate::record::{Attributes, RecordPage, RecordQuery, RecordScope};

#[cfg(feature = "ssr")]
use crate::api::guard::{respond, signed_in};

#[server(prefix = "/api", endpoint = "list_records", input = Json)]
pub async fn list_records(scope: RecordScope, query: RecordQuery) -> Result<RecordPage, AppError> {
    respond(
        async {
            let (state, user) = signed_in().await?;
            crate::server::records::list(&state, &user, &scope, &query).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "get_record", input = Json)]
pub async fn get_record(scope: RecordScope, id: u64) -> Result<Value, AppError> {
    respond(
        async {
            let (state, user) = signed_in().await?;
            crate::server::records::get(&state, &user, &scope, id).await
        }
        .await,
    )
}

/// Attributes are keyed by write key; text is turned into each field's type.
#[server(prefix = "/api", endpoint = "create_record", input = Json)]
pub async fn create_record(scope: RecordScope, attributes: Attributes) -> Result<Value, AppError> {
    respond(
        async {
            let (state, user) = signed_in().await?;
            crate::server::records::create(&state, &user, &scope, attributes).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "update_record", input = Json)]
pub async fn update_record(
    scope: RecordScope,
    id: u64,
    attributes: Attributes,
) -> Result<Value, AppError> {
    respond(
        async {
            let (state, user) = signed_in().await?;
            crate::server::records::update(&state, &user, &scope, id, attributes).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "delete_record", input = Json)]
pub async fn delete_record(scope: RecordScope, id: u64) -> Result<(), AppError> {
    respond(
        async {
            let (state, user) = signed_in().await?;
            crate::server::records::delete(&state, &user, &scope, id).await
        }
        .await,
    )
}
