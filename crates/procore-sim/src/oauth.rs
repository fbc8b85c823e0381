//! `/oauth/*` (procore-api.md §1.2–§1.6) and `/rest/v1.0/me`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::json;

use crate::seed::DEMO_PASSWORD;
use crate::tokens::GrantError;
use crate::{Environment, OOB_REDIRECT_URI, Simulator, unix_now};

type Sim = State<Arc<Simulator>>;

pub(crate) fn routes() -> Router<Arc<Simulator>> {
    Router::new()
        .route(
            "/oauth/authorize",
            get(authorize_page).post(authorize_submit),
        )
        .route("/oauth/authorize/{code}", get(out_of_band_code))
        .route("/oauth/token", post(token))
        .route("/oauth/token/", post(token))
        .route("/oauth/token/info", get(token_info))
        .route("/oauth/revoke", post(revoke))
}

/// A signed-in Procore user who has not yet allowed or denied the app.
#[derive(Debug, Clone)]
pub(crate) struct PendingConsent {
    client_id: String,
    redirect_uri: String,
    state: Option<String>,
    user_id: u64,
    created_at: i64,
}

/// An RFC 6749 error body: `{"error": …, "error_description": …}`.
#[derive(Debug)]
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: &'static str,
}

impl OAuthError {
    fn invalid_request(description: &'static str) -> Self {
        OAuthError {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_request",
            description,
        }
    }

    fn invalid_client() -> Self {
        OAuthError {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
        }
    }

    fn invalid_grant() -> Self {
        OAuthError {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_grant",
            description: "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.",
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(json!({ "error": self.error, "error_description": self.description })),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Basic realm=\"Doorkeeper\""),
            );
        }
        response
    }
}

fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&#39;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>body{{font-family:system-ui,sans-serif;background:#f3f3f3;display:grid;place-items:center;min-height:100vh;margin:0}}\
         main{{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002;width:22rem}}\
         h1{{font-size:1.3rem;color:#f47e42}}label{{display:block;margin:.8rem 0 .2rem;font-weight:600}}\
         input[type=email],input[type=password]{{width:100%;padding:.5rem;box-sizing:border-box}}\
         button{{margin-top:1rem;padding:.5rem 1rem;margin-right:.5rem}}.error{{color:#b42318}}\
         .demo{{font-size:.85rem;color:#555}}</style></head><body><main>{body}</main></body></html>",
        title = escape(title),
    )
}

#[derive(Debug, Deserialize, Default)]
struct AuthorizeParams {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
}

/// The request names our app and a registered redirect URI, or it gets an error page:
/// an unverified redirect URI must never receive a redirect.
fn check_client(
    sim: &Simulator,
    env: Environment,
    params: &AuthorizeParams,
) -> Result<(String, String), &'static str> {
    let client_id = params.client_id.clone().unwrap_or_default();
    let redirect_uri = params.redirect_uri.clone().unwrap_or_default();
    if client_id != sim.credentials(env).client_id {
        return Err("The client identifier is unknown to this environment.");
    }
    if !sim.config().redirect_uris.contains(&redirect_uri) {
        return Err("The redirect URI is not registered for this app (it must match exactly).");
    }
    Ok((client_id, redirect_uri))
}

fn error_page(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(page(
            "Authorization error",
            &format!("<h1>Procore</h1><p class=\"error\">{}</p>", escape(message)),
        )),
    )
        .into_response()
}

fn redirect_with(redirect_uri: &str, pairs: &[(&str, &str)], state: Option<&str>) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return error_page("The redirect URI is not a valid URL.");
    };
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in pairs {
            query.append_pair(k, v);
        }
        if let Some(state) = state {
            query.append_pair("state", state);
        }
    }
    found(url.as_str())
}

/// Procore (Doorkeeper) redirects with 302 Found.
fn found(location: &str) -> Response {
    (
        StatusCode::FOUND,
        [(header::LOCATION, location.to_string())],
    )
        .into_response()
}

