//! The real server on a free port over an in-memory database, and a browser-like client.
#![allow(dead_code)] // each test file uses a different part

use std::net::SocketAddr;

use app::server::config::Config;
use leptos::config::LeptosOptions;
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::{Value, json};

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "admin password 1";

pub struct Server {
    pub addr: SocketAddr,
}

impl Server {
    pub async fn start() -> Server {
        Server::start_with(&[]).await
    }

    /// With extra configuration, e.g. where Procore is.
    pub async fn start_with(extra: &[(&str, &str)]) -> Server {
        let config = Config::from_sources(
            None,
            [
                ("TRESTLE_LISTEN", "127.0.0.1:0"),
                ("TRESTLE_DATABASE__URL", "mem://"),
                (
                    "TRESTLE_SECRET__KEY",
                    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                ),
                ("TRESTLE_ADMIN__EMAIL", ADMIN_EMAIL),
                ("TRESTLE_ADMIN__PASSWORD", ADMIN_PASSWORD),
            ]
            .iter()
            .chain(extra)
            .map(|(k, v)| (k.to_string(), v.to_string())),
        )
        .unwrap();
        let options = LeptosOptions::builder().output_name("trestle").build();
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            server::serve(config, options, |addr| {
                let _ = tx.send(addr);
            })
            .await
            .expect("server runs");
        });
        Server {
            addr: rx.await.expect("server bound"),
        }
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
    // The server's log, shown with a failing test's output.
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("info,surrealdb=warn,surrealdb_core=warn")
        .try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(10 << 20)
        .build()
        .unwrap();
    runtime.block_on(test);
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
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
