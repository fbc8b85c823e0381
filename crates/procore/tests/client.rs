//! The client against the simulator over real HTTP: OAuth, the token lifecycle, rate
//! limits, retries, typed errors and paging (issue 4's "must show").

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use futures::future::join_all;
use procore::connection::{Cause, Step};
use procore::{ApiRequest, Error, MemoryTokenStore, TokenStore};
use procore_sim::data::{SANDBOX_PROJECT_ID, SCALE_PROJECT_ID, UNINSTALLED_COMPANY_ID};
use procore_sim::faults::Faults;
use serde_json::json;

fn me() -> ApiRequest {
    ApiRequest::get("/rest/v1.0/me")
}

#[tokio::test]
async fn authorizes_tests_the_connection_and_revokes() {
    let h = Harness::start(roomy()).await;
    let store = Arc::new(MemoryTokenStore::default());
    let client = h.client(h.config("ds-1"), store.clone());
    assert!(matches!(
        client.send(&me()).await,
        Err(Error::NotAuthorized)
    ));

    h.authorize(&client).await;
    let mut seen = Vec::new();
    let report = client
        .test_connection(|step, cause| seen.push((step, cause.cloned())))
        .await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(seen, Step::ALL.map(|s| (s, None)));
    let identity = report.identity.unwrap();
    assert_eq!(identity.login, "sandbox+arch@example.com");
    assert_eq!(identity.name.as_deref(), Some("Test Architect"));
    assert_eq!(report.company_name.as_deref(), Some("Sandbox Test Company"));

    let stored = store.load("ds-1").await.unwrap().unwrap();
    let info = client
        .authorizer()
        .token_info(&stored.tokens.access_token)
        .await
        .unwrap();
    assert_eq!(info.resource_owner_id, Some(identity.id));

    client.revoke().await.unwrap();
    assert_eq!(h.sim.counters().revocations, 1);
    assert!(store.load("ds-1").await.unwrap().is_none());
    assert!(matches!(
        client.send(&me()).await,
        Err(Error::NotAuthorized)
    ));
    // The revoked token is dead at Procore too.
    assert!(matches!(
        client
            .authorizer()
            .token_info(&stored.tokens.access_token)
            .await,
        Err(Error::Unauthorized)
    ));
}

#[tokio::test]
async fn concurrent_calls_across_an_expiring_token_refresh_once() {
    let h = Harness::start(roomy()).await;
    // A 4-second token is refreshed in its last 2 seconds (half its life, at most the
    // 5-minute margin).
    h.sim.update_config(|c| c.access_token_ttl = 4);
    let client = h.client(h.config("ds"), Arc::new(MemoryTokenStore::default()));
    h.authorize(&client).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;

    let calls = (0..200).map(|_| {
        let client = client.clone();
        async move { client.send(&me()).await }
    });
    let results = join_all(calls).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(h.sim.counters().refreshes, 1, "one refresh for 200 calls");
}

#[tokio::test]
async fn a_401_refreshes_once_across_two_clients_sharing_a_store() {
    let h = Harness::start(roomy()).await;
    h.sim.update_config(|c| c.access_token_ttl = 1);
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::default());
    // Two clients on one store: what two server processes on one database look like.
    let first = h.client(h.config("ds"), store.clone());
    let second = h.client(h.config("ds"), store.clone());
    h.authorize(&first).await;
    // The token just issued dies in a second; the one the refresh gets must not, or a call
    // still retrying with it a second later (a loaded machine) would meet a second 401.
    h.sim.update_config(|c| c.access_token_ttl = 3600);
    // Make the stored token look long-lived, so only Procore's 401 reveals its end.
    let mut stored = store.load("ds").await.unwrap().unwrap();
    stored.tokens.expires_at += 3600;
    store.save("ds", &stored.tokens).await.unwrap();
    let first = h.client(h.config("ds"), store.clone());
    tokio::time::sleep(Duration::from_millis(2100)).await;

    let calls = (0..200).map(|i| {
        let client = if i % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        async move { client.send(&me()).await }
    });
    let results = join_all(calls).await;
    let failed: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(h.sim.counters().refreshes, 1);
    assert_eq!(h.sim.counters().failed_refreshes, 0);
}