fn login_form(env: Environment, params: &AuthorizeParams, error: Option<&str>) -> String {
    let hidden = |name: &str, value: &Option<String>| {
        value
            .as_ref()
            .map(|v| {
                format!(
                    "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                    escape(v)
                )
            })
            .unwrap_or_default()
    };
    let demo = crate::seed::users()
        .iter()
        .map(|u| format!("{} ({})", escape(&u.login), escape(&u.name)))
        .collect::<Vec<_>>()
        .join("<br>");
    format!(
        "<h1>Procore</h1><p>Sign in to continue to the app ({env:?}).</p>{error}\
         <form method=\"post\"><input type=\"hidden\" name=\"step\" value=\"login\">{}{}{}{}\
         <label for=\"email\">Email</label><input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required>\
         <label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" required>\
         <button type=\"submit\">Log In</button></form>\
         <p class=\"demo\">Simulator demo users, password <code>{DEMO_PASSWORD}</code>:<br>{demo}</p>",
        hidden("response_type", &params.response_type),
        hidden("client_id", &params.client_id),
        hidden("redirect_uri", &params.redirect_uri),
        hidden("state", &params.state),
        error = error
            .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
            .unwrap_or_default(),
    )
}

async fn authorize_page(
    State(sim): Sim,
    Extension(env): Extension<Environment>,
    Query(params): Query<AuthorizeParams>,
) -> Response {
    let (_, redirect_uri) = match check_client(&sim, env, &params) {
        Ok(ok) => ok,
        Err(message) => return error_page(message),
    };
    if params.response_type.as_deref() != Some("code") {
        return redirect_with(
            &redirect_uri,
            &[("error", "unsupported_response_type")],
            params.state.as_deref(),
        );
    }
    Html(page("Log In | Procore", &login_form(env, &params, None))).into_response()
}

#[derive(Debug, Deserialize)]
struct AuthorizeForm {
    step: String,
    #[serde(flatten)]
    params: HashMap<String, String>,
}

async fn authorize_submit(
    State(sim): Sim,
    Extension(env): Extension<Environment>,
    axum::Form(form): axum::Form<AuthorizeForm>,
) -> Response {
    let field = |name: &str| form.params.get(name).cloned();
    match form.step.as_str() {
        "login" => {
            let params = AuthorizeParams {
                response_type: field("response_type"),
                client_id: field("client_id"),
                redirect_uri: field("redirect_uri"),
                state: field("state"),
            };
            let (client_id, redirect_uri) = match check_client(&sim, env, &params) {
                Ok(ok) => ok,
                Err(message) => return error_page(message),
            };
            let email = field("email").unwrap_or_default().trim().to_lowercase();
            let user = sim
                .users
                .iter()
                .find(|u| u.login == email)
                .filter(|_| field("password").as_deref() == Some(DEMO_PASSWORD));
            let Some(user) = user else {
                let body = login_form(env, &params, Some("Invalid email or password."));
                return (
                    StatusCode::UNAUTHORIZED,
                    Html(page("Log In | Procore", &body)),
                )
                    .into_response();
            };
            let ticket = crate::tokens::random_ticket();
            sim.pending.lock().expect("pending lock").insert(
                ticket.clone(),
                PendingConsent {
                    client_id: client_id.clone(),
                    redirect_uri,
                    state: params.state,
                    user_id: user.id,
                    created_at: unix_now(),
                },
            );
            let body = format!(
                "<h1>Procore</h1><p>Signed in as <strong>{}</strong>.</p>\
                 <p><strong>{}</strong> would like to access your Procore account.</p>\
                 <form method=\"post\"><input type=\"hidden\" name=\"step\" value=\"consent\">\
                 <input type=\"hidden\" name=\"ticket\" value=\"{ticket}\">\
                 <button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>\
                 <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>",
                escape(&user.name),
                escape(&client_id),
            );
            Html(page("Authorize | Procore", &body)).into_response()
        }
        "consent" => {
            let pending =
                field("ticket").and_then(|t| sim.pending.lock().expect("pending lock").remove(&t));
            let Some(pending) =
                pending.filter(|p| unix_now() - p.created_at < crate::tokens::CODE_LIFETIME_SECS)
            else {
                return error_page("This sign-in has expired. Start again from the app.");
            };
            if field("decision").as_deref() != Some("allow") {
                return redirect_with(
                    &pending.redirect_uri,
                    &[("error", "access_denied")],
                    pending.state.as_deref(),
                );
            }
            let code = sim.tokens(env).issue_code(
                &pending.client_id,
                &pending.redirect_uri,
                pending.user_id,
                unix_now(),
            );
            if pending.redirect_uri == OOB_REDIRECT_URI {
                return found(&format!("/{}/oauth/authorize/{code}", env.prefix()));
            }
            redirect_with(
                &pending.redirect_uri,
                &[("code", &code)],
                pending.state.as_deref(),
            )
        }
        _ => error_page("Unknown step."),
    }
}

