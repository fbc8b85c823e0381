//! Scale-out: two server processes on one SurrealDB server (SurrealDB's own, built from
//! crates.io by `tools/surreal-server`), serving the same data source. Started at the same
//! moment, they agree on one first administrator; a session opened on either works on
//! both, and ends on both; calls through both across an access token's expiry refresh it
//! once in total, because the refresh is leased in the shared database.

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use app::server::store::KEEP_FOR;
use common::*;
use procore_sim::testing::{TestSim, roomy};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// `SURREAL_SERVER_BIN`, or where `scripts/test` builds it.
fn surreal_server_bin() -> PathBuf {
    let path = std::env::var_os("SURREAL_SERVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                        .join(".cache/trestle-target")
                });
            target.join("debug/surreal-server")
        });
    assert!(
        path.is_file(),
        "no SurrealDB server at {}: `scripts/test` builds it, or run \
         `cargo build --locked --manifest-path tools/surreal-server/Cargo.toml` \
         (or set SURREAL_SERVER_BIN)",
        path.display()
    );
    path
}

/// A SurrealDB server in memory, killed when dropped.
struct Surreal {
    _process: Spawned,
    url: String,
}

impl Surreal {
    async fn start() -> Surreal {
        let port = free_port();
        let mut command = Command::new(surreal_server_bin());
        command
            .args(["start", "--bind", &format!("127.0.0.1:{port}")])
            .args([
                "--user", "root", "--pass", "root", "--log", "warn", "memory",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let health = format!("http://127.0.0.1:{port}/health");
        Surreal {
            _process: Spawned::start("the SurrealDB server", command, &health).await,
            url: format!("ws://127.0.0.1:{port}"),
        }
    }
}

async fn current_user(server: &Server, client: &reqwest::Client) -> (StatusCode, Value) {
    let response = client
        .post(server.url("/api/current_user"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[test]
fn two_servers_on_one_database_share_sessions_and_refresh_once() {
    run(async {
        let surreal = Surreal::start().await;
        let sim = TestSim::start(roomy()).await;
        // The pair the authorization brings lives a second.
        sim.sim.update_config(|c| c.access_token_ttl = 1);
        let env = [
            ("TRESTLE_DATABASE__URL", surreal.url.as_str()),
            ("TRESTLE_DATABASE__USER", "root"),
            ("TRESTLE_DATABASE__PASSWORD", "root"),
            ("TRESTLE_PROCORE__OPTIONS_CACHE_SECONDS", "0"),
        ];
        // At the same moment: both apply the schema and look for a first administrator.
        let (a, b) = tokio::join!(Process::start(&sim, &env), Process::start(&sim, &env));
        let (a, b) = (&a.server, &b.server);

        // One administrator, whichever server created it.
        let admin = a.client();
        assert_eq!(
            a.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD)
                .await
                .status(),
            StatusCode::OK
        );
        let users: Value = a.list_users(&admin).await.json().await.unwrap();
        let admins = users
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["email"] == ADMIN_EMAIL)
            .count();
        assert_eq!(admins, 1, "{users}");

        // The session opened on A works on B (cookies do not tell ports apart), and one
        // opened on B works on A.
        let (status, user) = current_user(b, &admin).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(user["email"], ADMIN_EMAIL, "{user}");
        let other = b.client();
        let opened = b.sign_in(&other, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let cookie = opened
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok()?.split(';').next())
            .find(|c| c.starts_with("trestle_session="))
            .expect("a session cookie")
            .to_string();
        assert_eq!(current_user(a, &other).await.1["email"], ADMIN_EMAIL);

        // Signed out on B: refused on A too, once A's copy of the row is past its moment.
        let out = other.post(b.url("/api/sign_out")).send().await.unwrap();
        assert!(out.status().is_success() || out.status().is_redirection());
        tokio::time::sleep(KEEP_FOR + Duration::from_millis(200)).await;
        let replayed = reqwest::Client::new()
            .post(a.url("/api/current_user"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(replayed.status(), StatusCode::OK);
        assert_eq!(replayed.json::<Value>().await.unwrap(), Value::Null);

        // A data source authorized through A; a form reading its projects saved on B.
        let source = authorized(a, &sim, &admin).await;
        let projects = json!({ "data_source": source, "object": "projects",
            "display_field": "display_name", "value_field": "id", "sort_by": "name",
            "direction": "asc", "project": null, "conditions": [] });
        let saved: Value = b
            .call(
                &admin,
                "save_form",
                json!({ "id": null, "draft": { "name": "Scale-out", "fields": [
                    { "id": "project", "label": "Project", "kind": "list", "required": true,
                      "format": "dropdown", "list": { "kind": "data_source", "binding": projects } }
                ] } }),
            )
            .await
            .json()
            .await
            .unwrap();
        let form = saved["id"].as_str().expect("form saved").to_string();

        // The first pair has run out (the next lives an hour): 20 options calls at once,
        // half through each server.
        sim.sim.update_config(|c| c.access_token_ttl = 3_600);
        tokio::time::sleep(Duration::from_millis(1_200)).await;
        let counters = sim.sim.counters();
        let before = counters.refreshes + counters.failed_refreshes;
        let started = Instant::now();
        let calls: Vec<_> = (0..20)
            .map(|i| {
                let server = if i % 2 == 0 { a } else { b };
                let request = admin.post(server.url("/api/form_options")).json(&json!({
                    "form": form, "field": "project",
                    "request": { "values": [], "search": format!("call {i}"), "page": 1 } }));
                tokio::spawn(async move {
                    let response = request.send().await.unwrap();
                    (response.status(), response.text().await.unwrap())
                })
            })
            .collect();
        let mut answers = Vec::new();
        for call in calls {
            answers.push(call.await.unwrap());
        }
        let counters = sim.sim.counters();
        let refreshes = counters.refreshes + counters.failed_refreshes - before;
        let ok = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
        println!(
            "two servers started at once on one SurrealDB server: one administrator; a session \
             opened on either works on both and, signed out on B, is refused on A within {:?}; \
             access token expired, then 20 concurrent options calls (10 per server): {ok}/20 → \
             200 in {:.1?}; token endpoint: {refreshes} refresh in total",
            KEEP_FOR,
            started.elapsed()
        );
        assert_eq!(ok, 20, "{answers:?}");
        assert_eq!(refreshes, 1);
    });
}
