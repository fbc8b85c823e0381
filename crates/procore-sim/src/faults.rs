//! Fault switches for the REST API (latency, 5xx, forced 429, 503) and the small admin
//! API under `/_sim` that tests and demos use to flip them and read counters.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::{MatchedPath, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::Simulator;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Added to every REST response.
    pub latency_ms: u64,
    /// A random extra delay of up to this much.
    pub jitter_ms: u64,
    /// Share of REST calls answered 500 (0.0–1.0).
    pub error_rate: f64,
    /// Share of REST calls answered 503 with `Retry-After` (platform overload).
    pub unavailable_rate: f64,
    /// Every REST call answers 429 with `Retry-After`.
    pub force_429: bool,
    /// The `Retry-After` seconds of forced 429s and of 503s.
    pub retry_after_secs: u64,
}

/// Counts every call by the program that made it (the `User-Agent` product name).
pub(crate) async fn count_client(
    State(sim): State<Arc<Simulator>>,
    request: Request,
    next: Next,
) -> Response {
    let client = request
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .and_then(|agent| agent.split(['/', ' ']).next())
        .filter(|name| !name.is_empty())
        .unwrap_or("unknown")
        .chars()
        .take(40)
        .collect::<String>();
    *sim.clients
        .lock()
        .expect("client counter lock")
        .entry(client)
        .or_default() += 1;
    next.run(request).await
}

/// Runs before every REST handler: counts the call, waits, and maybe fails it.
pub(crate) async fn inject(
    State(sim): State<Arc<Simulator>>,
    request: Request,
    next: Next,
) -> Response {
    let endpoint = format!(
        "{} {}",
        request.method(),
        request
            .extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str)
            .unwrap_or_else(|| request.uri().path())
    );
    *sim.requests
        .lock()
        .expect("request counter lock")
        .entry(endpoint)
        .or_default() += 1;
    sim.counters.requests.fetch_add(1, Ordering::Relaxed);

    let faults = sim.config().faults;
    let (delay, roll) = {
        let mut rng = rand::rng();
        let jitter = if faults.jitter_ms > 0 {
            rng.random_range(0..=faults.jitter_ms)
        } else {
            0
        };
        (faults.latency_ms + jitter, rng.random::<f64>())
    };
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let retry_after = HeaderValue::from(faults.retry_after_secs.max(1));
    if faults.force_429 {
        let mut response = (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({ "errors": "Rate limit exceeded" })),
        )
            .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, retry_after);
        return response;
    }
    if roll < faults.error_rate {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "errors": "Internal Server Error" })),
        )
            .into_response();
    }
    if roll < faults.error_rate + faults.unavailable_rate {
        let mut response = (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "errors": "Service Unavailable" })),
        )
            .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, retry_after);
        return response;
    }
    next.run(request).await
}

pub(crate) fn admin_routes() -> Router<Arc<Simulator>> {
    Router::new()
        .route("/_sim/counters", get(counters))
        .route("/_sim/issued-tokens", get(issued_tokens))
        .route("/_sim/faults", get(get_faults).put(put_faults))
        .route("/_sim/token-ttl", put(put_token_ttl))
        .route("/_sim/revoke-all", post(revoke_all))
        .route("/_sim/companies/{id}/app", put(put_app_installed))
}

/// Every token issued so far, for tests that check none shows up where it must not.
async fn issued_tokens(State(sim): State<Arc<Simulator>>) -> Json<Vec<String>> {
    Json(sim.issued_tokens())
}

async fn counters(State(sim): State<Arc<Simulator>>) -> Json<serde_json::Value> {
    let requests: BTreeMap<String, u64> = sim.request_counts();
    Json(json!({ "totals": sim.counters(), "requests": requests, "clients": sim.client_counts() }))
}

async fn get_faults(State(sim): State<Arc<Simulator>>) -> Json<Faults> {
    Json(sim.config().faults)
}

async fn put_faults(State(sim): State<Arc<Simulator>>, Json(faults): Json<Faults>) -> Response {
    let rates = [faults.error_rate, faults.unavailable_rate];
    if rates.iter().any(|r| !(0.0..=1.0).contains(r)) || rates.iter().sum::<f64>() > 1.0 {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "errors": "rates must be between 0 and 1 and add up to at most 1" })),
        )
            .into_response();
    }
    sim.update_config(|c| c.faults = faults.clone());
    Json(faults).into_response()
}

#[derive(Deserialize)]
struct Ttl {
    seconds: i64,
}

async fn put_token_ttl(State(sim): State<Arc<Simulator>>, Json(ttl): Json<Ttl>) -> Response {
    if ttl.seconds < 1 {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "errors": "seconds must be at least 1" })),
        )
            .into_response();
    }
    sim.update_config(|c| c.access_token_ttl = ttl.seconds);
    StatusCode::NO_CONTENT.into_response()
}

async fn revoke_all(State(sim): State<Arc<Simulator>>) -> StatusCode {
    sim.revoke_all_tokens();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct Installed {
    installed: bool,
}

async fn put_app_installed(
    State(sim): State<Arc<Simulator>>,
    Path(id): Path<u64>,
    Json(body): Json<Installed>,
) -> StatusCode {
    if sim.set_app_installed(id, body.installed) {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
}
