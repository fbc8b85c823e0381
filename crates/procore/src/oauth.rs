//! The OAuth 2.0 authorization-code flow against an environment's login host
//! (procore-api.md §1.2–§1.6), with the `oauth2` crate over our [`Transport`].

use std::sync::Arc;

use futures::future::BoxFuture;
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    RedirectUrl, RefreshToken, RequestTokenError, TokenResponse, TokenUrl,
};
use serde::Deserialize;
use url::Url;

use crate::env::endpoint;
use crate::transport::{HttpRequest, Transport, TransportError};
use crate::{Error, Secret, TokenSet, unix_now};

/// The app as registered with Procore for one environment's credential pair.
#[derive(Debug, Clone)]
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: Secret,
    pub redirect_uri: Url,
}

type Configured =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// Authorizes, exchanges, refreshes and revokes for one environment's login host.
#[derive(Clone)]
pub struct Authorizer {
    login: Url,
    client_id: String,
    client_secret: Secret,
    client: Configured,
    transport: Arc<dyn Transport>,
}

/// What `/oauth/token/info` says about a token.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenInfo {
    pub resource_owner_id: Option<u64>,
    pub expires_in_seconds: Option<i64>,
    pub created_at: Option<i64>,
}

impl Authorizer {
    pub fn new(login: &Url, app: &OAuthApp, transport: Arc<dyn Transport>) -> Result<Self, Error> {
        let url = |path: &str| endpoint(login, path).to_string();
        let bad = |what: &str| Error::Protocol(format!("the {what} URL is not valid"));
        let client = BasicClient::new(ClientId::new(app.client_id.clone()))
            .set_client_secret(ClientSecret::new(app.client_secret.expose().to_string()))
            .set_auth_uri(AuthUrl::new(url("/oauth/authorize")).map_err(|_| bad("authorize"))?)
            .set_token_uri(TokenUrl::new(url("/oauth/token")).map_err(|_| bad("token"))?)
            .set_redirect_uri(
                RedirectUrl::new(app.redirect_uri.to_string()).map_err(|_| bad("redirect"))?,
            );
        Ok(Authorizer {
            login: login.clone(),
            client_id: app.client_id.clone(),
            client_secret: app.client_secret.clone(),
            client,
            transport,
        })
    }

    /// Where to send the user's browser; `state` comes back on the redirect.
    pub fn authorize_url(&self, state: &str) -> Url {
        let state = state.to_string();
        self.client
            .authorize_url(move || CsrfToken::new(state))
            .url()
            .0
    }

    pub async fn exchange_code(&self, code: &str) -> Result<TokenSet, Error> {
        let http = Http(self.transport.clone());
        let response = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .request_async(&http)
            .await
            .map_err(token_error)?;
        Ok(token_set(&response))
    }

    /// Spends `refresh_token` (single-use) for a new pair. `invalid_grant` means the
    /// authorization is gone: [`Error::AuthorizationExpired`].
    pub async fn refresh(&self, refresh_token: &Secret) -> Result<TokenSet, Error> {
        let token = RefreshToken::new(refresh_token.expose().to_string());
        let http = Http(self.transport.clone());
        let response = self
            .client
            .exchange_refresh_token(&token)
            .request_async(&http)
            .await
            .map_err(token_error)?;
        Ok(token_set(&response))
    }

    /// Revokes a token; Procore then also kills its partner (§1.2). Sent by hand: the
    /// `oauth2` crate refuses revocation URLs that are not https, such as a local simulator.
    pub async fn revoke(&self, token: &Secret) -> Result<(), Error> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("token", token.expose())
            .append_pair("client_id", &self.client_id)
            .append_pair("client_secret", self.client_secret.expose())
            .finish();
        let request = http::Request::post(endpoint(&self.login, "/oauth/revoke").as_str())
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::ACCEPT, "application/json")
            .body(body.into_bytes())
            .map_err(|e| Error::Protocol(e.to_string()))?;
        let response = self
            .transport
            .send(request)
            .await
            .map_err(|e| Error::Transport(e.message))?;
        match response.status().as_u16() {
            200..=299 => Ok(()),
            status => Err(Error::Protocol(format!("revoke answered {status}"))),
        }
    }

    pub async fn token_info(&self, access_token: &Secret) -> Result<TokenInfo, Error> {
        let request = http::Request::get(endpoint(&self.login, "/oauth/token/info").as_str())
            .header(
                http::header::AUTHORIZATION,
                format!("Bearer {}", access_token.expose()),
            )
            .header(http::header::ACCEPT, "application/json")
            .body(Vec::new())
            .map_err(|e| Error::Protocol(e.to_string()))?;
        let response = self
            .transport
            .send(request)
            .await
            .map_err(|e| Error::Transport(e.message))?;
        match response.status().as_u16() {
            200 => serde_json::from_slice(response.body())
                .map_err(|_| Error::Protocol("token info is not JSON".into())),
            401 => Err(Error::Unauthorized),
            status => Err(Error::Protocol(format!("token info answered {status}"))),
        }
    }
}

/// oauth2's HTTP client, over our transport (so Cloud Connect carries token calls too).
struct Http(Arc<dyn Transport>);

impl<'c> oauth2::AsyncHttpClient<'c> for Http {
    type Error = TransportError;
    type Future = BoxFuture<'c, Result<http::Response<Vec<u8>>, TransportError>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        self.0.send(request)
    }
}

fn token_set(response: &oauth2::basic::BasicTokenResponse) -> TokenSet {
    TokenSet::new(
        Secret::new(response.access_token().secret().clone()),
        response
            .refresh_token()
            .map(|r| Secret::new(r.secret().clone())),
        response.expires_in(),
        unix_now(),
    )
}

/// oauth2's errors, mapped without their request details (which hold credentials).
fn token_error<RE: std::error::Error + 'static, T: oauth2::ErrorResponse + 'static>(
    error: RequestTokenError<RE, T>,
) -> Error {
    match error {
        RequestTokenError::ServerResponse(response) => {
            let text = serde_json::to_value(&response).unwrap_or_default();
            let code = text["error"].as_str().unwrap_or("unknown").to_string();
            if code == BasicErrorResponseType::InvalidGrant.as_ref() {
                return Error::AuthorizationExpired;
            }
            Error::OAuth {
                error: code,
                description: text["error_description"].as_str().map(str::to_string),
            }
        }
        RequestTokenError::Request(e) => Error::Transport(e.to_string()),
        RequestTokenError::Parse(_, _) => {
            Error::Protocol("the token response could not be read".into())
        }
        RequestTokenError::Other(message) => Error::Protocol(message),
    }
}
