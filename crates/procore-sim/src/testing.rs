//! The simulator on a loopback port and the browser's part of an OAuth authorization,
//! for the tests of every crate that talks to it.

use std::sync::{Arc, Mutex};

use reqwest::redirect::Policy;
use url::Url;

use crate::{SimConfig, Simulator, router};

/// Every simulator [`TestSim::start`] started in this process.
static STARTED: Mutex<Vec<Arc<Simulator>>> = Mutex::new(Vec::new());

/// Whether any simulator started for a test in this process issued `token` (access or
/// refresh): for checks that no token shows up where it must not.
pub fn issued_by_any(token: &str) -> bool {
    let started = STARTED.lock().expect("started simulators");
    started
        .iter()
        .any(|sim| sim.issued_tokens().iter().any(|t| t == token))
}

/// Registered for every test simulator; nothing listens there, the redirect is only read.
pub const TEST_REDIRECT: &str = "http://127.0.0.1:9/oauth/callback";

/// The seeded Procore user tests sign in as.
pub const TEST_USER: (&str, &str) = ("sandbox+arch@example.com", "sandbox");

pub struct TestSim {
    pub base: String,
    pub sim: Arc<Simulator>,
    /// Does not follow redirects, so tests can read them.
    pub http: reqwest::Client,
}

/// Limits no test meets unless it is about rate limits.
pub fn roomy() -> SimConfig {
    SimConfig {
        rate_limits: crate::ratelimit::Limits {
            hourly: 1_000_000,
            spike: 100_000,
        },
        ..SimConfig::default()
    }
}

impl TestSim {
    /// Serves `config` (plus [`TEST_REDIRECT`]) with the `/_sim` switches on a free port.
    pub async fn start(mut config: SimConfig) -> TestSim {
        config.redirect_uris.push(TEST_REDIRECT.into());
        let sim = Simulator::new(config);
        STARTED
            .lock()
            .expect("started simulators")
            .push(sim.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free loopback port");
        let base = format!("http://{}", listener.local_addr().expect("bound address"));
        let app = router(sim.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        TestSim {
            base,
            sim,
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .expect("HTTP client"),
        }
    }

    /// `path` in an environment, e.g. `url("developer-sandbox", "/oauth/token")`.
    pub fn url(&self, env: &str, path: &str) -> String {
        format!("{}/{env}{path}", self.base)
    }

    /// What a user's browser does with an authorize URL: see [`consent`].
    pub async fn consent_at(&self, authorize: &Url, allow: bool) -> Url {
        consent(&self.http, authorize, allow).await
    }

    /// The `code` of an allowed authorization, checking that `state` came back.
    pub async fn code_for(&self, authorize: &Url) -> String {
        let back = self.consent_at(authorize, true).await;
        let param = |key: &str| {
            back.query_pairs()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.into_owned())
        };
        let sent_state = authorize
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned());
        assert_eq!(param("state"), sent_state, "state comes back");
        param("code").unwrap_or_else(|| panic!("a code in {back}"))
    }

    /// REST calls received for one endpoint, e.g.
    /// `GET /developer-sandbox/rest/v1.0/projects/{project_id}/rfis`.
    pub fn requests(&self, endpoint: &str) -> u64 {
        self.sim
            .request_counts()
            .get(endpoint)
            .copied()
            .unwrap_or(0)
    }
}

/// What a user's browser does with an authorize URL: open the sign-in form, sign in as
/// [`TEST_USER`], then allow (or deny). Returns where Procore redirects to. `http` must not
/// follow redirects.
pub async fn consent(http: &reqwest::Client, authorize: &Url, allow: bool) -> Url {
    let login = http
        .get(authorize.as_str())
        .send()
        .await
        .expect("authorize page");
    assert_eq!(login.status(), 200, "the sign-in form");
    let html = login.text().await.expect("sign-in form");
    assert!(html.contains("name=\"password\""), "a sign-in form: {html}");
    let mut post_to = authorize.clone();
    post_to.set_query(None);
    let mut form: Vec<(String, String)> = authorize
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    form.push(("step".into(), "login".into()));
    form.push(("email".into(), TEST_USER.0.into()));
    form.push(("password".into(), TEST_USER.1.into()));
    let consent = http
        .post(post_to.as_str())
        .form(&form)
        .send()
        .await
        .expect("sign in");
    assert_eq!(consent.status(), 200, "the consent step");
    let html = consent.text().await.expect("consent page");
    let ticket = html
        .split("name=\"ticket\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("a consent ticket in {html}"))
        .to_string();
    let decision = if allow { "allow" } else { "deny" };
    let decided = http
        .post(post_to.as_str())
        .form(&[
            ("step", "consent"),
            ("ticket", ticket.as_str()),
            ("decision", decision),
        ])
        .send()
        .await
        .expect("consent");
    assert!(decided.status().is_redirection(), "{}", decided.status());
    let location = decided.headers()["location"]
        .to_str()
        .expect("a text Location");
    Url::parse(location).expect("a URL in Location")
}
