//! Submittals, observations, punch items and change events over real HTTP: each with its
//! own paths, project-id placement, wrapper, required fields and delete (procore-api.md §3).

mod common;

use common::*;
use procore_sim::data::{SANDBOX_COMPANY_ID, SANDBOX_PROJECT_ID};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const P: u64 = SANDBOX_PROJECT_ID;

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

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> reqwest::Response {
        let mut request = self
            .sim
            .http
            .request(method, self.sim.url(SANDBOX, path))
            .bearer_auth(&self.token)
            .header("Procore-Company-Id", SANDBOX_COMPANY_ID.to_string());
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    async fn list(&self, path: &str) -> Vec<Value> {
        let response = self.call(Method::GET, path, None).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response
            .json::<Value>()
            .await
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }
}

fn field(records: &[Value], name: &str) -> Vec<String> {
    records
        .iter()
        .map(|r| r[name].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn submittals_live_under_the_project_path() {
    let api = Api::new().await;
    let base = format!("/rest/v1.1/projects/{P}/submittals");
    assert_eq!(
        field(&api.list(&format!("{base}?sort=-title")).await, "title"),
        ["Door hardware product data", "Concrete mix design"]
    );
    assert_eq!(
        field(
            &api.list(&format!("{base}?filters[query]=MIX")).await,
            "title"
        ),
        ["Concrete mix design"]
    );
    assert_eq!(
        api.call(Method::GET, &format!("{base}?sort=color"), None)
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );

    let invalid = api
        .call(
            Method::POST,
            &base,
            Some(json!({ "submittal": { "title": "No number" } })),
        )
        .await;
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        invalid.json::<Value>().await.unwrap()["errors"]["number"],
        json!(["can't be blank"])
    );

    let created = api
        .call(
            Method::POST,
            &base,
            Some(json!({ "submittal": { "number": "09 91 00-1", "title": "Paint colors" } })),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_u64()
        .unwrap();
    let item = format!("{base}/{id}");
    let renamed = api
        .call(
            Method::PATCH,
            &item,
            Some(json!({ "submittal": { "title": "Paint schedule" } })),
        )
        .await;
    assert_eq!(
        renamed.json::<Value>().await.unwrap()["title"],
        "Paint schedule"
    );
    assert_eq!(
        api.call(Method::DELETE, &item, None).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        api.call(Method::GET, &item, None).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn observations_take_the_project_in_query_and_body_and_delete_elsewhere() {
    let api = Api::new().await;
    let base = "/rest/v1.0/observations/items";
    assert_eq!(api.list(&format!("{base}?project_id={P}")).await.len(), 2);
    assert_eq!(
        api.call(Method::GET, base, None).await.status(),
        StatusCode::BAD_REQUEST
    );

    let missing_type = api
        .call(
            Method::POST,
            base,
            Some(json!({ "project_id": P, "observation": { "name": "Loose rebar cap" } })),
        )
        .await;
    assert_eq!(missing_type.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let created = api
        .call(
            Method::POST,
            base,
            Some(json!({ "project_id": P, "observation": { "name": "Loose rebar cap", "type_id": 11 } })),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_u64()
        .unwrap();

    let wrong_path = api
        .call(Method::DELETE, &format!("{base}/{id}?project_id={P}"), None)
        .await;
    assert!(wrong_path.status().is_client_error());
    let deleted = api
        .call(
            Method::DELETE,
            &format!("/rest/v1.0/projects/{P}/observations/items/{id}"),
            None,
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(api.list(&format!("{base}?project_id={P}")).await.len(), 2);
}

#[tokio::test]
async fn punch_items_and_change_events() {
    let api = Api::new().await;
    let punch = "/rest/v1.1/punch_items";
    let open = api
        .list(&format!("{punch}?project_id={P}&filters[status]=open"))
        .await;
    assert_eq!(field(&open, "name"), ["Touch up paint at door 101"]);
    let id = open[0]["id"].as_u64().unwrap();
    let closed = api
        .call(
            Method::PATCH,
            &format!("{punch}/{id}"),
            Some(json!({ "project_id": P, "punch_item": { "status": "closed" } })),
        )
        .await;
    assert_eq!(closed.json::<Value>().await.unwrap()["status"], "closed");
    let deleted = api
        .call(
            Method::DELETE,
            &format!("{punch}/{id}?project_id={P}"),
            None,
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::OK);

    let events = format!("/rest/v1.1/change_events?project_id={P}");
    let invalid = api
        .call(
            Method::POST,
            &events,
            Some(json!({ "change_event": { "title": "Extra" } })),
        )
        .await;
    let errors: Value = invalid.json().await.unwrap();
    assert_eq!(errors["errors"]["scope"], json!(["can't be blank"]));
    assert_eq!(errors["errors"]["status"], json!(["can't be blank"]));
    let created = api
        .call(
            Method::POST,
            &events,
            Some(json!({ "change_event": { "title": "Extra", "scope": "tbd", "status": { "id": 1 } } })),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_u64()
        .unwrap();
    let gone = api
        .call(
            Method::DELETE,
            &format!("/rest/v1.1/change_events/{id}?project_id={P}"),
            None,
        )
        .await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    assert_eq!(api.list(&events).await.len(), 1);
}
