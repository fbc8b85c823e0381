//! Fault switches and the `/_sim` admin API.

mod common;

use std::time::Instant;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn companies(sim: &Sim, token: &str) -> reqwest::Response {
    sim.http
        .get(sim.url(SANDBOX, "/rest/v1.0/companies"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn set_faults(sim: &Sim, faults: Value) -> reqwest::Response {
    sim.http
        .put(format!("{}/_sim/faults", sim.base))
        .json(&faults)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn errors_and_overload_are_injected_on_demand() {
    let sim = Sim::start().await;
    let token = sim.tokens().await["access_token"]
        .as_str()
        .unwrap()
        .to_string();

    assert_eq!(
        set_faults(&sim, json!({ "error_rate": 1.0 }))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        companies(&sim, &token).await.status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );

    set_faults(
        &sim,
        json!({ "unavailable_rate": 1.0, "retry_after_secs": 3 }),
    )
    .await;
    let busy = companies(&sim, &token).await;
    assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(busy.headers()["retry-after"], "3");

    set_faults(&sim, json!({ "force_429": true })).await;
    let limited = companies(&sim, &token).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers()["retry-after"], "1");

    // OAuth is not behind the REST faults: a client can still refresh during an outage.
    let refresh = sim.tokens().await;
    assert!(refresh["access_token"].is_string());

    set_faults(&sim, json!({})).await;
    assert_eq!(companies(&sim, &token).await.status(), StatusCode::OK);

    let invalid = set_faults(&sim, json!({ "error_rate": 0.7, "unavailable_rate": 0.7 })).await;
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = set_faults(&sim, json!({ "eror_rate": 1 })).await;
    assert!(unknown.status().is_client_error());
}

#[tokio::test]
async fn latency_delays_each_call_by_at_least_the_setting() {
    let sim = Sim::start().await;
    let token = sim.tokens().await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    set_faults(&sim, json!({ "latency_ms": 150 })).await;
    let started = Instant::now();
    assert_eq!(companies(&sim, &token).await.status(), StatusCode::OK);
    assert!(started.elapsed().as_millis() >= 150);
}

#[tokio::test]
async fn counters_and_admin_switches() {
    let sim = Sim::start().await;
    let token = sim.tokens().await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..3 {
        companies(&sim, &token).await;
    }
    let read = |path: &str| {
        let request = sim.http.get(format!("{}{path}", sim.base));
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let counters = read("/_sim/counters").await;
    assert_eq!(
        counters["requests"]["GET /developer-sandbox/rest/v1.0/companies"],
        3
    );
    assert_eq!(counters["totals"]["requests"], 3);
    assert_eq!(counters["totals"]["tokens_issued"], 1);
    let issued = read("/_sim/issued-tokens").await;
    assert!(
        issued.as_array().unwrap().contains(&json!(token)),
        "{issued}"
    );

    let admin = |path: &str, body: Value| {
        sim.http
            .put(format!("{}{path}", sim.base))
            .json(&body)
            .send()
    };
    let unknown_company = admin("/_sim/companies/1/app", json!({ "installed": false }))
        .await
        .unwrap();
    assert_eq!(unknown_company.status(), StatusCode::NOT_FOUND);
    let ttl = admin("/_sim/token-ttl", json!({ "seconds": 0 }))
        .await
        .unwrap();
    assert_eq!(ttl.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let revoked = sim
        .http
        .post(format!("{}/_sim/revoke-all", sim.base))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        companies(&sim, &token).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_mountable_router_has_no_fault_switches() {
    let sim = procore_sim::Simulator::new(procore_sim::SimConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = procore_sim::api_router(sim);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let http = reqwest::Client::new();
    let counters = http
        .get(format!("{base}/_sim/counters"))
        .send()
        .await
        .unwrap();
    assert_eq!(counters.status(), reqwest::StatusCode::NOT_FOUND);
    let revoke = http
        .post(format!("{base}/_sim/revoke-all"))
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), reqwest::StatusCode::NOT_FOUND);
    let login = http
        .get(format!("{base}/developer-sandbox/oauth/authorize"))
        .send()
        .await
        .unwrap();
    assert_ne!(
        login.status(),
        reqwest::StatusCode::NOT_FOUND,
        "the API is there"
    );
}
