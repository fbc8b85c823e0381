//! How many requests per second the simulator answers, so a benchmark of Trestle can tell
//! that the simulator is not its bottleneck (the goal: several thousand list requests per
//! second on 2 cores). Run with `cargo bench -p procore-sim --bench throughput`.
//!
//! Each endpoint is measured twice: in-process (the router called directly, the
//! simulator's own cost) and over loopback HTTP with keep-alive connections (what a client
//! sees, with the load generator sharing the same cores). `/me` is the baseline the list
//! figures are compared with.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use procore_sim::data::{SANDBOX_COMPANY_ID, SANDBOX_PROJECT_ID, SCALE_PROJECT_ID};
use procore_sim::ratelimit::Limits;
use procore_sim::{SimConfig, router};
use tower::ServiceExt;

// The tests' OAuth steps: the bench signs in the way a user would.
#[path = "../tests/common/mod.rs"]
mod common;

const RUN: Duration = Duration::from_secs(3);
const CONCURRENCY: usize = 32;
const SCALE: usize = 10_000;

fn endpoints() -> [(&'static str, String); 4] {
    let rfis = |p: u64| format!("/developer-sandbox/rest/v1.0/projects/{p}/rfis");
    [
        ("me (baseline)", "/developer-sandbox/rest/v1.0/me".into()),
        (
            "RFIs, sandbox project",
            format!("{}?per_page=100", rfis(SANDBOX_PROJECT_ID)),
        ),
        (
            "RFIs, 10k project, page 50 of 100",
            format!("{}?per_page=100&page=50", rfis(SCALE_PROJECT_ID)),
        ),
        (
            "RFIs, 10k project, filtered + sorted",
            format!(
                "{}?per_page=100&filters[status]=open&sort[attribute]=subject&sort[direction]=desc",
                rfis(SCALE_PROJECT_ID)
            ),
        ),
    ]
}

/// Runs `call` from `CONCURRENCY` tasks for `RUN`; returns requests per second.
async fn measure<F, Fut>(call: F) -> f64
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (call, done, failed) = (call.clone(), done.clone(), failed.clone());
            tokio::spawn(async move {
                while start.elapsed() < RUN {
                    let counter = if call().await { &done } else { &failed };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("bench task");
    }
    let failed = failed.load(Ordering::Relaxed);
    assert_eq!(
        failed, 0,
        "{failed} requests failed: the figures would be wrong"
    );
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let config = SimConfig {
            rate_limits: Limits {
                hourly: u32::MAX,
                spike: u32::MAX,
            },
            scale: SCALE,
            ..SimConfig::default()
        };
        let sim = common::Sim::start_with(config).await;
        let app = router(sim.sim.clone());
        let base = sim.base.clone();
        let http = reqwest::Client::new();
        let token = Arc::new(sim.api().await.token);
        let company = SANDBOX_COMPANY_ID.to_string();

        println!(
            "procore-sim throughput, {CONCURRENCY} concurrent callers, {} s each, {} cores",
            RUN.as_secs(),
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
        println!(
            "{:<40} {:>12} {:>8} {:>12} {:>8}",
            "endpoint", "in-process/s", "x me", "HTTP/s", "x me"
        );
        let mut baseline = None;
        for (name, path) in endpoints() {
            let in_process = {
                let (app, token, company, path) =
                    (app.clone(), token.clone(), company.clone(), path.clone());
                measure(move || {
                    let request = Request::get(path.as_str())
                        .header("authorization", format!("Bearer {token}"))
                        .header("procore-company-id", company.as_str())
                        .body(Body::empty())
                        .expect("request");
                    let app = app.clone();
                    async move {
                        let response = app.oneshot(request).await.expect("infallible");
                        let ok = response.status().is_success();
                        // Read the body: serialising the page is part of the cost.
                        axum::body::to_bytes(response.into_body(), usize::MAX)
                            .await
                            .is_ok()
                            && ok
                    }
                })
                .await
            };
            let over_http = {
                let (http, token, company, url) = (
                    http.clone(),
                    token.clone(),
                    company.clone(),
                    format!("{base}{path}"),
                );
                measure(move || {
                    let request = http
                        .get(url.as_str())
                        .bearer_auth(token.as_str())
                        .header("Procore-Company-Id", company.as_str());
                    async move {
                        match request.send().await {
                            Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                            Err(_) => false,
                        }
                    }
                })
                .await
            };
            let (base_in, base_http) = *baseline.get_or_insert((in_process, over_http));
            println!(
                "{name:<40} {in_process:>12.0} {:>8.2} {over_http:>12.0} {:>8.2}",
                in_process / base_in,
                over_http / base_http
            );
        }
    });
}
