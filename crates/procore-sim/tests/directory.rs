//! Company users, vendors and project users over real HTTP (procore-api.md §3.3–§3.5).

mod common;

use common::*;
use procore_sim::data::{SANDBOX_COMPANY_ID, SANDBOX_PROJECT_ID, UNINSTALLED_COMPANY_ID};
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

async fn token(sim: &Sim) -> String {
    sim.tokens().await["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A write with the sandbox company's header; the status and the JSON body (null if none).
async fn send(
    sim: &Sim,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = sim
        .http
        .request(method, sim.url(SANDBOX, path))
        .bearer_auth(token)
        .header("Procore-Company-Id", SANDBOX_COMPANY_ID.to_string());
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    };
    (status, body)
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
    let base = format!("/rest/v1.0/projects/{SANDBOX_PROJECT_ID}/users");
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

fn users_path() -> String {
    format!("/rest/v1.3/companies/{SANDBOX_COMPANY_ID}/users")
}

fn project_users_path() -> String {
    format!("/rest/v1.0/projects/{SANDBOX_PROJECT_ID}/users")
}

#[tokio::test]
async fn company_users_are_created_with_derived_fields() {
    let sim = Sim::start().await;
    let token = token(&sim).await;
    let base = users_path();

    let (status, dana) = send(
        &sim,
        &token,
        Method::POST,
        &base,
        Some(json!({ "user": {
            "first_name": " Dana ",
            "last_name": "Lee",
            "email_address": "dana@example.com",
            "job_title": "Estimator",
            "vendor_id": 7002,
            "id": 1,
            "initials": "ZZ",
        } })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{dana}");
    let id = dana["id"].as_u64().unwrap();
    assert_ne!(id, 1, "the id is the simulator's");
    assert_eq!(dana["name"], "Dana Lee");
    assert_eq!(dana["initials"], "DL");
    assert_eq!(dana["is_active"], true);
    assert_eq!(dana["is_employee"], false);
    assert_eq!(
        dana["vendor"],
        json!({ "id": 7002, "name": "Bright Electric" })
    );
    assert!(dana["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(dana["created_at"], dana["updated_at"]);

    assert!(
        names(&sim, &token, &base)
            .await
            .contains(&"Dana Lee".to_string())
    );
    let (status, shown) = send(&sim, &token, Method::GET, &format!("{base}/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown, dana);
    assert_eq!(
        names(&sim, &token, &format!("{base}?filters[vendor_id]=7002")).await,
        ["Dana Lee"]
    );

    // Procore has no delete for company users.
    let (status, _) = send(&sim, &token, Method::DELETE, &format!("{base}/{id}"), None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn company_user_validation_errors_name_the_field() {
    let sim = Sim::start().await;
    let token = token(&sim).await;
    let base = users_path();
    let create = |user: Value| {
        send(
            &sim,
            &token,
            Method::POST,
            &base,
            Some(json!({ "user": user })),
        )
    };

    let (status, body) = create(json!({ "email_address": "x@example.com" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body,
        json!({ "errors": { "last_name": ["can't be blank"] } })
    );

    let (status, body) = create(json!({ "last_name": "Ng", "email_address": "  " })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body,
        json!({ "errors": { "email_address": ["can't be blank"] } })
    );

    let (status, body) =
        create(json!({ "last_name": "Ng", "email_address": "SANDBOX+ARCH@example.com" })).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "emails compare case-insensitively"
    );
    assert_eq!(
        body,
        json!({ "errors": { "email_address": ["has already been taken"] } })
    );

    let (status, body) =
        create(json!({ "last_name": "Ng", "email_address": "ng@example.com", "vendor_id": 1 }))
            .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body, json!({ "errors": { "vendor": ["must exist"] } }));

    let (status, body) = create(json!({ "first_name": "No" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body,
        json!({ "errors": { "email_address": ["can't be blank"], "last_name": ["can't be blank"] } })
    );

    assert_eq!(
        names(&sim, &token, &base).await.len(),
        3,
        "nothing was created"
    );
}

#[tokio::test]
async fn company_user_updates_recompute_the_name_everywhere() {
    let sim = Sim::start().await;
    let token = token(&sim).await;
    let person = format!("{}/4201003", users_path());

    let (status, body) = send(
        &sim,
        &token,
        Method::PATCH,
        &person,
        Some(json!({ "user": { "first_name": "Api", "last_name": "Helpdesk", "vendor_id": "7003" } })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "Api Helpdesk");
    assert_eq!(body["initials"], "AH");
    assert_eq!(
        body["email_address"], "sandbox+api@example.com",
        "untouched"
    );
    assert_eq!(body["vendor"]["name"], "Summit Glazing");
    assert_ne!(body["updated_at"], "2026-01-05T10:00:00Z");

    let (_, shown) = send(&sim, &token, Method::GET, &person, None).await;
    assert_eq!(shown["name"], "Api Helpdesk");
    let (_, member) = send(
        &sim,
        &token,
        Method::GET,
        &format!("{}/4201003", project_users_path()),
        None,
    )
    .await;
    assert_eq!(
        member["name"], "Api Helpdesk",
        "the project directory shows the same person"
    );
    assert_eq!(member["permission_template"]["name"], "Project Manager");

    for (user, field, message) in [
        (json!({ "last_name": " " }), "last_name", "can't be blank"),
        (
            json!({ "email_address": null }),
            "email_address",
            "can't be blank",
        ),
        (
            json!({ "email_address": "sandbox+sub@example.com" }),
            "email_address",
            "has already been taken",
        ),
        (json!({ "vendor_id": 999 }), "vendor", "must exist"),
    ] {
        let (status, body) = send(
            &sim,
            &token,
            Method::PATCH,
            &person,
            Some(json!({ "user": user })),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{user}");
        assert_eq!(body, json!({ "errors": { field: [message] } }));
    }

    let (status, body) = send(
        &sim,
        &token,
        Method::PATCH,
        &person,
        Some(json!({ "user": { "email_address": "SANDBOX+API@example.com", "vendor_id": null } })),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a person keeps their own email: {body}"
    );
    assert_eq!(body["vendor"], Value::Null);

    let (status, _) = send(
        &sim,
        &token,
        Method::PATCH,
        &format!("{}/1", users_path()),
        Some(json!({ "user": { "job_title": "x" } })),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn deactivated_users_move_to_the_inactive_list_until_reactivated() {
    let sim = Sim::start().await;
    let token = token(&sim).await;
    let base = users_path();
    let inactive = format!("/rest/v1.0/companies/{SANDBOX_COMPANY_ID}/users/inactive");

    let (status, body) = send(
        &sim,
        &token,
        Method::PATCH,
        &format!("{base}/4201002"),
        Some(json!({ "user": { "is_active": false } })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["is_active"], false);

    assert_eq!(
        names(&sim, &token, &format!("{base}?sort=full_name")).await,
        ["API Support", "Test Architect"]
    );
    let (status, _) = send(&sim, &token, Method::GET, &format!("{base}/4201002"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(
        &sim,
        &token,
        Method::PATCH,
        &format!("{base}/4201002"),
        Some(json!({ "user": { "is_active": true } })),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "inactive people come back through the reactivate endpoint"
    );
    assert_eq!(names(&sim, &token, &inactive).await, ["Test Subcontractor"]);
    assert!(
        !names(&sim, &token, &project_users_path())
            .await
            .contains(&"Test Subcontractor".to_string()),
        "a deactivated person leaves the project directories too"
    );

    let (status, body) = send(
        &sim,
        &token,
        Method::PATCH,
        &format!("{inactive}/4201002"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["is_active"], true);
    assert_eq!(body["name"], "Test Subcontractor");
    assert_eq!(names(&sim, &token, &base).await.len(), 3);
    assert!(names(&sim, &token, &inactive).await.is_empty());
    assert!(
        names(&sim, &token, &project_users_path())
            .await
            .contains(&"Test Subcontractor".to_string())
    );

    let (status, _) = send(
        &sim,
        &token,
        Method::PATCH,
        &format!("{inactive}/4201002"),
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "only inactive people can be reactivated"
    );
}

#[tokio::test]
async fn vendors_are_created_updated_deactivated_and_reactivated() {
    let sim = Sim::start().await;
    let token = token(&sim).await;
    let list = format!("/rest/v1.0/vendors?company_id={SANDBOX_COMPANY_ID}");
    let inactive = format!("/rest/v1.0/companies/{SANDBOX_COMPANY_ID}/vendors/inactive");

    let (status, delta) = send(
        &sim,
        &token,
        Method::POST,
        "/rest/v1.0/vendors",
        Some(json!({ "company_id": SANDBOX_COMPANY_ID, "vendor": {
            "name": "Delta Drywall",
            "city": "Ventura",
            "website": "https://delta.example.com",
            "id": 5,
            "created_at": "1999-01-01T00:00:00Z",
        } })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{delta}");
    let id = delta["id"].as_u64().unwrap();
    assert_ne!(id, 5);
    assert_eq!(delta["city"], "Ventura");
    assert_eq!(delta["is_active"], true);
    assert_ne!(delta["created_at"], "1999-01-01T00:00:00Z");

    let (status, echo) = send(
        &sim,
        &token,
        Method::POST,
        &format!("/rest/v1.0/vendors?company_id={SANDBOX_COMPANY_ID}"),
        Some(json!({ "vendor": { "name": "Echo Excavation" } })),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "company_id may come in the query: {echo}"
    );
    assert_eq!(
        names(&sim, &token, &format!("{list}&sort=name")).await,
        [
            "Acme Concrete",
            "Bright Electric",
            "Delta Drywall",
            "Echo Excavation",
            "Summit Glazing"
        ]
    );

    let (status, body) = send(
        &sim,
        &token,
        Method::POST,
        "/rest/v1.0/vendors",
        Some(json!({ "vendor": { "name": "Nowhere" } })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    for (method, path) in [
        (Method::POST, "/rest/v1.0/vendors".to_string()),
        (Method::PATCH, format!("/rest/v1.0/vendors/{id}")),
    ] {
        let (status, body) = send(
            &sim,
            &token,
            method,
            &path,
            Some(json!({ "company_id": SANDBOX_COMPANY_ID, "vendor": { "city": "Ojai" } })),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert_eq!(body, json!({ "errors": { "name": ["can't be blank"] } }));
    }

    // A rename shows on the people who work for the vendor.
    let (status, acme) = send(
        &sim,
        &token,
        Method::PATCH,
        "/rest/v1.0/vendors/7001",
        Some(json!({ "company_id": SANDBOX_COMPANY_ID, "vendor": { "name": "Acme Concrete & Paving", "zip": "93013" } })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(acme["name"], "Acme Concrete & Paving");
    assert_eq!(acme["zip"], "93013");
    assert_eq!(acme["trades"][0]["name"], "Concrete", "untouched");
    let (_, person) = send(
        &sim,
        &token,
        Method::GET,
        &format!("{}/4201002", users_path()),
        None,
    )
    .await;
    assert_eq!(person["vendor"]["name"], "Acme Concrete & Paving");

    let (status, body) = send(
        &sim,
        &token,
        Method::PATCH,
        &format!("/rest/v1.0/vendors/{id}"),
        Some(json!({ "company_id": SANDBOX_COMPANY_ID, "vendor": { "name": "Delta Drywall", "is_active": false } })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["is_active"], false);
    assert!(
        !names(&sim, &token, &list)
            .await
            .contains(&"Delta Drywall".to_string())
    );
    let show = format!("/rest/v1.0/vendors/{id}?company_id={SANDBOX_COMPANY_ID}");
    assert_eq!(
        send(&sim, &token, Method::GET, &show, None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(names(&sim, &token, &inactive).await, ["Delta Drywall"]);

    let (status, body) = send(
        &sim,
        &token,
        Method::PATCH,
        &format!("{inactive}/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["is_active"], true);
    assert_eq!(
        send(&sim, &token, Method::GET, &show, None).await.0,
        StatusCode::OK
    );
    assert!(names(&sim, &token, &inactive).await.is_empty());
    assert_eq!(
        send(
            &sim,
            &token,
            Method::PATCH,
            &format!("{inactive}/7002"),
            None
        )
        .await
        .0,
        StatusCode::NOT_FOUND,
        "an active vendor is not reactivated"
    );
}

#[tokio::test]
async fn project_users_are_created_added_updated_and_removed() {
    let sim = Sim::start().await;
    let token = token(&sim).await;
    let base = project_users_path();

    // A new person joins the company directory and the project.
    let (status, nora) = send(
        &sim,
        &token,
        Method::POST,
        &base,
        Some(json!({ "user": {
            "first_name": "Nora",
            "last_name": "Field",
            "email_address": "nora@example.com",
            "permission_template_id": 502,
            "vendor_id": 7001,
        } })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{nora}");
    let nora_id = nora["id"].as_u64().unwrap();
    assert_eq!(nora["name"], "Nora Field");
    assert_eq!(
        nora["permission_template"],
        json!({ "id": 502, "name": "Subcontractor" })
    );
    assert_eq!(nora["vendor"]["name"], "Acme Concrete");
    assert!(
        names(&sim, &token, &base)
            .await
            .contains(&"Nora Field".to_string())
    );
    let (status, company_record) = send(
        &sim,
        &token,
        Method::GET,
        &format!("{}/{nora_id}", users_path()),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(company_record["email_address"], "nora@example.com");
    assert!(
        company_record.get("permission_template").is_none(),
        "templates are per project"
    );

    let (status, body) = send(
        &sim,
        &token,
        Method::POST,
        &base,
        Some(json!({ "user": { "last_name": "Field", "email_address": "NORA@example.com", "permission_template_id": 9 } })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body,
        json!({ "errors": {
            "email_address": ["has already been taken"],
            "permission_template": ["must exist"],
        } })
    );

    // An existing company user is added, once.
    let (_, omar) = send(
        &sim,
        &token,
        Method::POST,
        &users_path(),
        Some(json!({ "user": { "first_name": "Omar", "last_name": "Diaz", "email_address": "omar@example.com" } })),
    )
    .await;
    let omar_id = omar["id"].as_u64().unwrap();
    assert!(
        !names(&sim, &token, &base)
            .await
            .contains(&"Omar Diaz".to_string())
    );
    let add = format!("{base}/{omar_id}/actions/add");
    let (status, body) = send(
        &sim,
        &token,
        Method::POST,
        &add,
        Some(json!({ "user": { "permission_template_id": 999 } })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body,
        json!({ "errors": { "permission_template": ["must exist"] } })
    );
    let (status, member) = send(
        &sim,
        &token,
        Method::POST,
        &add,
        Some(json!({ "user": { "permission_template_id": 503 } })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{member}");
    assert_eq!(member["name"], "Omar Diaz");
    assert_eq!(member["permission_template"]["name"], "Architect/Engineer");
    assert!(
        names(&sim, &token, &base)
            .await
            .contains(&"Omar Diaz".to_string())
    );
    let (status, body) = send(
        &sim,
        &token,
        Method::POST,
        &add,
        Some(json!({ "user": {} })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["errors"]["base"][0]
            .as_str()
            .unwrap()
            .contains("already")
    );
    let (status, _) = send(
        &sim,
        &token,
        Method::POST,
        &format!("{base}/1/actions/add"),
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "only company users can be added"
    );

    // Procore's add takes an optional body.
    let other_project = format!("/rest/v1.0/projects/2783002/users/{omar_id}/actions/add");
    let (status, member) = send(&sim, &token, Method::POST, &other_project, None).await;
    assert_eq!(status, StatusCode::CREATED, "{member}");
    assert_eq!(member["permission_template"], Value::Null);

    // An update changes the person in every directory they appear in.
    let (status, body) = send(
        &sim,
        &token,
        Method::PATCH,
        &format!("{base}/{omar_id}"),
        Some(json!({ "user": { "last_name": "Diaz-Ruiz", "job_title": "Inspector" } })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "Omar Diaz-Ruiz");
    assert_eq!(body["permission_template"]["name"], "Architect/Engineer");
    let (_, elsewhere) = send(
        &sim,
        &token,
        Method::GET,
        &format!("/rest/v1.0/projects/2783002/users/{omar_id}"),
        None,
    )
    .await;
    assert_eq!(elsewhere["job_title"], "Inspector");
    assert_eq!(
        elsewhere["permission_template"],
        Value::Null,
        "each project keeps its own template"
    );
    let (status, body) = send(
        &sim,
        &token,
        Method::PATCH,
        &format!("{base}/{omar_id}"),
        Some(json!({ "user": { "email_address": "" } })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body,
        json!({ "errors": { "email_address": ["can't be blank"] } })
    );

    // Removing takes the person off the project, not out of the company.
    let remove = format!("{base}/{omar_id}/actions/remove");
    let response = sim
        .http
        .delete(sim.url(SANDBOX, &remove))
        .bearer_auth(&token)
        .header("Procore-Company-Id", SANDBOX_COMPANY_ID.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.headers().contains_key("X-Rate-Limit-Remaining"));
    assert!(response.bytes().await.unwrap().is_empty());
    let (status, _) = send(
        &sim,
        &token,
        Method::GET,
        &format!("{base}/{omar_id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(&sim, &token, Method::DELETE, &remove, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not in the project any more");
    let (status, _) = send(
        &sim,
        &token,
        Method::DELETE,
        &format!("{base}/1/actions/remove"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(
        &sim,
        &token,
        Method::GET,
        &format!("{}/{omar_id}", users_path()),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn writes_need_the_wrapper_a_token_and_an_installed_app() {
    let sim = Sim::start().await;
    let token = token(&sim).await;
    let users = users_path();
    let project_users = project_users_path();

    for (method, path, wrapper) in [
        (Method::POST, users.clone(), "user"),
        (Method::PATCH, format!("{users}/4201001"), "user"),
        (
            Method::POST,
            format!("/rest/v1.0/vendors?company_id={SANDBOX_COMPANY_ID}"),
            "vendor",
        ),
        (
            Method::PATCH,
            format!("/rest/v1.0/vendors/7001?company_id={SANDBOX_COMPANY_ID}"),
            "vendor",
        ),
        (Method::POST, project_users.clone(), "user"),
        (Method::PATCH, format!("{project_users}/4201001"), "user"),
    ] {
        let message = format!("param is missing or the value is empty: {wrapper}");
        for body in [
            json!({ "last_name": "Ng", "name": "Ng" }),
            json!([1, 2]),
            json!({ wrapper: "Ng" }),
        ] {
            let (status, response) = send(&sim, &token, method.clone(), &path, Some(body)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path}");
            assert_eq!(response, json!({ "errors": message }));
        }
    }
    let (status, _) = send(
        &sim,
        &token,
        Method::POST,
        &format!("{project_users}/4201001/actions/add"),
        Some(json!([1])),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let uninstalled = format!("/rest/v1.3/companies/{UNINSTALLED_COMPANY_ID}/users");
    let user = json!({ "user": { "last_name": "Ng", "email_address": "ng@example.com" } });
    let (status, body) = send(&sim, &token, Method::POST, &uninstalled, Some(user.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["errors"], "App is not connected to this company");
    let (status, _) = send(
        &sim,
        &token,
        Method::POST,
        "/rest/v1.0/vendors",
        Some(json!({ "company_id": UNINSTALLED_COMPANY_ID, "vendor": { "name": "Ng" } })),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = send(
        &sim,
        &token,
        Method::PATCH,
        &format!("/rest/v1.0/companies/{UNINSTALLED_COMPANY_ID}/users/inactive/4201001"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = send(
        &sim,
        &token,
        Method::POST,
        "/rest/v1.0/projects/2783101/users",
        Some(user.clone()),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a project outside the header's company"
    );

    let anonymous = sim
        .http
        .post(sim.url(SANDBOX, &users))
        .json(&user)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let headerless = sim
        .http
        .post(sim.url(SANDBOX, &users))
        .bearer_auth(&token)
        .json(&user)
        .send()
        .await
        .unwrap();
    assert_eq!(headerless.status(), StatusCode::BAD_REQUEST);
    assert!(headerless.headers().contains_key("X-Rate-Limit-Limit"));
    assert_eq!(
        names(&sim, &token, &users).await.len(),
        3,
        "nothing was created"
    );
}