async fn out_of_band_code(Path(code): Path<String>) -> Html<String> {
    Html(page(
        "Authorization code | Procore",
        &format!(
            "<h1>Procore</h1><p>Copy this code into the app:</p><p><code id=\"code\">{}</code></p>",
            escape(&code)
        ),
    ))
}

/// The fields of a token or revoke request, whichever way the client encoded them.
async fn body_fields(request: Request) -> Result<HashMap<String, String>, OAuthError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(request, &())
            .await
            .map_err(|_| OAuthError::invalid_request("The multipart body could not be read."))?;
        let mut fields = HashMap::new();
        while let Ok(Some(field)) = multipart.next_field().await {
            let Some(name) = field.name().map(str::to_string) else {
                continue;
            };
            let value = field.text().await.map_err(|_| {
                OAuthError::invalid_request("The multipart body could not be read.")
            })?;
            fields.insert(name, value);
        }
        return Ok(fields);
    }
    let bytes = axum::body::to_bytes(request.into_body(), 64 * 1024)
        .await
        .map_err(|_| OAuthError::invalid_request("The request body is too large."))?;
    if content_type.starts_with("application/json") {
        let value: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&bytes)
            .map_err(|_| OAuthError::invalid_request("The JSON body could not be parsed."))?;
        return Ok(value
            .into_iter()
            .filter_map(|(k, v)| match v {
                serde_json::Value::String(s) => Some((k, s)),
                serde_json::Value::Null => None,
                other => Some((k, other.to_string())),
            })
            .collect());
    }
    serde_urlencoded::from_bytes(&bytes)
        .map_err(|_| OAuthError::invalid_request("The form body could not be parsed."))
}

/// Client id and secret from HTTP Basic, or else from the body.
fn client_auth(headers: &HeaderMap, fields: &HashMap<String, String>) -> Option<(String, String)> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(id, secret)| (id.to_string(), secret.to_string()))
        });
    basic.or_else(|| {
        Some((
            fields.get("client_id")?.clone(),
            fields.get("client_secret")?.clone(),
        ))
    })
}

