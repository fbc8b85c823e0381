//! Forms over real HTTP against the simulator: definitions checked against the catalogue,
//! list options that follow sort, conditions, cascades and search, the options cache, and
//! the data source's connection users.

mod common;

use common::*;
use procore_sim::data::SANDBOX_PROJECT_ID;
use procore_sim::testing::{TestSim, roomy};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn projects(source: &str, direction: &str) -> Value {
    json!({ "data_source": source, "object": "projects", "display_field": "display_name",
        "value_field": "id", "sort_by": "name", "direction": direction, "project": null,
        "conditions": [] })
}

fn rfis(source: &str, project: Value, conditions: Value) -> Value {
    json!({ "data_source": source, "object": "rfis", "display_field": "subject",
        "value_field": "id", "sort_by": "subject", "direction": "asc", "project": project,
        "conditions": conditions })
}

async fn preview(
    server: &Server,
    client: &reqwest::Client,
    binding: Value,
    request: Value,
) -> reqwest::Response {
    server
        .call(
            client,
            "preview_options",
            json!({ "binding": binding, "request": request }),
        )
        .await
}

async fn options(
    server: &Server,
    client: &reqwest::Client,
    binding: Value,
    request: Value,
) -> Value {
    let response = preview(server, client, binding, request).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn displays(page: &Value) -> Vec<String> {
    page["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["display"].as_str().unwrap().to_string())
        .collect()
}

fn request(values: Value, search: Option<&str>) -> Value {
    json!({ "values": values, "search": search, "page": 1 })
}

#[test]
fn options_follow_sort_conditions_cascades_and_search() {
    run(async {
        let sim = TestSim::start(roomy()).await;
        let server = trestle(&sim).await;
        let admin = server.client();
        server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let source = authorized(&server, &sim, &admin).await;

        let descending = options(
            &server,
            &admin,
            projects(&source, "desc"),
            request(json!([]), None),
        )
        .await;
        let ascending = options(
            &server,
            &admin,
            projects(&source, "asc"),
            request(json!([]), None),
        )
        .await;
        assert!(displays(&descending).len() > 1);
        let mut reversed = displays(&ascending);
        reversed.reverse();
        assert_eq!(displays(&descending), reversed, "Sort by name, descending");
        assert!(
            displays(&ascending)
                .iter()
                .any(|d| d == "1234 - Sandbox Test Project")
        );

        // The RFI list cascades from a Project field: nothing until a project is chosen.
        let cascade = json!({ "kind": "field", "value": "project" });
        let none = options(
            &server,
            &admin,
            rfis(&source, cascade.clone(), json!([])),
            request(json!([]), None),
        )
        .await;
        assert_eq!(none["total"], 0);
        let chosen = request(json!([["project", SANDBOX_PROJECT_ID.to_string()]]), None);
        let all = options(
            &server,
            &admin,
            rfis(&source, cascade.clone(), json!([])),
            chosen.clone(),
        )
        .await;
        assert!(all["total"].as_u64().unwrap() >= 1, "{all}");
        let subjects = displays(&all);
        let mut sorted = subjects.clone();
        sorted.sort_by_key(|s| s.to_lowercase());
        assert_eq!(subjects, sorted);

        // A condition narrows the list; a search narrows it further.
        let open = json!([{ "field": "status", "value": { "kind": "constant", "value": "open" } }]);
        let only_open = options(
            &server,
            &admin,
            rfis(&source, cascade.clone(), open),
            chosen.clone(),
        )
        .await;
        let not_open = json!([{ "field": "status", "op": "ne",
            "value": { "kind": "constant", "value": "open" } }]);
        let others = options(
            &server,
            &admin,
            rfis(&source, cascade.clone(), not_open),
            chosen.clone(),
        )
        .await;
        assert!(only_open["total"].as_u64().unwrap() >= 1, "{only_open}");
        assert_eq!(
            only_open["total"].as_u64().unwrap() + others["total"].as_u64().unwrap(),
            all["total"].as_u64().unwrap(),
            "equals and does-not-equal split the list"
        );
        // Operators Procore has no filter for are applied by the server: `contains`.
        let word = subjects[0]
            .split_whitespace()
            .last()
            .unwrap()
            .to_lowercase();
        let containing = json!([{ "field": "subject", "op": "contains",
            "value": { "kind": "constant", "value": word.to_uppercase() } }]);
        let matching = options(
            &server,
            &admin,
            rfis(&source, cascade.clone(), containing),
            chosen.clone(),
        )
        .await;
        let expected: Vec<_> = subjects
            .iter()
            .filter(|s| s.to_lowercase().contains(&word))
            .cloned()
            .collect();
        assert_eq!(displays(&matching), expected);
        let term = subjects[0]
            .split_whitespace()
            .next()
            .unwrap()
            .to_uppercase();
        let searched = options(
            &server,
            &admin,
            rfis(&source, cascade, json!([])),
            request(
                json!([["project", SANDBOX_PROJECT_ID.to_string()]]),
                Some(&term),
            ),
        )
        .await;
        assert!(displays(&searched).contains(&subjects[0]), "{searched}");
    });
}

#[test]
fn repeated_queries_come_from_the_cache_until_it_expires() {
    run(async {
        let sim = TestSim::start(roomy()).await;
        let server = trestle_with(&sim, &[("TRESTLE_PROCORE__OPTIONS_CACHE_SECONDS", "1")]).await;
        let admin = server.client();
        server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let source = authorized(&server, &sim, &admin).await;
        let endpoint = "GET /developer-sandbox/rest/v1.1/projects";
        let before = sim.requests(endpoint);

        let first = options(
            &server,
            &admin,
            projects(&source, "asc"),
            request(json!([]), None),
        )
        .await;
        let second = options(
            &server,
            &admin,
            projects(&source, "asc"),
            request(json!([]), None),
        )
        .await;
        assert_eq!(first, second);
        assert_eq!(
            sim.requests(endpoint),
            before + 1,
            "the repeat came from the cache"
        );
        // Another query is another entry.
        options(
            &server,
            &admin,
            projects(&source, "desc"),
            request(json!([]), None),
        )
        .await;
        assert_eq!(sim.requests(endpoint), before + 2);

        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        options(
            &server,
            &admin,
            projects(&source, "asc"),
            request(json!([]), None),
        )
        .await;
        assert_eq!(
            sim.requests(endpoint),
            before + 3,
            "an expired entry asks Procore again"
        );
    });
}

fn form(fields: Value) -> Value {
    json!({ "id": null, "draft": { "name": "RFI request", "fields": fields } })
}

fn list_field(id: &str, binding: Value) -> Value {
    json!({ "id": id, "label": id, "kind": "list", "required": true, "format": "dropdown",
        "list": { "kind": "data_source", "binding": binding } })
}

#[test]
fn invalid_definitions_are_refused_with_a_message() {
    run(async {
        let sim = TestSim::start(roomy()).await;
        let server = trestle(&sim).await;
        let admin = server.client();
        server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let source = authorized(&server, &sim, &admin).await;

        let mut unknown = projects(&source, "asc");
        unknown["display_field"] = json!("colour");
        let refused = server
            .call(&admin, "save_form", form(json!([list_field("p", unknown)])))
            .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused
                .text()
                .await
                .unwrap()
                .contains("“colour” is not a field of Projects")
        );

        let mut no_value = projects(&source, "asc");
        no_value["value_field"] = json!("");
        let refused = server
            .call(
                &admin,
                "save_form",
                form(json!([list_field("p", no_value)])),
            )
            .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.text().await.unwrap().contains("Value field"));

        let no_project = rfis(&source, Value::Null, json!([]));
        let refused = server
            .call(
                &admin,
                "save_form",
                form(json!([list_field("r", no_project)])),
            )
            .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.text().await.unwrap().contains("choose the project"));

        // A good one saves, cascades, and takes a submission.
        let fields = json!([
            list_field("project", projects(&source, "desc")),
            list_field(
                "rfi",
                rfis(
                    &source,
                    json!({ "kind": "field", "value": "project" }),
                    json!([])
                )
            ),
        ]);
        let saved = server.call(&admin, "save_form", form(fields)).await;
        assert_eq!(saved.status(), StatusCode::OK);
        let saved: Value = saved.json().await.unwrap();
        let form_id = saved["id"].as_str().unwrap().to_string();
        let page: Value = server
            .call(
                &admin,
                "form_options",
                json!({ "form": form_id, "field": "rfi",
                "request": request(json!([["project", SANDBOX_PROJECT_ID.to_string()]]), None) }),
            )
            .await
            .json()
            .await
            .unwrap();
        let first = &page["options"][0];
        let missing = server
            .call(
                &admin,
                "submit_form",
                json!({ "form": form_id, "answers": [
                { "field": "rfi", "value": first["value"], "display": first["display"] } ] }),
            )
            .await;
        assert_eq!(
            missing.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "the project is required"
        );
        let submitted = server
            .call(&admin, "submit_form", json!({ "form": form_id, "answers": [
                { "field": "project", "value": SANDBOX_PROJECT_ID.to_string(), "display": "1234 - Sandbox Test Project" },
                { "field": "rfi", "value": first["value"], "display": first["display"] } ] }))
            .await;
        assert_eq!(submitted.status(), StatusCode::OK);
    });
}

