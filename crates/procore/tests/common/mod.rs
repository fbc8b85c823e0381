//! The simulator on a loopback port, a client pointed at its Developer Sandbox, and the
//! browser's part of the OAuth flow (sign in, allow) done over HTTP.
#![allow(dead_code)] // each test file uses a different part

use std::sync::{Arc, Mutex};
use std::time::Duration;

use procore::{CallLog, CallRecord, Client, ClientConfig, Hosts, OAuthApp, Secret, TokenStore};
use procore_sim::data::SANDBOX_COMPANY_ID;
use procore_sim::{SimConfig, Simulator};
use tokio::time::Instant;
use url::Url;

pub const REDIRECT: &str = "http://127.0.0.1:9/oauth/callback";

pub struct Harness {
    pub base: String,
    pub sim: Arc<Simulator>,
    pub http: reqwest::Client,
}

/// Generous limits: tests that are not about rate limits should not meet them.
pub fn roomy() -> SimConfig {
    SimConfig {
        rate_limits: procore_sim::ratelimit::Limits {
            hourly: 1_000_000,
            spike: 100_000,
        },
        ..SimConfig::default()
    }
}

impl Harness {
    pub async fn start(mut config: SimConfig) -> Harness {
        config.redirect_uris.push(REDIRECT.into());
        let sim = Simulator::new(config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = procore_sim::router(sim.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Harness {
            base,
            sim,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    pub fn hosts(&self) -> Hosts {
        let url = Url::parse(&format!("{}/developer-sandbox", self.base)).unwrap();
        Hosts {
            login: url.clone(),
            api: url,
        }
    }

    /// A data source in the sandbox company; retries back off in milliseconds.
    pub fn config(&self, token_key: &str) -> ClientConfig {
        let app = OAuthApp {
            client_id: "trestle-sandbox".into(),
            client_secret: Secret::new("sandbox-secret"),
            redirect_uri: Url::parse(REDIRECT).unwrap(),
        };
        let mut config = ClientConfig::new(self.hosts(), app, SANDBOX_COMPANY_ID, token_key);
        config.backoff = Duration::from_millis(5);
        config
    }

    pub fn client(&self, config: ClientConfig, store: Arc<dyn TokenStore>) -> Client {
        Client::new(
            config,
            store,
            Arc::new(procore::transport::ReqwestTransport::default()),
        )
        .unwrap()
    }

    /// What the user's browser does: open the authorize URL, sign in, allow. Returns the code.
    pub async fn consent(&self, client: &Client, state: &str) -> String {
        let authorize = client.authorizer().authorize_url(state);
        let login = self.http.get(authorize.as_str()).send().await.unwrap();
        assert_eq!(login.status(), 200);
        let mut form: Vec<(String, String)> = authorize
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        form.push(("step".into(), "login".into()));
        form.push(("email".into(), "sandbox+arch@example.com".into()));
        form.push(("password".into(), "sandbox".into()));
        let post_to = format!("{}/developer-sandbox/oauth/authorize", self.base);
        let consent = self.http.post(&post_to).form(&form).send().await.unwrap();
        let html = consent.text().await.unwrap();
        let ticket = html
            .split("name=\"ticket\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("consent ticket")
            .to_string();
        let decided = self
            .http
            .post(&post_to)
            .form(&[
                ("step", "consent"),
                ("ticket", ticket.as_str()),
                ("decision", "allow"),
            ])
            .send()
            .await
            .unwrap();
        let location = Url::parse(decided.headers()["location"].to_str().unwrap()).unwrap();
        let query = |key: &str| {
            location
                .query_pairs()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.into_owned())
        };
        assert_eq!(query("state").as_deref(), Some(state), "state comes back");
        query("code").expect("an authorization code")
    }

    /// Authorizes `client` the way a user would, and stores its tokens.
    pub async fn authorize(&self, client: &Client) {
        let code = self.consent(client, "test-state").await;
        client.authorize(&code).await.expect("code exchange");
    }

    /// REST calls the simulator received for one endpoint (e.g. `GET /developer-sandbox/rest/v1.0/me`).
    pub fn requests(&self, endpoint: &str) -> u64 {
        self.sim
            .request_counts()
            .get(endpoint)
            .copied()
            .unwrap_or(0)
    }
}

/// Keeps every call with the instant it was reported.
#[derive(Default)]
pub struct Recorder {
    pub calls: Mutex<Vec<(Instant, CallRecord)>>,
}

impl CallLog for Recorder {
    fn record(&self, call: CallRecord) {
        self.calls.lock().unwrap().push((Instant::now(), call));
    }
}

impl Recorder {
    pub fn statuses(&self) -> Vec<Option<u16>> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .map(|(_, c)| c.status)
            .collect()
    }
}