async fn token(
    State(sim): Sim,
    Extension(env): Extension<Environment>,
    request: Request,
) -> Response {
    let headers = request.headers().clone();
    let fields = match body_fields(request).await {
        Ok(fields) => fields,
        Err(e) => return e.into_response(),
    };
    let app = sim.credentials(env);
    match client_auth(&headers, &fields) {
        Some((id, secret)) if id == app.client_id && secret == app.client_secret => {}
        _ => {
            // A refresh token sent with bad credentials is used up all the same.
            if fields.get("grant_type").map(String::as_str) == Some("refresh_token")
                && let Some(refresh) = fields.get("refresh_token")
            {
                sim.tokens(env).revoke(refresh);
                sim.counters
                    .failed_refreshes
                    .fetch_add(1, Ordering::Relaxed);
            }
            return OAuthError::invalid_client().into_response();
        }
    }
    let ttl = sim.config().access_token_ttl;
    let now = unix_now();
    let result = match fields.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let Some(code) = fields.get("code") else {
                return OAuthError::invalid_request(
                    "The request is missing a required parameter: code.",
                )
                .into_response();
            };
            sim.tokens(env).exchange_code(
                code,
                &app.client_id,
                fields.get("redirect_uri").map(String::as_str),
                now,
                ttl,
            )
        }
        Some("refresh_token") => {
            let Some(refresh) = fields.get("refresh_token") else {
                return OAuthError::invalid_request(
                    "The request is missing a required parameter: refresh_token.",
                )
                .into_response();
            };
            let result = sim.tokens(env).refresh(refresh, &app.client_id, now, ttl);
            let counter = if result.is_ok() {
                &sim.counters.refreshes
            } else {
                &sim.counters.failed_refreshes
            };
            counter.fetch_add(1, Ordering::Relaxed);
            result
        }
        Some("client_credentials") => {
            Ok(sim.tokens(env).client_credentials(&app.client_id, now, ttl))
        }
        Some(_) => {
            return OAuthError {
                status: StatusCode::BAD_REQUEST,
                error: "unsupported_grant_type",
                description: "The authorization grant type is not supported by the authorization server.",
            }
            .into_response();
        }
        None => {
            return OAuthError::invalid_request(
                "The request is missing a required parameter: grant_type.",
            )
            .into_response();
        }
    };
    match result {
        Ok(tokens) => {
            sim.counters.tokens_issued.fetch_add(1, Ordering::Relaxed);
            (
                [
                    (header::CACHE_CONTROL, "no-store"),
                    (header::PRAGMA, "no-cache"),
                ],
                Json(tokens),
            )
                .into_response()
        }
        Err(GrantError::InvalidGrant) => OAuthError::invalid_grant().into_response(),
    }
}

async fn revoke(
    State(sim): Sim,
    Extension(env): Extension<Environment>,
    request: Request,
) -> Response {
    let headers = request.headers().clone();
    if let Ok(fields) = body_fields(request).await
        && let Some(token) = fields.get("token")
    {
        let app = sim.credentials(env);
        let client_ok = client_auth(&headers, &fields).is_some_and(|(id, _)| id == app.client_id);
        if client_ok {
            sim.tokens(env).revoke(token);
            sim.counters.revocations.fetch_add(1, Ordering::Relaxed);
        }
    }
    // Procore answers 200 whether or not anything was revoked.
    Json(json!({})).into_response()
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

pub(crate) fn invalid_token() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(
            header::WWW_AUTHENTICATE,
            "Bearer realm=\"Doorkeeper\", error=\"invalid_token\"",
        )],
        Json(json!({ "errors": "The access token is invalid" })),
    )
        .into_response()
}

async fn token_info(
    State(sim): Sim,
    Extension(env): Extension<Environment>,
    headers: HeaderMap,
) -> Response {
    let now = unix_now();
    let tokens = sim.tokens(env);
    let Some(access) = bearer(&headers).and_then(|t| tokens.access(t, now)) else {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "invalid_token", "error_description": "The access token is invalid" })),
        )
            .into_response();
    };
    Json(json!({
        "resource_owner_id": access.user_id,
        "scopes": [],
        "expires_in_seconds": access.expires_at() - now,
        "application": { "uid": access.client_id },
        "created_at": access.created_at,
    }))
    .into_response()
}

#[derive(Debug, Deserialize)]
pub(crate) struct MeParams {
    company_id: Option<String>,
    project_id: Option<String>,
}

/// `name` only comes back when a company or project is named (procore-api.md §1.8).
pub(crate) async fn me(
    State(sim): Sim,
    Extension(env): Extension<Environment>,
    headers: HeaderMap,
    Query(params): Query<MeParams>,
) -> Response {
    let call = match crate::rest::Call::begin(&sim, env, &headers) {
        Ok(call) => call,
        Err(response) => return *response,
    };
    let Some(user) = call.user_id.and_then(|id| sim.user(id)) else {
        // An app token has no person behind it; Procore wants the company header then.
        return call.finish(
            (
                StatusCode::BAD_REQUEST,
                Json(json!({ "errors": crate::rest::MISSING_COMPANY_HEADER })),
            )
                .into_response(),
        );
    };
    let mut body = json!({ "id": user.id, "login": user.login });
    if params.company_id.is_some() || params.project_id.is_some() {
        body["name"] = json!(user.name);
    }
    call.finish(Json(body).into_response())
}
