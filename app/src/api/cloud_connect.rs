//! Cloud Connect agents for administrators (enrolment tokens, the agent list, revoking),
//! and the Connectors list the data source drawer offers.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// An agent as administrators see it. Its secret never leaves the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub id: String,
    /// The machine it runs on, as the agent reported it when it enrolled.
    pub name: String,
    /// The agent's version, from its latest connection.
    pub version: String,
    /// Connected to this server now.
    pub online: bool,
    /// When it was last connected (now, if online); `None` if it never connected.
    pub last_seen: Option<DateTime<Utc>>,
    pub enrolled_at: DateTime<Utc>,
    /// Names of the data sources whose traffic it carries, sorted.
    pub data_sources: Vec<String>,
}

/// An agent as the data source drawer offers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connector {
    pub id: String,
    pub name: String,
    pub online: bool,
    pub last_seen: Option<DateTime<Utc>>,
}

/// A new enrolment token, shown this once: only its hash is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedEnrolment {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    /// The command that starts an agent with this token, for copying.
    pub command: String,
}

#[cfg(feature = "ssr")]
use crate::api::guard::{require, respond};
#[cfg(feature = "ssr")]
use crate::model::Role;

#[server(prefix = "/api", endpoint = "list_agents", input = Json)]
pub async fn list_agents() -> Result<Vec<Agent>, AppError> {
    respond(
        async {
            let (state, _) = require(Role::Administrator).await?;
            crate::server::cloud_connect::list_agents(&state).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "create_enrolment", input = Json)]
pub async fn create_enrolment() -> Result<IssuedEnrolment, AppError> {
    respond(
        async {
            let (state, user) = require(Role::Administrator).await?;
            crate::server::cloud_connect::create_enrolment(&state, &user).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "revoke_agent", input = Json)]
pub async fn revoke_agent(id: String) -> Result<(), AppError> {
    respond(
        async {
            let (state, user) = require(Role::Administrator).await?;
            crate::server::cloud_connect::revoke_agent(&state, &user, &id).await
        }
        .await,
    )
}

/// The agents a data source may use; for whoever manages data sources.
#[server(prefix = "/api", endpoint = "list_connectors", input = Json)]
pub async fn list_connectors() -> Result<Vec<Connector>, AppError> {
    respond(
        async {
            let (state, _) = require(Role::DataSourceManager).await?;
            crate::server::cloud_connect::connectors(&state).await
        }
        .await,
    )
}
