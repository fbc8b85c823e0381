//! Crash safety: the server binary on a SurrealKV database dies at a crash point
//! (`TEST_CRASH_AT`, debug builds; `abort`, as abrupt as SIGKILL) and is started again
//! on the same database.
//!
//! - Inside a token rotation, after Procore spent the old refresh token: where the new pair
//!   reached the database the data source keeps working; where it did not, the data source
//!   says its authorization expired, with one refused refresh and no loop.
//! - During a form submission: it is stored whole or not at all.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use procore_sim::testing::{TestSim, roomy};
use serde_json::{Value, json};

/// Procore calls give up after this (`procore.timeout_seconds`); a refresh lease lasts it
/// plus 15 s, so a server that died holding one holds the others up at most that long.
const CALL_TIMEOUT_SECS: u64 = 5;
const LEASE: Duration = Duration::from_secs(CALL_TIMEOUT_SECS + 15);

async fn spawn(sim: &TestSim, database: &Path, crash_at: Option<&str>) -> Process {
    let database = format!("surrealkv://{}", database.display());
    let timeout = CALL_TIMEOUT_SECS.to_string();
    let mut env = vec![
        ("TRESTLE_DATABASE__URL", database.as_str()),
        ("TRESTLE_PROCORE__TIMEOUT_SECONDS", timeout.as_str()),
    ];
    env.extend(crash_at.map(|point| ("TEST_CRASH_AT", point)));
    Process::start(sim, &env).await
}

