//! The simulator on a loopback port, a client pointed at its Developer Sandbox, and the
//! browser's part of the OAuth flow (sign in, allow) done over HTTP.
#![allow(dead_code)] // each test file uses a different part

use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use procore::{CallLog, CallRecord, Client, ClientConfig, Hosts, OAuthApp, Secret, TokenStore};
use procore_sim::SimConfig;
use procore_sim::data::SANDBOX_COMPANY_ID;
pub use procore_sim::testing::{TEST_REDIRECT as REDIRECT, TestSim, roomy};
use tokio::time::Instant;
use url::Url;

/// [`TestSim`] plus clients pointed at its Developer Sandbox.
pub struct Harness(TestSim);

impl Deref for Harness {
    type Target = TestSim;

    fn deref(&self) -> &TestSim {
        &self.0
    }
}

impl Harness {
    pub async fn start(config: SimConfig) -> Harness {
        Harness(TestSim::start(config).await)
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

    /// Authorizes `client` the way a user would, and stores its tokens.
    pub async fn authorize(&self, client: &Client) {
        let code = self
            .code_for(&client.authorizer().authorize_url("test-state"))
            .await;
        client.authorize(&code).await.expect("code exchange");
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
