//! Secrets stay in the server: a data source's whole life — authorized, tested, queried
//! through forms, the explorer and the REST API, its tokens revoked at Procore, authorized
//! again, deleted — with every answer (status, headers, body, pages included) and every
//! log line kept, then searched for every token Procore issued, the app's client secrets,
//! the encryption key, password hashes and API tokens.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use procore_sim::testing::{TestSim, roomy};
use serde_json::{Value, json};

/// Everything the server said: answers and log lines.
#[derive(Clone, Default)]
struct Transcript(Arc<Mutex<Vec<u8>>>);

impl Write for Transcript {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Transcript {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Sends `request` and keeps its answer, whole.
    async fn keep(&self, what: &str, request: reqwest::RequestBuilder) -> (u16, String) {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = format!("{:?}", response.headers());
        let body = response.text().await.unwrap_or_default();
        writeln!(self.clone(), "== {what}: {status} {headers}\n{body}").unwrap();
        (status, body)
    }
}

#[test]
fn no_secret_leaves_the_server() {
    let transcript = Transcript::default();
    let logs = transcript.clone();
    // The simulator stands in for Procore, which knows its own tokens: its lines are left out.
    tracing_subscriber::fmt()
        .with_env_filter("debug,procore_sim=off,hyper=info,hyper_util=info,h2=info,surrealdb=info")
        .with_writer(move || logs.clone())
        .with_ansi(false)
        .init();
    run(async {
        let sim = TestSim::start(roomy()).await;
        let (server, state) = Server::start_with_state(&procore_env(&sim)).await;
        let t = &transcript;
        let admin = server.client();
        t.keep(
            "sign in",
            admin
                .post(server.url("/api/sign_in"))
                .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)]),
        )
        .await;
        let call =
            |name: &str, body: Value| admin.post(server.url(&format!("/api/{name}"))).json(&body);

        // Authorized through the browser's flow, the callback page kept.
        let id = create(&server, &admin, "Site", "4264807").await;
        let back = sim
            .consent_at(&start(&server, &admin, &id).await, true)
            .await;
        let (status, _) = t
            .keep(
                "callback",
                admin.get(server.url(&format!(
                    "/oauth/callback?{}",
                    back.query().unwrap_or_default()
                ))),
            )
            .await;
        assert_eq!(status, 200);
        for step in ["token", "company", "app_installed"] {
            t.keep(
                step,
                call("test_connection_step", json!({ "id": id, "step": step })),
            )
            .await;
        }

        // Used: list options, the explorer, the REST API.
        let binding = json!({ "data_source": id, "object": "projects", "display_field": "name",
            "value_field": "id", "sort_by": "name", "direction": "asc", "project": null,
            "conditions": [] });
        let field = json!({ "id": "p", "label": "Project", "kind": "list", "required": true,
            "format": "dropdown", "list": { "kind": "data_source", "binding": binding } });
        let (_, form) = t
            .keep(
                "save_form",
                call(
                    "save_form",
                    json!({ "id": null, "draft": { "name": "F", "fields": [field] } }),
                ),
            )
            .await;
        let form: Value = serde_json::from_str(&form).unwrap();
        let form = form["id"].as_str().unwrap().to_string();
        let options = json!({ "form": form, "field": "p",
            "request": { "values": [], "search": null, "page": 1 } });
        t.keep("options", call("form_options", options.clone()))
            .await;
        t.keep(
            "list_records",
            call(
                "list_records",
                json!({ "scope": { "data_source": id, "object": "projects" }, "query": {} }),
            ),
        )
        .await;
        let (status, token) = t
            .keep(
                "create_api_token (shows its secret once)",
                call("create_api_token", json!({ "name": "CI" })),
            )
            .await;
        assert_eq!(status, 200, "{token}");
        let api_token: Value = serde_json::from_str(&token).unwrap();
        let api_token = api_token["secret"].as_str().unwrap().to_string();
        let after_creation = transcript.0.lock().unwrap().len();
        for path in [
            "/api/v1/data-sources".to_string(),
            format!("/api/v1/data-sources/{id}/objects/projects/records"),
        ] {
            t.keep(
                &path,
                reqwest::Client::new()
                    .get(server.url(&path))
                    .bearer_auth(&api_token),
            )
            .await;
        }

