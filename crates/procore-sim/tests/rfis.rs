//! RFIs over real HTTP (procore-api.md §3.6).

mod common;

use common::*;
use procore_sim::data::{SANDBOX_COMPANY_ID, SANDBOX_PROJECT_ID};
use reqwest::StatusCode;
use serde_json::{Value, json};

const HARBOR_POINT: u64 = 2_783_002;
const OTHER_COMPANY_PROJECT: u64 = 2_783_101;

struct Api {
    sim: Sim,
    token: String,
}

impl Api {
    async fn new() -> Api {
        let sim = Sim::start().await;
        let token = sim.tokens().await["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        Api { sim, token }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.sim
            .http
            .request(method, self.sim.url(SANDBOX, path))
            .bearer_auth(&self.token)
            .header("Procore-Company-Id", SANDBOX_COMPANY_ID.to_string())
    }

    async fn list(&self, project: u64, query: &str) -> reqwest::Response {
        self.request(
            reqwest::Method::GET,
            &format!("/rest/v1.0/projects/{project}/rfis?{query}"),
        )
        .send()
        .await
        .unwrap()
    }

    async fn subjects(&self, project: u64, query: &str) -> Vec<String> {
        let response = self.list(project, query).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body.as_array()
            .unwrap()
            .iter()
            .map(|r| r["subject"].as_str().unwrap().to_string())
            .collect()
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> reqwest::Response {
        self.request(method, path).json(&body).send().await.unwrap()
    }
}

#[tokio::test]
async fn lists_search_filter_and_sort() {
    let api = Api::new().await;
    assert_eq!(
        api.subjects(SANDBOX_PROJECT_ID, "").await,
        ["Clarify the door hardware schedule"]
    );
    assert_eq!(
        api.subjects(HARBOR_POINT, "search=SLAB").await,
        ["Level 3 slab penetration"]
    );
    assert_eq!(
        api.subjects(HARBOR_POINT, "filters[status]=draft").await,
        ["Lobby stone finish"]
    );
    assert_eq!(
        api.subjects(HARBOR_POINT, "sort[attribute]=subject&sort[direction]=desc")
            .await,
        [
            "Lobby stone finish",
            "Level 3 slab penetration",
            "Curtain wall anchor spacing"
        ]
    );
    assert_eq!(
        api.subjects(HARBOR_POINT, "sort[attribute]=number&sort[direction]=desc")
            .await[0],
        "Lobby stone finish"
    );
    let bad = api.list(HARBOR_POINT, "sort[attribute]=color").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    // A project of another company is invisible, and the company header is required.
    assert_eq!(
        api.list(OTHER_COMPANY_PROJECT, "").await.status(),
        StatusCode::NOT_FOUND
    );
    let no_header = api
        .sim
        .http
        .get(api.sim.url(
            SANDBOX,
            &format!("/rest/v1.0/projects/{SANDBOX_PROJECT_ID}/rfis"),
        ))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(no_header.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn create_validates_then_creates() {
    let api = Api::new().await;
    let path = format!("/rest/v1.0/projects/{SANDBOX_PROJECT_ID}/rfis");

    let unwrapped = api
        .send(reqwest::Method::POST, &path, json!({ "subject": "x" }))
        .await;
    assert_eq!(unwrapped.status(), StatusCode::BAD_REQUEST);

    let invalid = api
        .send(
            reqwest::Method::POST,
            &path,
            json!({ "rfi": { "subject": " " } }),
        )
        .await;
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let errors: Value = invalid.json().await.unwrap();
    assert_eq!(errors["errors"]["subject"], json!(["can't be blank"]));
    assert_eq!(errors["errors"]["rfi_manager"], json!(["must exist"]));
    assert_eq!(errors["errors"]["question"], json!(["can't be blank"]));

    let created = api
        .send(
            reqwest::Method::POST,
            &path,
            json!({ "rfi": {
                "subject": "Fire damper access",
                "rfi_manager_id": 4201001,
                "question": { "body": "Where do the access panels go?" },
                "due_date": "2026-07-01"
            } }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let rfi: Value = created.json().await.unwrap();
    assert_eq!(rfi["number"], "2");
    assert_eq!(rfi["status"], "open");
    assert_eq!(rfi["rfi_manager"]["name"], "Test Architect");
    assert_eq!(
        rfi["questions"][0]["body"],
        "Where do the access panels go?"
    );

    let listed = api.list(SANDBOX_PROJECT_ID, "").await;
    assert_eq!(listed.headers()["total"], "2");
    let shown = api
        .request(reqwest::Method::GET, &format!("{path}/{}", rfi["id"]))
        .send()
        .await
        .unwrap();
    assert_eq!(shown.json::<Value>().await.unwrap(), rfi);
}

#[tokio::test]
async fn update_changes_fields_and_there_is_no_delete() {
    let api = Api::new().await;
    let list: Value = api.list(HARBOR_POINT, "").await.json().await.unwrap();
    let id = list[0]["id"].as_u64().unwrap();
    let path = format!("/rest/v1.0/projects/{HARBOR_POINT}/rfis/{id}");

    let closed = api
        .send(
            reqwest::Method::PATCH,
            &path,
            json!({ "rfi": { "status": "closed" } }),
        )
        .await;
    assert_eq!(closed.status(), StatusCode::OK);
    assert_eq!(closed.json::<Value>().await.unwrap()["status"], "closed");

    let invalid = api
        .send(
            reqwest::Method::PATCH,
            &path,
            json!({ "rfi": { "status": "done", "due_date": "2026-13-01" } }),
        )
        .await;
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let errors: Value = invalid.json().await.unwrap();
    assert!(errors["errors"]["status"].is_array() && errors["errors"]["due_date"].is_array());

    let missing = api
        .send(
            reqwest::Method::PATCH,
            &format!("/rest/v1.0/projects/{HARBOR_POINT}/rfis/1"),
            json!({ "rfi": { "status": "closed" } }),
        )
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let delete = api
        .request(reqwest::Method::DELETE, &path)
        .send()
        .await
        .unwrap();
    assert!(
        delete.status().is_client_error(),
        "Procore has no RFI delete: {}",
        delete.status()
    );
    assert_eq!(api.list(HARBOR_POINT, "").await.headers()["total"], "3");
}

#[tokio::test]
async fn scale_adds_a_project_with_that_many_rfis_the_same_for_the_same_seed() {
    use procore_sim::data::{Dataset, SCALE_PROJECT_ID};
    let a = Dataset::seed(7, 2500);
    let b = Dataset::seed(7, 2500);
    let c = Dataset::seed(8, 2500);
    let scale = |d: &Dataset| {
        d.rfis
            .iter()
            .filter(|r| r["project_id"] == SCALE_PROJECT_ID)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(scale(&a).len(), 2500);
    assert_eq!(scale(&a), scale(&b));
    assert_ne!(scale(&a), scale(&c));
    assert!(a.project(SCALE_PROJECT_ID).is_some());
    assert!(Dataset::seed(7, 0).project(SCALE_PROJECT_ID).is_none());

    // Read through the API, page by page, every record comes back exactly once.
    let sim = Sim::start_with(procore_sim::SimConfig {
        scale: 2500,
        ..Default::default()
    })
    .await;
    let token = sim.tokens().await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let mut seen = std::collections::BTreeSet::new();
    for page in 1..=3 {
        let response = sim
            .http
            .get(sim.url(
                SANDBOX,
                &format!("/rest/v1.0/projects/{SCALE_PROJECT_ID}/rfis?per_page=1000&page={page}"),
            ))
            .bearer_auth(&token)
            .header("Procore-Company-Id", SANDBOX_COMPANY_ID.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["total"], "2500");
        let body: Value = response.json().await.unwrap();
        for rfi in body.as_array().unwrap() {
            assert!(seen.insert(rfi["id"].as_u64().unwrap()));
        }
    }
    assert_eq!(seen.len(), 2500);
}
