//! The browser's trip to Procore and back. `/data-sources/{id}/authorize` starts it (in the
//! drawer's popup, or the same tab when popups are blocked) and `/oauth/callback` finishes
//! it: the `state` must be one we issued, unused, at most ten minutes old, for the same
//! signed-in person and data source. The callback page tells the drawer how it went and
//! closes itself; without an opener it sends the person back to the drawer.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{Duration, Utc};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::auth::{resolve, session_token};
use super::crypto::{random_token, token_hash};
use super::data_sources::{finish_authorization, may_edit};
use crate::error::AppError;
use crate::model::{SessionUser, is_record_key};

/// How long a person has to sign in at Procore and allow access.
const STATE_LIFETIME_MINUTES: i64 = 10;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/data-sources/{id}/authorize", get(start))
        .route("/oauth/callback", get(callback))
}

async fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<Option<SessionUser>, AppError> {
    match session_token(headers) {
        Some(token) => resolve(state, &token, Utc::now()).await,
        None => Ok(None),
    }
}

/// A small page for what went wrong before Procore was reached.
fn problem(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Authorization</title>\
         <link rel=\"stylesheet\" href=\"/pkg/trestle.css\"></head><body><main class=\"callback\">\
         <h1>Authorization did not start</h1><p role=\"alert\">{}</p>\
         <p><a href=\"/data-sources\">Back to data sources</a></p></main></body></html>",
        escape(message)
    );
    (status, Html(body)).into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn start(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let user = match signed_in(&state, &headers).await {
        Ok(Some(user)) if !user.must_change_password => user,
        Ok(_) => {
            return Redirect::to(&format!("/sign-in?next=/data-sources/{id}/authorize"))
                .into_response();
        }
        Err(e) => {
            return problem(
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                &e.to_string(),
            );
        }
    };
    if !is_record_key(&id) {
        return problem(StatusCode::NOT_FOUND, "That data source does not exist.");
    }
    let source = match state.store.data_source(&id).await {
        Ok(Some(source)) => source,
        Ok(None) => return problem(StatusCode::NOT_FOUND, "That data source does not exist."),
        Err(e) => {
            tracing::error!(error = %e, "loading a data source failed");
            return problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                &AppError::Internal.to_string(),
            );
        }
    };
    match may_edit(&state, &user, &source).await {
        Ok(true) => {}
        Ok(false) => {
            return problem(
                StatusCode::FORBIDDEN,
                "You may not change this data source.",
            );
        }
        Err(e) => return problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
    if source.company_id.is_none() {
        return problem(
            StatusCode::BAD_REQUEST,
            "Enter and save the Procore company id before authorizing.",
        );
    }
    let authorizer = match state.procore.authorizer(source.environment) {
        Ok(authorizer) => authorizer,
        Err(e) => return problem(StatusCode::CONFLICT, &e.to_string()),
    };
    // Only the hash is stored: a database reader cannot finish someone's authorization.
    let oauth_state = random_token();
    let expires_at = Utc::now() + Duration::minutes(STATE_LIFETIME_MINUTES);
    if let Err(e) = state
        .store
        .create_oauth_state(
            &token_hash(&oauth_state),
            &id,
            &user.id,
            source.environment,
            expires_at,
        )
        .await
    {
        tracing::error!(error = %e, "storing an OAuth state failed");
        return problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            &AppError::Internal.to_string(),
        );
    }
    let mut response =
        Redirect::to(authorizer.authorize_url(&oauth_state).as_str()).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        "no-store".parse().expect("static header"),
    );
    response
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The outcome the drawer hears about.
struct Outcome {
    data_source: Option<String>,
    result: Result<String, String>,
}

async fn callback(
    State(state): State<AppState>,
    Query(query): Query<CallbackQuery>,
    headers: HeaderMap,
) -> Response {
    let outcome = finish(&state, query, &headers).await;
    if let Err(message) = &outcome.result {
        tracing::info!(data_source = ?outcome.data_source, %message, "authorization did not finish");
    }
    callback_page(&outcome)
}

