//! Data rules over real HTTP against the simulator: a submission finds a project, creates
//! an RFI in it and gets the RFI's number back; a rule that fails keeps the submission for
//! a retry that does not repeat what already ran; rights are the submitter's; update and
//! delete rules change and remove the record a form field names.

mod common;

use common::*;
use procore_sim::testing::{TestSim, roomy};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn text(id: &str, label: &str) -> Value {
    json!({ "id": id, "label": label, "kind": "text", "required": false, "list": null,
        "format": "dropdown" })
}

/// Test Architect, a sandbox project user who may manage RFIs.
const ARCHITECT: &str = "4201001";

fn constant(value: &str) -> Value {
    json!({ "kind": "constant", "value": value })
}

fn field(id: &str) -> Value {
    json!({ "kind": "field", "value": id })
}

/// Find the project by name, create an RFI in it, copy the RFI's number and id back.
fn rfi_form(source: &str, name: &str, find_on_error: &str) -> Value {
    json!({ "name": name, "fields": [
        text("project", "Project name"), text("subject", "Subject"),
        text("projectid", "Project id"), text("number", "RFI number"), text("rfiid", "RFI id"),
    ], "rules": [
        { "id": "r1", "action": "find", "data_source": source, "object": "projects",
          "conditions": [{ "field": "name", "op": "eq", "value": field("project") }],
          "outputs": [{ "field": "id", "into": "projectid" }], "on_error": find_on_error },
        { "id": "r2", "action": "create", "data_source": source, "object": "rfis",
          "project": field("projectid"),
          "inputs": [{ "attribute": "subject", "value": field("subject") },
            { "attribute": "question.body", "value": constant("Please confirm.") },
            { "attribute": "rfi_manager_id", "value": constant(ARCHITECT) }],
          "outputs": [{ "field": "number", "into": "number" }, { "field": "id", "into": "rfiid" }] },
    ] })
}

async fn save(server: &Server, client: &reqwest::Client, draft: Value) -> reqwest::Response {
    server
        .call(client, "save_form", json!({ "id": null, "draft": draft }))
        .await
}

async fn saved(server: &Server, client: &reqwest::Client, draft: Value) -> String {
    let response = save(server, client, draft).await;
    assert_eq!(response.status(), StatusCode::OK);
    let form: Value = response.json().await.unwrap();
    form["id"].as_str().unwrap().to_string()
}

