//! The REST API (`/api/v1`) over real HTTP against the simulator: personal API tokens
//! (shown once, listed without the secret, revoked), every operation, the caller's rights,
//! and each error as JSON with its status — including Procore's rate limit and outage.

mod common;

use common::*;
use procore_sim::data::SANDBOX_PROJECT_ID;
use procore_sim::faults::Faults;
use procore_sim::testing::{TestSim, roomy};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// "Test Architect", who may manage RFIs in the simulator.
const RFI_MANAGER: u64 = 4_201_001;

/// A new token of the person signed in on `client`: its secret.
async fn new_token(server: &Server, client: &reqwest::Client, name: &str) -> String {
    let created = server
        .call(client, "create_api_token", json!({ "name": name }))
        .await;
    assert_eq!(created.status(), StatusCode::OK);
    let created: Value = created.json().await.unwrap();
    created["secret"].as_str().unwrap().to_string()
}

async fn signed_in_admin(server: &Server) -> reqwest::Client {
    let admin = server.client();
    server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    admin
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the JSON error shape and status; returns its message.
    fn error(&self, status: StatusCode) -> &str {
        assert_eq!(self.status, status, "{}", self.body);
        let error = &self.body["error"];
        assert_eq!(error["status"], status.as_u16(), "{}", self.body);
        error["message"].as_str().expect("a message")
    }

    fn field(&self, name: &str) -> Vec<String> {
        serde_json::from_value(self.body["error"]["fields"][name].clone())
            .unwrap_or_else(|_| panic!("messages for {name} in {}", self.body))
    }
}

/// A program's call: no cookies, the token (if any) as a bearer token, `body` as sent.
async fn send(
    server: &Server,
    token: Option<&str>,
    method: Method,
    path: &str,
    body: Option<String>,
    headers: &[(&str, &str)],
) -> Reply {
    let mut request = reqwest::Client::new().request(method, server.url(&format!("/api/v1{path}")));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{status} for {path} is not JSON ({e}): {text}"))
    };
    Reply {
        status,
        headers,
        body,
    }
}

async fn get(server: &Server, token: &str, path: &str) -> Reply {
    send(server, Some(token), Method::GET, path, None, &[]).await
}

async fn write(server: &Server, token: &str, method: Method, path: &str, body: Value) -> Reply {
    send(
        server,
        Some(token),
        method,
        path,
        Some(body.to_string()),
        &[],
    )
    .await
}

fn rfis(source: &str) -> String {
    format!("/data-sources/{source}/objects/rfis/records")
}