async fn finish(state: &AppState, query: CallbackQuery, headers: &HeaderMap) -> Outcome {
    let fail = |data_source: Option<String>, message: &str| Outcome {
        data_source,
        result: Err(message.to_string()),
    };
    let Some(raw_state) = query.state.filter(|s| !s.is_empty() && s.len() <= 200) else {
        return fail(
            None,
            "This authorization link is not valid. Start again from the data source.",
        );
    };
    // Taking the state uses it up, whatever happens next: a replay finds nothing.
    let taken = match state.store.take_oauth_state(&token_hash(&raw_state)).await {
        Ok(taken) => taken,
        Err(e) => {
            tracing::error!(error = %e, "reading an OAuth state failed");
            return fail(None, &AppError::Internal.to_string());
        }
    };
    let Some(taken) = taken else {
        return fail(
            None,
            "This authorization was already used or is not valid. Start again from the data source.",
        );
    };
    let id = Some(taken.data_source.clone());
    if taken.expires_at < Utc::now() {
        return fail(
            id,
            "The authorization took longer than ten minutes. Please authorize again.",
        );
    }
    let user = match signed_in(state, headers).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            return fail(
                id,
                "Your Trestle session ended. Sign in and authorize again.",
            );
        }
        Err(e) => return fail(id, &e.to_string()),
    };
    if user.id != taken.user {
        return fail(id, "This authorization was started by someone else.");
    }
    let source = match state.store.data_source(&taken.data_source).await {
        Ok(Some(source)) => source,
        Ok(None) => return fail(id, "The data source was deleted."),
        Err(_) => return fail(id, &AppError::Internal.to_string()),
    };
    if source.environment != taken.environment {
        return fail(
            id,
            "The data source's environment changed meanwhile. Please authorize again.",
        );
    }
    if !matches!(may_edit(state, &user, &source).await, Ok(true)) {
        return fail(id, "You may not change this data source.");
    }
    if let Some(error) = query.error {
        let message = if error == "access_denied" {
            "Access was denied in Procore, so the data source is not authorized.".to_string()
        } else {
            format!(
                "Procore did not authorize the data source: {}",
                query.error_description.unwrap_or(error)
            )
        };
        return fail(id, &message);
    }
    let Some(code) = query.code.filter(|c| !c.is_empty()) else {
        return fail(id, "Procore sent no authorization code.");
    };
    if let Err(e) = state.procore.authorize(&source, &code).await {
        return fail(id, &e.to_string());
    }
    match finish_authorization(state, &source, &user.id).await {
        Ok(authorization) => Outcome {
            data_source: id,
            result: Ok(authorization.describe()),
        },
        Err(e) => fail(id, &e.to_string()),
    }
}

