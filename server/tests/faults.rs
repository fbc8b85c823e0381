//! Faults (issue 10) over real HTTP: the simulator's switches — latency spikes, 5xx bursts,
//! 429 storms, an access token running out in the middle of a burst, the app uninstalled
//! from the company, every token revoked — against a filled-in form's list options and
//! a form whose data rule creates an RFI. What must hold: bounded waits, clear statuses
//! and messages, no hot retry loops, no lost submissions, and recovery without a restart.
//! Each case prints what it tried and what held.

mod common;

use std::time::{Duration, Instant};

use common::*;
use procore_sim::data::SANDBOX_PROJECT_ID;
use procore_sim::testing::{TestSim, roomy};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The sandbox company of the simulator's seed (the data source's company).
const COMPANY: &str = "4264807";
/// Test Architect, a sandbox project user who may manage RFIs.
const ARCHITECT: &str = "4201001";
/// The projects list behind the form's Project field.
const PROJECTS: &str = "GET /developer-sandbox/rest/v1.1/projects";
const CREATE_RFI: &str = "POST /developer-sandbox/rest/v1.0/projects/{project_id}/rfis";

/// Sets the simulator's fault switches over HTTP, as a demo would.
async fn faults(sim: &TestSim, faults: Value) {
    let response = sim
        .http
        .put(format!("{}/_sim/faults", sim.base))
        .json(&faults)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{faults}");
}

