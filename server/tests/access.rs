//! The authorization matrix (issue 10), built from what the server really serves: every
//! registered server function × each kind of caller, every server function that checks a
//! data source's rights × someone without them, and every route of the REST API's OpenAPI
//! document × no token and a token without rights. A new server function fails here until
//! it is classified in `app::api::access::ENDPOINTS`; a new data-source-scoped one until it
//! has sample arguments below. Run with `--nocapture` to see every call and its status.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use app::api::access::{Access, ENDPOINTS, Scope};
use app::error::AppError;
use app::model::Role;
use common::*;
use procore_sim::data::SANDBOX_PROJECT_ID;
use procore_sim::testing::{TestSim, roomy};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "a password of my own";

/// The server functions this binary registered, as `/api/<endpoint>` paths.
fn registered() -> BTreeMap<String, String> {
    leptos::server_fn::axum::server_fn_paths()
        .map(|(path, method)| (path.to_string(), method.to_string()))
        .collect()
}

#[test]
fn the_table_classifies_exactly_the_registered_server_functions() {
    let registered = registered();
    for (path, method) in &registered {
        println!("registered {method} {path}");
        assert!(
            path.starts_with("/api/") && !path.starts_with("/api/v1"),
            "{path} is outside /api/ (or inside the REST API's /api/v1), where the gate does not look"
        );
    }
    let served: BTreeSet<&str> = registered
        .keys()
        .map(|p| p.trim_start_matches("/api/"))
        .collect();
    let table: BTreeSet<&str> = ENDPOINTS.iter().map(|e| e.name).collect();
    let unclassified: Vec<_> = served.difference(&table).collect();
    let stale: Vec<_> = table.difference(&served).collect();
    assert!(
        unclassified.is_empty(),
        "server functions missing from app::api::access::ENDPOINTS (the gate refuses them): {unclassified:?}"
    );
    assert!(
        stale.is_empty(),
        "ENDPOINTS names server functions that do not exist: {stale:?}"
    );
    assert_eq!(ENDPOINTS.len(), registered.len(), "each endpoint once");
    println!("{} server functions, all classified", registered.len());
}

// ---------------------------------------------------------------------------------------
// Every server function × each kind of caller

/// Someone who calls: a client with their session (none for the anonymous), and how to
/// open another session for them (for `sign_out`, which ends the one it is called with).
struct Caller {
    label: &'static str,
    client: Client,
    login: Option<(String, String)>,
}