/// A store whose first load reads at once but answers only when told to: a slow read of
/// the database that overlaps someone else's refresh.
struct SlowFirstLoad {
    inner: MemoryTokenStore,
    armed: std::sync::atomic::AtomicBool,
    reading: tokio::sync::Notify,
    answer: tokio::sync::Notify,
}

impl TokenStore for SlowFirstLoad {
    fn load<'a>(
        &'a self,
        key: &'a str,
    ) -> futures::future::BoxFuture<'a, procore::token::StoreResult<Option<procore::token::Stored>>>
    {
        Box::pin(async move {
            let loaded = self.inner.load(key).await;
            if self.armed.swap(false, std::sync::atomic::Ordering::SeqCst) {
                self.reading.notify_one();
                self.answer.notified().await;
            }
            loaded
        })
    }

    fn save<'a>(
        &'a self,
        key: &'a str,
        tokens: &'a procore::TokenSet,
    ) -> futures::future::BoxFuture<'a, procore::token::StoreResult<u64>> {
        self.inner.save(key, tokens)
    }

    fn clear<'a>(
        &'a self,
        key: &'a str,
    ) -> futures::future::BoxFuture<'a, procore::token::StoreResult<()>> {
        self.inner.clear(key)
    }

    fn acquire_lease<'a>(
        &'a self,
        key: &'a str,
        holder: &'a str,
        until: i64,
    ) -> futures::future::BoxFuture<'a, procore::token::StoreResult<bool>> {
        self.inner.acquire_lease(key, holder, until)
    }

    fn save_refreshed<'a>(
        &'a self,
        key: &'a str,
        holder: &'a str,
        version: u64,
        tokens: &'a procore::TokenSet,
    ) -> futures::future::BoxFuture<'a, procore::token::StoreResult<bool>> {
        self.inner.save_refreshed(key, holder, version, tokens)
    }

    fn release_lease<'a>(
        &'a self,
        key: &'a str,
        holder: &'a str,
    ) -> futures::future::BoxFuture<'a, procore::token::StoreResult<()>> {
        self.inner.release_lease(key, holder)
    }
}

/// A read of the refused token that returns after another call refreshed must not put
/// that token back: the calls after it would be refused once more and fail.
#[tokio::test]
async fn a_slow_token_read_never_brings_back_a_refreshed_token() {
    let h = Harness::start(roomy()).await;
    h.sim.update_config(|c| c.access_token_ttl = 1);
    let store = Arc::new(SlowFirstLoad {
        inner: MemoryTokenStore::default(),
        armed: false.into(),
        reading: Default::default(),
        answer: Default::default(),
    });
    h.authorize(&h.client(h.config("ds"), store.clone())).await;
    // Only Procore's 401 may reveal that the token ended: the store says it is good.
    let mut stored = store.load("ds").await.unwrap().unwrap();
    stored.tokens.expires_at += 3600;
    store.save("ds", &stored.tokens).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;

    let log = Arc::new(Recorder::default());
    let client = h
        .client(h.config("ds"), store.clone())
        .with_call_log(log.clone());
    store.armed.store(true, std::sync::atomic::Ordering::SeqCst);
    let slow = tokio::spawn({
        let client = client.clone();
        async move { client.send(&me()).await }
    });
    store.reading.notified().await;
    // Meanwhile another call is refused, refreshes and succeeds.
    client.send(&me()).await.expect("the refreshing call");
    store.answer.notify_one();
    slow.await.unwrap().expect("the call whose read was slow");

    let refused = log.statuses().iter().filter(|s| **s == Some(401)).count();
    assert_eq!(refused, 1, "only the first call saw the dead token");
    assert_eq!(h.sim.counters().refreshes, 1);
}

