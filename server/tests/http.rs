//! The real server over real HTTP, on an in-memory database: sign-in, sessions, role
//! checks on server functions, throttling and the cross-origin guard.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[test]
fn sign_in_opens_a_session_and_sign_out_closes_it() {
    run(async {
        let server = Server::start().await;
        let admin = server.client();

        let anonymous = server.list_users(&admin).await;
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

        let signed_in = server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert!(signed_in.status().is_success() || signed_in.status().is_redirection());
        let cookie = signed_in
            .headers()
            .get("set-cookie")
            .expect("session cookie")
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );

        let users = server.list_users(&admin).await;
        assert_eq!(users.status(), StatusCode::OK);
        let users: Value = users.json().await.unwrap();
        assert_eq!(users[0]["email"], ADMIN_EMAIL);
        assert!(
            !users.to_string().contains("argon2"),
            "hashes never leave the server"
        );

        let out = admin
            .post(server.url("/api/sign_out"))
            .send()
            .await
            .unwrap();
        assert!(out.status().is_success() || out.status().is_redirection());
        assert_eq!(
            server.list_users(&admin).await.status(),
            StatusCode::UNAUTHORIZED
        );
    });
}

#[test]
fn wrong_passwords_are_refused_then_throttled() {
    run(async {
        let server = Server::start().await;
        let client = server.client();
        for _ in 0..4 {
            let r = server.sign_in(&client, ADMIN_EMAIL, "wrong password").await;
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
            let body = r.text().await.unwrap();
            assert!(body.contains("E-mail or password is incorrect."), "{body}");
        }
        let fifth = server.sign_in(&client, ADMIN_EMAIL, "wrong password").await;
        assert_eq!(fifth.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(fifth.headers().contains_key("retry-after"));
        // Locked means locked, even with the right password.
        let right = server.sign_in(&client, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            server.list_users(&client).await.status(),
            StatusCode::UNAUTHORIZED
        );
    });
}

#[test]
fn a_user_calling_an_administrator_function_gets_an_error_not_data() {
    run(async {
        let server = Server::start().await;
        let admin = server.client();
        server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let created = server
            .call(
                &admin,
                "create_user",
                json!({ "draft": { "email": "Uma@Example.com", "name": "Uma", "roles": ["user"] } }),
            )
            .await;
        assert_eq!(created.status(), StatusCode::OK);
        let created: Value = created.json().await.unwrap();
        assert_eq!(created["user"]["email"], "uma@example.com");
        let one_time = created["one_time_password"].as_str().unwrap().to_string();
        let uma_id = created["user"]["id"].as_str().unwrap().to_string();

        let uma = server.client();
        server.sign_in(&uma, "uma@example.com", &one_time).await;
        // Until the one-time password is replaced, nothing else is allowed.
        assert_eq!(
            server.list_users(&uma).await.status(),
            StatusCode::FORBIDDEN
        );
        let changed = uma
            .post(server.url("/api/change_password"))
            .form(&[
                ("current_password", one_time.as_str()),
                ("new_password", "uma's own password"),
                ("confirm_password", "uma's own password"),
            ])
            .send()
            .await
            .unwrap();
        assert!(changed.status().is_success() || changed.status().is_redirection());

        for (name, body) in [
            ("list_users", json!({})),
            ("list_groups", json!({})),
            (
                "create_user",
                json!({ "draft": { "email": "x@example.com", "name": "X", "roles": ["administrator"] } }),
            ),
            (
                "update_user",
                json!({ "id": uma_id, "draft": { "email": "uma@example.com", "name": "Uma", "roles": ["administrator"] } }),
            ),
            ("set_user_active", json!({ "id": uma_id, "active": false })),
            ("reset_password", json!({ "id": uma_id })),
            (
                "save_group",
                json!({ "id": null, "draft": { "name": "G", "description": "", "member_ids": [] } }),
            ),
            ("delete_group", json!({ "id": "abc" })),
        ] {
            let response = if name.starts_with("list_") {
                server.list_users(&uma).await
            } else {
                server.call(&uma, name, body).await
            };
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}");
            let text = response.text().await.unwrap();
            assert!(!text.contains(ADMIN_EMAIL), "{name} leaked data: {text}");
        }

        // Nothing changed behind the refusals.
        let users: Value = server.list_users(&admin).await.json().await.unwrap();
        let users = users.as_array().unwrap();
        assert_eq!(users.len(), 2);
        assert!(
            users
                .iter()
                .all(|u| u["roles"] != json!(["administrator"]) || u["email"] == ADMIN_EMAIL)
        );
    });
}

