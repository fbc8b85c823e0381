//! Personal API tokens: the caller's own, listed, created (shown once) and revoked.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A token as its owner sees it in the list: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    /// The token's first characters (`trestle_pat_AbCd`), to tell tokens apart.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A new token and its secret, which is shown this once and never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedToken {
    pub token: ApiToken,
    pub secret: String,
}

#[cfg(feature = "ssr")]
use crate::api::guard::{respond, signed_in};

#[server(prefix = "/api", endpoint = "list_api_tokens", input = Json)]
pub async fn list_api_tokens() -> Result<Vec<ApiToken>, AppError> {
    respond(
        async {
            let (state, user) = signed_in().await?;
            crate::server::api_tokens::list(&state, &user).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "create_api_token", input = Json)]
pub async fn create_api_token(name: String) -> Result<IssuedToken, AppError> {
    respond(
        async {
            let (state, user) = signed_in().await?;
            crate::server::api_tokens::create(&state, &user, &name).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "revoke_api_token", input = Json)]
pub async fn revoke_api_token(id: String) -> Result<(), AppError> {
    respond(
        async {
            let (state, user) = signed_in().await?;
            crate::server::api_tokens::revoke(&state, &user, &id).await
        }
        .await,
    )
}