#[tokio::test]
async fn a_refused_refresh_is_an_expired_authorization() {
    let h = Harness::start(roomy()).await;
    let client = h.client(h.config("ds"), Arc::new(MemoryTokenStore::default()));
    h.authorize(&client).await;
    h.sim.revoke_all_tokens();
    assert!(matches!(
        client.send(&me()).await,
        Err(Error::AuthorizationExpired)
    ));
    let report = client.test_connection(|_, _| {}).await;
    assert_eq!(
        report.failure,
        Some((Step::Token, Cause::AuthorizationExpired))
    );
}

#[tokio::test]
async fn a_429_holds_every_request_until_retry_after() {
    let h = Harness::start(roomy()).await;
    let recorder = Arc::new(Recorder::default());
    let client = h
        .client(h.config("ds"), Arc::new(MemoryTokenStore::default()))
        .with_call_log(recorder.clone());
    h.authorize(&client).await;
    h.sim.update_config(|c| {
        c.faults = Faults {
            force_429: true,
            retry_after_secs: 1,
            ..Faults::default()
        }
    });
    let sim = h.sim.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        sim.update_config(|c| c.faults = Faults::default());
    });
    let request = me();
    let results = join_all((0..5).map(|_| client.send(&request))).await;
    assert!(results.iter().all(Result::is_ok));

    let calls = recorder.calls.lock().unwrap().clone();
    let first_429 = calls
        .iter()
        .filter(|(_, c)| c.status == Some(429))
        .map(|(at, _)| *at)
        .min()
        .expect("a 429 first");
    for (reported, call) in calls.iter().filter(|(_, c)| c.status == Some(200)) {
        let sent = *reported - call.duration;
        assert!(
            sent >= first_429 + Duration::from_secs(1),
            "a request went out {:?} after the 429, before Retry-After",
            sent - first_429
        );
    }
}

#[tokio::test]
async fn server_errors_are_retried_for_reads_only_then_surfaced() {
    let h = Harness::start(roomy()).await;
    let client = h.client(h.config("ds"), Arc::new(MemoryTokenStore::default()));
    h.authorize(&client).await;
    h.sim.update_config(|c| c.faults.error_rate = 1.0);

    let read = client.send(&me()).await;
    assert!(
        matches!(read, Err(Error::Unavailable { status: 500, .. })),
        "{read:?}"
    );
    assert_eq!(
        h.requests("GET /developer-sandbox/rest/v1.0/me"),
        4,
        "1 + 3 retries"
    );

    let rfis = format!("/rest/v1.0/projects/{SANDBOX_PROJECT_ID}/rfis");
    let write = client
        .send(
            &ApiRequest::new(http::Method::POST, &rfis).json(json!({ "rfi": { "subject": "x" } })),
        )
        .await;
    assert!(matches!(write, Err(Error::Unavailable { status: 500, .. })));
    assert_eq!(
        h.requests("POST /developer-sandbox/rest/v1.0/projects/{project_id}/rfis"),
        1,
        "a create is not repeated: it may have happened"
    );
}

#[tokio::test]
async fn a_422_becomes_field_errors() {
    let h = Harness::start(roomy()).await;
    let client = h.client(h.config("ds"), Arc::new(MemoryTokenStore::default()));
    h.authorize(&client).await;
    let rfis = format!("/rest/v1.0/projects/{SANDBOX_PROJECT_ID}/rfis");
    let result = client
        .send(
            &ApiRequest::new(http::Method::POST, &rfis).json(json!({ "rfi": { "subject": " " } })),
        )
        .await;
    match result {
        Err(Error::Validation { errors }) => {
            assert_eq!(errors["subject"], ["can't be blank"], "{errors:?}");
        }
        other => panic!("expected field errors, got {other:?}"),
    }
    let missing = client
        .send(&ApiRequest::get(format!("{rfis}/999999999")))
        .await;
    assert!(matches!(missing, Err(Error::NotFound)));
}