#[test]
fn the_last_administrator_cannot_be_removed() {
    run(async {
        let server = Server::start().await;
        let admin = server.client();
        server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let users: Value = server.list_users(&admin).await.json().await.unwrap();
        let id = users[0]["id"].as_str().unwrap();
        let demote = server
            .call(
                &admin,
                "update_user",
                json!({ "id": id, "draft": { "email": ADMIN_EMAIL, "name": "Admin", "roles": ["user"] } }),
            )
            .await;
        assert_eq!(demote.status(), StatusCode::CONFLICT);
        let self_deactivate = server
            .call(
                &admin,
                "set_user_active",
                json!({ "id": id, "active": false }),
            )
            .await;
        assert_eq!(self_deactivate.status(), StatusCode::CONFLICT);
    });
}

#[test]
fn invalid_input_is_refused_with_the_field_named() {
    run(async {
        let server = Server::start().await;
        let admin = server.client();
        server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let bad = server
            .call(
                &admin,
                "create_user",
                json!({ "draft": { "email": "nope", "name": "X", "roles": ["user"] } }),
            )
            .await;
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = bad.json().await.unwrap();
        assert_eq!(body["Invalid"]["field"], "email");

        let dup = server
            .call(
                &admin,
                "create_user",
                json!({ "draft": { "email": ADMIN_EMAIL, "name": "Twin", "roles": ["user"] } }),
            )
            .await;
        assert_eq!(dup.status(), StatusCode::CONFLICT);

        let bad_id = server
            .call(
                &admin,
                "reset_password",
                json!({ "id": "user:evil OR 1=1" }),
            )
            .await;
        assert_eq!(bad_id.status(), StatusCode::UNPROCESSABLE_ENTITY);
    });
}

#[test]
fn writes_from_other_sites_are_refused() {
    run(async {
        let server = Server::start().await;
        let client = server.client();
        let forged = client
            .post(server.url("/api/sign_in"))
            .header("origin", "https://evil.example")
            .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        assert!(forged.headers().get("set-cookie").is_none());

        let same_site = client
            .post(server.url("/api/sign_in"))
            .header("origin", format!("http://{}", server.addr))
            .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert!(same_site.headers().get("set-cookie").is_some());
    });
}

