//! Data sources over real HTTP against a Procore simulator configured like real Procore:
//! the OAuth round trip through `/data-sources/{id}/authorize` and `/oauth/callback`, the
//! `state` rules (forged, replayed, someone else's), connection tests and who may edit.

mod common;

use common::*;
use procore_sim::testing::{TestSim, roomy};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[test]
fn authorize_test_and_delete_a_data_source() {
    run(async {
        let sim = TestSim::start(roomy()).await;
        let server = trestle(&sim).await;
        let admin = server.client();
        server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let id = create(&server, &admin, "Procore sandbox", "4264807").await;

        let authorize = start(&server, &admin, &id).await;
        assert!(
            authorize
                .as_str()
                .starts_with(&sim.url("developer-sandbox", "/oauth/authorize"))
        );
        let back = sim.consent_at(&authorize, true).await;
        let (status, page) = callback(&server, &admin, &back).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(
            page.contains("Authorized as Test Architect (sandbox+arch@example.com)"),
            "{page}"
        );
        assert!(page.contains("trestle:procore-authorization"));

        let steps = test_steps(&server, &admin, &id).await;
        assert_eq!(steps.len(), 3);
        assert!(steps.iter().all(|s| s["failure"].is_null()), "{steps:?}");
        assert_eq!(steps[2]["status"], "ready");

        let source: Value = server
            .call(&admin, "get_data_source", json!({ "id": id }))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(source["status"], "ready");
        assert_eq!(source["authorization"]["login"], "sandbox+arch@example.com");
        let text = source.to_string();
        assert!(
            !text.contains("token"),
            "no token reaches the browser: {text}"
        );

        let calls: Value = server
            .call(&admin, "call_log", json!({ "id": id }))
            .await
            .json()
            .await
            .unwrap();
        assert!(
            calls
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["path"].as_str().unwrap().starts_with("/rest/v1.0/me"))
        );

        let history: Value = server
            .call(&admin, "data_source_history", json!({ "id": id }))
            .await
            .json()
            .await
            .unwrap();
        let summaries: Vec<&str> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["summary"].as_str().unwrap())
            .collect();
        assert!(summaries.contains(&"Created"), "{summaries:?}");
        assert!(
            summaries
                .iter()
                .any(|s| s.starts_with("Authorized as Test Architect"))
        );

        let deleted = server
            .call(&admin, "delete_data_source", json!({ "id": id }))
            .await;
        assert_eq!(deleted.status(), StatusCode::OK);
        assert_eq!(
            sim.sim.counters().revocations,
            1,
            "deleting revoked the tokens"
        );
        let gone = server
            .call(&admin, "get_data_source", json!({ "id": id }))
            .await;
        assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    });
}

#[test]
fn forged_replayed_denied_and_someone_elses_states_are_refused() {
    run(async {
        let sim = TestSim::start(roomy()).await;
        let server = trestle(&sim).await;
        let admin = server.client();
        server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let id = create(&server, &admin, "States", "4264807").await;

        // Forged: a state Trestle never issued.
        let forged =
            url::Url::parse("http://127.0.0.1:9/oauth/callback?code=abc&state=forged").unwrap();
        let (status, page) = callback(&server, &admin, &forged).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("not valid"), "{page}");

        // Replayed: the second use of a real state finds nothing.
        let back = sim
            .consent_at(&start(&server, &admin, &id).await, true)
            .await;
        assert_eq!(callback(&server, &admin, &back).await.0, StatusCode::OK);
        let (status, page) = callback(&server, &admin, &back).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("already used"), "{page}");

        // Denied at Procore: the drawer hears why.
        let denied = sim
            .consent_at(&start(&server, &admin, &id).await, false)
            .await;
        let (status, page) = callback(&server, &admin, &denied).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("Access was denied in Procore"), "{page}");

        // Someone else's: another signed-in person brings the admin's redirect.
        let (other, _) = server
            .person(&admin, "dee@example.com", &["data_source_manager"])
            .await;
        let stolen = sim
            .consent_at(&start(&server, &admin, &id).await, true)
            .await;
        let (status, page) = callback(&server, &other, &stolen).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("started by someone else"), "{page}");
        // ...and that used the state up: the admin cannot finish it either now.
        assert_eq!(
            callback(&server, &admin, &stolen).await.0,
            StatusCode::BAD_REQUEST
        );

        // Signed out: no session, no authorization.
        let anonymous = server.client();
        let back = sim
            .consent_at(&start(&server, &admin, &id).await, true)
            .await;
        let (status, _) = callback(&server, &anonymous, &back).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    });
}

#[test]
fn connection_tests_name_what_is_wrong() {
    run(async {
        let sim = TestSim::start(roomy()).await;
        let server = trestle(&sim).await;
        let admin = server.client();
        server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;

        let unauthorized = create(&server, &admin, "Not yet", "4264807").await;
        let steps = test_steps(&server, &admin, &unauthorized).await;
        assert_eq!(steps.len(), 1);
        assert!(
            steps[0]["failure"].as_str().unwrap().contains("authorize"),
            "{steps:?}"
        );
        assert_eq!(steps[0]["status"], "incomplete");

        for (company, expected) in [("1", "Company not found"), ("4264900", "not installed")] {
            let id = create(&server, &admin, &format!("Company {company}"), company).await;
            let back = sim
                .consent_at(&start(&server, &admin, &id).await, true)
                .await;
            assert_eq!(callback(&server, &admin, &back).await.0, StatusCode::OK);
            let steps = test_steps(&server, &admin, &id).await;
            let last = steps.last().unwrap();
            assert!(
                last["failure"].as_str().unwrap().contains(expected),
                "{steps:?}"
            );
            assert_eq!(last["status"], "test_failed");
        }
    });
}