/// Posts the outcome to the drawer that opened the popup, then closes; opened in the same
/// tab (a blocked popup), it goes back to the drawer with the outcome in the address.
fn callback_page(outcome: &Outcome) -> Response {
    let message = json!({
        "type": "trestle:procore-authorization",
        "dataSource": outcome.data_source,
        "ok": outcome.result.is_ok(),
        "authorizedAs": outcome.result.as_ref().ok(),
        "error": outcome.result.as_ref().err(),
    });
    let back = match (&outcome.data_source, &outcome.result) {
        (Some(id), Ok(_)) => format!("/data-sources?open={id}&authorized=1"),
        (Some(id), Err(message)) => format!(
            "/data-sources?open={id}&authorization_error={}",
            url::form_urlencoded::byte_serialize(message.as_bytes()).collect::<String>()
        ),
        (None, Err(message)) => format!(
            "/data-sources?authorization_error={}",
            url::form_urlencoded::byte_serialize(message.as_bytes()).collect::<String>()
        ),
        (None, Ok(_)) => "/data-sources".to_string(),
    };
    // JSON inside a script: `<` is escaped so no value can close the script element.
    let payload = message.to_string().replace('<', "\\u003c");
    let back_json = json!(back).to_string().replace('<', "\\u003c");
    let text = match &outcome.result {
        Ok(who) => format!("Authorized as {}. You can close this window.", escape(who)),
        Err(message) => escape(message),
    };
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Procore authorization</title></head>\
         <body><main><p role=\"status\">{text}</p><p><a href=\"{href}\">Back to the data source</a></p></main>\
         <script>(function () {{\
           var message = {payload};\
           if (window.opener && !window.opener.closed) {{\
             window.opener.postMessage(message, window.location.origin);\
             window.close();\
           }} else {{\
             window.location.replace({back_json});\
           }}\
         }})();</script></body></html>",
        href = escape(&back),
    );
    let status = if outcome.result.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let mut response = (status, Html(body)).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        "no-store".parse().expect("static header"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data_source::{DataSourceDraft, Environment};
    use crate::model::{Role, UserDraft};
    use crate::server::auth::{SESSION_COOKIE, open_session};

    /// A signed-in administrator's request headers and a data source of theirs.
    async fn setup(state: &AppState) -> (HeaderMap, String, String) {
        let draft = UserDraft {
            email: "ann@example.com".into(),
            name: "Ann".into(),
            roles: vec![Role::Administrator],
        };
        let user = state
            .store
            .create_user(&draft, "$argon2id$x", false)
            .await
            .unwrap();
        let token = open_session(state, &user.id, Utc::now()).await.unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            format!("{SESSION_COOKIE}={token}").parse().unwrap(),
        );
        let source = DataSourceDraft {
            name: "Expiring".into(),
            company_id: "4264807".into(),
            environment: Environment::DeveloperSandbox,
            ..Default::default()
        }
        .validated()
        .unwrap();
        let source = state
            .store
            .create_data_source(&source, &user.id, &[])
            .await
            .unwrap();
        (headers, user.id, source.id)
    }

    fn query(state: &str) -> CallbackQuery {
        CallbackQuery {
            code: Some("a-code".into()),
            state: Some(state.into()),
            error: None,
            error_description: None,
        }
    }

    #[tokio::test]
    async fn a_state_older_than_ten_minutes_is_refused_and_used_up() {
        let state = AppState::for_tests().await;
        let (headers, user, source) = setup(&state).await;
        let expired = Utc::now() - Duration::seconds(1);
        state
            .store
            .create_oauth_state(
                &token_hash("old"),
                &source,
                &user,
                Environment::DeveloperSandbox,
                expired,
            )
            .await
            .unwrap();
        let outcome = finish(&state, query("old"), &headers).await;
        assert_eq!(outcome.data_source.as_deref(), Some(source.as_str()));
        assert!(
            outcome
                .result
                .unwrap_err()
                .contains("longer than ten minutes")
        );
        let again = finish(&state, query("old"), &headers).await;
        assert!(again.result.unwrap_err().contains("already used"));
    }

    #[tokio::test]
    async fn a_state_for_another_environment_is_refused() {
        let state = AppState::for_tests().await;
        let (headers, user, source) = setup(&state).await;
        let later = Utc::now() + Duration::minutes(5);
        state
            .store
            .create_oauth_state(
                &token_hash("live"),
                &source,
                &user,
                Environment::Live,
                later,
            )
            .await
            .unwrap();
        let outcome = finish(&state, query("live"), &headers).await;
        assert!(outcome.result.unwrap_err().contains("environment changed"));
    }

    #[test]
    fn the_callback_page_cannot_be_broken_out_of() {
        let page = callback_page(&Outcome {
            data_source: Some("abc".into()),
            result: Err("</script><script>alert(1)</script>".into()),
        });
        let body = body_text(page);
        assert!(!body.contains("</script><script>alert(1)"), "{body}");
    }

    fn body_text(response: Response) -> String {
        let bytes = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(axum::body::to_bytes(response.into_body(), usize::MAX))
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }
}
