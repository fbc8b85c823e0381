//! Company users and vendors over real HTTP (procore-api.md §3.3, §3.5).

mod common;

use common::*;
use procore_sim::data::{SANDBOX_COMPANY_ID, UNINSTALLED_COMPANY_ID};
use reqwest::StatusCode;
use serde_json::Value;

async fn get(sim: &Sim, token: &str, path: &str) -> reqwest::Response {
    sim.http
        .get(sim.url(SANDBOX, path))
        .bearer_auth(token)
        .header("Procore-Company-Id", SANDBOX_COMPANY_ID.to_string())
        .send()
        .await
        .unwrap()
}

async fn names(sim: &Sim, token: &str, path: &str) -> Vec<String> {
    let response = get(sim, token, path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let body: Value = response.json().await.unwrap();
    body.as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn company_users_search_filter_sort_and_show() {
    let sim = Sim::start().await;
    let token = sim.tokens().await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let base = format!("/rest/v1.3/companies/{SANDBOX_COMPANY_ID}/users");

    assert_eq!(names(&sim, &token, &base).await.len(), 3);
    assert_eq!(
        names(&sim, &token, &format!("{base}?filters[search]=FOREMAN")).await,
        ["Test Subcontractor"]
    );
    assert_eq!(
        names(&sim, &token, &format!("{base}?filters[vendor_id][]=7001")).await,
        ["Test Subcontractor"]
    );
    assert_eq!(
        names(&sim, &token, &format!("{base}?sort=name")).await,
        ["Test Architect", "Test Subcontractor", "API Support"],
        "sort=name sorts by last name"
    );
    assert_eq!(
        names(&sim, &token, &format!("{base}?sort=-full_name")).await,
        ["Test Subcontractor", "Test Architect", "API Support"]
    );
    assert_eq!(
        get(&sim, &token, &format!("{base}?sort=color"))
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );

    let person: Value = get(&sim, &token, &format!("{base}/4201002"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(person["vendor"]["name"], "Acme Concrete");
    assert_eq!(
        get(&sim, &token, &format!("{base}/1")).await.status(),
        StatusCode::NOT_FOUND
    );

    let other = format!("/rest/v1.3/companies/{UNINSTALLED_COMPANY_ID}/users");
    assert_eq!(
        get(&sim, &token, &other).await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn vendors_need_a_company_and_search_and_sort() {
    let sim = Sim::start().await;
    let token = sim.tokens().await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let base = format!("/rest/v1.0/vendors?company_id={SANDBOX_COMPANY_ID}");

    assert_eq!(
        names(&sim, &token, &format!("{base}&sort=-name")).await,
        ["Summit Glazing", "Bright Electric", "Acme Concrete"]
    );
    assert_eq!(
        names(&sim, &token, &format!("{base}&filters[search]=glaz")).await,
        ["Summit Glazing"]
    );
    assert_eq!(
        get(&sim, &token, "/rest/v1.0/vendors").await.status(),
        StatusCode::BAD_REQUEST
    );

    let vendor: Value = get(
        &sim,
        &token,
        &format!("/rest/v1.0/vendors/7002?company_id={SANDBOX_COMPANY_ID}"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(vendor["name"], "Bright Electric");
    assert_eq!(vendor["trades"][0]["name"], "Electrical");
    let missing = get(
        &sim,
        &token,
        &format!("/rest/v1.0/vendors/1?company_id={SANDBOX_COMPANY_ID}"),
    )
    .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn project_users_sort_by_nested_fields() {
    let sim = Sim::start().await;
    let token = sim.tokens().await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let base = format!(
        "/rest/v1.0/projects/{}/users",
        procore_sim::data::SANDBOX_PROJECT_ID
    );
    assert_eq!(
        names(&sim, &token, &format!("{base}?sort=-permission_template")).await[0],
        "Test Subcontractor"
    );
    assert_eq!(
        names(&sim, &token, &format!("{base}?sort=vendor_name")).await[0],
        "Test Subcontractor",
        "people without a vendor sort last"
    );
    let person: Value = get(&sim, &token, &format!("{base}/4201001"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(person["permission_template"]["name"], "Project Manager");
    let elsewhere = get(&sim, &token, "/rest/v1.0/projects/2783101/users").await;
    assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);
}