impl Caller {
    async fn session(&self, server: &Server, endpoint: &str) -> Client {
        match (&self.login, endpoint) {
            (Some((email, password)), "sign_out") => {
                let client = server.client();
                let signed_in = server.sign_in(&client, email, password).await;
                assert!(signed_in.status().is_redirection() || signed_in.status().is_success());
                client
            }
            _ => self.client.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Unauthenticated,
    Forbidden,
    /// Past the gate: anything but 401 and 403 (the arguments may still be wrong).
    Through,
}

/// A refusal must be the server function error the browser's client decodes, and nothing
/// else; anything else just must not be a refusal.
async fn holds(response: reqwest::Response, expect: Expect) -> (StatusCode, Result<(), String>) {
    let status = response.status();
    let header = response
        .headers()
        .get("serverfnerror")
        .map(|v| v.to_str().unwrap_or_default().to_string());
    let body = response.text().await.unwrap_or_default();
    let refusal = |wanted: StatusCode, error: AppError| {
        if status != wanted {
            return Err(format!("expected {wanted}, got {status}: {body}"));
        }
        match serde_json::from_str::<AppError>(&body) {
            Ok(got) if got == error => {}
            _ => {
                return Err(format!(
                    "body is not {error:?} as a server function sends it: {body}"
                ));
            }
        }
        if header.is_none() {
            return Err("no serverfnerror header".into());
        }
        Ok(())
    };
    let verdict = match expect {
        Expect::Unauthenticated => refusal(StatusCode::UNAUTHORIZED, AppError::Unauthenticated),
        Expect::Forbidden => refusal(StatusCode::FORBIDDEN, AppError::Forbidden),
        Expect::Through
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN =>
        {
            Err(format!("refused with {status}: {body}"))
        }
        Expect::Through => Ok(()),
    };
    (status, verdict)
}

/// A new person with `roles` signed in with the one-time password they were given, which
/// they have not replaced yet. Returns their client and that password.
async fn with_one_time_password(
    server: &Server,
    admin: &Client,
    email: &str,
    roles: &[&str],
) -> (Client, String) {
    let created = server
        .call(
            admin,
            "create_user",
            json!({ "draft": { "email": email, "name": email, "roles": roles } }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::OK);
    let created: Value = created.json().await.unwrap();
    let one_time = created["one_time_password"].as_str().unwrap().to_string();
    let client = server.client();
    server.sign_in(&client, email, &one_time).await;
    (client, one_time)
}

#[test]
fn every_server_function_refuses_the_wrong_caller_before_reading_arguments() {
    run(async {
        let server = Server::start().await;
        let admin = server.client();
        server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let person = |email: &'static str, roles: &'static [&'static str], label| {
            let server = &server;
            let admin = &admin;
            async move {
                let (client, _) = server.person(admin, email, roles).await;
                Caller {
                    label,
                    client,
                    login: Some((email.to_string(), PASSWORD.to_string())),
                }
            }
        };
        let anonymous = Caller {
            label: "anonymous",
            client: server.client(),
            login: None,
        };
        let user = person("user@example.com", &["user"], "user (no other role)").await;
        let designer = person("designer@example.com", &["designer"], "designer").await;
        let manager = person("manager@example.com", &["data_source_manager"], "manager").await;
        let administrator = Caller {
            label: "administrator",
            client: admin.clone(),
            login: Some((ADMIN_EMAIL.to_string(), ADMIN_PASSWORD.to_string())),
        };
        let (fresh, one_time) =
            with_one_time_password(&server, &admin, "fresh@example.com", &["administrator"]).await;
        let fresh = Caller {
            label: "admin, one-time password",
            client: fresh,
            login: Some(("fresh@example.com".to_string(), one_time)),
        };
        let holder = |role: Role| match role {
            Role::Administrator => &administrator,
            Role::DataSourceManager => &manager,
            Role::Designer => &designer,
            Role::User => &user,
        };

        let mut failures = Vec::new();
        let mut report = |endpoint: &str, access: &str, caller: &str, status, verdict| {
            let mark = match &verdict {
                Ok(()) => "ok".to_string(),
                Err(why) => format!("FAILED: {why}"),
            };
            println!("{endpoint:<22} {access:<25} {caller:<34} {status} {mark}");
            if let Err(why) = verdict {
                failures.push(format!("{endpoint} as {caller}: {why}"));
            }
        };

        for (path, _) in registered() {
            let name = path.trim_start_matches("/api/");
            // Unclassified ones are refused for everyone (the test above names them).
            let access = app::api::access::endpoint(name).map(|e| e.access);
            let refused_for_all = access.is_none();
            let shown = access.map_or_else(|| "UNCLASSIFIED".to_string(), |a| format!("{a:?}"));
            let access = access.unwrap_or(Access::Role(Role::Administrator));

            // Anonymous, as JSON and as an empty form: arguments never matter.
            let expect = match (refused_for_all, access) {
                (true, _) => Expect::Forbidden,
                (_, Access::Public) => Expect::Through,
                _ => Expect::Unauthenticated,
            };
            let client = anonymous.session(&server, name).await;
            let (status, verdict) =
                holds(server.call(&client, name, json!({})).await, expect).await;
            report(name, &shown, "anonymous, JSON {}", status, verdict);
            let empty_form = client
                .post(server.url(&path))
                .header("content-type", "application/x-www-form-urlencoded")
                .send()
                .await
                .unwrap();
            let (status, verdict) = holds(empty_form, expect).await;
            report(name, &shown, "anonymous, empty form", status, verdict);

            let mut callers = vec![(&user, matches!(access, Access::Role(_)))];
            if let Access::Role(role) = access
                && role != Role::User
            {
                callers.push((holder(role), false));
            }
            callers.push((&fresh, !matches!(access, Access::Public | Access::Session)));
            for (caller, forbidden) in callers {
                let expect = if forbidden || refused_for_all {
                    Expect::Forbidden
                } else {
                    Expect::Through
                };
                let client = caller.session(&server, name).await;
                let response = server.call(&client, name, json!({})).await;
                let (status, verdict) = holds(response, expect).await;
                report(name, &shown, caller.label, status, verdict);
            }
        }

        // Deny by default: an endpoint the table does not name is refused, even to an
        // administrator, and even when no such function exists.
        for (caller, client) in [
            ("anonymous", server.client()),
            ("administrator", admin.clone()),
        ] {
            let response = server.call(&client, "not_in_the_table", json!({})).await;
            let (status, verdict) = holds(response, Expect::Forbidden).await;
            report("not_in_the_table", "UNCLASSIFIED", caller, status, verdict);
        }

        // What someone with a one-time password may still do: see who they are, replace it.
        let me: Value = server
            .call(&fresh.client, "current_user", json!({}))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(me["must_change_password"], true, "{me}");
        let (_, one_time) = fresh.login.clone().unwrap();
        let changed = fresh
            .client
            .post(server.url("/api/change_password"))
            .form(&[
                ("current_password", one_time.as_str()),
                ("new_password", PASSWORD),
                ("confirm_password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        println!(
            "change_password        Session                   admin, one-time password           {}",
            changed.status()
        );
        assert!(changed.status().is_success() || changed.status().is_redirection());
        let now = server.list_users(&fresh.client).await;
        println!(
            "list_users             Role(Administrator)       admin, own password now            {}",
            now.status()
        );
        assert_eq!(now.status(), StatusCode::OK);

        assert!(
            failures.is_empty(),
            "{} failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
    });
}

// ---------------------------------------------------------------------------------------
// Rights on a data source

fn projects_binding(source: &str) -> Value {
    json!({ "data_source": source, "object": "projects", "display_field": "display_name",
        "value_field": "id", "sort_by": "name", "direction": "asc", "project": null,
        "conditions": [] })
}

fn list_field(id: &str, binding: Value) -> Value {
    json!({ "id": id, "label": id, "kind": "list", "required": true, "format": "dropdown",
        "list": { "kind": "data_source", "binding": binding } })
}

fn text_field(id: &str) -> Value {
    json!({ "id": id, "label": id, "kind": "text", "required": false, "list": null,
        "format": "dropdown" })
}

fn options_request() -> Value {
    json!({ "values": [], "search": null, "page": 1 })
}

/// An authorized data source whose Security names someone else: `keeper` (a data source
/// manager) as its connection administrator, `insider` (a designer) as its connection user.
/// The outsiders hold the roles the server functions want, and nothing on the data source.
struct Fixture {
    _sim: TestSim,
    server: Server,
    source: String,
    keeper: Client,
    insider: Client,
    outsider: Client,
    outsider_designer: Client,
    outsider_manager: Client,
    /// The Security lists as set: `keeper` administers, `insider` uses.
    security: Value,
    list_form: String,
    rules_form: String,
    /// A submission of the rules form by the outsider, failed for want of rights.
    failed_submission: String,
    project_id: u64,
    rfi_id: u64,
    /// Procore data (names, subjects, ids) the outsiders must never be shown.
    secrets: BTreeSet<String>,
}

impl Fixture {
    async fn new() -> Fixture {
        let sim = TestSim::start(roomy()).await;
        let server = trestle(&sim).await;
        let admin = server.client();
        server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let source = authorized(&server, &sim, &admin).await;
        let (keeper, keeper_id) = server
            .person(&admin, "keeper@example.com", &["data_source_manager"])
            .await;
        let (insider, insider_id) = server
            .person(&admin, "insider@example.com", &["designer"])
            .await;
        let (outsider, _) = server
            .person(&admin, "outsider@example.com", &["user"])
            .await;
        let (outsider_designer, _) = server
            .person(&admin, "outsider-designer@example.com", &["designer"])
            .await;
        let (outsider_manager, _) = server
            .person(
                &admin,
                "outsider-manager@example.com",
                &["data_source_manager"],
            )
            .await;

        // What Procore holds, read by the administrator.
        let mut secrets = BTreeSet::new();
        let mut read = |records: &Value, keys: &[&str]| {
            for record in records["records"].as_array().expect("records") {
                secrets.insert(record["id"].to_string());
                for key in keys {
                    if let Some(text) = record[*key].as_str().filter(|t| t.len() >= 6) {
                        secrets.insert(text.to_string());
                    }
                }
            }
        };
        let listed = |object: &str, project: Option<u64>| {
            let (server, admin, source) = (&server, &admin, &source);
            let object = object.to_string();
            async move {
                let response = server
                    .call(
                        admin,
                        "list_records",
                        json!({ "scope": { "data_source": source, "object": object, "project": project },
                            "query": { "per_page": 100 } }),
                    )
                    .await;
                assert_eq!(response.status(), StatusCode::OK);
                response.json::<Value>().await.unwrap()
            }
        };
        let projects = listed("projects", None).await;
        read(&projects, &["name", "display_name"]);
        let rfis = listed("rfis", Some(SANDBOX_PROJECT_ID)).await;
        read(&rfis, &["subject"]);
        secrets.insert("Sandbox Test Company".to_string());
        let rfi_id = rfis["records"][0]["id"].as_u64().expect("a seeded RFI");
        assert!(secrets.len() > 4, "{secrets:?}");

        let save_form = |draft: Value| {
            let (server, admin) = (&server, &admin);
            async move {
                let response = server
                    .call(admin, "save_form", json!({ "id": null, "draft": draft }))
                    .await;
                assert_eq!(response.status(), StatusCode::OK);
                response.json::<Value>().await.unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            }
        };
        let list_form = save_form(json!({ "name": "Pick a project",
            "fields": [list_field("project", projects_binding(&source))] }))
        .await;
        let rules_form = save_form(json!({ "name": "Find a project",
            "fields": [text_field("project"), text_field("projectid")],
            "rules": [{ "id": "r1", "action": "find", "data_source": source, "object": "projects",
                "conditions": [{ "field": "name", "op": "eq",
                    "value": { "kind": "field", "value": "project" } }],
                "outputs": [{ "field": "id", "into": "projectid" }] }] }))
        .await;

        let security = json!({ "admins": [["user", keeper_id]], "users": [["user", insider_id]] });
        let saved = server
            .call(
                &admin,
                "save_security",
                json!({ "id": source, "security": security }),
            )
            .await;
        assert_eq!(saved.status(), StatusCode::OK);

        let submitted = server
            .call(
                &outsider,
                "submit_form",
                json!({ "form": rules_form, "answers": [
                    { "field": "project", "value": "Nowhere", "display": "Nowhere" }] }),
            )
            .await;
        assert_eq!(submitted.status(), StatusCode::OK);
        let submitted: Value = submitted.json().await.unwrap();
        assert_eq!(submitted["state"], "failed", "{submitted}");
        let failed_submission = submitted["id"].as_str().unwrap().to_string();

        Fixture {
            _sim: sim,
            server,
            source,
            keeper,
            insider,
            outsider,
            outsider_designer,
            outsider_manager,
            security,
            list_form,
            rules_form,
            failed_submission,
            project_id: SANDBOX_PROJECT_ID,
            rfi_id,
            secrets,
        }
    }

    /// The Procore data in `body`, if any.
    fn leaked(&self, body: &str) -> Vec<&String> {
        self.secrets
            .iter()
            .filter(|s| body.contains(s.as_str()))
            .collect()
    }

    /// Real arguments for each server function that checks a data source's rights.
    fn samples(&self) -> BTreeMap<&'static str, Value> {
        let source = &self.source;
        let projects = json!({ "data_source": source, "object": "projects", "project": null });
        let rfis = json!({ "data_source": source, "object": "rfis", "project": self.project_id });
        BTreeMap::from([
            (
                "save_data_source",
                json!({ "id": source, "draft": { "name": "Procore", "company_id": "4264807",
                    "environment": "developer_sandbox", "cloud_connect": false, "connector": null } }),
            ),
            ("delete_data_source", json!({ "id": source })),
            (
                "test_connection_step",
                json!({ "id": source, "step": "token" }),
            ),
            // As it is: the outsider may not, and the keeper's control call changes nothing.
            (
                "save_security",
                json!({ "id": source, "security": self.security }),
            ),
            ("call_log", json!({ "id": source })),
            ("data_source_history", json!({ "id": source })),
            (
                "save_form",
                json!({ "id": null, "draft": { "name": "Borrowed source",
                    "fields": [list_field("project", projects_binding(source))] } }),
            ),
            (
                "preview_options",
                json!({ "binding": projects_binding(source), "request": options_request() }),
            ),
            (
                "form_options",
                json!({ "form": self.list_form, "field": "project", "request": options_request() }),
            ),
            (
                "submit_form",
                json!({ "form": self.rules_form, "answers": [
                    { "field": "project", "value": "Nowhere", "display": "Nowhere" }] }),
            ),
            ("retry_submission", json!({ "id": self.failed_submission })),
            ("list_records", json!({ "scope": projects, "query": {} })),
            (
                "get_record",
                json!({ "scope": projects, "id": self.project_id }),
            ),
            (
                "create_record",
                json!({ "scope": rfis, "attributes": { "subject": "Outsider's question" } }),
            ),
            (
                "update_record",
                json!({ "scope": rfis, "id": self.rfi_id, "attributes": { "subject": "Changed" } }),
            ),
            ("delete_record", json!({ "scope": rfis, "id": self.rfi_id })),
        ])
    }
}

#[test]
fn nobody_reaches_procore_data_through_a_data_source_they_have_no_rights_on() {
    run(async {
        let f = Fixture::new().await;
        let samples = f.samples();
        let scoped: Vec<_> = ENDPOINTS
            .iter()
            .filter(|e| e.scope != Scope::Caller)
            .collect();
        let mut failures = Vec::new();

        for endpoint in &scoped {
            let Some(args) = samples.get(endpoint.name) else {
                failures.push(format!(
                    "{} checks a data source's rights but has no sample arguments in Fixture::samples",
                    endpoint.name
                ));
                continue;
            };
            let (caller, label) = match endpoint.access {
                Access::Role(Role::DataSourceManager) => {
                    (&f.outsider_manager, "manager, not its administrator")
                }
                Access::Role(Role::Designer) => {
                    (&f.outsider_designer, "designer, not a connection user")
                }
                Access::SignedIn => (&f.outsider, "user, not a connection user"),
                other => panic!("{}: no outsider for {other:?}", endpoint.name),
            };
            let response = f.server.call(caller, endpoint.name, args.clone()).await;
            let status = response.status();
            let body = response.text().await.unwrap();
            let leaked = f.leaked(&body);
            let verdict = match endpoint.scope {
                Scope::DataSource if status != StatusCode::FORBIDDEN => {
                    Err(format!("expected 403: {body}"))
                }
                Scope::DataRules => {
                    // The call succeeds; the refused rule fails the submission.
                    let submission: Value = serde_json::from_str(&body).unwrap_or_default();
                    let refused = submission["messages"]
                        .as_array()
                        .and_then(|m| m.first())
                        .and_then(Value::as_str)
                        .is_some_and(|m| m.contains("may not use"));
                    if status == StatusCode::OK && submission["state"] == "failed" && refused {
                        Ok(())
                    } else {
                        Err(format!(
                            "expected a failed submission refused for rights: {status} {body}"
                        ))
                    }
                }
                _ => Ok(()),
            }
            .and_then(|()| {
                if leaked.is_empty() {
                    Ok(())
                } else {
                    Err(format!("Procore data in the answer: {leaked:?}"))
                }
            });
            println!(
                "{:<22} {:<25} {:<12} {label:<32} {status} {}",
                endpoint.name,
                format!("{:?}", endpoint.access),
                format!("{:?}", endpoint.scope),
                verdict.as_ref().map_or_else(
                    |e| format!("FAILED: {e}"),
                    |()| "ok, no Procore data".into()
                )
            );
            if let Err(why) = verdict {
                failures.push(format!("{}: {why}", endpoint.name));
            }
        }
        let unused: Vec<_> = samples
            .keys()
            .filter(|name| !scoped.iter().any(|e| e.name == **name))
            .collect();
        assert!(
            unused.is_empty(),
            "samples for endpoints not scoped to a data source: {unused:?}"
        );

        // The same arguments do work for the people Security names, so the refusals above
        // were about rights: deletions last, the data source's very last.
        let mut controls: Vec<_> = scoped.iter().map(|e| **e).collect();
        controls.sort_by_key(|e| {
            (
                e.name == "delete_data_source",
                e.name.starts_with("delete_"),
            )
        });
        for endpoint in controls {
            let (caller, label) = match endpoint.access {
                Access::Role(Role::DataSourceManager) => (&f.keeper, "manager, its administrator"),
                _ => (&f.insider, "designer, a connection user"),
            };
            let Some(args) = samples.get(endpoint.name) else {
                continue;
            };
            let response = f.server.call(caller, endpoint.name, args.clone()).await;
            let status = response.status();
            let body = response.text().await.unwrap();
            let held = status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN;
            println!(
                "{:<22} {:<25} {:<12} {label:<32} {status} {}",
                endpoint.name,
                format!("{:?}", endpoint.access),
                format!("{:?}", endpoint.scope),
                if held {
                    "ok, let through".to_string()
                } else {
                    format!("FAILED: {body}")
                }
            );
            if !held {
                failures.push(format!(
                    "{} refused its connection user/administrator: {body}",
                    endpoint.name
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "{} failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
    });
}

// ---------------------------------------------------------------------------------------
// The REST API

async fn new_token(server: &Server, client: &Client, name: &str) -> String {
    let created = server
        .call(client, "create_api_token", json!({ "name": name }))
        .await;
    assert_eq!(created.status(), StatusCode::OK);
    let created: Value = created.json().await.unwrap();
    created["secret"].as_str().unwrap().to_string()
}

#[test]
fn every_rest_route_wants_a_token_and_rights_on_the_data_source() {
    run(async {
        let f = Fixture::new().await;
        let server = &f.server;
        let document: Value = reqwest::get(server.url("/api/v1/openapi.json"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let outsiders = new_token(server, &f.outsider, "outsider").await;
        let insiders = new_token(server, &f.insider, "insider").await;
        let admin = server.client();
        server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        // An administrator's token, then an administrator resets their password.
        let (reset, reset_id) = server
            .person(&admin, "reset@example.com", &["administrator"])
            .await;
        let resets = new_token(server, &reset, "before the reset").await;
        let done = server
            .call(&admin, "reset_password", json!({ "id": reset_id }))
            .await;
        assert_eq!(done.status(), StatusCode::OK);

        let mut routes = Vec::new();
        for (path, item) in document["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().unwrap() {
                let public = operation["security"] == json!([]);
                let concrete = path
                    .replace("{id}", &f.source)
                    .replace("{object}", "projects")
                    .replace("{record_id}", &f.project_id.to_string());
                routes.push((
                    method.to_uppercase().parse::<Method>().unwrap(),
                    path.clone(),
                    concrete,
                    public,
                ));
            }
        }
        assert!(routes.len() >= 10, "{routes:?}");
        let call = |method: &Method, path: &str, token: Option<&str>| {
            let mut request = reqwest::Client::new()
                .request(method.clone(), server.url(&format!("/api/v1{path}")));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            if *method == Method::POST || *method == Method::PATCH {
                request = request
                    .header("content-type", "application/json")
                    .body("{}");
            }
            async move {
                let response = request.send().await.unwrap();
                let status = response.status();
                (status, response.text().await.unwrap())
            }
        };

        let mut failures = Vec::new();
        let mut report =
            |route: &str, caller: &str, status: StatusCode, verdict: Result<(), String>| {
                println!(
                    "{route:<62} {caller:<34} {status} {}",
                    verdict
                        .as_ref()
                        .map_or_else(|e| format!("FAILED: {e}"), |()| "ok".into())
                );
                if let Err(why) = verdict {
                    failures.push(format!("{route} with {caller}: {why}"));
                }
            };
        for (method, template, path, public) in &routes {
            let route = format!("{method} {template}");
            let about_the_source = template.contains("{id}");

            let (status, body) = call(method, path, None).await;
            let wanted = if *public {
                StatusCode::OK
            } else {
                StatusCode::UNAUTHORIZED
            };
            let verdict = if status == wanted && f.leaked(&body).is_empty() {
                Ok(())
            } else {
                Err(format!("expected {wanted}: {body}"))
            };
            report(&route, "no token", status, verdict);

            let (status, body) = call(method, path, Some(&outsiders)).await;
            let wanted = if about_the_source {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::OK
            };
            let leaked = f.leaked(&body);
            let verdict = if status != wanted {
                Err(format!("expected {wanted}: {body}"))
            } else if !leaked.is_empty() {
                Err(format!("Procore data in the answer: {leaked:?}"))
            } else if body.contains(&f.source) && !about_the_source {
                Err(format!("names the data source: {body}"))
            } else {
                Ok(())
            };
            report(&route, "token of someone without rights", status, verdict);

            if !*public {
                let (status, body) = call(method, path, Some(&resets)).await;
                let verdict = if status == StatusCode::FORBIDDEN && f.leaked(&body).is_empty() {
                    Ok(())
                } else {
                    Err(format!("expected 403: {body}"))
                };
                report(&route, "token, owner's password was reset", status, verdict);
            }

            // A connection user's token reads (writes are left alone here).
            if *method == Method::GET && about_the_source {
                let (status, body) = call(method, path, Some(&insiders)).await;
                let verdict = if status == StatusCode::OK {
                    Ok(())
                } else {
                    Err(format!("a connection user was refused: {body}"))
                };
                report(&route, "token of a connection user", status, verdict);
            }
        }
        assert!(
            failures.is_empty(),
            "{} failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
    });
}