#[test]
fn pages_answer_with_real_statuses() {
    run(async {
        let server = Server::start().await;
        let client = server.client();
        let health = client.get(server.url("/health")).send().await.unwrap();
        assert_eq!(health.status(), StatusCode::OK);
        let missing = client
            .get(server.url("/no-such-page"))
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        // As a browser navigates: redirects are real 302s only for HTML requests.
        let protected = client
            .get(server.url("/admin/users"))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(protected.status(), StatusCode::FOUND);
        assert_eq!(
            protected.headers()["location"].to_str().unwrap(),
            "/sign-in?next=/admin/users"
        );
        let sign_in = client.get(server.url("/sign-in")).send().await.unwrap();
        assert_eq!(sign_in.status(), StatusCode::OK);
        assert!(sign_in.text().await.unwrap().contains("<h1>Sign in</h1>"));

        // A signed-in person without the role gets a real 403 page.
        server.sign_in(&client, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let created: Value = server
            .call(
                &client,
                "create_user",
                json!({ "draft": { "email": "d@example.com", "name": "D", "roles": ["designer"] } }),
            )
            .await
            .json()
            .await
            .unwrap();
        let designer = server.client();
        let otp = created["one_time_password"].as_str().unwrap();
        server.sign_in(&designer, "d@example.com", otp).await;
        let forced = designer
            .get(server.url("/admin/users"))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(
            forced.status(),
            StatusCode::FOUND,
            "one-time password must be replaced first"
        );
        assert_eq!(forced.headers()["location"], "/account/password");
        designer
            .post(server.url("/api/change_password"))
            .form(&[
                ("current_password", otp),
                ("new_password", "designer password"),
                ("confirm_password", "designer password"),
            ])
            .send()
            .await
            .unwrap();
        let refused = designer
            .get(server.url("/admin/users"))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let page = refused.text().await.unwrap();
        assert!(page.contains("have access to this page"));
        assert!(!page.contains(ADMIN_EMAIL));
    });
}

/// Another router built in the same process (as every test here does) while a page is
/// being served: Leptos lists routes by rendering the app with resource loading switched
/// off process-wide, and pages rendered meanwhile used to wait forever for their data.
#[test]
fn pages_answer_while_another_router_is_built() {
    run(async {
        let (server, state) = Server::start_with_state(&[]).await;
        let client = server.client();
        server.sign_in(&client, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let building = tokio::spawn(async move {
            for _ in 0..200 {
                drop(server::router(state.clone()));
                tokio::task::yield_now().await;
            }
        });
        let pages = ["/admin/users", "/admin/groups", "/forms", "/data-sources"];
        for round in 0..40 {
            let path = pages[round % pages.len()];
            let page = tokio::time::timeout(std::time::Duration::from_secs(20), async {
                let response = client
                    .get(server.url(path))
                    .header("accept", "text/html")
                    .send()
                    .await
                    .unwrap();
                (response.status(), response.text().await.unwrap())
            })
            .await
            .unwrap_or_else(|_| panic!("{path} (round {round}) never finished"));
            assert_eq!(page.0, StatusCode::OK, "{path}");
            assert!(page.1.contains("</html>"), "{path}: {}", page.1);
        }
        building.await.unwrap();
        println!("40 pages served whole while 200 routers were built beside them");
    });
}

/// A page reads its data once. The signed-in frame used to wait for the user in a
/// `Suspense`, which Leptos walks three times on the server, and the page inside was built
/// (its data read and serialised) on every walk.
#[test]
fn a_page_reads_its_data_once() {
    run(async {
        let (server, state) = Server::start_with_state(&[]).await;
        let client = server.client();
        server.sign_in(&client, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        for i in 0..5 {
            let name = format!("Source {i}");
            let draft = serde_json::json!({ "id": null, "draft": { "name": name,
                "company_id": "4264807", "environment": "live", "cloud_connect": false,
                "connector": null } });
            let saved = server.call(&client, "save_data_source", draft).await;
            assert_eq!(saved.status(), StatusCode::OK);
        }
        // Both right after a first call, with the session's row still kept in memory.
        let counted = async |what: &str| {
            let before = state.store.operations();
            let response = match what {
                "page" => client
                    .get(server.url("/data-sources"))
                    .header("accept", "text/html")
                    .send()
                    .await
                    .unwrap(),
                _ => {
                    server
                        .call(&client, "list_data_sources", serde_json::json!({}))
                        .await
                }
            };
            assert_eq!(response.status(), StatusCode::OK, "{what}");
            let _ = response.bytes().await;
            state.store.operations() - before
        };
        counted("page").await;
        let page = counted("page").await;
        counted("list").await;
        let list = counted("list").await;
        assert!(
            list > 0 && page <= list,
            "the data sources page made {page} round trips, its one server function {list}"
        );
        println!(
            "the data sources page made {page} database round trips; listing its data alone makes {list}"
        );
    });
}