#[test]
fn people_outside_the_connection_users_get_an_error_instead_of_options() {
    run(async {
        let sim = TestSim::start(roomy()).await;
        let server = trestle(&sim).await;
        let admin = server.client();
        server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let source = authorized(&server, &sim, &admin).await;
        let saved: Value = server
            .call(
                &admin,
                "save_form",
                form(json!([list_field("project", projects(&source, "asc"))])),
            )
            .await
            .json()
            .await
            .unwrap();
        let form_id = saved["id"].as_str().unwrap().to_string();
        let (user, _) = server.person(&admin, "ursula@example.com", &["user"]).await;
        let (_, other_id) = server.person(&admin, "olaf@example.com", &["user"]).await;
        let ask =
            json!({ "form": form_id, "field": "project", "request": request(json!([]), None) });

        // Empty connection users: everyone signed in may read.
        assert_eq!(
            server
                .call(&user, "form_options", ask.clone())
                .await
                .status(),
            StatusCode::OK
        );

        server
            .call(
                &admin,
                "save_security",
                json!({ "id": source, "security": {
                "admins": [], "users": [["user", other_id]] } }),
            )
            .await;
        let refused = server.call(&user, "form_options", ask).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert!(refused.text().await.unwrap().contains("connection users"));
        // Designing needs the designer role.
        assert_eq!(
            preview(
                &server,
                &user,
                projects(&source, "asc"),
                request(json!([]), None)
            )
            .await
            .status(),
            StatusCode::FORBIDDEN
        );
    });
}
