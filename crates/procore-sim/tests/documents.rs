//! Folders and files over real HTTP (procore-api.md §3.13).

mod common;

use common::*;
use procore_sim::data::{SANDBOX_COMPANY_ID, SANDBOX_PROJECT_ID};
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

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn the_folder_tree_and_the_flat_index() {
    let sim = Sim::start().await;
    let token = sim.tokens().await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let p = SANDBOX_PROJECT_ID;

    let root: Value = get(&sim, &token, &format!("/rest/v1.0/folders?project_id={p}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        names(&root["folders"]),
        ["Drawings", "Specifications", "Photos"]
    );
    assert_eq!(root["files"], Value::Array(vec![]));
    assert_eq!(root["has_children"], true);

    let drawings_id = root["folders"][0]["id"].as_u64().unwrap();
    let drawings: Value = get(
        &sim,
        &token,
        &format!("/rest/v1.0/folders/{drawings_id}?project_id={p}"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(names(&drawings["files"]), ["A-101 Floor Plan.pdf"]);
    let file_id = drawings["files"][0]["id"].as_u64().unwrap();
    let file: Value = get(
        &sim,
        &token,
        &format!("/rest/v1.0/files/{file_id}?project_id={p}"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(file["name_with_path"], "Drawings/A-101 Floor Plan.pdf");
    assert!(file["file_versions"].is_array());
    let not_a_folder = get(
        &sim,
        &token,
        &format!("/rest/v1.0/folders/{file_id}?project_id={p}"),
    )
    .await;
    assert_eq!(not_a_folder.status(), StatusCode::NOT_FOUND);

    let index = format!("/rest/v1.0/projects/{p}/documents");
    let files = get(
        &sim,
        &token,
        &format!("{index}?filters[document_type]=file&sort=-name"),
    )
    .await;
    assert_eq!(files.headers()["total"], "3");
    let files: Value = files.json().await.unwrap();
    assert_eq!(
        names(&files),
        [
            "Site Photo 001.jpg",
            "Project Manual.pdf",
            "A-101 Floor Plan.pdf"
        ]
    );
    let in_drawings: Value = get(
        &sim,
        &token,
        &format!("{index}?filters[folder_id]={drawings_id}"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(names(&in_drawings), ["A-101 Floor Plan.pdf"]);
    let searched: Value = get(&sim, &token, &format!("{index}?filters[search]=manual"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(names(&searched), ["Project Manual.pdf"]);
    assert_eq!(
        get(&sim, &token, &format!("{index}?sort=size"))
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        get(&sim, &token, "/rest/v1.0/folders").await.status(),
        StatusCode::BAD_REQUEST
    );
}
