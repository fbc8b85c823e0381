//! Folders and files over real HTTP (procore-api.md §3.13).

mod common;

use common::*;
use procore_sim::data::{SANDBOX_COMPANY_ID, SANDBOX_PROJECT_ID};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

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

async fn json(response: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    response.json().await.unwrap()
}

#[tokio::test]
async fn folders_are_created_renamed_moved_and_recycled() {
    let sim = Sim::start().await;
    let api = sim.api().await;
    let p = SANDBOX_PROJECT_ID;
    let folders = format!("/rest/v1.0/folders?project_id={p}");
    let root = json(api.get(&folders).await, StatusCode::OK).await;
    let drawings = root["folders"][0]["id"].as_u64().unwrap();

    let created = api
        .send_json(
            Method::POST,
            &folders,
            &json!({ "folder": { "name": "Submittals" } }),
        )
        .await;
    let created = json(created, StatusCode::CREATED).await;
    assert_eq!(
        created["parent_id"], root["id"],
        "new folders go under the root"
    );
    assert_eq!(created["name_with_path"], "Submittals");
    let id = created["id"].as_u64().unwrap();

    let clash = api
        .send_json(
            Method::POST,
            &folders,
            &json!({ "folder": { "name": "submittals" } }),
        )
        .await;
    let clash = json(clash, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(clash["errors"]["name"][0], "has already been taken");
    for bad in [json!({ "name": " " }), json!({ "name": "a/b" }), json!({})] {
        let response = api
            .send_json(Method::POST, &folders, &json!({ "folder": bad }))
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let orphan = api
        .send_json(
            Method::POST,
            &folders,
            &json!({ "folder": { "name": "Lost", "parent_id": 999_999 } }),
        )
        .await;
    assert_eq!(
        json(orphan, StatusCode::UNPROCESSABLE_ENTITY).await["errors"]["parent_id"][0],
        "is invalid"
    );
    let unwrapped = api
        .send_json(Method::POST, &folders, &json!({ "name": "x" }))
        .await;
    assert_eq!(unwrapped.status(), StatusCode::BAD_REQUEST);

    let item = format!("/rest/v1.0/folders/{id}?project_id={p}");
    let moved = api
        .send_json(
            Method::PATCH,
            &item,
            &json!({ "folder": { "name": "Shop Drawings", "parent_id": drawings } }),
        )
        .await;
    let moved = json(moved, StatusCode::OK).await;
    assert_eq!(moved["name_with_path"], "Drawings/Shop Drawings");

    // A folder cannot move below itself, and the root cannot change.
    let inner = api
        .send_json(
            Method::POST,
            &folders,
            &json!({ "folder": { "name": "Inner", "parent_id": id } }),
        )
        .await;
    let inner = json(inner, StatusCode::CREATED).await;
    assert_eq!(inner["name_with_path"], "Drawings/Shop Drawings/Inner");
    let cycle = api
        .send_json(
            Method::PATCH,
            &item,
            &json!({ "folder": { "parent_id": inner["id"] } }),
        )
        .await;
    assert_eq!(cycle.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let root_item = format!("/rest/v1.0/folders/{}?project_id={p}", root["id"]);
    let root_rename = api
        .send_json(
            Method::PATCH,
            &root_item,
            &json!({ "folder": { "name": "X" } }),
        )
        .await;
    assert_eq!(root_rename.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Deleting recycles the folder and what is inside it.
    let deleted = api.request(Method::DELETE, &item).send().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);
    assert_eq!(api.get(&item).await.status(), StatusCode::NOT_FOUND);
    let inner_item = format!("/rest/v1.0/folders/{}?project_id={p}", inner["id"]);
    assert_eq!(api.get(&inner_item).await.status(), StatusCode::NOT_FOUND);
    let index = format!("/rest/v1.0/projects/{p}/documents");
    let bin = json(
        api.get(&format!("{index}?filters[is_in_recycle_bin]=true"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(names(&bin), ["Shop Drawings", "Inner"]);
    let live = json(api.get(&index).await, StatusCode::OK).await;
    assert!(!names(&live).contains(&"Inner"));
    let drawings_now = json(
        api.get(&format!("/rest/v1.0/folders/{drawings}?project_id={p}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(drawings_now["folders"], json!([]));
    assert_eq!(
        api.request(Method::DELETE, &item)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn files_upload_as_multipart_and_gain_versions() {
    let sim = Sim::start().await;
    let api = sim.api().await;
    let p = SANDBOX_PROJECT_ID;
    let root = json(
        api.get(&format!("/rest/v1.0/folders?project_id={p}")).await,
        StatusCode::OK,
    )
    .await;
    let photos = root["folders"][2]["id"].as_u64().unwrap();
    let files = format!("/rest/v1.0/files?project_id={p}");
    let upload = |name: &'static str, bytes: &'static [u8]| {
        Form::new()
            .text("file[parent_id]", photos.to_string())
            .part("file[data]", Part::bytes(bytes).file_name(name))
    };

    let created = api
        .request(Method::POST, &files)
        .multipart(upload("Site Photo 002.jpg", b"jpeg bytes"))
        .send()
        .await
        .unwrap();
    let created = json(created, StatusCode::CREATED).await;
    assert_eq!(
        created["name"], "Site Photo 002.jpg",
        "named after the upload"
    );
    assert_eq!(created["name_with_path"], "Photos/Site Photo 002.jpg");
    assert_eq!(created["size"], 10);
    assert_eq!(created["file_type"], "jpg");
    let item = format!("/rest/v1.0/files/{}?project_id={p}", created["id"]);

    let again = api
        .request(Method::POST, &files)
        .multipart(upload("Site Photo 002.jpg", b"other"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let no_data = api
        .request(Method::POST, &files)
        .multipart(Form::new().text("file[name]", "empty.txt"))
        .send()
        .await
        .unwrap();
    let no_data = json(no_data, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(no_data["errors"]["data"][0], "can't be blank");

    let new_version = api
        .request(Method::PATCH, &item)
        .multipart(
            Form::new()
                .text("file[name]", "Site Photo 002 (north).jpg")
                .part("file[data]", Part::bytes(&b"longer jpeg bytes"[..])),
        )
        .send()
        .await
        .unwrap();
    let updated = json(new_version, StatusCode::OK).await;
    assert_eq!(
        updated["name_with_path"],
        "Photos/Site Photo 002 (north).jpg"
    );
    assert_eq!(updated["size"], 17);
    let numbers: Vec<u64> = updated["file_versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [1, 2]);

    let described = api
        .send_json(
            Method::PATCH,
            &item,
            &json!({ "file": { "description": "From the north gate" } }),
        )
        .await;
    assert_eq!(
        json(described, StatusCode::OK).await["description"],
        "From the north gate"
    );
    let folder_path = format!("/rest/v1.0/folders/{}?project_id={p}", created["id"]);
    assert_eq!(
        api.request(Method::DELETE, &folder_path)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND,
        "a file is not a folder"
    );
    let deleted = api.request(Method::DELETE, &item).send().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);
    assert_eq!(api.get(&item).await.status(), StatusCode::NOT_FOUND);
}
