//! A simulator on a random loopback port, and the steps every test repeats.
#![allow(dead_code)] // each test file uses a different part

use std::ops::Deref;

use procore_sim::SimConfig;
pub use procore_sim::testing::{TEST_REDIRECT as REDIRECT, TestSim};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub const SANDBOX: &str = "developer-sandbox";
pub const SANDBOX_ID: &str = "trestle-sandbox";
pub const SANDBOX_SECRET: &str = "sandbox-secret";

/// [`TestSim`] with the OAuth steps these tests spell out by hand.
pub struct Sim(TestSim);

impl Deref for Sim {
    type Target = TestSim;

    fn deref(&self) -> &TestSim {
        &self.0
    }
}

impl Sim {
    pub async fn start() -> Sim {
        Sim::start_with(SimConfig::default()).await
    }

    pub async fn start_with(config: SimConfig) -> Sim {
        Sim(TestSim::start(config).await)
    }

    pub fn authorize_url(&self, env: &str, client_id: &str, redirect: &str, state: &str) -> String {
        format!(
            "{}?response_type=code&client_id={client_id}&redirect_uri={}&state={state}",
            self.url(env, "/oauth/authorize"),
            urlencode(redirect)
        )
    }

    /// Signs in on the login form and answers the consent step; returns the redirect.
    pub async fn consent(&self, env: &str, client_id: &str, state: &str, allow: bool) -> url::Url {
        let authorize = url::Url::parse(&self.authorize_url(env, client_id, REDIRECT, state))
            .expect("authorize URL");
        self.consent_at(&authorize, allow).await
    }

    pub async fn code(&self, state: &str) -> String {
        let back = self.consent(SANDBOX, SANDBOX_ID, state, true).await;
        assert!(back.as_str().starts_with(REDIRECT));
        assert_eq!(query(&back, "state").as_deref(), Some(state));
        query(&back, "code").expect("code")
    }

    pub async fn exchange(&self, code: &str) -> reqwest::Response {
        self.http
            .post(self.url(SANDBOX, "/oauth/token"))
            .json(&json!({
                "grant_type": "authorization_code",
                "client_id": SANDBOX_ID,
                "client_secret": SANDBOX_SECRET,
                "code": code,
                "redirect_uri": REDIRECT,
            }))
            .send()
            .await
            .unwrap()
    }

    pub async fn tokens(&self) -> Value {
        let code = self.code("s").await;
        let response = self.exchange(&code).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    pub async fn me(&self, env: &str, token: &str, query: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{query}", self.url(env, "/rest/v1.0/me")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn refresh_form(&self, refresh: &str, secret: &str) -> reqwest::Response {
        self.http
            .post(self.url(SANDBOX, "/oauth/token/"))
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", SANDBOX_ID),
                ("client_secret", secret),
                ("refresh_token", refresh),
            ])
            .send()
            .await
            .unwrap()
    }
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub fn query(url: &url::Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// A signed-in caller in the sandbox company: every request carries the bearer token and
/// `Procore-Company-Id`, as Procore requires.
pub struct Api<'a> {
    pub sim: &'a Sim,
    pub token: String,
}

impl Sim {
    pub async fn api(&self) -> Api<'_> {
        let token = self.tokens().await["access_token"]
            .as_str()
            .expect("access token")
            .to_string();
        Api { sim: self, token }
    }
}

impl Api<'_> {
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.sim
            .http
            .request(method, self.sim.url(SANDBOX, path))
            .bearer_auth(&self.token)
            .header(
                "Procore-Company-Id",
                procore_sim::data::SANDBOX_COMPANY_ID.to_string(),
            )
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.request(reqwest::Method::GET, path)
            .send()
            .await
            .unwrap()
    }

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
    ) -> reqwest::Response {
        self.request(method, path).json(body).send().await.unwrap()
    }
}
