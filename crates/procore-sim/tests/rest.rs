//! REST conventions over real HTTP (procore-api.md §2, §3.1–3.2).

mod common;

use common::*;
use procore_sim::data::{SANDBOX_COMPANY_ID, UNINSTALLED_COMPANY_ID};
use procore_sim::ratelimit::Limits;
use reqwest::StatusCode;
use serde_json::Value;

async fn get(sim: &Sim, token: &str, path: &str, company: Option<u64>) -> reqwest::Response {
    let mut request = sim.http.get(sim.url(SANDBOX, path)).bearer_auth(token);
    if let Some(company) = company {
        request = request.header("Procore-Company-Id", company.to_string());
    }
    request.send().await.unwrap()
}

async fn access_token(sim: &Sim) -> String {
    sim.tokens().await["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

fn names(body: &Value) -> Vec<String> {
    body.as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect()
}

fn links(response: &reqwest::Response) -> Vec<(String, String)> {
    response
        .headers()
        .get("link")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
        .split(", ")
        .filter(|s| !s.is_empty())
        .map(|entry| {
            let (url, rel) = entry.split_once("; rel=").unwrap();
            (
                rel.trim_matches('"').to_string(),
                url.trim_matches(['<', '>']).to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn companies_need_a_token_but_no_company_header() {
    let sim = Sim::start().await;
    let anonymous = sim
        .http
        .get(sim.url(SANDBOX, "/rest/v1.0/companies"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(
        anonymous.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );

    let token = access_token(&sim).await;
    let response = get(&sim, &token, "/rest/v1.0/companies", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["total"], "2");
    for header in [
        "x-rate-limit-limit",
        "x-rate-limit-remaining",
        "x-rate-limit-reset",
    ] {
        assert!(response.headers().contains_key(header), "{header}");
    }
    let body: Value = response.json().await.unwrap();
    assert_eq!(body[0]["id"], SANDBOX_COMPANY_ID);
    assert_eq!(body[0]["is_active"], true);
}

#[tokio::test]
async fn company_rules_for_projects() {
    let sim = Sim::start().await;
    let token = access_token(&sim).await;
    let path = format!("/rest/v1.1/projects?company_id={SANDBOX_COMPANY_ID}");

    let missing = get(&sim, &token, &path, None).await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    assert!(
        missing
            .text()
            .await
            .unwrap()
            .contains("Missing Procore-Company-Id header!")
    );

    let uninstalled = format!("/rest/v1.1/projects?company_id={UNINSTALLED_COMPANY_ID}");
    let refused = get(&sim, &token, &uninstalled, Some(UNINSTALLED_COMPANY_ID)).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["errors"],
        "App is not connected to this company"
    );

    let unknown = get(&sim, &token, "/rest/v1.1/projects?company_id=1", Some(1)).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    let ok = get(&sim, &token, &path, Some(SANDBOX_COMPANY_ID)).await;
    assert_eq!(ok.status(), StatusCode::OK);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body[0]["display_name"], "1234 - Sandbox Test Project");
    assert_eq!(
        body.as_array().unwrap().len(),
        4,
        "active projects by default"
    );

    // Disconnecting the app is a fault switch.
    sim.sim.set_app_installed(SANDBOX_COMPANY_ID, false);
    let cut = get(&sim, &token, &path, Some(SANDBOX_COMPANY_ID)).await;
    assert_eq!(cut.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn filters_sorts_and_views() {
    let sim = Sim::start().await;
    let token = access_token(&sim).await;
    let base = format!("/rest/v1.1/projects?company_id={SANDBOX_COMPANY_ID}");
    let fetch = |extra: &str| {
        let path = format!("{base}&{extra}");
        let token = token.clone();
        let sim = &sim;
        async move { get(sim, &token, &path, Some(SANDBOX_COMPANY_ID)).await }
    };

    let sorted: Value = fetch("sort=-name").await.json().await.unwrap();
    assert_eq!(
        names(&sorted),
        [
            "Warehouse Retrofit",
            "Sandbox Test Project",
            "Riverside Medical Center",
            "Harbor Point Tower"
        ]
    );
    let by_display: Value = fetch("sort=display_name").await.json().await.unwrap();
    assert_eq!(names(&by_display)[0], "Riverside Medical Center");

    let all: Value = fetch("filters[by_status]=All").await.json().await.unwrap();
    assert_eq!(all.as_array().unwrap().len(), 5);
    let ids: Value = fetch("filters[id][]=2783002&filters[id][]=2783003")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids.as_array().unwrap().len(), 2);
    let repeated: Value = fetch("filters[id]=2783002&filters[id]=2783004")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        names(&repeated),
        ["Harbor Point Tower", "Warehouse Retrofit"]
    );
    let dated: Value = fetch("filters[created_at]=2026-02-01...2026-03-31")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dated.as_array().unwrap().len(), 2);

    let compact: Value = fetch("view=compact").await.json().await.unwrap();
    let keys: Vec<&String> = compact[0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["id", "name"]);
    let v10 = get(
        &sim,
        &token,
        &format!("/rest/v1.0/projects?company_id={SANDBOX_COMPANY_ID}&serializer_view=compact"),
        Some(SANDBOX_COMPANY_ID),
    )
    .await;
    let v10: Value = v10.json().await.unwrap();
    assert_eq!(v10[0].as_object().unwrap().len(), 3);

    let bad_sort = fetch("sort=city").await;
    assert_eq!(bad_sort.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn pages_carry_total_and_links() {
    let sim = Sim::start().await;
    let token = access_token(&sim).await;
    let page = |n: usize| {
        let path =
            format!("/rest/v1.1/projects?company_id={SANDBOX_COMPANY_ID}&per_page=1&page={n}");
        let token = token.clone();
        let sim = &sim;
        async move { get(sim, &token, &path, Some(SANDBOX_COMPANY_ID)).await }
    };
    let rels = |r: &reqwest::Response| links(r).into_iter().map(|(rel, _)| rel).collect::<Vec<_>>();

    let first = page(1).await;
    assert_eq!(first.headers()["total"], "4");
    assert_eq!(first.headers()["per-page"], "1");
    assert_eq!(rels(&first), ["next", "last"]);
    let (_, next) = links(&first)
        .into_iter()
        .find(|(rel, _)| rel == "next")
        .unwrap();
    assert!(next.starts_with("http://127.0.0.1:"), "absolute: {next}");
    assert!(next.contains(&format!("company_id={SANDBOX_COMPANY_ID}")) && next.contains("page=2"));

    assert_eq!(rels(&page(2).await), ["first", "next", "last"]);
    assert_eq!(rels(&page(3).await), ["first", "prev", "next", "last"]);
    let last = page(4).await;
    assert_eq!(rels(&last), ["first", "prev", "last"]);
    assert_eq!(
        last.json::<Value>()
            .await
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let beyond: Value = page(9).await.json().await.unwrap();
    assert_eq!(beyond, Value::Array(vec![]));
}

#[tokio::test]
async fn the_spike_limit_answers_429_with_retry_after() {
    let sim = Sim::start().await;
    sim.sim.update_config(|c| {
        c.rate_limits = Limits {
            hourly: 1000,
            spike: 3,
        }
    });
    let token = access_token(&sim).await;
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let r = get(&sim, &token, "/rest/v1.0/companies", None).await;
        assert_eq!(r.status(), StatusCode::OK);
        remaining.push(
            r.headers()["x-rate-limit-remaining"]
                .to_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let limited = get(&sim, &token, "/rest/v1.0/companies", None).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: i64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry_after));
    assert_eq!(limited.headers()["x-rate-limit-remaining"], "0");
}

#[tokio::test]
async fn projects_show_create_and_update_but_never_delete() {
    let sim = Sim::start().await;
    let token = access_token(&sim).await;
    let send = |method: reqwest::Method, path: &str, body: Option<Value>| {
        let mut request = sim
            .http
            .request(method, sim.url(SANDBOX, path))
            .bearer_auth(&token)
            .header("Procore-Company-Id", SANDBOX_COMPANY_ID.to_string());
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send()
    };
    use reqwest::Method;
    use serde_json::json;

    let shown = send(
        Method::GET,
        &format!("/rest/v1.0/projects/2783001?company_id={SANDBOX_COMPANY_ID}"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        shown.json::<Value>().await.unwrap()["display_name"],
        "1234 - Sandbox Test Project"
    );
    let no_company = send(Method::GET, "/rest/v1.0/projects/2783001", None)
        .await
        .unwrap();
    assert_eq!(no_company.status(), StatusCode::BAD_REQUEST);

    let unnamed = send(
        Method::POST,
        "/rest/v1.0/projects",
        Some(json!({ "company_id": SANDBOX_COMPANY_ID, "project": { "project_number": "55" } })),
    )
    .await
    .unwrap();
    assert_eq!(unnamed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let created = send(
        Method::POST,
        "/rest/v1.0/projects",
        Some(json!({ "company_id": SANDBOX_COMPANY_ID, "project": { "name": "Bridge Deck", "project_number": "55" } })),
    )
    .await
    .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let project: Value = created.json().await.unwrap();
    assert_eq!(project["display_name"], "55 - Bridge Deck");
    let id = project["id"].as_u64().unwrap();

    let renamed = send(
        Method::PATCH,
        &format!("/rest/v1.0/projects/{id}"),
        Some(json!({ "company_id": SANDBOX_COMPANY_ID, "project": { "name": "Bridge Deck Repair" } })),
    )
    .await
    .unwrap();
    assert_eq!(
        renamed.json::<Value>().await.unwrap()["display_name"],
        "55 - Bridge Deck Repair"
    );

    let deleted = send(Method::DELETE, &format!("/rest/v1.0/projects/{id}"), None)
        .await
        .unwrap();
    assert!(
        deleted.status().is_client_error(),
        "Procore has no project delete"
    );
    let listed = get(
        &sim,
        &token,
        &format!("/rest/v1.1/projects?company_id={SANDBOX_COMPANY_ID}"),
        Some(SANDBOX_COMPANY_ID),
    )
    .await;
    assert_eq!(listed.headers()["total"], "5");
}