/// Waits for the process to have died at its crash point.
fn died(process: &mut Process) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if let Ok(Some(status)) = process.process.child.try_wait() {
            return !status.success();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

async fn signed_in_admin(server: &Server) -> reqwest::Client {
    let admin = server.client();
    server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    admin
}

async fn token_step(server: &Server, client: &reqwest::Client, id: &str) -> Value {
    server
        .call(
            client,
            "test_connection_step",
            json!({ "id": id, "step": "token" }),
        )
        .await
        .json()
        .await
        .unwrap()
}

/// A data source authorized with a pair whose access token is soon due, so a Procore call
/// a moment later refreshes it; the server dies at `point` during that refresh.
async fn die_refreshing(sim: &TestSim, database: &Path, point: &str) -> String {
    let mut process = spawn(sim, database, Some(point)).await;
    let admin = signed_in_admin(&process.server).await;
    // Due for a refresh a moment after it is issued (the client refreshes in the last half
    // of a short lifetime), not at once: the callback itself calls Procore with it.
    sim.sim.update_config(|c| c.access_token_ttl = 4);
    let id = authorized(&process.server, sim, &admin).await;
    sim.sim.update_config(|c| c.access_token_ttl = 7200);
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let before = sim.sim.counters().refreshes;
    // The call never gets its answer: the server dies inside it.
    let answer = admin
        .post(process.server.url("/api/test_connection_step"))
        .json(&json!({ "id": id, "step": "token" }))
        .send()
        .await;
    assert!(
        answer.is_err(),
        "no answer from a server that died: {answer:?}"
    );
    assert!(died(&mut process), "the server died at {point}");
    assert_eq!(
        sim.sim.counters().refreshes,
        before + 1,
        "Procore rotated the pair (the old refresh token is spent)"
    );
    id
}

#[test]
fn a_crash_after_the_new_pair_is_stored_loses_nothing() {
    run(async {
        let sim = TestSim::start(roomy()).await;
        let dir = tempdir("after-store");
        let id = die_refreshing(&sim, &dir, "refresh-after-store").await;

        let process = spawn(&sim, &dir, None).await;
        let admin = signed_in_admin(&process.server).await;
        let step = token_step(&process.server, &admin, &id).await;
        assert!(step["failure"].is_null(), "works after the restart: {step}");
        let counters = sim.sim.counters();
        assert_eq!(counters.failed_refreshes, 0);
        println!(
            "killed after the refreshed pair was stored: after a restart the data source works \
             ({} refreshes in all, none refused)",
            counters.refreshes
        );
    });
}

#[test]
fn a_crash_before_the_new_pair_is_stored_says_re_authorize() {
    run(async {
        let sim = TestSim::start(roomy()).await;
        let dir = tempdir("before-store");
        let id = die_refreshing(&sim, &dir, "refresh-before-store").await;

        let process = spawn(&sim, &dir, None).await;
        let admin = signed_in_admin(&process.server).await;
        let refused_before = sim.sim.counters().failed_refreshes;
        // The dead server still holds the refresh lease: the first refresh waits it out.
        let asked = Instant::now();
        let step = token_step(&process.server, &admin, &id).await;
        let waited = asked.elapsed();
        assert!(
            waited < LEASE + Duration::from_secs(3),
            "the dead server's lease is waited out, no longer: {waited:?}"
        );
        let failure = step["failure"].as_str().unwrap_or_default();
        assert!(
            failure.to_lowercase().contains("authoriz"),
            "the step says to authorize again: {step}"
        );
        // A second try makes no second refused refresh: no loop on a dead token.
        token_step(&process.server, &admin, &id).await;
        let refused = sim.sim.counters().failed_refreshes - refused_before;
        assert_eq!(refused, 1, "one refused refresh, then no more");
        let source: Value = process
            .server
            .call(&admin, "get_data_source", json!({ "id": id }))
            .await
            .json()
            .await
            .unwrap();
        let status = source["status"].as_str().unwrap_or_default();
        assert_ne!(status, "ready", "{source}");

        // Authorizing again brings it back.
        let back = sim
            .consent_at(&start(&process.server, &admin, &id).await, true)
            .await;
        assert_eq!(callback(&process.server, &admin, &back).await.0, 200);
        let step = token_step(&process.server, &admin, &id).await;
        assert!(step["failure"].is_null(), "{step}");
        println!(
            "killed after Procore spent the refresh token, before the new pair was stored: after \
             a restart the data source is '{status}' with \"{failure}\" (after {waited:.0?}, the \
             dead server's refresh lease of {LEASE:?} at most; {refused} refused refresh, no loop); authorizing again \
             brings it back"
        );
    });
}

#[test]
fn a_submission_is_stored_whole_or_not_at_all() {
    run(async {
        let sim = TestSim::start(roomy()).await;
        let fields: Vec<Value> = (0..5)
            .map(|i| {
                json!({ "id": format!("f{i}"), "label": format!("Field {i}"), "kind": "text",
                    "required": false, "list": null, "format": "dropdown" })
            })
            .collect();
        let answers: Vec<Value> = (0..5)
            .map(|i| json!({ "field": format!("f{i}"), "value": format!("answer {i}"), "display": format!("answer {i}") }))
            .collect();
        for (point, stored) in [
            ("submission-before-store", false),
            ("submission-after-store", true),
        ] {
            let dir = tempdir(point);
            let mut process = spawn(&sim, &dir, Some(point)).await;
            let admin = signed_in_admin(&process.server).await;
            let saved: Value = process
                .server
                .call(
                    &admin,
                    "save_form",
                    json!({ "id": null, "draft": { "name": "Site diary", "fields": fields } }),
                )
                .await
                .json()
                .await
                .unwrap();
            let form = saved["id"].as_str().unwrap().to_string();
            let _ = admin
                .post(process.server.url("/api/submit_form"))
                .json(&json!({ "form": form, "answers": answers }))
                .send()
                .await;
            assert!(died(&mut process), "the server died at {point}");
            drop(process);

            let process = spawn(&sim, &dir, None).await;
            let admin = signed_in_admin(&process.server).await;
            let listed: Value = process
                .server
                .call(&admin, "form_submissions", json!({ "form": form }))
                .await
                .json()
                .await
                .unwrap();
            let listed = listed.as_array().cloned().unwrap_or_default();
            if stored {
                assert_eq!(listed.len(), 1, "{listed:?}");
                let kept: Vec<&str> = listed[0]["answers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a["value"].as_str().unwrap())
                    .collect();
                assert_eq!(kept.len(), 5, "every answer kept: {kept:?}");
            } else {
                assert!(listed.is_empty(), "{listed:?}");
            }
            println!(
                "killed at {point}: after a restart {} submission(s), {}",
                listed.len(),
                if stored {
                    "with all 5 answers"
                } else {
                    "nothing half-stored"
                }
            );
        }
    });
}

/// A fresh directory for a database.
fn tempdir(name: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!(
        "trestle-crash-{}-{name}-{nanos}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
