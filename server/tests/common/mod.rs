//! The real server on a free port over an in-memory database, and a browser-like client.
#![allow(dead_code)] // each test file uses a different part

pub mod leaks;

use std::net::SocketAddr;

use app::server::config::Config;
use leptos::config::LeptosOptions;
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::{Value, json};

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "admin password 1";
pub const SECRET_KEY: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

pub struct Server {
    pub addr: SocketAddr,
}

/// The tests' configuration: an in-memory database, a fixed key, a known administrator,
/// and `extra` (e.g. where Procore is).
pub fn config(extra: &[(String, String)]) -> Config {
    let base = [
        ("TRESTLE_LISTEN", "127.0.0.1:0"),
        ("TRESTLE_DATABASE__URL", "mem://"),
        ("TRESTLE_SECRET__KEY", SECRET_KEY),
        ("TRESTLE_ADMIN__EMAIL", ADMIN_EMAIL),
        ("TRESTLE_ADMIN__PASSWORD", ADMIN_PASSWORD),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    Config::from_sources(None, base.into_iter().chain(extra.iter().cloned())).unwrap()
}

impl Server {
    pub async fn start() -> Server {
        Server::start_with(&[]).await
    }

    /// With extra configuration, e.g. where Procore is.
    pub async fn start_with(extra: &[(&str, &str)]) -> Server {
        let extra: Vec<(String, String)> = extra
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Server::start_with_state(&extra).await.0
    }

    /// [`Server::start_with`], and the app state, to reach the server's store. Every
    /// answer is searched for secrets on its way out (see [`leaks`]).
    pub async fn start_with_state(extra: &[(String, String)]) -> (Server, app::server::AppState) {
        let options = LeptosOptions::builder().output_name("trestle").build();
        let config = config(extra);
        let listen = config.listen;
        let (router, state) = server::build(config, options).await.expect("server builds");
        let router = router.layer(axum::middleware::from_fn(leaks::watch));
        let listener = tokio::net::TcpListener::bind(listen).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        (Server { addr }, state)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A browser-like client: keeps cookies, does not follow redirects.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .unwrap()
    }

    pub async fn sign_in(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        client
            .post(self.url("/api/sign_in"))
            .form(&[("email", email), ("password", password)])
            .send()
            .await
            .unwrap()
    }

    pub async fn call(
        &self,
        client: &reqwest::Client,
        name: &str,
        body: Value,
    ) -> reqwest::Response {
        client
            .post(self.url(&format!("/api/{name}")))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn list_users(&self, client: &reqwest::Client) -> reqwest::Response {
        client
            .post(self.url("/api/list_users"))
            .header("content-type", "application/x-www-form-urlencoded")
            .send()
            .await
            .unwrap()
    }
}

/// Runs one test on its own runtime. The server it starts keeps running in the background,
/// so the runtime is shut down with a deadline instead of waiting for every task to end.
pub fn run(test: impl std::future::Future<Output = ()>) {
    log_to_test_output("info");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(10 << 20)
        .build()
        .unwrap();
    runtime.block_on(test);
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    leaks::assert_none_found();
}

/// The server's log at `level`, shown with a failing test's output and searched for
/// secrets (the first call in a process sets it).
pub fn log_to_test_output(level: &str) {
    let _ = tracing_subscriber::fmt()
        .with_writer(|| leaks::LogWriter)
        .with_env_filter(format!("{level},surrealdb=warn,surrealdb_core=warn"))
        .try_init();
}

impl Server {
    /// A new person with `roles`, signed in on their own client with a password of their
    /// own (a one-time password allows nothing else). Returns the client and their id.
    pub async fn person(
        &self,
        admin: &reqwest::Client,
        email: &str,
        roles: &[&str],
    ) -> (reqwest::Client, String) {
        let created = self
            .call(
                admin,
                "create_user",
                json!({ "draft": { "email": email, "name": email, "roles": roles } }),
            )
            .await;
        assert_eq!(created.status(), StatusCode::OK);
        let created: Value = created.json().await.unwrap();
        let one_time = created["one_time_password"].as_str().unwrap().to_string();
        let id = created["user"]["id"].as_str().unwrap().to_string();
        let client = self.client();
        self.sign_in(&client, email, &one_time).await;
        let changed = client
            .post(self.url("/api/change_password"))
            .form(&[
                ("current_password", one_time.as_str()),
                ("new_password", "a password of my own"),
                ("confirm_password", "a password of my own"),
            ])
            .send()
            .await
            .unwrap();
        assert!(changed.status().is_success() || changed.status().is_redirection());
        (client, id)
    }
}

/// Trestle pointed at `sim` for all three environments, with the simulator's app pairs.
/// The public URL is the one the simulator redirects to (nothing listens there: the test
/// reads the redirect and brings the code to the callback itself, as a browser would).
pub async fn trestle(sim: &procore_sim::testing::TestSim) -> Server {
    trestle_with(sim, &[]).await
}

/// The configuration that points Trestle at `sim` (all three environments, both app
/// pairs, and the public URL the simulator redirects to), as `TRESTLE_*` variables.
pub fn procore_env(sim: &procore_sim::testing::TestSim) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vec![
        ("TRESTLE_PUBLIC_URL".into(), "http://127.0.0.1:9".into()),
        ("TRESTLE_PROCORE__SIMULATOR".into(), "false".into()),
        (
            "TRESTLE_PROCORE__PRODUCTION_CLIENT__CLIENT_ID".into(),
            "trestle-production".into(),
        ),
        (
            "TRESTLE_PROCORE__PRODUCTION_CLIENT__CLIENT_SECRET".into(),
            "production-secret".into(),
        ),
        (
            "TRESTLE_PROCORE__SANDBOX_CLIENT__CLIENT_ID".into(),
            "trestle-sandbox".into(),
        ),
        (
            "TRESTLE_PROCORE__SANDBOX_CLIENT__CLIENT_SECRET".into(),
            "sandbox-secret".into(),
        ),
    ];
    for (key, prefix) in [
        ("LIVE", "live"),
        ("MONTHLY_SANDBOX", "monthly-sandbox"),
        ("DEVELOPER_SANDBOX", "developer-sandbox"),
    ] {
        for host in ["LOGIN_HOST", "API_HOST"] {
            env.push((
                format!("TRESTLE_PROCORE__{key}__{host}"),
                sim.url(prefix, ""),
            ));
        }
    }
    env
}

/// [`trestle`] with more configuration.
pub async fn trestle_with(sim: &procore_sim::testing::TestSim, extra: &[(&str, &str)]) -> Server {
    let env = procore_env(sim);
    let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    env.extend_from_slice(extra);
    Server::start_with(&env).await
}

pub async fn create(
    server: &Server,
    client: &reqwest::Client,
    name: &str,
    company: &str,
) -> String {
    let saved = server
        .call(
            client,
            "save_data_source",
            json!({ "id": null, "draft": {
                "name": name, "company_id": company, "environment": "developer_sandbox",
                "cloud_connect": false, "connector": null } }),
        )
        .await;
    assert_eq!(
        saved.status(),
        StatusCode::OK,
        "{}",
        saved.text().await.unwrap()
    );
    let saved: Value = saved.json().await.unwrap();
    saved["data_source"]["id"].as_str().unwrap().to_string()
}

/// `/data-sources/{id}/authorize` → the Procore authorize URL it redirects to.
pub async fn start(server: &Server, client: &reqwest::Client, id: &str) -> url::Url {
    let started = client
        .get(server.url(&format!("/data-sources/{id}/authorize")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        started.status(),
        StatusCode::SEE_OTHER,
        "{}",
        started.status()
    );
    url::Url::parse(started.headers()["location"].to_str().unwrap()).unwrap()
}

/// A data source on the simulator's sandbox company, authorized by `admin` (its connection
/// test not run).
pub async fn authorized(
    server: &Server,
    sim: &procore_sim::testing::TestSim,
    admin: &reqwest::Client,
) -> String {
    let id = create(server, admin, "Procore", "4264807").await;
    let back = sim.consent_at(&start(server, admin, &id).await, true).await;
    assert_eq!(callback(server, admin, &back).await.0, StatusCode::OK);
    id
}

/// Brings Procore's redirect to Trestle's callback on `client`.
pub async fn callback(
    server: &Server,
    client: &reqwest::Client,
    back: &url::Url,
) -> (StatusCode, String) {
    let response = client
        .get(server.url(&format!(
            "/oauth/callback?{}",
            back.query().unwrap_or_default()
        )))
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// A data source on the simulator's sandbox company, authorized and through its whole
/// connection test.
pub async fn ready_source(
    server: &Server,
    sim: &procore_sim::testing::TestSim,
    admin: &reqwest::Client,
) -> String {
    let id = authorized(server, sim, admin).await;
    for step in test_steps(server, admin, &id).await {
        assert!(step["failure"].is_null(), "{step}");
    }
    id
}

/// Runs "Test connection" step by step, as the drawer does, until a step fails.
pub async fn test_steps(server: &Server, client: &reqwest::Client, id: &str) -> Vec<Value> {
    let mut results = Vec::new();
    for step in ["token", "company", "app_installed"] {
        let result: Value = server
            .call(
                client,
                "test_connection_step",
                json!({ "id": id, "step": step }),
            )
            .await
            .json()
            .await
            .unwrap();
        let failed = !result["failure"].is_null();
        results.push(result);
        if failed {
            break;
        }
    }
    results
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A process a test started, killed when dropped.
pub struct Spawned {
    pub child: std::process::Child,
}

impl Spawned {
    /// Starts `command` and waits for it to answer `health` with a success.
    pub async fn start(what: &str, mut command: std::process::Command, health: &str) -> Spawned {
        let mut spawned = Spawned {
            child: command
                .spawn()
                .unwrap_or_else(|e| panic!("{what} cannot start: {e}")),
        };
        let http = reqwest::Client::new();
        let started = std::time::Instant::now();
        while started.elapsed() < std::time::Duration::from_secs(60) {
            if let Ok(r) = http.get(health).send().await
                && r.status().is_success()
            {
                return spawned;
            }
            if let Ok(Some(status)) = spawned.child.try_wait() {
                panic!("{what} stopped at start ({status}); its log is above");
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("{what} did not start within 60 s");
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server binary as a process of its own, killed when dropped.
pub struct Process {
    pub process: Spawned,
    pub server: Server,
}

impl Process {
    /// Starts it on a free port against `sim`, with the tests' key and administrator and
    /// `env` (at least `TRESTLE_DATABASE__URL`), and waits for it to answer.
    pub async fn start(sim: &procore_sim::testing::TestSim, env: &[(&str, &str)]) -> Process {
        let port = free_port();
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_server"));
        command
            .envs(procore_env(sim))
            .env("TRESTLE_SECRET__KEY", SECRET_KEY)
            .env("TRESTLE_ADMIN__EMAIL", ADMIN_EMAIL)
            .env("TRESTLE_ADMIN__PASSWORD", ADMIN_PASSWORD)
            .env("TRESTLE_LISTEN", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .env_remove("TEST_CRASH_AT")
            .envs(env.iter().copied())
            // Its log (warnings and errors) shows beside the test's own output.
            .stdout(std::process::Stdio::inherit())
            .stderr(std::process::Stdio::inherit());
        let server = Server {
            addr: ([127, 0, 0, 1], port).into(),
        };
        let process = Spawned::start("the server", command, &server.url("/health")).await;
        Process { process, server }
    }
}