#[test]
fn only_connection_administrators_may_change_a_data_source() {
    run(async {
        let sim = TestSim::start(roomy()).await;
        let server = trestle(&sim).await;
        let admin = server.client();
        server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let id = create(&server, &admin, "Guarded", "4264807").await;
        let (manager, manager_id) = server
            .person(&admin, "mo@example.com", &["data_source_manager"])
            .await;
        let (designer, _) = server.person(&admin, "di@example.com", &["designer"]).await;

        // A manager sees it but may not change it until named an administrator of it.
        let seen: Value = server
            .call(&manager, "get_data_source", json!({ "id": id }))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(seen["can_edit"], false);
        let rows: Value = server
            .call(&manager, "list_data_sources", json!({}))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            rows[0]["can_edit"], false,
            "the grid offers no delete: {rows}"
        );
        let draft = json!({ "id": id, "draft": { "name": "Renamed", "company_id": "4264807",
            "environment": "live", "cloud_connect": false, "connector": null } });
        assert_eq!(
            server
                .call(&manager, "save_data_source", draft.clone())
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
        let authorize = manager
            .get(server.url(&format!("/data-sources/{id}/authorize")))
            .send()
            .await
            .unwrap();
        assert_eq!(authorize.status(), StatusCode::FORBIDDEN);
        // A designer may not even look.
        assert_eq!(
            server
                .call(&designer, "list_data_sources", json!({}))
                .await
                .status(),
            StatusCode::FORBIDDEN
        );

        let security = server
            .call(
                &admin,
                "save_security",
                json!({ "id": id, "security": {
                "admins": [["user", manager_id]], "users": [] } }),
            )
            .await;
        assert_eq!(security.status(), StatusCode::OK);
        let saved = server.call(&manager, "save_data_source", draft).await;
        assert_eq!(saved.status(), StatusCode::OK);
        let saved: Value = saved.json().await.unwrap();
        assert_eq!(saved["data_source"]["name"], "Renamed");

        // Names are unique regardless of case.
        let clash = server
            .call(&admin, "save_data_source", json!({ "id": null, "draft": { "name": "RENAMED",
                "company_id": "", "environment": "live", "cloud_connect": false, "connector": null } }))
            .await;
        assert_eq!(clash.status(), StatusCode::CONFLICT);
        let bad = server
            .call(&admin, "save_data_source", json!({ "id": null, "draft": { "name": "Bad id",
                "company_id": "-3", "environment": "live", "cloud_connect": false, "connector": null } }))
            .await;
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let bad: Value = bad.json().await.unwrap();
        assert!(bad.to_string().contains("company_id"), "{bad}");
    });
}

#[test]
fn changing_the_environment_clears_the_authorization() {
    run(async {
        let sim = TestSim::start(roomy()).await;
        let server = trestle(&sim).await;
        let admin = server.client();
        server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let id = create(&server, &admin, "Moving", "4264807").await;
        let back = sim
            .consent_at(&start(&server, &admin, &id).await, true)
            .await;
        assert_eq!(callback(&server, &admin, &back).await.0, StatusCode::OK);

        let saved: Value = server
            .call(&admin, "save_data_source", json!({ "id": id, "draft": { "name": "Moving",
                "company_id": "4264807", "environment": "live", "cloud_connect": false, "connector": null } }))
            .await
            .json()
            .await
            .unwrap();
        assert!(
            saved["notice"]
                .as_str()
                .unwrap()
                .contains("cleared the authorization"),
            "{saved}"
        );
        assert!(saved["data_source"]["authorization"].is_null());
        assert_eq!(saved["data_source"]["status"], "incomplete");
        assert_eq!(
            sim.sim.counters().revocations,
            1,
            "the old tokens were revoked"
        );
    });
}

/// The default run: no Procore configuration, so the simulator is served in-process under
/// `/procore-sim` and a data source authorizes against it end to end.
#[test]
fn the_default_run_authorizes_against_the_built_in_simulator() {
    run(async {
        // The public URL must name the real port: Procore redirects there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let listen = format!("127.0.0.1:{port}");
        let public = format!("http://127.0.0.1:{port}");
        let server = Server::start_with(&[
            ("TRESTLE_LISTEN", listen.as_str()),
            ("TRESTLE_PUBLIC_URL", public.as_str()),
        ])
        .await;
        let admin = server.client();
        server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let id = create(&server, &admin, "Built-in", "4264807").await;
        let authorize = start(&server, &admin, &id).await;
        assert!(
            authorize.as_str().starts_with(&format!(
                "{public}/procore-sim/developer-sandbox/oauth/authorize"
            )),
            "{authorize}"
        );
        let back = procore_sim::testing::consent(&admin, &authorize, true).await;
        assert!(
            back.as_str()
                .starts_with(&format!("{public}/oauth/callback"))
        );
        let (status, page) = callback(&server, &admin, &back).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let steps = test_steps(&server, &admin, &id).await;
        assert!(steps.iter().all(|s| s["failure"].is_null()), "{steps:?}");

        // The fault switches stay off a listener other people reach.
        let switches = admin
            .get(server.url("/procore-sim/_sim/counters"))
            .send()
            .await
            .unwrap();
        assert_eq!(switches.status(), StatusCode::NOT_FOUND);
    });
}