async fn token_ttl(sim: &TestSim, seconds: u64) {
    let response = sim
        .http
        .put(format!("{}/_sim/token-ttl", sim.base))
        .json(&json!({ "seconds": seconds }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

async fn app_installed(sim: &TestSim, installed: bool) {
    let response = sim
        .http
        .put(format!("{}/_sim/companies/{COMPANY}/app", sim.base))
        .json(&json!({ "installed": installed }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

/// Runs `tasks` at once, each on its own task; their outputs in order.
async fn all<T: Send + 'static>(
    tasks: impl IntoIterator<Item = impl Future<Output = T> + Send + 'static>,
) -> Vec<T> {
    let handles: Vec<_> = tasks.into_iter().map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.expect("task"));
    }
    outputs
}

/// Calls to the token endpoint that refreshed, or tried to.
fn token_calls(sim: &TestSim) -> u64 {
    let counters = sim.sim.counters();
    counters.refreshes + counters.failed_refreshes
}

/// A signed-in administrator, an authorized data source and a saved form whose Project
/// list field reads the data source's projects. Options are not cached, so every call
/// asks Procore.
struct Setup {
    sim: TestSim,
    server: Server,
    admin: reqwest::Client,
    source: String,
    form: String,
}

async fn setup(extra: &[(&str, &str)]) -> Setup {
    setup_with_ttl(extra, None).await
}

/// [`setup`], the first token pair living `ttl` seconds when given.
async fn setup_with_ttl(extra: &[(&str, &str)], ttl: Option<u64>) -> Setup {
    let sim = TestSim::start(roomy()).await;
    if let Some(ttl) = ttl {
        token_ttl(&sim, ttl).await;
    }
    let mut env = vec![("TRESTLE_PROCORE__OPTIONS_CACHE_SECONDS", "0")];
    env.extend_from_slice(extra);
    let server = trestle_with(&sim, &env).await;
    let admin = server.client();
    server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let source = authorized(&server, &sim, &admin).await;
    let projects = json!({ "data_source": source, "object": "projects",
        "display_field": "display_name", "value_field": "id", "sort_by": "name",
        "direction": "asc", "project": null, "conditions": [] });
    let saved = server
        .call(
            &admin,
            "save_form",
            json!({ "id": null, "draft": { "name": "Faults", "fields": [
                { "id": "project", "label": "Project", "kind": "list", "required": true,
                  "format": "dropdown", "list": { "kind": "data_source", "binding": projects } }
            ] } }),
        )
        .await;
    assert_eq!(saved.status(), StatusCode::OK);
    let form = saved.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    Setup {
        sim,
        server,
        admin,
        source,
        form,
    }
}

/// One options call as the filled-in form makes it.
struct Answer {
    status: StatusCode,
    retry_after: Option<u64>,
    body: String,
    took: Duration,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// The error's message, whichever variant carries it.
    fn message(&self) -> String {
        let json = self.json();
        let variant = json.as_object().and_then(|o| o.values().next()).cloned();
        match variant {
            Some(Value::String(text)) => text,
            Some(Value::Object(fields)) => fields
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            _ => self.body.clone(),
        }
    }

    fn options(&self) -> usize {
        self.json()["options"].as_array().map_or(0, Vec::len)
    }
}

impl Setup {
    async fn options(&self, search: Option<&str>) -> Answer {
        self.options_as(&self.admin, search).await
    }

    async fn options_as(&self, client: &reqwest::Client, search: Option<&str>) -> Answer {
        self.ask(client, search.map(str::to_string)).await
    }

    /// An options call that owns what it needs, to run as a task of its own.
    fn ask(
        &self,
        client: &reqwest::Client,
        search: Option<String>,
    ) -> impl Future<Output = Answer> + Send + 'static {
        let (client, url) = (client.clone(), self.server.url("/api/form_options"));
        let body = json!({ "form": self.form, "field": "project",
            "request": { "values": [], "search": search, "page": 1 } });
        async move {
            let started = Instant::now();
            let response = client.post(url).json(&body).send().await.unwrap();
            Answer::of(response, started).await
        }
    }
}

impl Answer {
    async fn of(response: reqwest::Response, started: Instant) -> Answer {
        let status = response.status();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let body = response.text().await.unwrap();
        Answer {
            status,
            retry_after,
            body,
            took: started.elapsed(),
        }
    }
}

impl Setup {
    async fn data_source(&self) -> Value {
        self.server
            .call(&self.admin, "get_data_source", json!({ "id": self.source }))
            .await
            .json()
            .await
            .unwrap()
    }

    fn calls(&self) -> u64 {
        self.sim.requests(PROJECTS)
    }
}

#[test]
fn a_latency_spike_is_cut_off_within_a_bound() {
    run(async {
        let timeout = 2;
        let s = setup(&[("TRESTLE_PROCORE__TIMEOUT_SECONDS", "2")]).await;
        assert_eq!(s.options(None).await.status, StatusCode::OK);

        faults(&s.sim, json!({ "latency_ms": 5_000 })).await;
        let before = s.calls();
        let slow = s.options(None).await;
        let calls = s.calls() - before;
        println!(
            "latency spike (5 s, timeout {timeout} s): options → {} '{}' after {:.1?}, {calls} calls to Procore",
            slow.status.as_u16(),
            slow.message(),
            slow.took
        );
        assert_eq!(
            slow.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            slow.body
        );
        assert!(slow.message().contains("timed out"), "{}", slow.body);
        assert!(
            slow.took < Duration::from_secs(4 * timeout),
            "waited {:?}",
            slow.took
        );
        assert!((1..=4).contains(&calls), "{calls} calls");

        faults(&s.sim, json!({})).await;
        let after = s.options(None).await;
        println!(
            "after the spike: options → {} with {} options in {:.1?}",
            after.status.as_u16(),
            after.options(),
            after.took
        );
        assert_eq!(after.status, StatusCode::OK, "{}", after.body);
        assert!(after.options() > 0);
    });
}

#[test]
fn a_5xx_burst_fails_clearly_without_a_hot_loop_and_passes() {
    run(async {
        let s = setup(&[]).await;
        faults(&s.sim, json!({ "error_rate": 1.0 })).await;

        let mut per_request = Vec::new();
        let mut slowest = Duration::ZERO;
        let mut last = None;
        for search in [None, Some("Sandbox"), Some("Tower")] {
            let before = s.calls();
            let failed = s.options(search).await;
            per_request.push(s.calls() - before);
            slowest = slowest.max(failed.took);
            assert_eq!(
                failed.status,
                StatusCode::SERVICE_UNAVAILABLE,
                "{}",
                failed.body
            );
            assert!(
                failed.message().contains("Procore is unavailable"),
                "{}",
                failed.body
            );
            last = Some(failed);
        }
        let last = last.unwrap();
        // Ten people at once: each request still makes at most 1 + 3 retries.
        let before = s.calls();
        let together = all((0..10).map(|i| s.ask(&s.admin, Some(format!("burst {i}"))))).await;
        let concurrent = s.calls() - before;
        println!(
            "5xx burst (error_rate 1.0): options → {} '{}' after {:?} calls to Procore per \
             request (slowest {:.1?}); 10 at once → all {}, {concurrent} calls in all",
            last.status.as_u16(),
            last.message(),
            per_request,
            slowest,
            together[0].status.as_u16()
        );
        assert!(per_request.iter().all(|n| *n <= 4), "{per_request:?}");
        assert!(
            together
                .iter()
                .all(|a| a.status == StatusCode::SERVICE_UNAVAILABLE)
        );
        assert!(concurrent <= 40, "{concurrent} calls for 10 requests");

        faults(&s.sim, json!({})).await;
        let after = s.options(None).await;
        println!(
            "after the burst: options → {} with {} options, no restart",
            after.status.as_u16(),
            after.options()
        );
        assert_eq!(after.status, StatusCode::OK, "{}", after.body);
        assert!(after.options() > 0);
    });
}

#[test]
fn a_429_storm_says_when_to_come_back_and_passes() {
    run(async {
        let timeout = 2;
        let s = setup(&[("TRESTLE_PROCORE__TIMEOUT_SECONDS", "2")]).await;
        let bound = Duration::from_secs(2 * timeout + 1);

        // A short Retry-After is waited for, within the bound, a few times.
        faults(&s.sim, json!({ "force_429": true, "retry_after_secs": 1 })).await;
        let before = s.calls();
        let short = s.options(None).await;
        let calls = s.calls() - before;
        println!(
            "429 storm, Retry-After 1 s: options → {} '{}' Retry-After {:?} after {:.1?}, \
             {calls} calls to Procore",
            short.status.as_u16(),
            short.message(),
            short.retry_after,
            short.took
        );
        assert_eq!(
            short.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            short.body
        );
        assert_eq!(short.retry_after, Some(1));
        assert!(short.message().contains("rate limit"), "{}", short.body);
        assert!((2..=4).contains(&calls), "{calls} calls");
        assert!(short.took < bound, "{:?}", short.took);

        faults(&s.sim, json!({})).await;
        let after = s.options(None).await;
        println!(
            "after it: options → {} in {:.1?}",
            after.status.as_u16(),
            after.took
        );
        assert_eq!(after.status, StatusCode::OK, "{}", after.body);

        // A Retry-After past the bound is not waited for: it is passed on at once, and the
        // calls after it are held back without asking Procore until it has passed.
        faults(&s.sim, json!({ "force_429": true, "retry_after_secs": 6 })).await;
        let before = s.calls();
        let long = s.options(None).await;
        let again = s.options(Some("again")).await;
        let calls = s.calls() - before;
        println!(
            "429 storm, Retry-After 6 s (bound {bound:?}): options → {} '{}' Retry-After {:?} \
             after {:.1?}; the next → {} Retry-After {:?} after {:.1?}; {calls} call to Procore",
            long.status.as_u16(),
            long.message(),
            long.retry_after,
            long.took,
            again.status.as_u16(),
            again.retry_after,
            again.took
        );
        assert_eq!(long.status, StatusCode::TOO_MANY_REQUESTS, "{}", long.body);
        assert_eq!(long.retry_after, Some(6));
        assert!(long.message().contains("6 s"), "{}", long.body);
        assert!(long.took < Duration::from_secs(1), "{:?}", long.took);
        assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(again.retry_after.is_some_and(|s| (1..=6).contains(&s)));
        assert!(again.took < Duration::from_secs(1));
        assert_eq!(calls, 1, "one call to Procore for both");

        faults(&s.sim, json!({})).await;
        tokio::time::sleep(Duration::from_secs(again.retry_after.unwrap() + 1)).await;
        let after = s.options(None).await;
        println!(
            "once Retry-After has passed: options → {} in {:.1?}",
            after.status.as_u16(),
            after.took
        );
        assert_eq!(after.status, StatusCode::OK, "{}", after.body);

        // Procore's real-world wait, two minutes: answered at once, no calls while it runs.
        faults(
            &s.sim,
            json!({ "force_429": true, "retry_after_secs": 120 }),
        )
        .await;
        let before = s.calls();
        let first = s.options(None).await;
        let held = all((0..5).map(|i| s.ask(&s.admin, Some(format!("held {i}"))))).await;
        let calls = s.calls() - before;
        let slowest = held.iter().map(|a| a.took).max().unwrap();
        println!(
            "429 storm, Retry-After 120 s: options → {} '{}' Retry-After {:?} after {:.1?}; \
             5 more → all {} (slowest {slowest:.1?}); {calls} call to Procore",
            first.status.as_u16(),
            first.message(),
            first.retry_after,
            first.took,
            held[0].status.as_u16()
        );
        assert_eq!(first.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(first.retry_after, Some(120));
        assert!(first.took < Duration::from_secs(1));
        assert!(
            held.iter()
                .all(|a| a.status == StatusCode::TOO_MANY_REQUESTS
                    && a.retry_after.is_some_and(|s| s > 100))
        );
        assert!(slowest < Duration::from_secs(2));
        assert_eq!(calls, 1);
    });
}

#[test]
fn an_access_token_running_out_in_a_burst_is_refreshed_once() {
    run(async {
        // The first pair lives a second.
        let s = setup_with_ttl(&[], Some(1)).await;
        // The refreshed pair lives 8 s (refreshed in its last 4).
        token_ttl(&s.sim, 8).await;
        tokio::time::sleep(Duration::from_millis(1_200)).await;

        let before = token_calls(&s.sim);
        let started = Instant::now();
        let burst = all((0..20).map(|i| s.ask(&s.admin, Some(format!("search {i}"))))).await;
        let refreshes = token_calls(&s.sim) - before;
        let ok = burst.iter().filter(|a| a.status == StatusCode::OK).count();
        println!(
            "access token expired (TTL 1 s), then 20 concurrent options calls: {ok}/20 → 200 \
             in {:.1?}; token endpoint: {refreshes} refresh",
            started.elapsed()
        );
        assert_eq!(
            ok,
            20,
            "{:?}",
            burst.iter().map(|a| &a.body).collect::<Vec<_>>()
        );
        assert_eq!(refreshes, 1);

        // Its successor runs out in the middle of the next burst: 60 calls, one every
        // 100 ms, across the moment it is due (4 s after it was issued).
        token_ttl(&s.sim, 3_600).await;
        let before = token_calls(&s.sim);
        let started = Instant::now();
        let spread = all((0..60).map(|i| {
            let ask = s.ask(&s.admin, Some(format!("spread {i}")));
            async move {
                tokio::time::sleep(Duration::from_millis(100 * i)).await;
                ask.await
            }
        }))
        .await;
        let refreshes = token_calls(&s.sim) - before;
        let ok = spread.iter().filter(|a| a.status == StatusCode::OK).count();
        println!(
            "token due in the middle of a 6-s burst of 60 calls: {ok}/60 → 200 in {:.1?}; \
             token endpoint: {refreshes} refresh",
            started.elapsed()
        );
        assert_eq!(ok, 60);
        assert_eq!(refreshes, 1);
    });
}

#[test]
fn an_uninstalled_app_is_named_and_reinstalling_it_is_enough() {
    run(async {
        let s = setup(&[]).await;
        app_installed(&s.sim, false).await;
        let refused = s.options(None).await;
        let steps = test_steps(&s.server, &s.admin, &s.source).await;
        let failed = steps.last().unwrap();
        let source = s.data_source().await;
        println!(
            "app uninstalled from the company: options → {} '{}'; Test connection: {} steps, \
             '{}' fails with '{}'; status {} '{}'",
            refused.status.as_u16(),
            refused.message(),
            steps.len(),
            failed["step"].as_str().unwrap_or_default(),
            failed["failure"].as_str().unwrap_or_default(),
            source["status"].as_str().unwrap_or_default(),
            source["status_reason"].as_str().unwrap_or_default()
        );
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        assert!(
            refused
                .message()
                .contains("not installed in the Procore company"),
            "{}",
            refused.body
        );
        assert_eq!(steps.len(), 3, "{steps:?}");
        assert_eq!(failed["step"], "app_installed");
        assert!(
            failed["failure"]
                .as_str()
                .unwrap()
                .contains("not installed in this company")
        );
        assert_eq!(source["status"], "test_failed");

        app_installed(&s.sim, true).await;
        let after = s.options(None).await;
        let steps = test_steps(&s.server, &s.admin, &s.source).await;
        println!(
            "reinstalled: options → {} with {} options; Test connection → {}",
            after.status.as_u16(),
            after.options(),
            steps.last().unwrap()["status"].as_str().unwrap_or_default()
        );
        assert_eq!(after.status, StatusCode::OK, "{}", after.body);
        assert_eq!(steps.last().unwrap()["status"], "ready");
    });
}

#[test]
fn revoked_tokens_ask_for_a_new_authorization_once() {
    run(async {
        let s = setup(&[]).await;
        let steps = test_steps(&s.server, &s.admin, &s.source).await;
        assert_eq!(steps.last().unwrap()["status"], "ready");

        let revoked = s
            .sim
            .http
            .post(format!("{}/_sim/revoke-all", s.sim.base))
            .send()
            .await
            .unwrap();
        assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
        let (tokens_before, calls_before) = (token_calls(&s.sim), s.calls());
        let first = s.options(None).await;
        let tokens_after_first = token_calls(&s.sim) - tokens_before;
        let more = all((0..5).map(|i| s.ask(&s.admin, Some(format!("r{i}"))))).await;
        let tokens = token_calls(&s.sim) - tokens_before;
        let calls = s.calls() - calls_before;
        // The status is written beside the request; give it a moment.
        let mut source = s.data_source().await;
        for _ in 0..20 {
            if source["status"] == "test_failed" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            source = s.data_source().await;
        }
        println!(
            "all tokens revoked: options → {} '{}' ({tokens_after_first} token call); 5 more → \
             all {}; in all {tokens} token call and {calls} refused REST calls for 6 requests; \
             data source status {} '{}'",
            first.status.as_u16(),
            first.message(),
            more[0].status.as_u16(),
            source["status"].as_str().unwrap_or_default(),
            source["status_reason"].as_str().unwrap_or_default()
        );
        assert_eq!(first.status, StatusCode::CONFLICT, "{}", first.body);
        assert!(first.message().contains("re-authorize"), "{}", first.body);
        assert!(more.iter().all(|a| a.status == StatusCode::CONFLICT));
        assert_eq!(tokens, 1, "the refused refresh token is not offered again");
        assert!(calls <= 6, "{calls}");
        assert_eq!(source["status"], "test_failed");
        assert!(
            source["status_reason"]
                .as_str()
                .unwrap_or_default()
                .contains("re-authorize")
        );

        // Re-authorized in the drawer: options come back, no restart.
        let back = s
            .sim
            .consent_at(&start(&s.server, &s.admin, &s.source).await, true)
            .await;
        assert_eq!(callback(&s.server, &s.admin, &back).await.0, StatusCode::OK);
        let after = s.options(None).await;
        let steps = test_steps(&s.server, &s.admin, &s.source).await;
        println!(
            "re-authorized: options → {} with {} options; Test connection → {}",
            after.status.as_u16(),
            after.options(),
            steps.last().unwrap()["status"].as_str().unwrap_or_default()
        );
        assert_eq!(after.status, StatusCode::OK, "{}", after.body);
        assert_eq!(steps.last().unwrap()["status"], "ready");
    });
}

#[test]
fn no_submission_is_lost_in_a_5xx_burst() {
    run(async {
        let s = setup(&[]).await;
        let text = |id: &str| {
            json!({ "id": id, "label": id, "kind": "text", "required": false, "list": null,
                "format": "dropdown" })
        };
        let constant = |value: &str| json!({ "kind": "constant", "value": value });
        let saved = s
            .server
            .call(
                &s.admin,
                "save_form",
                json!({ "id": null, "draft": { "name": "RFI request",
                    "fields": [text("subject"), text("number")],
                    "rules": [{ "id": "r1", "action": "create", "data_source": s.source,
                        "object": "rfis", "project": constant(&SANDBOX_PROJECT_ID.to_string()),
                        "inputs": [
                            { "attribute": "subject", "value": { "kind": "field", "value": "subject" } },
                            { "attribute": "question.body", "value": constant("Please confirm.") },
                            { "attribute": "rfi_manager_id", "value": constant(ARCHITECT) }],
                        "outputs": [{ "field": "number", "into": "number" }] }] } }),
            )
            .await;
        assert_eq!(saved.status(), StatusCode::OK);
        let form = saved.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let subject = "Fault-proof embed plates";

        faults(&s.sim, json!({ "error_rate": 1.0 })).await;
        let started = Instant::now();
        let submitted = s
            .server
            .call(
                &s.admin,
                "submit_form",
                json!({ "form": form, "answers": [
                    { "field": "subject", "value": subject, "display": subject }] }),
            )
            .await;
        let took = started.elapsed();
        assert_eq!(submitted.status(), StatusCode::OK);
        let failed: Value = submitted.json().await.unwrap();
        let creates = s.sim.requests(CREATE_RFI);
        let listed: Value = s
            .server
            .call(&s.admin, "form_submissions", json!({ "form": form }))
            .await
            .json()
            .await
            .unwrap();
        println!(
            "5xx burst while submitting: submit → 200 in {took:.1?}, state {} (can_retry {}), \
             message '{}'; {creates} create sent (a create is not repeated); {} submission \
             listed",
            failed["state"].as_str().unwrap_or_default(),
            failed["can_retry"],
            failed["messages"][0].as_str().unwrap_or_default(),
            listed.as_array().map_or(0, Vec::len)
        );
        assert_eq!(failed["state"], "failed", "{failed}");
        assert_eq!(failed["can_retry"], true);
        assert!(
            failed["messages"][0]
                .as_str()
                .unwrap()
                .contains("unavailable"),
            "{failed}"
        );
        assert_eq!(creates, 1);
        assert_eq!(listed.as_array().unwrap().len(), 1);
        assert_eq!(listed[0]["id"], failed["id"]);
        assert_eq!(listed[0]["can_retry"], true);

        faults(&s.sim, json!({})).await;
        let retried: Value = s
            .server
            .call(&s.admin, "retry_submission", json!({ "id": failed["id"] }))
            .await
            .json()
            .await
            .unwrap();
        let found: Value = s
            .server
            .call(
                &s.admin,
                "list_records",
                json!({ "scope": { "data_source": s.source, "object": "rfis",
                        "project": SANDBOX_PROJECT_ID },
                    "query": { "filters": [{ "field": "subject", "op": "eq", "value": subject }],
                        "per_page": 100 } }),
            )
            .await
            .json()
            .await
            .unwrap();
        let records = found["records"].as_array().unwrap();
        let number = retried["answers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["field"] == "number")
            .and_then(|a| a["value"].as_str())
            .unwrap_or_default()
            .to_string();
        println!(
            "after the burst: retry → state {} with RFI number {number}; the RFI exists {} \
             time(s) in Procore",
            retried["state"].as_str().unwrap_or_default(),
            records.len()
        );
        assert_eq!(retried["state"], "done", "{retried}");
        assert_eq!(records.len(), 1, "{found}");
        assert!(!number.is_empty());
        assert_eq!(s.sim.requests(CREATE_RFI), 2);
    });
}