#[test]
fn tokens_are_shown_once_listed_without_the_secret_and_revoked() {
    run(async {
        let server = Server::start().await;
        let admin = signed_in_admin(&server).await;

        let created = server
            .call(&admin, "create_api_token", json!({ "name": " CI " }))
            .await;
        assert_eq!(created.status(), StatusCode::OK);
        let created: Value = created.json().await.unwrap();
        let secret = created["secret"].as_str().unwrap().to_string();
        let id = created["token"]["id"].as_str().unwrap().to_string();
        assert!(secret.starts_with("trestle_pat_"), "{secret}");
        assert_eq!(created["token"]["name"], "CI");
        let prefix = created["token"]["prefix"].as_str().unwrap();
        assert!(secret.starts_with(prefix) && prefix.len() < secret.len() / 2);
        assert!(created["token"]["last_used_at"].is_null());

        let list = || async {
            let listed = server.call(&admin, "list_api_tokens", json!({})).await;
            assert_eq!(listed.status(), StatusCode::OK);
            listed.text().await.unwrap()
        };
        let listed = list().await;
        assert!(!listed.contains(&secret), "the list never shows the token");
        let listed: Value = serde_json::from_str(&listed).unwrap();
        assert_eq!(listed.as_array().unwrap().len(), 1);
        assert_eq!(listed[0]["id"], id.as_str());
        assert!(listed[0]["last_used_at"].is_null());

        let used = get(&server, &secret, "/data-sources").await;
        assert_eq!(used.status, StatusCode::OK, "{}", used.body);
        assert_eq!(used.body, json!({ "data_sources": [] }));
        let listed: Value = serde_json::from_str(&list().await).unwrap();
        assert!(listed[0]["last_used_at"].is_string(), "the use is recorded");

        // Tokens are their owner's own: others neither see nor revoke them.
        let (bob, _) = server.person(&admin, "bob@example.com", &["user"]).await;
        let bobs: Value = server
            .call(&bob, "list_api_tokens", json!({}))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(bobs, json!([]));
        let refused = server
            .call(&bob, "revoke_api_token", json!({ "id": id }))
            .await;
        assert_eq!(refused.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            get(&server, &secret, "/data-sources").await.status,
            StatusCode::OK
        );

        let revoked = server
            .call(&admin, "revoke_api_token", json!({ "id": id }))
            .await;
        assert_eq!(revoked.status(), StatusCode::OK);
        let after = get(&server, &secret, "/data-sources").await;
        assert!(after.error(StatusCode::UNAUTHORIZED).contains("revoked"));
        assert!(
            after
                .header("www-authenticate")
                .unwrap()
                .contains("invalid_token")
        );
        assert_eq!(list().await, "[]");
        let again = server
            .call(&admin, "revoke_api_token", json!({ "id": id }))
            .await;
        assert_eq!(again.status(), StatusCode::NOT_FOUND);

        // A name is required; strangers and people with a one-time password get none.
        let nameless = server
            .call(&admin, "create_api_token", json!({ "name": "  " }))
            .await;
        assert_eq!(nameless.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let stranger = server
            .call(&server.client(), "create_api_token", json!({ "name": "x" }))
            .await;
        assert_eq!(stranger.status(), StatusCode::UNAUTHORIZED);
        let issued: Value = server
            .call(
                &admin,
                "create_user",
                json!({ "draft": { "email": "otp@example.com", "name": "Otp", "roles": ["user"] } }),
            )
            .await
            .json()
            .await
            .unwrap();
        let otp = server.client();
        server
            .sign_in(
                &otp,
                "otp@example.com",
                issued["one_time_password"].as_str().unwrap(),
            )
            .await;
        let pending = server
            .call(&otp, "create_api_token", json!({ "name": "x" }))
            .await;
        assert_eq!(pending.status(), StatusCode::FORBIDDEN);
    });
}

#[test]
fn only_a_bearer_token_of_an_active_person_authenticates() {
    run(async {
        let server = Server::start().await;
        let admin = signed_in_admin(&server).await;

        let none = send(&server, None, Method::GET, "/data-sources", None, &[]).await;
        assert!(none.error(StatusCode::UNAUTHORIZED).contains("Bearer"));
        assert_eq!(
            none.header("www-authenticate"),
            Some("Bearer realm=\"trestle\"")
        );
        let unknown = format!("trestle_pat_{}", "A".repeat(43));
        for authorization in [
            "Basic YWRtaW46cGFzc3dvcmQ=".to_string(),
            "Bearer".to_string(),
            "Bearer not-a-token".to_string(),
            format!("Bearer {unknown}"),
        ] {
            let refused = send(
                &server,
                None,
                Method::GET,
                "/data-sources",
                None,
                &[("authorization", &authorization)],
            )
            .await;
            refused.error(StatusCode::UNAUTHORIZED);
            assert!(
                refused
                    .header("www-authenticate")
                    .unwrap()
                    .contains("invalid_token"),
                "{authorization}"
            );
        }
        // A browser session is no API credential.
        let with_cookie = admin
            .get(server.url("/api/v1/data-sources"))
            .send()
            .await
            .unwrap();
        assert_eq!(with_cookie.status(), StatusCode::UNAUTHORIZED);

        // A token follows its owner: deactivated, refused; a reset password pauses it.
        let (ursula, ursula_id) = server.person(&admin, "ursula@example.com", &["user"]).await;
        let token = new_token(&server, &ursula, "script").await;
        assert_eq!(
            get(&server, &token, "/objects").await.status,
            StatusCode::OK
        );
        let set_active = |active: bool| {
            server.call(
                &admin,
                "set_user_active",
                json!({ "id": ursula_id, "active": active }),
            )
        };
        assert_eq!(set_active(false).await.status(), StatusCode::OK);
        get(&server, &token, "/objects")
            .await
            .error(StatusCode::UNAUTHORIZED);
        assert_eq!(set_active(true).await.status(), StatusCode::OK);
        assert_eq!(
            get(&server, &token, "/objects").await.status,
            StatusCode::OK
        );
        let reset = server
            .call(&admin, "reset_password", json!({ "id": ursula_id }))
            .await;
        assert_eq!(reset.status(), StatusCode::OK);
        let paused = get(&server, &token, "/objects").await;
        assert!(
            paused
                .error(StatusCode::FORBIDDEN)
                .contains("choose a new one")
        );
    });
}

#[test]
fn every_operation_works_against_the_simulator() {
    run(async {
        let sim = TestSim::start(roomy()).await;
        let server = trestle(&sim).await;
        let admin = signed_in_admin(&server).await;
        let source = ready_source(&server, &sim, &admin).await;
        let token = new_token(&server, &admin, "everything").await;

        // Data sources.
        let sources = get(&server, &token, "/data-sources").await;
        assert_eq!(sources.status, StatusCode::OK);
        let listed = &sources.body["data_sources"][0];
        assert_eq!(listed["id"], source.as_str());
        assert_eq!(listed["ready"], true);
        assert_eq!(listed["status"], "ready");
        assert_eq!(listed["type"], "procore");
        assert_eq!(listed["environment"], "developer_sandbox");
        assert_eq!(listed["company_id"], 4_264_807);
        let one = get(&server, &token, &format!("/data-sources/{source}")).await;
        assert_eq!(one.status, StatusCode::OK);
        assert_eq!(&one.body, listed);
        assert!(!one.body.to_string().contains("token"), "no secrets");

        // Objects and their fields.
        let objects = get(&server, &token, "/objects").await;
        assert_eq!(objects.status, StatusCode::OK);
        let keys: Vec<_> = objects.body["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["key"].as_str().unwrap().to_string())
            .collect();
        assert!(keys.contains(&"rfis".to_string()) && keys.contains(&"projects".to_string()));
        let rfi = get(&server, &token, "/objects/rfis").await;
        assert_eq!(rfi.status, StatusCode::OK);
        assert_eq!(rfi.body["needs_project"], true);
        assert_eq!(rfi.body["operations"]["delete"], false);
        assert!(
            rfi.body["fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["write_key"] == "rfi_manager_id" && f["required_on_create"] == true)
        );

        // Lists: paged, sorted, filtered.
        let projects = format!("/data-sources/{source}/objects/projects/records");
        let first = get(&server, &token, &format!("{projects}?per_page=1&sort=name")).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        assert_eq!(first.body["page"], 1);
        assert_eq!(first.body["per_page"], 1);
        assert_eq!(first.body["records"].as_array().unwrap().len(), 1);
        assert!(first.body["total"].as_u64().unwrap() >= 2);
        let second = get(
            &server,
            &token,
            &format!("{projects}?per_page=1&page=2&sort=name"),
        )
        .await;
        assert_eq!(second.body["page"], 2);
        assert_ne!(
            second.body["records"][0]["id"],
            first.body["records"][0]["id"]
        );

        let in_project = format!("{}?project_id={SANDBOX_PROJECT_ID}", rfis(&source));
        let subjects = |reply: &Reply| -> Vec<String> {
            reply.body["records"]
                .as_array()
                .unwrap_or_else(|| panic!("{}", reply.body))
                .iter()
                .map(|r| r["subject"].as_str().unwrap().to_string())
                .collect()
        };
        let descending = get(
            &server,
            &token,
            &format!("{in_project}&sort=subject&direction=desc&per_page=100"),
        )
        .await;
        let mut expected = subjects(&descending);
        expected.sort_by_key(|s| std::cmp::Reverse(s.to_lowercase()));
        assert_eq!(subjects(&descending), expected);
        let all = descending.body["total"].as_u64().unwrap();
        let open = get(
            &server,
            &token,
            &format!("{in_project}&filter[status]=open"),
        )
        .await;
        let not_open = get(
            &server,
            &token,
            &format!("{in_project}&filter%5Bstatus%5D%5Bne%5D=open"),
        )
        .await;
        assert!(
            open.body["records"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["status"] == "open")
        );
        assert!(
            not_open.body["records"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["status"] != "open")
        );
        assert_eq!(
            open.body["total"].as_u64().unwrap() + not_open.body["total"].as_u64().unwrap(),
            all
        );

        // Create, read, update.
        let created = write(
            &server,
            &token,
            Method::POST,
            &in_project,
            json!({ "subject": "Door hardware", "question.body": "Which hinges?",
                "rfi_manager_id": RFI_MANAGER }),
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        assert_eq!(created.body["subject"], "Door hardware");
        let new_id = created.body["id"].as_u64().unwrap();
        let location = created.header("location").unwrap().to_string();
        assert_eq!(
            location,
            format!(
                "/api/v1/data-sources/{source}/objects/rfis/records/{new_id}?project_id={SANDBOX_PROJECT_ID}"
            )
        );
        let read = get(&server, &token, location.trim_start_matches("/api/v1")).await;
        assert_eq!(read.status, StatusCode::OK);
        assert_eq!(read.body["id"], new_id);
        assert_eq!(read.body["subject"], "Door hardware");
        let one_rfi = format!("{}/{new_id}?project_id={SANDBOX_PROJECT_ID}", rfis(&source));
        let updated = write(
            &server,
            &token,
            Method::PATCH,
            &one_rfi,
            json!({ "subject": "Door hardware, revised" }),
        )
        .await;
        assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
        assert_eq!(updated.body["subject"], "Door hardware, revised");
        assert_eq!(
            get(&server, &token, &one_rfi).await.body["subject"],
            "Door hardware, revised"
        );

        // Delete, where Procore allows it; a program on another site may call too.
        let punch_items = format!(
            "/data-sources/{source}/objects/punch_items/records?project_id={SANDBOX_PROJECT_ID}"
        );
        let item = send(
            &server,
            Some(&token),
            Method::POST,
            &punch_items,
            Some(json!({ "name": "Scratch on the door" }).to_string()),
            &[("origin", "https://elsewhere.example")],
        )
        .await;
        assert_eq!(item.status, StatusCode::CREATED, "{}", item.body);
        let item_id = item.body["id"].as_u64().unwrap();
        let one_item = format!(
            "/data-sources/{source}/objects/punch_items/records/{item_id}?project_id={SANDBOX_PROJECT_ID}"
        );
        let deleted = send(&server, Some(&token), Method::DELETE, &one_item, None, &[]).await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
        assert_eq!(deleted.body, Value::Null);
        get(&server, &token, &one_item)
            .await
            .error(StatusCode::NOT_FOUND);
    });
}

#[test]
fn rights_and_missing_things_have_their_own_statuses() {
    run(async {
        let sim = TestSim::start(roomy()).await;
        let server = trestle(&sim).await;
        let admin = signed_in_admin(&server).await;
        let source = ready_source(&server, &sim, &admin).await;
        let unauthorized = create(&server, &admin, "Not yet", "4264807").await;
        let token = new_token(&server, &admin, "admin").await;
        let (ursula, _) = server.person(&admin, "ursula@example.com", &["user"]).await;
        let (_, olaf) = server.person(&admin, "olaf@example.com", &["user"]).await;
        let ursulas = new_token(&server, &ursula, "ursula").await;

        // Empty connection users: everyone may use it.
        let projects = format!("/data-sources/{source}/objects/projects/records");
        assert_eq!(
            get(&server, &ursulas, &projects).await.status,
            StatusCode::OK
        );
        let saved = server
            .call(
                &admin,
                "save_security",
                json!({ "id": source, "security": { "admins": [], "users": [["user", olaf]] } }),
            )
            .await;
        assert_eq!(saved.status(), StatusCode::OK);
        let hers = get(&server, &ursulas, "/data-sources").await;
        let ids: Vec<_> = hers.body["data_sources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids, vec![unauthorized.clone()], "only what she may use");
        assert!(
            get(&server, &ursulas, &format!("/data-sources/{source}"))
                .await
                .error(StatusCode::FORBIDDEN)
                .contains("connection users")
        );
        assert!(
            get(&server, &ursulas, &projects)
                .await
                .error(StatusCode::FORBIDDEN)
                .contains("connection users")
        );
        let write_refused = write(
            &server,
            &ursulas,
            Method::POST,
            &projects,
            json!({ "name": "Hers" }),
        )
        .await;
        write_refused.error(StatusCode::FORBIDDEN);
        // The administrator administers every data source, so may still use it.
        assert_eq!(get(&server, &token, &projects).await.status, StatusCode::OK);

        // Things that are not there.
        for path in [
            "/data-sources/nope".to_string(),
            "/data-sources/no-such-id".to_string(),
            "/data-sources/nope/objects/projects/records".to_string(),
            format!("/data-sources/{source}/objects/widgets/records"),
            "/objects/widgets".to_string(),
            format!(
                "{}/999999999?project_id={SANDBOX_PROJECT_ID}",
                rfis(&source)
            ),
            format!("{}/abc?project_id={SANDBOX_PROJECT_ID}", rfis(&source)),
            "/nothing-here".to_string(),
        ] {
            get(&server, &token, &path)
                .await
                .error(StatusCode::NOT_FOUND);
        }

        // What Procore does not allow, and a data source that is not ready.
        let delete_project = send(
            &server,
            Some(&token),
            Method::DELETE,
            &format!("{projects}/1"),
            None,
            &[],
        )
        .await;
        assert!(
            delete_project
                .error(StatusCode::CONFLICT)
                .contains("does not let Trestle delete Projects")
        );
        assert!(
            get(
                &server,
                &token,
                &format!("/data-sources/{unauthorized}/objects/projects/records")
            )
            .await
            .error(StatusCode::CONFLICT)
            .contains("authorize")
        );

        // A method a route does not take.
        let put = write(&server, &token, Method::PUT, &projects, json!({})).await;
        put.error(StatusCode::METHOD_NOT_ALLOWED);
        let allow = put.header("allow").unwrap();
        assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");

        // Another site's write without a token is refused before it reaches the API.
        let cross = send(
            &server,
            None,
            Method::POST,
            &projects,
            Some("{}".into()),
            &[("origin", "https://elsewhere.example")],
        )
        .await;
        cross.error(StatusCode::FORBIDDEN);
    });
}

#[test]
fn bad_input_is_refused_with_a_status_and_field_messages() {
    run(async {
        let sim = TestSim::start(roomy()).await;
        let server = trestle(&sim).await;
        let admin = signed_in_admin(&server).await;
        let source = ready_source(&server, &sim, &admin).await;
        let token = new_token(&server, &admin, "input").await;
        let in_project = format!("{}?project_id={SANDBOX_PROJECT_ID}", rfis(&source));

        // Checked against the catalogue before Procore is asked.
        let before = sim.requests("POST /developer-sandbox/rest/v1.0/projects/{project_id}/rfis");
        let local = write(
            &server,
            &token,
            Method::POST,
            &in_project,
            json!({ "colour": "red", "status": "open", "subject": "x" }),
        )
        .await;
        local.error(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(local.field("colour"), ["is not a field Trestle can write"]);
        assert_eq!(local.field("status"), ["is read-only"]);
        assert_eq!(
            sim.requests("POST /developer-sandbox/rest/v1.0/projects/{project_id}/rfis"),
            before,
            "Procore was not asked"
        );
        // The catalogue's own checks, still before Procore: a blank required field.
        let blank = write(
            &server,
            &token,
            Method::POST,
            &in_project,
            json!({ "subject": " ", "question.body": "Why?", "rfi_manager_id": RFI_MANAGER }),
        )
        .await;
        blank.error(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(blank.field("subject"), ["can't be blank"]);
        assert_eq!(
            sim.requests("POST /developer-sandbox/rest/v1.0/projects/{project_id}/rfis"),
            before
        );
        // Refused by Procore, field by field: nobody by that id may manage RFIs there.
        let remote = write(
            &server,
            &token,
            Method::POST,
            &in_project,
            json!({ "subject": "Door", "question.body": "Why?", "rfi_manager_id": 999 }),
        )
        .await;
        remote.error(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            sim.requests("POST /developer-sandbox/rest/v1.0/projects/{project_id}/rfis"),
            before + 1,
            "this one reached Procore"
        );
        let fields = remote.body["error"]["fields"].as_object().unwrap();
        assert!(
            fields
                .iter()
                .any(|(key, messages)| key.starts_with("rfi_manager")
                    && messages[0] == "is not a potential RFI manager"),
            "{}",
            remote.body
        );
        // Values the service checks.
        let no_project = get(&server, &token, &rfis(&source)).await;
        no_project.error(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!no_project.field("project_id").is_empty());
        let projects = format!("/data-sources/{source}/objects/projects/records");
        let too_many = get(&server, &token, &format!("{projects}?per_page=500")).await;
        too_many.error(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!too_many.field("per_page").is_empty());
        let no_field = get(&server, &token, &format!("{projects}?filter[colour]=red")).await;
        no_field.error(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!no_field.field("colour").is_empty());

        // Requests that are not understood.
        for (body, says) in [
            ("{\"subject\": ", "not valid JSON"),
            ("[1, 2]", "JSON object"),
            ("", "JSON object"),
        ] {
            let reply = send(
                &server,
                Some(&token),
                Method::POST,
                &in_project,
                Some(body.into()),
                &[],
            )
            .await;
            assert!(
                reply.error(StatusCode::BAD_REQUEST).contains(says),
                "{body}"
            );
        }
        for (query, says) in [
            ("page=two", "whole number"),
            ("colour=red", "Unknown query parameter"),
            ("filter[name][like]=x", "Unknown filter operator"),
            ("direction=sideways", "asc or desc"),
            ("project_id=1&project_id=2", "more than once"),
        ] {
            let reply = get(&server, &token, &format!("{projects}?{query}")).await;
            assert!(
                reply.error(StatusCode::BAD_REQUEST).contains(says),
                "{query}"
            );
        }
        let one = format!("{}/1?page=2", rfis(&source));
        get(&server, &token, &one)
            .await
            .error(StatusCode::BAD_REQUEST);
    });
}

#[test]
fn procore_rate_limits_and_outages_come_back_as_429_and_503() {
    run(async {
        let sim = TestSim::start(roomy()).await;
        let server = trestle(&sim).await;
        let admin = signed_in_admin(&server).await;
        let source = ready_source(&server, &sim, &admin).await;
        let token = new_token(&server, &admin, "busy").await;
        let projects = format!("/data-sources/{source}/objects/projects/records");

        sim.sim.update_config(|c| {
            c.faults = Faults {
                force_429: true,
                retry_after_secs: 1,
                ..Faults::default()
            }
        });
        let limited = get(&server, &token, &projects).await;
        assert!(
            limited
                .error(StatusCode::TOO_MANY_REQUESTS)
                .contains("rate limit")
        );
        let wait: u64 = limited.header("retry-after").unwrap().parse().unwrap();
        assert!(wait >= 1);

        sim.sim.update_config(|c| {
            c.faults = Faults {
                unavailable_rate: 1.0,
                retry_after_secs: 1,
                ..Faults::default()
            }
        });
        let down = get(&server, &token, &projects).await;
        assert!(
            down.error(StatusCode::SERVICE_UNAVAILABLE)
                .contains("unavailable")
        );
        // Procore said when to come back; so does Trestle.
        let wait: u64 = down.header("retry-after").unwrap().parse().unwrap();
        assert!(wait >= 1);

        sim.sim.update_config(|c| c.faults = Faults::default());
        assert_eq!(get(&server, &token, &projects).await.status, StatusCode::OK);
    });
}

#[test]
fn the_openapi_document_lists_every_route_the_router_serves() {
    run(async {
        let server = Server::start().await;
        let document = send(&server, None, Method::GET, "/openapi.json", None, &[]).await;
        assert_eq!(document.status, StatusCode::OK, "no token needed");
        let doc = document.body;
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        let paths = doc["paths"].as_object().unwrap();
        let mut operations = 0;
        for (path, item) in paths {
            let concrete = path
                .replace("{id}", "abc")
                .replace("{object}", "rfis")
                .replace("{record_id}", "1");
            let documented: Vec<Method> = item
                .as_object()
                .unwrap()
                .keys()
                .map(|m| m.to_uppercase().parse().unwrap())
                .collect();
            for method in [
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ] {
                let reply = send(&server, None, method.clone(), &concrete, None, &[]).await;
                if !documented.contains(&method) {
                    reply.error(StatusCode::METHOD_NOT_ALLOWED);
                    continue;
                }
                operations += 1;
                let operation = &item[method.as_str().to_lowercase()];
                assert!(operation["operationId"].is_string(), "{method} {path}");
                assert!(operation["responses"].is_object(), "{method} {path}");
                if path == "/openapi.json" {
                    assert_eq!(reply.status, StatusCode::OK);
                } else {
                    // Served (not 404 or 405), and behind a token.
                    reply.error(StatusCode::UNAUTHORIZED);
                }
            }
        }
        assert_eq!(operations, 10, "every operation of the API is documented");
        for path in ["", "/", "/no/such/route", "/data-sources/"] {
            send(&server, None, Method::GET, path, None, &[])
                .await
                .error(StatusCode::NOT_FOUND);
        }
    });
}