#[tokio::test]
async fn a_10000_rfi_project_is_read_once_in_the_fewest_requests() {
    let h = Harness::start(procore_sim::SimConfig {
        scale: 10_000,
        ..roomy()
    })
    .await;
    let mut config = h.config("ds");
    config.per_page = 1000;
    let client = h.client(config, Arc::new(MemoryTokenStore::default()));
    h.authorize(&client).await;

    let path = format!("/rest/v1.0/projects/{SCALE_PROJECT_ID}/rfis");
    let records = client.list_all(ApiRequest::get(&path)).await.unwrap();
    assert_eq!(records.len(), 10_000);
    let ids: Vec<u64> = records.iter().map(|r| r["id"].as_u64().unwrap()).collect();
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        10_000,
        "each once"
    );
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "in Procore's order");
    assert_eq!(
        h.requests("GET /developer-sandbox/rest/v1.0/projects/{project_id}/rfis"),
        10,
        "10,000 records at 1,000 a page"
    );
}

#[tokio::test]
async fn an_endpoint_that_caps_page_size_lower_is_still_read_whole() {
    let h = Harness::start(procore_sim::SimConfig {
        scale: 1_000,
        max_per_page: 300,
        ..roomy()
    })
    .await;
    // Asks for 1,000 a page (the default); Procore answers 300 a page.
    let client = h.client(h.config("ds"), Arc::new(MemoryTokenStore::default()));
    h.authorize(&client).await;
    let path = format!("/rest/v1.0/projects/{SCALE_PROJECT_ID}/rfis");
    let records = client.list_all(ApiRequest::get(&path)).await.unwrap();
    let ids: HashSet<u64> = records.iter().map(|r| r["id"].as_u64().unwrap()).collect();
    assert_eq!(records.len(), 1_000);
    assert_eq!(ids.len(), 1_000, "none skipped, none twice");
    assert_eq!(
        h.requests("GET /developer-sandbox/rest/v1.0/projects/{project_id}/rfis"),
        4,
        "1,000 records at 300 a page"
    );
}

#[tokio::test]
async fn connection_tests_name_the_company_problem() {
    let h = Harness::start(roomy()).await;
    let mut config = h.config("uninstalled");
    config.company_id = UNINSTALLED_COMPANY_ID;
    let client = h.client(config, Arc::new(MemoryTokenStore::default()));
    h.authorize(&client).await;
    let report = client.test_connection(|_, _| {}).await;
    assert_eq!(report.passed, [Step::Token, Step::Company]);
    assert_eq!(
        report.failure,
        Some((Step::AppInstalled, Cause::AppNotInstalled))
    );

    let mut config = h.config("unknown");
    config.company_id = 1;
    let client = h.client(config, Arc::new(MemoryTokenStore::default()));
    h.authorize(&client).await;
    let report = client.test_connection(|_, _| {}).await;
    assert_eq!(
        report.failure,
        Some((Step::Company, Cause::CompanyNotFound))
    );
}

/// Counts what a call log hears, the refused refresh included.
#[derive(Default)]
struct Expiries {
    calls: std::sync::atomic::AtomicUsize,
    expired: std::sync::atomic::AtomicUsize,
}