        // Its tokens revoked at Procore: what the errors say; then authorized again.
        sim.sim.revoke_all_tokens();
        let search = |text: &str| {
            json!({ "form": form, "field": "p",
                "request": { "values": [], "search": text, "page": 1 } })
        };
        t.keep(
            "options after revocation",
            call("form_options", search("x")),
        )
        .await;
        t.keep("again", call("form_options", search("y"))).await;
        t.keep(
            "get_data_source",
            call("get_data_source", json!({ "id": id })),
        )
        .await;
        t.keep("call_log", call("call_log", json!({ "id": id })))
            .await;
        let back = sim
            .consent_at(&start(&server, &admin, &id).await, true)
            .await;
        t.keep(
            "callback again",
            admin.get(server.url(&format!(
                "/oauth/callback?{}",
                back.query().unwrap_or_default()
            ))),
        )
        .await;
        for page in [
            "/data-sources".to_string(),
            format!("/data-sources?open={id}"),
            format!("/forms/{form}/fill"),
            format!("/explorer?source={id}"),
            "/account/api-tokens".to_string(),
        ] {
            t.keep(&page, admin.get(server.url(&page))).await;
        }
        t.keep("history", call("data_source_history", json!({ "id": id })))
            .await;
        t.keep("delete", call("delete_data_source", json!({ "id": id })))
            .await;

        // What must not be anywhere.
        let admin_id: Value =
            serde_json::from_str(&t.keep("me", call("current_user", json!({}))).await.1).unwrap();
        let admin_id = admin_id["id"].as_str().unwrap().to_string();
        let hash = state
            .store
            .password_hash(&admin_id)
            .await
            .unwrap()
            .expect("the administrator's hash");
        let issued = sim.sim.issued_tokens();
        assert!(
            issued.len() >= 4,
            "two authorizations and a refresh at least"
        );
        let mut secrets: Vec<(String, String)> = issued
            .iter()
            .map(|t| ("a Procore token".to_string(), t.clone()))
            .collect();
        secrets.extend(
            [
                ("the sandbox client secret", "sandbox-secret"),
                ("the production client secret", "production-secret"),
                (
                    "the encryption key",
                    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                ),
                ("the administrator's password", ADMIN_PASSWORD),
            ]
            .map(|(what, s)| (what.to_string(), s.to_string())),
        );
        secrets.push(("a password hash".into(), hash.clone()));
        secrets.push(("argon2 hash text".into(), "$argon2id$".into()));

        let everything = transcript.text();
        let lines = everything.lines().count();
        // The search can find what it looks for: the logs are in, and so is the API token
        // where it belongs.
        assert!(everything.contains("signed in"), "no log lines were kept");
        assert!(everything.contains(&api_token));
        for (what, secret) in &secrets {
            assert!(
                !everything.contains(secret.as_str()),
                "{what} shows in an answer or a log line"
            );
        }
        // The API token's one legitimate appearance is its creation's answer.
        let later =
            String::from_utf8_lossy(&transcript.0.lock().unwrap()[after_creation..]).into_owned();
        assert!(
            !later.contains(&api_token),
            "the API token shows after its creation"
        );
        println!(
            "no secret leaves the server: {} answers and the log ({lines} lines in all) searched for \
             {} Procore tokens, both client secrets, the encryption key, the administrator's \
             password and hash, and the API token after its creation: none found",
            everything.matches("== ").count(),
            issued.len()
        );
    });
}

#[test]
fn the_suite_wide_search_finds_each_kind_of_secret_and_nothing_else() {
    use common::leaks::{API_TOKEN, TOKEN_LEN, secrets_in};
    let key = format!("key {SECRET_KEY} there");
    assert_eq!(secrets_in(&key, false), ["the encryption key"]);
    let token = format!("\"access_token\":\"{}\"", "a".repeat(TOKEN_LEN));
    // Token-shaped, but no simulator issued it.
    assert!(secrets_in(&token, false).is_empty());
    let api = format!("{API_TOKEN}{}", "B".repeat(TOKEN_LEN));
    assert_eq!(secrets_in(&api, false), ["an API token"]);
    assert!(secrets_in(&api, true).is_empty());
    // How a list shows an API token: its start only.
    assert!(secrets_in(&format!("{API_TOKEN}AbCd…"), false).is_empty());
    assert_eq!(
        secrets_in("$argon2id$v=19$m=19456", false),
        ["a password hash"]
    );
    // Tokens a test simulator really issued. (Not through `run`: the other test here
    // installs the log subscriber it reads.)
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(10 << 20)
        .build()
        .unwrap();
    runtime.block_on(async {
        let sim = TestSim::start(roomy()).await;
        let server = trestle(&sim).await;
        let admin = server.client();
        server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        authorized(&server, &sim, &admin).await;
        let issued = sim.sim.issued_tokens();
        assert!(!issued.is_empty());
        for token in issued {
            let answer = format!("{{\"refresh_token\":\"{token}\"}}");
            assert_eq!(secrets_in(&answer, false), ["a token Procore issued"]);
        }
    });
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
}