async fn submit(
    server: &Server,
    client: &reqwest::Client,
    form: &str,
    answers: &[(&str, &str)],
) -> Value {
    let answers: Vec<Value> = answers
        .iter()
        .map(|(f, v)| json!({ "field": f, "value": v, "display": v }))
        .collect();
    let response = server
        .call(
            client,
            "submit_form",
            json!({ "form": form, "answers": answers }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn answer<'a>(submission: &'a Value, field: &str) -> &'a str {
    submission["answers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["field"] == field)
        .and_then(|a| a["value"].as_str())
        .unwrap_or("")
}

/// RFIs of a project whose subject is `subject`, read through the records API.
async fn rfis_titled(
    server: &Server,
    client: &reqwest::Client,
    source: &str,
    project: u64,
    subject: &str,
) -> Vec<Value> {
    let response = server
        .call(
            client,
            "list_records",
            json!({ "scope": { "data_source": source, "object": "rfis", "project": project },
                "query": { "filters": [{ "field": "subject", "op": "eq", "value": subject }],
                    "per_page": 100 } }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let page: Value = response.json().await.unwrap();
    page["records"].as_array().unwrap().clone()
}

#[test]
fn a_submission_finds_creates_and_reads_back() {
    run(async {
        let sim = TestSim::start(roomy()).await;
        let server = trestle(&sim).await;
        let admin = server.client();
        server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let source = authorized(&server, &sim, &admin).await;
        let form = saved(&server, &admin, rfi_form(&source, "RFI request", "stop")).await;

        let done = submit(
            &server,
            &admin,
            &form,
            &[
                ("project", "Harbor Point Tower"),
                ("subject", "Anchor bolt spacing"),
            ],
        )
        .await;
        assert_eq!(done["state"], "done", "{done}");
        assert_eq!(done["completed"], 2);
        assert_eq!(answer(&done, "projectid"), "2783002");
        let number = answer(&done, "number");
        assert!(!number.is_empty(), "{done}");
        let created = rfis_titled(&server, &admin, &source, 2_783_002, "Anchor bolt spacing").await;
        assert_eq!(created.len(), 1);
        assert_eq!(created[0]["number"].as_str().unwrap_or_default(), number);
        assert_eq!(
            created[0]["id"].as_u64().unwrap().to_string(),
            answer(&done, "rfiid")
        );

        // The submissions list shows it, with what the rules wrote back.
        let list: Value = server
            .call(&admin, "form_submissions", json!({ "form": form }))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert_eq!(answer(&list[0], "number"), number);
        assert_eq!(list[0]["can_retry"], false);
        let again = server
            .call(&admin, "retry_submission", json!({ "id": done["id"] }))
            .await;
        assert_eq!(again.status(), StatusCode::CONFLICT, "nothing to retry");
    });
}

#[test]
fn a_failed_rule_keeps_the_submission_and_a_retry_resumes_where_it_stopped() {
    run(async {
        let sim = TestSim::start(roomy()).await;
        let server = trestle(&sim).await;
        let admin = server.client();
        server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let source = authorized(&server, &sim, &admin).await;
        let form = saved(&server, &admin, rfi_form(&source, "RFI request", "stop")).await;
        let creates = "POST /developer-sandbox/rest/v1.0/projects/{project_id}/rfis";
        let finds = "GET /developer-sandbox/rest/v1.1/projects";

        // Procore fails every call: the find (rule 1) fails, nothing is created.
        sim.sim.update_config(|c| c.faults.error_rate = 1.0);
        let failed = submit(
            &server,
            &admin,
            &form,
            &[
                ("project", "Harbor Point Tower"),
                ("subject", "Level 4 embed plates"),
            ],
        )
        .await;
        assert_eq!(failed["state"], "failed", "{failed}");
        assert_eq!(failed["completed"], 0);
        assert_eq!(failed["can_retry"], true);
        let message = failed["messages"][0].as_str().unwrap();
        assert!(
            message.starts_with("Rule 1 (Find items, Projects)"),
            "{message}"
        );
        assert!(message.contains("unavailable"), "{message}");
        assert_eq!(answer(&failed, "subject"), "Level 4 embed plates");
        assert_eq!(sim.requests(creates), 0);

        // Procore is back: the retry runs both rules once.
        sim.sim.update_config(|c| c.faults.error_rate = 0.0);
        let finds_before = sim.requests(finds);
        let retried: Value = server
            .call(&admin, "retry_submission", json!({ "id": failed["id"] }))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(retried["state"], "done", "{retried}");
        assert_eq!(retried["messages"], json!([]));
        assert!(!answer(&retried, "number").is_empty());
        assert_eq!(sim.requests(creates), 1);
        assert_eq!(sim.requests(finds), finds_before + 1);

        // A create refused by the catalogue (no subject) stops at rule 2; the retry after
        // it starts at rule 2, so the find does not run again.
        let no_subject = submit(&server, &admin, &form, &[("project", "Harbor Point Tower")]).await;
        assert_eq!(no_subject["state"], "failed");
        assert_eq!(no_subject["completed"], 1);
        assert_eq!(answer(&no_subject, "projectid"), "2783002");
        assert!(
            no_subject["messages"][0]
                .as_str()
                .unwrap()
                .contains("subject"),
            "{no_subject}"
        );
        let finds_before = sim.requests(finds);
        let still: Value = server
            .call(
                &admin,
                "retry_submission",
                json!({ "id": no_subject["id"] }),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(still["state"], "failed");
        assert_eq!(still["completed"], 1);
        assert_eq!(sim.requests(finds), finds_before, "rule 1 is not run again");
        assert_eq!(sim.requests(creates), 1);
    });
}

#[test]
fn rules_run_with_the_submitters_rights_and_may_go_on_after_an_error() {
    run(async {
        let sim = TestSim::start(roomy()).await;
        let server = trestle(&sim).await;
        let admin = server.client();
        server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let source = authorized(&server, &sim, &admin).await;
        // Rule 1 finds nothing and goes on after errors; rule 2 then has no project.
        let form = saved(&server, &admin, rfi_form(&source, "Lenient", "continue")).await;
        let (user, _) = server.person(&admin, "ursula@example.com", &["user"]).await;
        let (other, other_id) = server.person(&admin, "olaf@example.com", &["user"]).await;

        let missing = submit(
            &server,
            &user,
            &form,
            &[("project", "No such project"), ("subject", "Hello")],
        )
        .await;
        assert_eq!(missing["state"], "failed");
        assert_eq!(missing["completed"], 1, "nothing found is not an error");
        assert!(
            missing["messages"][0]
                .as_str()
                .unwrap()
                .contains("No project id"),
            "{missing}"
        );
        // Someone else's submission is not theirs to see or retry.
        let theirs = server
            .call(&other, "retry_submission", json!({ "id": missing["id"] }))
            .await;
        assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
        let listed: Value = server
            .call(&other, "form_submissions", json!({ "form": form }))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(listed, json!([]));

        // Only Olaf (and the administrators) may use the data source now: Ursula's rules
        // are refused, and her answers are kept.
        let security = server
            .call(
                &admin,
                "save_security",
                json!({ "id": source, "security": { "admins": [], "users": [["user", other_id]] } }),
            )
            .await;
        assert_eq!(security.status(), StatusCode::OK);
        let refused = submit(
            &server,
            &user,
            &form,
            &[("project", "Harbor Point Tower"), ("subject", "Refused")],
        )
        .await;
        assert_eq!(refused["state"], "failed");
        let messages = refused["messages"].as_array().unwrap();
        assert!(
            messages[0].as_str().unwrap().contains("may not use"),
            "{refused}"
        );
        assert_eq!(answer(&refused, "subject"), "Refused");
    });
}

/// A change that breaks a form definition.
type Edit = fn(&mut Value);

#[test]
fn rules_are_checked_when_the_form_is_saved() {
    run(async {
        let sim = TestSim::start(roomy()).await;
        let server = trestle(&sim).await;
        let admin = server.client();
        server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let source = authorized(&server, &sim, &admin).await;
        let refused = |mut draft: Value, edit: Edit| {
            edit(&mut draft);
            draft
        };
        let cases: [(Edit, &str); 4] = [
            (
                |d| d["rules"][1]["inputs"][0]["attribute"] = json!("nonsense"),
                "no field “nonsense”",
            ),
            (
                |d| d["rules"][0]["object"] = json!("unicorns"),
                "not a Procore object",
            ),
            (
                |d| {
                    d["rules"][1]["action"] = json!("delete");
                    d["rules"][1]["object"] = json!("projects");
                    d["rules"][1]["record"] = json!({ "kind": "constant", "value": "1" });
                    d["rules"][1]["inputs"] = json!([]);
                    d["rules"][1]["outputs"] = json!([]);
                },
                "does not allow",
            ),
            (
                |d| d["rules"][1]["outputs"][0]["into"] = json!("gone"),
                "not on the form",
            ),
        ];
        for (edit, expected) in cases {
            let response = save(
                &server,
                &admin,
                refused(rfi_form(&source, "Broken", "stop"), edit),
            )
            .await;
            assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
            let body = response.text().await.unwrap();
            assert!(body.contains(expected), "{expected}: {body}");
        }
    });
}

/// Punch items of the sandbox project, which Procore lets one create, update and delete.
const SANDBOX_PROJECT: &str = "2783001";

async fn punch_item(
    server: &Server,
    client: &reqwest::Client,
    source: &str,
    id: &str,
) -> reqwest::Response {
    let scope = json!({ "data_source": source, "object": "punch_items", "project": 2_783_001 });
    server
        .call(
            client,
            "get_record",
            json!({ "scope": scope, "id": id.parse::<u64>().unwrap() }),
        )
        .await
}

#[test]
fn update_and_delete_rules_change_and_remove_the_record_they_name() {
    run(async {
        let sim = TestSim::start(roomy()).await;
        let server = trestle(&sim).await;
        let admin = server.client();
        server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let source = authorized(&server, &sim, &admin).await;
        let rule = |id: &str, action: &str| {
            json!({ "id": id, "action": action, "data_source": source, "object": "punch_items",
                "project": constant(SANDBOX_PROJECT) })
        };
        let mut create = rule("r1", "create");
        create["inputs"] = json!([{ "attribute": "name", "value": field("name") }]);
        create["outputs"] = json!([{ "field": "id", "into": "item" }]);
        // The update names the record the create just made, through the form field.
        let mut update = rule("r2", "update");
        update["record"] = field("item");
        update["inputs"] = json!([{ "attribute": "name", "value": field("renamed") }]);
        update["outputs"] = json!([{ "field": "name", "into": "stored" }]);
        let writes = saved(
            &server,
            &admin,
            json!({ "name": "Punch list", "fields": [
            text("name", "Name"), text("renamed", "New name"), text("item", "Item id"),
            text("stored", "Stored name"),
        ], "rules": [create, update] }),
        )
        .await;

        let done = submit(
            &server,
            &admin,
            &writes,
            &[
                ("name", "Touch up paint"),
                ("renamed", "Touch up paint, level 2"),
            ],
        )
        .await;
        assert_eq!(done["state"], "done", "{done}");
        assert_eq!(done["completed"], 2);
        assert_eq!(answer(&done, "stored"), "Touch up paint, level 2");
        let item = answer(&done, "item").to_string();
        let read: Value = punch_item(&server, &admin, &source, &item)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(read["name"], "Touch up paint, level 2", "{read}");

        let mut delete = rule("r1", "delete");
        delete["record"] = field("item");
        let removes = saved(
            &server,
            &admin,
            json!({ "name": "Remove punch item",
            "fields": [text("item", "Item id")], "rules": [delete] }),
        )
        .await;
        let deletes = "DELETE /developer-sandbox/rest/v1.1/punch_items/{id}";
        let before = sim.requests(deletes);
        let done = submit(&server, &admin, &removes, &[("item", &item)]).await;
        assert_eq!(done["state"], "done", "{done}");
        assert_eq!(sim.requests(deletes), before + 1);
        assert_eq!(
            punch_item(&server, &admin, &source, &item).await.status(),
            StatusCode::NOT_FOUND
        );

        // Deleting it again fails the rule and keeps the submission for a retry.
        let again = submit(&server, &admin, &removes, &[("item", &item)]).await;
        assert_eq!(again["state"], "failed", "{again}");
        assert_eq!(again["can_retry"], true);
        assert_eq!(answer(&again, "item"), item);
    });
}