impl procore::CallLog for Expiries {
    fn record(&self, _call: procore::CallRecord) {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    fn authorization_expired(&self) {
        self.expired
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_retry_after_past_the_deadline_is_returned_not_slept_on() {
    let h = Harness::start(roomy()).await;
    let mut config = h.config("ds");
    config.deadline = Duration::from_secs(2);
    let client = h.client(config, Arc::new(MemoryTokenStore::default()));
    h.authorize(&client).await;
    h.sim.update_config(|c| {
        c.faults = Faults {
            force_429: true,
            retry_after_secs: 120,
            ..Faults::default()
        }
    });
    let endpoint = "GET /developer-sandbox/rest/v1.0/me";
    let started = std::time::Instant::now();
    let first = client.send(&me()).await;
    let took = started.elapsed();
    assert!(
        matches!(first, Err(Error::RateLimited { retry_after: Some(wait) }) if wait == Duration::from_secs(120)),
        "{first:?}"
    );
    assert!(took < Duration::from_secs(1), "answered in {took:?}");
    assert_eq!(h.requests(endpoint), 1, "not retried");

    // The calls after it are held back too: answered at once, without asking Procore.
    let started = std::time::Instant::now();
    let second = client.send(&me()).await;
    match second {
        Err(Error::RateLimited {
            retry_after: Some(wait),
        }) => assert!(
            wait <= Duration::from_secs(120) && wait >= Duration::from_secs(100),
            "{wait:?}"
        ),
        other => panic!("expected a rate limit, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_millis(100));
    assert_eq!(h.requests(endpoint), 1, "held back, not sent");

    // A 503 whose Retry-After is past the deadline is returned the same way.
    let h = Harness::start(roomy()).await;
    let mut config = h.config("ds");
    config.deadline = Duration::from_secs(2);
    let client = h.client(config, Arc::new(MemoryTokenStore::default()));
    h.authorize(&client).await;
    h.sim.update_config(|c| {
        c.faults = Faults {
            unavailable_rate: 1.0,
            retry_after_secs: 30,
            ..Faults::default()
        }
    });
    let started = std::time::Instant::now();
    let outage = client.send(&me()).await;
    assert!(
        matches!(outage, Err(Error::Unavailable { status: 503, retry_after: Some(wait) }) if wait == Duration::from_secs(30)),
        "{outage:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(h.requests(endpoint), 1);
}

#[tokio::test]
async fn a_slow_procore_is_given_up_at_the_deadline() {
    let h = Harness::start(roomy()).await;
    let mut config = h.config("ds");
    config.deadline = Duration::from_secs(1);
    // The transport's own timeout (60 s) is far off: the deadline ends the call.
    let client = h.client(config, Arc::new(MemoryTokenStore::default()));
    h.authorize(&client).await;
    h.sim.update_config(|c| c.faults.latency_ms = 3_000);
    let started = std::time::Instant::now();
    let slow = client.send(&me()).await;
    let took = started.elapsed();
    assert!(
        matches!(&slow, Err(Error::Transport(why)) if why == "timed out"),
        "{slow:?}"
    );
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_millis(1500),
        "gave up after {took:?}"
    );
    assert_eq!(h.requests("GET /developer-sandbox/rest/v1.0/me"), 1);

    h.sim.update_config(|c| c.faults.latency_ms = 0);
    client.send(&me()).await.expect("fast again");
}

#[tokio::test]
async fn server_errors_are_retried_only_while_the_deadline_allows() {
    let h = Harness::start(roomy()).await;
    let mut config = h.config("ds");
    config.backoff = Duration::from_millis(400);
    config.deadline = Duration::from_secs(1);
    let client = h.client(config, Arc::new(MemoryTokenStore::default()));
    h.authorize(&client).await;
    h.sim.update_config(|c| c.faults.error_rate = 1.0);
    let started = std::time::Instant::now();
    let read = client.send(&me()).await;
    let took = started.elapsed();
    assert!(
        matches!(read, Err(Error::Unavailable { status: 500, .. })),
        "{read:?}"
    );
    // 400 ms (+ jitter) then 800 ms would end past the deadline: one retry, not three.
    assert_eq!(h.requests("GET /developer-sandbox/rest/v1.0/me"), 2);
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[tokio::test]
async fn calls_after_a_refused_refresh_do_not_ask_for_tokens_again() {
    let h = Harness::start(roomy()).await;
    let store = Arc::new(MemoryTokenStore::default());
    let log = Arc::new(Expiries::default());
    let client = h
        .client(h.config("ds"), store.clone())
        .with_call_log(log.clone());
    h.authorize(&client).await;
    h.sim.revoke_all_tokens();

    let request = me();
    let results = join_all((0..20).map(|_| client.send(&request))).await;
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Err(Error::AuthorizationExpired))),
        "{results:?}"
    );
    let counters = h.sim.counters();
    assert_eq!(
        counters.failed_refreshes + counters.refreshes,
        1,
        "one token call for 20 refused calls"
    );
    assert_eq!(log.expired.load(std::sync::atomic::Ordering::SeqCst), 1);

    // A new authorization works at once.
    h.authorize(&client).await;
    client.send(&me()).await.expect("authorized again");
}
